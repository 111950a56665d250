"""The nightly queue: each kind from crafted tables, stable ids, decided items, orphaned decisions."""

from __future__ import annotations

import json

import duckdb

from registry.review import item_id_for, published
from registry.review.decisions import load_decisions, record_decision
from registry.review.queue import build_review_queue
from registry.night import incremental_night

from .factory import RECORDS, build_run_tables, publish

BAND = (0.5, 0.95)
UL_PAIR = ("family_planning:JS0000000001", "public_security:GA0000000001")
UL_ITEM = item_id_for("uncertain_link", "|".join(UL_PAIR))


def _queue(con) -> dict[str, dict]:
    cur = con.execute("SELECT * FROM review_queue")
    cols = [d[0] for d in cur.description]
    return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}


def _by_kind(queue: dict, kind: str) -> list[dict]:
    return [dict(i, subject=json.loads(i["subject"]), evidence=json.loads(i["evidence"]))
            for i in queue.values() if i["kind"] == kind]


def test_queue_holds_each_kind(run_con, tmp_path):
    summary = build_review_queue(run_con, incremental_night("2026-11-20"), tmp_path / "decisions.jsonl", uncertain_band=BAND)
    q = _queue(run_con)

    assert summary.open == {"uncertain_link": 2, "conflict": 1, "identity_conflict": 2, "orphan": 2, "weak_cluster": 1,
                            "birth_date_conflict": 0, "audit_sample": 0,
                            # R3-R4's 0.999 link kept apart is the shared number's identity_conflict: no second item
                            "overruled_link": 0}  # every registered kind is counted
    assert summary.raised == summary.open and sum(summary.closed.values()) == 0
    assert all(i["status"] == "open" and str(i["first_raised_date"]) == "2026-11-20" for i in q.values())

    uncertain = {(i["subject"]["record_l"], i["subject"]["record_r"]) for i in _by_kind(q, "uncertain_link")}
    assert uncertain == {UL_PAIR, ("family_planning:JS0000000007", "labour:LD0000000007")}
    ul = next(i for i in _by_kind(q, "uncertain_link") if i["item_id"] == UL_ITEM)
    assert [r["name"] for r in ul["evidence"]["records"]] == ["张玮", "张伟"]
    assert ul["evidence"]["waterfall"][0] == {"comparison": "name", "level": "same pinyin", "match_weight": 4.2}
    assert (ul["street"], ul["community"], ul["resident_id"]) == ("福田街道", "岗厦社区", "R2")

    [conflict] = _by_kind(q, "conflict")
    assert conflict["subject"] == {"resident_id": "R1", "attribute": "birth_date"}
    assert conflict["evidence"]["candidates"] == ["1980-01-02", "1980-02-01"]
    assert conflict["evidence"]["lineage"][0]["source_record_id"] == "GA0000000001"

    identity = {i["subject"]["reason"]: i for i in _by_kind(q, "identity_conflict")}
    assert (identity["shared_id_number"]["subject"]["resident_l"], identity["shared_id_number"]["subject"]["resident_r"]) == ("R3", "R4")
    assert identity["two_id_numbers"]["resident_id"] == "R5"
    assert all(i["priority"] == 1 for i in identity.values())

    assert {i["subject"]["record"] for i in _by_kind(q, "orphan")} == {"civil_affairs:MZ0000000004", "labour:LD0000000006"}
    orphan6 = next(i for i in _by_kind(q, "orphan") if i["resident_id"] == "R6")
    assert orphan6["evidence"]["nearest_household_records"] == [
        {"record": "public_security:GA0000000001", "match_probability": 0.2}]

    [weak] = _by_kind(q, "weak_cluster")
    assert weak["resident_id"] == "R7"
    assert (weak["subject"]["record_l"], weak["subject"]["record_r"]) == ("family_planning:JS0000000007", "labour:LD0000000007")
    assert len({m["component"] for m in weak["evidence"]["members"]}) == 2


def test_ids_and_first_raised_date_are_stable_and_closed_items_counted(run_con, tmp_path):
    decisions = tmp_path / "decisions.jsonl"
    build_review_queue(run_con, incremental_night("2026-11-20"), decisions, uncertain_band=BAND)
    night1 = _queue(run_con)
    # Next night the household register finds R6: its labour record is no longer an orphan.
    run_con.execute("UPDATE crosswalk SET resident_id = 'R1' WHERE record_uid = 'labour:LD0000000006'")
    summary = build_review_queue(run_con, incremental_night("2026-11-21"), decisions, uncertain_band=BAND)
    night2 = _queue(run_con)

    orphan6, weak1 = item_id_for("orphan", "labour:LD0000000006"), item_id_for("weak_cluster", "R1")
    assert set(night1) - set(night2) == {orphan6}
    # R1 now holds three records, the new one tied by a 0.20 link only: a suspected over-merge, raised tonight.
    assert set(night2) - set(night1) == {weak1}
    assert str(night2[weak1]["first_raised_date"]) == "2026-11-21"
    assert all(str(night2[i]["first_raised_date"]) == "2026-11-20" for i in night2 if i != weak1)
    assert summary.closed["orphan"] == 1 and summary.raised["weak_cluster"] == 1
    assert sum(summary.raised.values()) == 1 and sum(summary.closed.values()) == 1


def test_decided_item_stays_decided_until_its_evidence_changes(tmp_path, published_home):
    home = published_home
    record_decision(home, item_id=UL_ITEM, decision="different", decided_by="王科长", reason="different fathers")
    # list/show see the decision at once, before any run
    assert UL_ITEM not in set(published.list_items(home)["item_id"])
    assert published.get_item(home, UL_ITEM)["status"] == "decided"

    con = duckdb.connect(str(tmp_path / "night2.duckdb"))
    build_run_tables(con)
    summary = build_review_queue(con, incremental_night("2026-11-21"), home.decisions, uncertain_band=BAND)
    item = _queue(con)[UL_ITEM]
    assert (item["status"], item["decision"]) == ("decided", "different") and summary.reopened == 0
    assert summary.closed["uncertain_link"] == 0  # not in last night's table of this database: nothing to close

    # The family planning record changes: the officer has not seen this evidence, the item reopens.
    build_run_tables(con, hash_salt={"family_planning:JS0000000001": "v2"})
    summary = build_review_queue(con, incremental_night("2026-11-22"), home.decisions, uncertain_band=BAND)
    item = _queue(con)[UL_ITEM]
    assert (item["status"], item["decision"], summary.reopened) == ("open", None, 1)
    assert str(item["first_raised_date"]) == "2026-11-21"
    con.close()


def test_same_on_the_bridge_closes_the_weak_cluster(tmp_path, published_home):
    home = published_home
    weak_id = item_id_for("weak_cluster", "R7")
    record_decision(home, item_id=weak_id, decision="same", decided_by="王科长", reason="same person, renamed")
    con = duckdb.connect(str(tmp_path / "night2.duckdb"))
    build_run_tables(con)
    load_decisions(con, home.decisions)
    build_review_queue(con, incremental_night("2026-11-21"), home.decisions, uncertain_band=BAND)
    assert weak_id not in _queue(con)  # the officer's "same" is a strong tie: the cluster is no longer weak
    con.close()


def test_decision_on_a_record_that_disappears_is_kept_and_reported(tmp_path, published_home):
    home = published_home
    row = record_decision(home, item_id=UL_ITEM, decision="same", decided_by="王科长", reason="same phone")
    con = duckdb.connect(str(tmp_path / "night2.duckdb"))
    build_run_tables(con, records=[r for r in RECORDS if r[0] != "family_planning:JS0000000001"])
    load_decisions(con, home.decisions)
    summary = build_review_queue(con, incremental_night("2026-11-21"), home.decisions, uncertain_band=BAND)

    assert UL_ITEM not in _queue(con)
    assert summary.decisions_orphaned == 1
    assert con.execute("SELECT decision_id, missing FROM review_decisions_orphaned").fetchall() == [
        (row["decision_id"], "records gone: family_planning:JS0000000001")]
    # Kept: still in the file, still a constraint should the record come back.
    assert con.execute("SELECT count(*) FROM link_decisions WHERE same").fetchall() == [(1,)]
    assert json.loads(home.decisions.read_text(encoding="utf-8"))["decision_id"] == row["decision_id"]
    con.close()


def test_connection_is_left_clean_for_the_next_stage(run_con, tmp_path):
    build_review_queue(run_con, incremental_night("2026-11-20"), tmp_path / "d.jsonl", uncertain_band=BAND)
    assert run_con.sql("SELECT count(*) FROM review_queue").fetchall() == [(8,)]
