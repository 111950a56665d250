"""Stable resident IDs across nights: kept, merged, split, created, retired; never reused."""

import json
import random

from tests.residents.factory import load_clusters, load_links, load_records, record, uid
from registry.residents import as_of, build_residents
from registry.night import incremental_night

PS, FP, CA, LB = "public_security", "family_planning", "civil_affairs", "labour"


def night(con, run_id, date, people: dict[str, list[tuple[str, int]]], names: dict | None = None):
    """One night: `people` maps a test label to its records (department, key); each label is one cluster."""
    names = names or {}
    rows = [record(d, k, name=names.get(label, label)) for label, recs in people.items() for d, k in recs]
    load_records(con, rows)
    load_clusters(con, [[uid(d, k) for d, k in recs] for recs in people.values() if recs])
    load_links(con, [])
    return build_residents(con, incremental_night(date, run_id))


def ids_by_record(con) -> dict[str, str]:
    return dict(con.execute("SELECT record_uid, resident_id FROM crosswalk").fetchall())


def resident_of(con, department, key) -> str:
    return ids_by_record(con)[uid(department, key)]


def events(con, run_id):
    return sorted(con.execute("SELECT event, resident_id, other_resident_id FROM resident_events WHERE run_id = ?",
                              [run_id]).fetchall())


def test_everyone_whose_records_did_not_change_keeps_their_id(con):
    rng = random.Random(5)
    people, key = {}, 0
    for p in range(400):
        recs = []
        for d in rng.sample([PS, FP, CA, LB], rng.randint(1, 4)):
            key += 1
            recs.append((d, key))
        people[f"p{p}"] = recs
    night(con, "n1", "2026-11-20", people)
    before = ids_by_record(con)

    tonight = {k: list(v) for k, v in people.items()}
    del tonight["p0"]                                  # gone
    tonight["p1"] = tonight["p1"] + tonight.pop("p2")  # merged
    if len(tonight["p3"]) > 1:
        tonight["p3x"] = [tonight["p3"].pop()]         # split
    tonight["new"] = [(LB, 99999)]                     # brand new
    touched = {"p0", "p1", "p2", "p3", "p3x", "new"}
    summary = night(con, "n2", "2026-11-21", tonight)
    after = ids_by_record(con)

    untouched = [label for label in people if label not in touched]
    assert len(untouched) == 396
    for label in untouched:
        for d, k in people[label]:
            assert after[uid(d, k)] == before[uid(d, k)], label
    assert summary["ids"]["unchanged"] == 396
    assert summary["ids"]["created"] == 1 and summary["ids"]["merged"] == 1 and summary["ids"]["retired"] == 1


def test_merge_keeps_the_older_id_and_retires_the_other_pointing_to_it(con):
    night(con, "n1", "2026-11-20", {"a": [(PS, 1)]})
    a = resident_of(con, PS, 1)
    night(con, "n2", "2026-11-21", {"a": [(PS, 1)], "b": [(LB, 1), (FP, 1)]})
    b = resident_of(con, LB, 1)
    assert a < b
    # the records of b are the majority and b's cluster id sorts first: the older id still wins
    night(con, "n3", "2026-11-22", {"ab": [(PS, 1), (LB, 1), (FP, 1)]})
    assert set(ids_by_record(con).values()) == {a}
    assert events(con, "n3") == [("merged", b, a)]
    assert con.execute("SELECT status, merged_into, retired_run_id FROM resident_ids WHERE resident_id = ?",
                       [b]).fetchone() == ("retired", a, "n3")


def test_merge_prefers_earlier_created_date_over_id_order(con):
    night(con, "n1", "2026-11-20", {"a": [(PS, 1)], "b": [(LB, 1)]})
    first, second = sorted([resident_of(con, PS, 1), resident_of(con, LB, 1)])
    con.execute("UPDATE resident_ids SET created_date = DATE '2020-01-01' WHERE resident_id = ?", [second])
    night(con, "n2", "2026-11-21", {"ab": [(PS, 1), (LB, 1)]})
    assert set(ids_by_record(con).values()) == {second}
    assert events(con, "n2") == [("merged", first, second)]


def test_split_keeps_the_id_on_the_larger_part_and_issues_a_new_one(con):
    night(con, "n1", "2026-11-20", {"x": [(PS, 1), (LB, 1), (FP, 1)]})
    x = resident_of(con, PS, 1)
    night(con, "n2", "2026-11-21", {"big": [(LB, 1), (FP, 1)], "small": [(PS, 1)]})
    assert resident_of(con, LB, 1) == resident_of(con, FP, 1) == x
    new = resident_of(con, PS, 1)
    assert new != x
    assert events(con, "n2") == [("split", x, new)]
    detail = json.loads(con.execute("SELECT detail FROM resident_events WHERE run_id='n2'").fetchone()[0])
    assert detail == {"records": 1, "to_new_resident": True}


def test_an_id_is_never_reused(con):
    night(con, "n1", "2026-11-20", {"a": [(PS, 1)], "b": [(PS, 2)], "c": [(PS, 3)]})
    issued_n1 = set(ids_by_record(con).values())
    a, b, c = (resident_of(con, PS, k) for k in (1, 2, 3))
    night(con, "n2", "2026-11-21", {"a": [(PS, 1)], "bc": [(PS, 2), (PS, 3)]})     # c merged into b
    assert events(con, "n2") == [("merged", c, b)]
    night(con, "n3", "2026-11-22", {"bc": [(PS, 2), (PS, 3)]})                      # a gone: retired
    assert events(con, "n3") == [("retired", a, None)]
    night(con, "n4", "2026-11-23", {"bc": [(PS, 2), (PS, 3)], "d": [(PS, 4)], "a": [(PS, 1)]})
    d, a_again = resident_of(con, PS, 4), resident_of(con, PS, 1)
    assert d not in issued_n1 and a_again not in issued_n1 and d != a_again
    all_ids = con.execute("SELECT resident_id, status FROM resident_ids ORDER BY 1").fetchall()
    assert len(all_ids) == 5 and [s for _, s in all_ids].count("retired") == 2


def test_crosswalk_match_probability_is_strongest_link_within_the_resident(con):
    load_records(con, [record(PS, 1), record(LB, 1), record(FP, 1), record(CA, 1)])
    load_clusters(con, [[uid(PS, 1), uid(LB, 1), uid(FP, 1)], [uid(CA, 1)]])
    load_links(con, [(uid(PS, 1), uid(LB, 1), 0.97), (uid(LB, 1), uid(FP, 1), 0.91),
                     (uid(PS, 1), uid(CA, 1), 0.99)])  # a link across residents does not count
    build_residents(con, incremental_night("2026-11-20", "n1"))
    probs = dict(con.execute("SELECT record_uid, match_probability FROM crosswalk").fetchall())
    assert probs == {uid(PS, 1): 0.97, uid(LB, 1): 0.97, uid(FP, 1): 0.91, uid(CA, 1): 1.0}


def test_history_as_of_returns_yesterdays_value(con):
    night(con, "n1", "2026-11-20", {"a": [(PS, 1)], "b": [(PS, 2)]}, names={"a": "张伟"})
    a = resident_of(con, PS, 1)
    summary = night(con, "n2", "2026-11-21", {"a": [(PS, 1)]}, names={"a": "张玮"})
    assert summary["history"] == {"opened": 1, "closed": 2}
    assert as_of(con, "2026-11-20", a)["name"].tolist() == ["张伟"]
    assert as_of(con, "2026-11-21", a)["name"].tolist() == ["张玮"]
    assert as_of(con, "2026-11-20")["resident_id"].nunique() == 2   # b was there yesterday
    assert as_of(con, "2026-11-21")["resident_id"].tolist() == [a]  # and is gone today
    assert as_of(con, "2026-11-19").empty
    # a night with no change opens no version
    assert night(con, "n3", "2026-11-22", {"a": [(PS, 1)]}, names={"a": "张玮"})["history"] == \
        {"opened": 0, "closed": 0}
