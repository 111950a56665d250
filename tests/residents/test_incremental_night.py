"""An incremental night (links, clusters, resident IDs, golden records, history computed for tonight's
changes only) equals a full recomputation of the same night, table for table.

Night 2 has every kind of change: new records and new people, removed records and people, changed
records (one that moves to another person), officers' new same/different/value decisions, and a
decision withdrawn."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from registry.linkage import cluster_records, load_model, predict_links
from registry.residents import assign_resident_ids, build_golden_records, record_history
from registry.night import full_night, incremental_night
from tests.linkage.records_factory import RECORD_COLUMNS, load_records
from tests.linkage.synthetic import make_records

pytestmark = pytest.mark.slow

DECISIONS_DDL = """CREATE OR REPLACE TABLE link_decisions (record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN,
                   decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)"""
OVERRIDES_DDL = """CREATE OR REPLACE TABLE value_overrides (resident_id VARCHAR, attribute VARCHAR, value VARCHAR,
                   decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)"""


def _load(con, df: pd.DataFrame) -> None:
    rows = df.drop(columns=["person_id"]).copy()
    # change detection as standardise does it: a hash of the values
    rows["record_hash"] = pd.util.hash_pandas_object(rows.drop(columns=["record_hash"]).astype(str),
                                                     index=False).astype(str)
    load_records(con, [], "records")
    con.register("_rows", rows)
    casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in RECORD_COLUMNS.items())
    con.execute(f"INSERT INTO records SELECT {casts} FROM _rows")
    con.unregister("_rows")


def _decide(con, decisions: list[tuple[str, str, bool]]) -> None:
    con.execute(DECISIONS_DDL)
    for i, (l, r, same) in enumerate(decisions):
        con.execute("INSERT INTO link_decisions VALUES (least(?, ?), greatest(?, ?), ?, ?, 'officer', now())",
                    [l, r, l, r, same, f"d{i}"])


def _night(con, model, run_id: str, date: str, *, incremental: bool) -> dict:
    night = (incremental_night if incremental else full_night)(date, run_id)
    links = predict_links(con, model, night)
    clusters = cluster_records(con, night)
    ids = assign_resident_ids(con, run_id, date)
    golden = build_golden_records(con, night)
    history = record_history(con, date)
    return {"links": links if not incremental else None, "clusters": clusters, "ids": ids.as_dict(),
            "golden": {k: v for k, v in golden.as_dict().items() if k not in ("mode", "recomputed")},
            "history": history.as_dict()}


def _table(con, name: str) -> pd.DataFrame:
    df = con.execute(f"SELECT * FROM {name}").df().astype(str)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _person_records(df: pd.DataFrame, n: int) -> pd.Series:
    """Persons with at least n records."""
    sizes = df.groupby("person_id").size()
    return sizes[sizes >= n].index


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    model = load_model()
    everyone = make_records(500, seed=11)
    people = everyone.person_id.drop_duplicates().sort_values().tolist()
    newcomers = people[-5:]                                       # people first seen tonight
    late = everyone[~everyone.person_id.isin(newcomers) & (everyone.department == "labour")].index[:15]
    night1 = everyone[~everyone.person_id.isin(newcomers)].drop(index=late)

    # night 1: full, with officers' decisions already standing
    path = tmp_path_factory.mktemp("night") / "state.duckdb"
    con = duckdb.connect(str(path))
    _load(con, night1)
    gone_people = people[10:13]                                   # night 2: every record removed
    multi = [p for p in _person_records(night1, 3) if p not in gone_people]
    standing_same = night1[night1.person_id == multi[0]].record_uid.tolist()[:2]
    withdrawn_diff = night1[night1.person_id == multi[1]].record_uid.tolist()[:2]
    _decide(con, [(*standing_same, True), (*withdrawn_diff, False)])
    con.execute(OVERRIDES_DDL)
    con.execute("CREATE TABLE record_changes AS SELECT record_uid, department, 'new' AS change FROM records")
    _night(con, model, "night-1", "2026-11-19", incremental=False)

    # night 2
    night2 = everyone.copy()                                      # new people and late records arrive
    night2 = night2[~night2.person_id.isin(gone_people)]
    lone = night2[night2.person_id.isin(multi[2:3]) & (night2.department != "public_security")].index[:1]
    night2 = night2.drop(index=lone)                              # one record of a person removed
    phones = night2[(night2.department == "labour") & night2.phone.notna()].index[:10]
    night2.loc[phones, "phone"] = "13900000000"                  # changed, same person
    # a record that now describes someone else entirely: it leaves its person (a split) for another
    a, b = multi[3], multi[4]
    mover = night2[(night2.person_id == a) & (night2.department != "public_security")].index[0]
    target = night2[(night2.person_id == b) & (night2.department == "public_security")].iloc[0]
    for col in ("id_number", "id_number_form", "name", "name_plain", "name_pinyin", "surname", "given_name",
                "sex", "birth_date", "birth_year", "birth_month", "birth_day", "birth_date_precision",
                "birth_disagrees_id", "sex_disagrees_id"):
        night2.at[mover, col] = target[col]
    night1_clusters = dict(con.execute("SELECT record_uid, cluster_id FROM clusters").fetchall())
    rid = dict(con.execute("SELECT record_uid, resident_id FROM crosswalk").fetchall())
    # officers tonight: two residents are one (merge), one resident is two (split), a value, a withdrawal
    c_rec = night1[night1.person_id == multi[5]].record_uid.iloc[0]
    d_rec = night1[night1.person_id == multi[6]].record_uid.iloc[0]
    e_recs = night1[night1.person_id == multi[7]].record_uid.tolist()
    assert night1_clusters[c_rec] != night1_clusters[d_rec] and night1_clusters[e_recs[0]] == night1_clusters[e_recs[1]]
    con.close()

    states = {}
    for mode in ("incremental", "full"):
        copy = path.with_name(f"{mode}.duckdb")
        shutil.copyfile(path, copy)
        con = duckdb.connect(str(copy))
        before = dict(con.execute("SELECT record_uid, record_hash FROM records").fetchall())
        _load(con, night2)
        con.execute("CREATE TEMP TABLE _before (record_uid VARCHAR, record_hash VARCHAR)")
        con.executemany("INSERT INTO _before VALUES (?, ?)", list(before.items()))
        con.execute("""CREATE OR REPLACE TABLE record_changes AS
            SELECT record_uid, department, CASE WHEN b.record_uid IS NULL THEN 'new' ELSE 'changed' END AS change
            FROM records r LEFT JOIN _before b USING (record_uid)
            WHERE b.record_uid IS NULL OR b.record_hash <> r.record_hash
            UNION ALL
            SELECT record_uid, split_part(record_uid, ':', 1), 'removed' FROM _before ANTI JOIN records USING (record_uid)""")
        _decide(con, [(*standing_same, True), (c_rec, d_rec, True), (e_recs[0], e_recs[1], False)])
        con.execute(OVERRIDES_DDL)
        con.execute("INSERT INTO value_overrides VALUES (?, 'phone', '13811112222', 'v1', 'officer', now())",
                    [rid[e_recs[0]]])
        summary = _night(con, model, "night-2", "2026-11-20", incremental=mode == "incremental")
        states[mode] = (con, summary)
    yield states, {"mover": night2.at[mover, "record_uid"], "target": target.record_uid,
                   "merged": (c_rec, d_rec), "split": e_recs[:2],
                   "overridden": rid[e_recs[0]]}
    for con, _ in states.values():
        con.close()


TABLES = ("links", "clusters", "crosswalk", "resident_ids", "resident_events", "residents", "lineage",
          "conflicts", "golden_members", "resident_history")


@pytest.mark.parametrize("table", TABLES)
def test_incremental_night_equals_a_full_recomputation(nights, table):
    states, _ = nights
    pd.testing.assert_frame_equal(_table(states["incremental"][0], table), _table(states["full"][0], table),
                                  obj=table)


def test_incremental_night_reports_the_same_figures(nights):
    states, _ = nights
    incremental, full = states["incremental"][1], states["full"][1]
    assert {k: v for k, v in incremental.items() if k != "links"} == {k: v for k, v in full.items() if k != "links"}


def test_the_night_had_every_kind_of_change_and_ran_incrementally(nights):
    states, case = nights
    con = states["incremental"][0]
    events = dict(con.execute("SELECT event, count(*) FROM resident_events WHERE run_id = 'night-2' GROUP BY 1")
                  .fetchall())
    assert events.get("created", 0) >= 5 and events.get("merged", 0) >= 1
    assert events.get("split", 0) >= 2 and events.get("retired", 0) >= 3
    cross = dict(con.execute("SELECT record_uid, resident_id FROM crosswalk").fetchall())
    assert cross[case["mover"]] == cross[case["target"]]
    assert cross[case["merged"][0]] == cross[case["merged"][1]]
    assert cross[case["split"][0]] != cross[case["split"][1]]
    assert con.execute("SELECT phone FROM residents WHERE resident_id = ?",
                       [case["overridden"]]).fetchone()[0] == "13811112222"
    # only what tonight reached was recomputed
    n_records = con.execute("SELECT count(*) FROM records").fetchone()[0]
    n_residents = con.execute("SELECT count(*) FROM residents").fetchone()[0]
    assert 0 < con.execute("SELECT count(*) FROM clusters_recomputed").fetchone()[0] < n_records / 4
    assert 0 < con.execute("SELECT count(*) FROM crosswalk_recomputed").fetchone()[0] < n_records / 4
    assert 0 < con.execute("SELECT count(*) FROM residents_recomputed").fetchone()[0] < n_residents / 4
    full = states["full"][0]
    for t in ("clusters_recomputed", "crosswalk_recomputed", "residents_recomputed"):
        assert full.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [t]).fetchone()[0] == 0


def test_residents_recomputed_names_every_resident_whose_rows_changed(nights):
    states, _ = nights
    con = states["incremental"][0]
    con.execute("ATTACH IF NOT EXISTS ':memory:' AS scratch")
    changed = {r for (r,) in con.execute("""
        SELECT resident_id FROM resident_events WHERE run_id = 'night-2'
        UNION SELECT other_resident_id FROM resident_events WHERE run_id = 'night-2' AND other_resident_id IS NOT NULL
        UNION SELECT resident_id FROM resident_history WHERE valid_from = DATE '2026-11-20' OR valid_to = DATE '2026-11-20'
        """).fetchall()}
    recomputed = {r for (r,) in con.execute("SELECT resident_id FROM residents_recomputed").fetchall()}
    assert changed and changed <= recomputed
