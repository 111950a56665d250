"""Incremental survivorship: recomputing only the touched residents equals recomputing everyone."""

import random

import pandas as pd

from tests.residents.factory import load_clusters, load_links, load_records, record, uid
from registry.residents import assign_resident_ids, build_golden_records, record_history
from registry.night import full_night, incremental_night

PS, FP, CA, LB = "public_security", "family_planning", "civil_affairs", "labour"
DEPTS = (PS, FP, CA, LB)


def _person_records(rng, label, recs, bump=""):
    rows = []
    for d, k in recs:
        values = dict(name=f"{label}{bump}", sex=rng.choice(["1", "2"]),
                      birth=f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                      phone=f"139{rng.randint(0, 99999999):08d}", phone_kind="mobile",
                      current_address=f"{label} 路 {rng.randint(1, 9)} 号", current_street="街道",
                      record_updated_at=f"2026-0{rng.randint(1, 9)}-01 00:00:00")
        if d == PS:
            values.update(person_status=rng.choice(["正常", "正常", "死亡"]), ethnicity="汉族",
                          household_id=f"H{k}")
        if d == CA:
            values.update(assistance_kind="城市低保", assistance_status="在保", monthly_amount=1120)
        row = record(d, k, **values)
        row["record_hash"] = f"{label}{bump}:{d}:{k}"
        rows.append(row)
    return rows


def _night(con, run_id, date, people, seed, bumped=()):
    rows = []
    for label, recs in people.items():
        rows += _person_records(random.Random(f"{seed}-{label}" if label in bumped else label), label, recs,
                                "改" if label in bumped else "")
    load_records(con, rows)
    load_clusters(con, [[uid(d, k) for d, k in recs] for recs in people.values() if recs])
    load_links(con, [])
    assign_resident_ids(con, run_id, date)
    golden = build_golden_records(con, incremental_night())
    record_history(con, date)
    return golden


def _table(con, name):
    df = con.execute(f"SELECT * FROM {name}").df().astype(str)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def test_incremental_golden_records_equal_a_full_recomputation(con):
    rng = random.Random(3)
    people, key = {}, 0
    for p in range(300):
        recs = []
        for d in rng.sample(DEPTS, rng.randint(1, 4)):
            key += 1
            recs.append((d, key))
        people[f"p{p}"] = recs
    first = _night(con, "n1", "2026-11-20", people, seed=1)
    assert first.mode == "full"

    tonight = {k: list(v) for k, v in people.items()}
    del tonight["p0"]                                   # all records removed
    tonight["p1"] = tonight["p1"] + tonight.pop("p2")   # merged
    tonight["p3"] = tonight["p3"][:1] if len(tonight["p3"]) > 1 else tonight["p3"]  # lost records
    tonight["new"] = [(LB, 99999), (PS, 99998)]         # brand new
    con.execute("""CREATE TABLE value_overrides (resident_id VARCHAR, attribute VARCHAR, value VARCHAR,
                   decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)""")
    rid = con.execute("SELECT resident_id FROM crosswalk WHERE record_uid = ?",
                      [uid(*people["p10"][0])]).fetchone()[0]
    con.execute("INSERT INTO value_overrides VALUES (?, 'name', '王officer', 'd1', 'li', TIMESTAMP '2026-11-20 09:00')",
                [rid])
    second = _night(con, "n2", "2026-11-21", tonight, seed=2, bumped={"p4", "p5", "p6"})
    assert second.mode == "incremental"
    assert 0 < second.recomputed < 20          # the touched few, not the 300
    assert con.execute("SELECT name FROM residents WHERE resident_id = ?", [rid]).fetchone()[0] == "王officer"
    incremental = {t: _table(con, t) for t in ("residents", "lineage", "conflicts", "golden_members")}
    history_opened = con.execute("SELECT count(*) FROM resident_history WHERE valid_from = DATE '2026-11-21'"
                                 ).fetchone()[0]

    full = build_golden_records(con, full_night())
    assert full.mode == "full" and full.recomputed == second.residents
    for t, df in incremental.items():
        pd.testing.assert_frame_equal(df, _table(con, t), obj=t)
    # history saw exactly the residents whose golden record changed: merged, bumped, new, overridden
    assert history_opened == 1 + 3 + 1 + 1 + (1 if len(people["p3"]) > 1 else 0)
