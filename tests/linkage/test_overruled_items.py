"""Where the machine overrides strong evidence (a clustering constraint cutting a link at or above the
uncertain band's top, household evidence capping one), the night's review queue holds exactly one item
the officer can decide, with the reason in words; true non-matches (twins with two valid numbers) get
none. The whole path: the committed model, household evidence, clustering, residents, the queue."""

from __future__ import annotations

import json

import pytest

from registry.linkage import UNCERTAIN_BAND
from registry.night import full_night
from registry.residents import build_residents
from registry.review.queue import build_review_queue

from .records_factory import id_number, record
from .test_households import HOME, _family

FLAT = "福田区/华富街道/田面社区/梅林一村5栋2单元302"


@pytest.fixture
def queue(link, tmp_path):
    """queue(rows) -> (clusters, open items as dicts) after the night's linkage, residents and review queue."""

    def run(rows, decisions=()):
        clusters = link(rows, decisions)
        con = link.con
        build_residents(con, full_night("2026-11-20"))
        build_review_queue(con, full_night("2026-11-20"), tmp_path / "decisions.jsonl", uncertain_band=UNCERTAIN_BAND)
        mine = {r["record_uid"] for r in rows}
        items = []
        for kind, subject, evidence, summary in con.execute(
                "SELECT kind, subject, evidence, summary FROM review_queue WHERE status = 'open'").fetchall():
            subject, evidence = json.loads(subject), json.loads(evidence)
            if {subject.get("record_l"), subject.get("record_r"), subject.get("record")} & mine:
                items.append({"kind": kind, "subject": subject, "evidence": evidence, "summary": summary})
        run.resident = dict(con.execute("SELECT record_uid, resident_id FROM crosswalk").fetchall())
        return clusters, items

    return run


def _naming_both(items, resident_a, resident_b):
    return [i for i in items if {i["subject"].get("resident_l"), i["subject"].get("resident_r")} == {resident_a, resident_b}]


def _child_filed_twice():
    """The family file holds the first child twice: 张明轩 and, with a homophone, 张明萱 (same sound, sex, month)."""
    rows = _family()
    first = next(r for r in rows if r["record_uid"] == "family_planning:JS0000090010")
    rows.append(record("family_planning", "JS0000090012", name="张明萱", sex="1", birth_month_only="2012-03",
                       pinyin=first["name_pinyin"], household_id=first["household_id"], family_role="子女",
                       current_address="福田区/莲花街道/景田社区/彩虹苑9栋1单元801"))
    return rows


def test_a_family_planning_child_filed_twice_under_two_spellings_gets_an_item(queue):
    clusters, items = queue(_child_filed_twice())
    twice = ("family_planning:JS0000090010", "family_planning:JS0000090012")
    assert clusters[twice[0]] != clusters[twice[1]]          # one register files a person once: cut apart
    res = [queue.resident[u] for u in twice]
    [item] = _naming_both(items, *res)
    assert item["kind"] == "overruled_link"
    assert any("family-planning register" in why for why in item["evidence"]["kept_apart_because"]), item
    assert (item["subject"]["record_l"], item["subject"]["record_r"]) == twice   # "same" on them lifts the cut
    assert item["evidence"]["overruled_link"]["model_match_probability"] >= UNCERTAIN_BAND[1]


def test_a_household_cap_that_removes_a_strong_link_gets_an_item(queue):
    # one person receives two kinds of assistance in one flat, the second row spelt with a homophone
    number = id_number("440304", "1949-11-21", "316")
    rows = [
        record("public_security", "GA0000080001", name="龙艳", id_number=number, birth="1949-11-21", sex="2",
               household_id="440304000080", relation_to_head="户主", hukou_address=FLAT),
        record("public_security", "GA0000080002", name="龙建华", id_number=id_number("440304", "1947-02-03", "015"),
               birth="1947-02-03", sex="1", household_id="440304000080", relation_to_head="配偶", hukou_address=FLAT),
        record("civil_affairs", "MZ0000080001", name="龙艳", id_number=number, birth="1949-11-21", sex="2",
               current_address=FLAT, assistance_kind="低保"),
        record("civil_affairs", "MZ0000080002", name="珑艳", birth="1949-11-21", sex="2", current_address=FLAT,
               assistance_kind="残疾人补贴"),
    ]
    rows[3]["name_pinyin"] = rows[0]["name_pinyin"]          # a homophone: the same sound
    clusters, items = queue(rows)
    assert clusters["civil_affairs:MZ0000080001"] == clusters["public_security:GA0000080001"]
    assert clusters["civil_affairs:MZ0000080002"] != clusters["public_security:GA0000080001"]
    res = [queue.resident[u] for u in ("public_security:GA0000080001", "civil_affairs:MZ0000080002")]
    [item] = _naming_both(items, *res)
    assert item["kind"] == "overruled_link"
    assert any("household evidence lowered" in why for why in item["evidence"]["kept_apart_because"]), item


def test_twins_with_two_valid_numbers_get_no_item(queue):
    twins = (("张明轩", "1", "2012-03-05", "031"), ("张明哲", "1", "2012-03-05", "051"))
    rows = _family(children=twins, fp_children=[(n, s, b, None) for n, s, b, _ in twins])
    for i, (name, sex, birth, order) in enumerate(twins):   # each twin also known to labour by its own number
        rows.append(record("labour", f"LD000009001{i}", name=name, sex=sex, birth=birth,
                           id_number=id_number("440304", birth, order), current_address=HOME.replace("1201", "1202")))
    clusters, items = queue(rows)
    a, b = "public_security:GA0000090010", "public_security:GA0000090011"
    assert clusters[a] != clusters[b]
    assert not _naming_both(items, queue.resident[a], queue.resident[b]), items


def test_an_officer_saying_same_on_an_overruled_link_joins_the_pair_on_later_nights(queue):
    _, items = queue(_child_filed_twice())
    [item] = [i for i in items if i["kind"] == "overruled_link"]
    pair = (item["subject"]["record_l"], item["subject"]["record_r"])
    clusters, items = queue(_child_filed_twice(), decisions=[(*pair, True)])   # the next night, decided
    assert clusters[pair[0]] == clusters[pair[1]]
    assert clusters["family_planning:JS0000090010"] == clusters["family_planning:JS0000090012"]
    assert not [i for i in items if i["kind"] == "overruled_link"], items
