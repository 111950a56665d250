"""An incremental night's queue equals a full build of the same night: same items, ids, evidence, hashes,
statuses, first-raised dates, raised/closed counts and orphaned decisions; over random nights with
merges, splits, removals, new records, and officers' decisions old and new (some with no data change)."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from registry.review import journal
from registry.review.decisions import load_decisions
from registry.review.queue import QUEUE_VERSION, build_review_queue
from registry.night import full_night, incremental_night

from .world import first_night, load, next_night, recomputed_residents

BAND = (0.5, 0.95)
OFFICER = {"decided_by": "王科长", "reason": "checked the paper files"}


def _rows(con, table: str, key: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()


def _decide(con, decisions, rng, per_kind: int = 2) -> None:
    """Officers decide some of tonight's items, of every kind, and link two records of a resident directly."""
    items = con.execute("SELECT item_id, kind, resident_id, subject->>'record_l', subject->>'record_r', "
                        "subject->>'attribute', evidence->>'$.candidates[0]', evidence_hash FROM review_queue "
                        "ORDER BY item_id").fetchall()
    choices = {"uncertain_link": ["same", "different", "dismiss"], "weak_cluster": ["same", "different"],
               "overruled_link": ["same", "different", "dismiss"],
               "identity_conflict": ["different", "dismiss"], "conflict": ["value", "dismiss"], "orphan": ["dismiss"]}
    for kind, options in choices.items():
        mine = [i for i in items if i[1] == kind]
        for item_id, _, resident, rec_l, rec_r, attribute, candidate, evidence_hash in rng.sample(mine, min(per_kind, len(mine))):
            decision = rng.choice(options)
            journal.append(decisions, {"item_id": item_id, "kind": kind, "decision": decision, "record_l": rec_l,
                                       "record_r": rec_r, "resident_id": resident, "attribute": attribute,
                                       "value": candidate if decision == "value" else None,
                                       "evidence_hash": evidence_hash, **OFFICER})
    big = con.execute("SELECT list(record_uid ORDER BY record_uid) FROM crosswalk GROUP BY resident_id "
                      "HAVING count(*) >= 3 ORDER BY 1 LIMIT 1").fetchall()
    if big:
        journal.append(decisions, {"decision": "same", "record_l": big[0][0][0], "record_r": big[0][0][-1], **OFFICER})


def _night(tmp_path, standing, decisions, world, date: str, night: int, **contract) -> tuple[str, object]:
    """Build tonight both ways on copies of the standing state; assert they agree; return the new state."""
    out = {}
    for mode in ("incremental", "full"):
        path = tmp_path / f"night{night}-{mode}.duckdb"
        shutil.copy(standing, path)
        con = duckdb.connect(str(path))
        load(con, world, run_id=f"run{night}", **contract)
        load_decisions(con, decisions)  # before clustering, as the nightly merge does
        summary = build_review_queue(con, (incremental_night if mode == "incremental" else full_night)(date, f"run{night}"),
                                     decisions, uncertain_band=BAND)
        out[mode] = (summary, _rows(con, "review_queue", "item_id"),
                     _rows(con, "review_decisions_orphaned", "decision_id"), con)
    (inc, inc_q, inc_o, inc_con), (full, full_q, full_o, full_con) = out["incremental"], out["full"]
    assert inc.mode == "incremental" and full.mode == "full"
    assert 0 < inc.items_rebuilt < len(inc_q), "the night did not splice: this test would prove nothing"
    assert {r[0] for r in inc_q} == {r[0] for r in full_q}
    assert inc_q == full_q
    assert inc_o == full_o
    assert {k: v for k, v in inc.as_dict().items() if k not in ("mode", "items_rebuilt")} == \
           {k: v for k, v in full.as_dict().items() if k not in ("mode", "items_rebuilt")}
    full_con.close()
    return str(tmp_path / f"night{night}-incremental.duckdb"), inc_con


@pytest.mark.parametrize("seed", [1, 2, pytest.param(3, marks=pytest.mark.slow), pytest.param(4, marks=pytest.mark.slow)])
def test_incremental_queue_equals_a_full_build(tmp_path, seed):
    decisions = tmp_path / "decisions.jsonl"
    w1 = first_night(seed)
    standing = tmp_path / "night1.duckdb"
    con = duckdb.connect(str(standing))
    load(con, w1)
    assert build_review_queue(con, incremental_night("2026-11-19"), decisions, uncertain_band=BAND).mode == "full"
    kinds = dict(con.execute("SELECT kind, count(*) FROM review_queue GROUP BY kind").fetchall())
    assert set(kinds) == {"uncertain_link", "conflict", "identity_conflict", "orphan", "weak_cluster", "overruled_link"}
    _decide(con, decisions, w1.rng)  # old decisions: on last night's items, applied tonight
    con.close()

    w2, changed = next_night(w1)
    path, con = _night(tmp_path, standing, decisions, w2, "2026-11-20", 2, changed=changed,
                       recomputed=recomputed_residents(w1, w2, changed))
    assert con.execute("SELECT count(*) FROM review_queue WHERE status = 'decided'").fetchall()[0][0] > 0
    _decide(con, decisions, w2.rng)  # new decisions, some on items whose data does not change tonight
    con.close()

    # the same data again: only the decisions changed
    path, con = _night(tmp_path, path, decisions, w2, "2026-11-21", 3, changed={}, recomputed=set())
    con.close()

    w4, changed = next_night(w2, changes=10)
    path, con = _night(tmp_path, path, decisions, w4, "2026-11-22", 4, changed=changed,
                       recomputed=recomputed_residents(w2, w4, changed))
    con.close()


def test_a_changed_definition_or_a_full_night_builds_everything(tmp_path, monkeypatch):
    decisions = tmp_path / "decisions.jsonl"
    w1 = first_night(7)
    con = duckdb.connect(str(tmp_path / "run.duckdb"))
    load(con, w1)
    build_review_queue(con, incremental_night("2026-11-19"), decisions, uncertain_band=BAND)
    w2, changed = next_night(w1)
    load(con, w2, changed=changed, recomputed=recomputed_residents(w1, w2, changed))
    assert build_review_queue(con, full_night("2026-11-20"), decisions, uncertain_band=BAND).mode == "full"
    assert build_review_queue(con, incremental_night("2026-11-20"), decisions, uncertain_band=(0.4, 0.95)).mode == "full"  # band
    monkeypatch.setattr("registry.review.queue.QUEUE_VERSION", QUEUE_VERSION + "-next")
    assert build_review_queue(con, incremental_night("2026-11-20"), decisions, uncertain_band=(0.4, 0.95)).mode == "full"
    assert build_review_queue(con, incremental_night("2026-11-20"), decisions, uncertain_band=(0.4, 0.95)).mode == "incremental"
    con.execute("DROP TABLE residents_recomputed")  # survivorship recomputed everyone
    assert build_review_queue(con, incremental_night("2026-11-20"), decisions, uncertain_band=(0.4, 0.95)).mode == "full"
    con.close()
