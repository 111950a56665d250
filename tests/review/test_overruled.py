"""Overruled links in the queue: a link at or above the band's top between two residents is one item,
and the rule across kinds leaves one item per pair of residents."""

from __future__ import annotations

import json

from registry.night import full_night
from registry.review.queue import build_review_queue

from .factory import ID_B, RECORDS, build_run_tables

BAND = (0.5, 0.95)
R3_R4 = {"R3", "R4"}   # 李娜 in the household register and in civil affairs, scored 0.999, kept in two residents


def _items(con) -> list[dict]:
    return [{"kind": k, "subject": json.loads(s), "evidence": json.loads(e)}
            for k, s, e in con.execute("SELECT kind, subject, evidence FROM review_queue").fetchall()]


def _naming(items, residents):
    return [i for i in items if {i["subject"].get("resident_l"), i["subject"].get("resident_r")} == residents]


def test_a_strong_link_between_two_residents_is_one_item(run_con, tmp_path):
    # R4 without the shared number: nothing but the 0.999 link says the two residents are one person
    records = [r if r[0] != "civil_affairs:MZ0000000004" else (*r[:2], None, *r[3:]) for r in RECORDS]
    build_run_tables(run_con, records=records)
    build_review_queue(run_con, full_night("2026-11-20"), tmp_path / "d.jsonl", uncertain_band=BAND)
    [item] = _naming(_items(run_con), R3_R4)
    assert item["kind"] == "overruled_link"
    assert (item["subject"]["record_l"], item["subject"]["record_r"]) == (
        "civil_affairs:MZ0000000004", "public_security:GA0000000003")
    assert item["evidence"]["match_probability"] == 0.999 and item["evidence"]["same_resident"] is False


def test_a_pair_of_residents_already_named_by_another_kind_gets_no_second_item(run_con, tmp_path):
    # with the shared number ID_B the same pair is an identity conflict: the officer decides it once
    assert [r[2] for r in RECORDS if r[0] == "civil_affairs:MZ0000000004"] == [ID_B]
    build_review_queue(run_con, full_night("2026-11-20"), tmp_path / "d.jsonl", uncertain_band=BAND)
    items = _items(run_con)
    assert [i["kind"] for i in _naming(items, R3_R4)] == ["identity_conflict"]
    pairs = [frozenset((i["subject"]["resident_l"], i["subject"]["resident_r"])) for i in items
             if i["subject"].get("resident_l") and i["subject"].get("resident_r")
             and i["subject"]["resident_l"] != i["subject"]["resident_r"]]
    assert len(pairs) == len(set(pairs))
