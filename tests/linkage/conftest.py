import duckdb
import pytest

from registry.linkage import load_model
from registry.night import full_night
from .records_factory import load_records
from .synthetic import make_records


@pytest.fixture(scope="session")
def model():
    return load_model()


@pytest.fixture(scope="session")
def background():
    """A few thousand ordinary records, so that term frequencies are those of a population."""
    return make_records(1500, seed=99).drop(columns=["person_id"]).to_dict("records")


@pytest.fixture
def link(model, background):
    """link(rows, decisions=[]) -> {record_uid: cluster_id}, after a full predict and clustering."""
    from registry.linkage import cluster_records, predict_links

    def run(rows, decisions=()):
        con = duckdb.connect()
        load_records(con, background + rows)
        if decisions:
            con.execute("CREATE TABLE link_decisions (record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN,"
                        " decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)")
            for l, r, same in decisions:
                con.execute("INSERT INTO link_decisions VALUES (least(?, ?), greatest(?, ?), ?, 'd', 'officer', now())",
                            [l, r, l, r, same])
        predict_links(con, model, full_night())
        cluster_records(con, full_night())
        mine = [r["record_uid"] for r in rows]
        got = dict(con.execute("SELECT record_uid, cluster_id FROM clusters WHERE record_uid IN (SELECT unnest(?))",
                               [mine]).fetchall())
        run.con = con
        return got

    return run
