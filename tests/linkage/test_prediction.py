import json

import duckdb

from registry.linkage import backend, cluster_records, predict_links
from registry.night import full_night, incremental_night

from .records_factory import load_records
from .synthetic import make_records


def _links(con):
    return con.execute("SELECT record_uid_l, record_uid_r, round(match_weight, 6) FROM links ORDER BY ALL").fetchall()


def test_hanzi_distances_count_characters_not_bytes():
    con = duckdb.connect()
    backend.register_functions(con)
    got = con.execute("""SELECT reg_char_mismatches('张伟明', '张玮明'), reg_char_mismatches('张伟', '张伟明'),
                                reg_adjacent_swap('440306197812170514', '440306197821170514'),
                                reg_adjacent_swap('440306197812170514', '440306197812170541'),
                                reg_adjacent_swap('440306197812170514', '440306197812170599')""").fetchall()[0]
    assert got == (1, None, True, True, False)


def test_incremental_run_gives_the_same_links_as_a_full_rebuild(model):
    rows = make_records(600, seed=5).drop(columns=["person_id"])
    night1, night2 = rows.iloc[:-40].copy(), rows.copy()
    night2.loc[night2.index[:10], "phone"] = "13000000000"        # 10 changed records
    con = duckdb.connect()
    load_records(con, night1.to_dict("records"))
    predict_links(con, model, full_night())
    # next night: 40 new records, 10 changed, 5 removed
    removed = night2.record_uid.iloc[10:15].tolist()
    night2 = night2[~night2.record_uid.isin(removed)]
    load_records(con, night2.to_dict("records"))
    changes = ([(u, "new") for u in rows.record_uid.iloc[-40:]] + [(u, "changed") for u in rows.record_uid.iloc[:10]]
               + [(u, "removed") for u in removed])
    con.execute("CREATE TABLE record_changes (record_uid VARCHAR, department VARCHAR, change VARCHAR)")
    con.executemany("INSERT INTO record_changes VALUES (?, NULL, ?)", changes)
    predict_links(con, model, incremental_night())
    incremental = _links(con)
    predict_links(con, model, full_night())
    assert incremental == _links(con)
    assert not {u for pair in incremental for u in pair[:2]} & set(removed)


def test_links_carry_evidence_that_adds_up_to_the_match_weight(model):
    con = duckdb.connect()
    load_records(con, make_records(300, seed=6).drop(columns=["person_id"]).to_dict("records"))
    assert predict_links(con, model, full_night()) > 0
    weight, evidence = con.execute("SELECT match_weight, evidence FROM links ORDER BY match_weight DESC LIMIT 1").fetchall()[0]
    parts = json.loads(evidence)
    assert {p["comparison"] for p in parts} >= {"id_number", "name", "birth_date", "prior"}
    assert all(p["level"] != "unknown" for p in parts)
    assert abs(sum(p["match_weight"] for p in parts) - weight) < 0.05
    cluster_records(con, full_night())
    assert con.execute("SELECT count(*) = count(DISTINCT record_uid) AND count(*) = (SELECT count(*) FROM records)"
                       " FROM clusters").fetchall()[0][0]
