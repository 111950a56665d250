"""The run ledger: what each nightly run did, stage by stage.

Stages write their figures to `run_stages` in the run's database as they finish; the `runs` row
gathers them into one `stats` JSON when the run ends. Failed runs never promote their database, so
their row is kept in `HOME/state/failed_runs.jsonl` and folded into the next run's ledger.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb

from registry import contracts, jsonl
from registry.home import Home

_LEDGER = (contracts.RUNS, contracts.RUN_STAGES, contracts.STATE_META)
# The publish stage's name in the ledger: its figures describe the published file (registry.publish).
PUBLISH_STAGE = "published_registry"


def _now() -> dt.datetime:
    # Microseconds kept: "the latest published run" is ordered by finished_at, and two runs (a rerun,
    # a test) can finish within one second.
    return dt.datetime.now()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in _LEDGER:
        con.execute(table.ddl())


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    ensure_tables(con)
    row = con.execute("SELECT value FROM state_meta WHERE key = ?", [key]).fetchall()
    return row[0][0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    ensure_tables(con)
    con.execute("INSERT OR REPLACE INTO state_meta VALUES (?, ?)", [key, value])


def begin_run(con: duckdb.DuckDBPyConnection, home: Home, run_id: str, extract_date: str, mode: str) -> None:
    ensure_tables(con)
    fold_failed_runs(con, home)
    con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM run_stages WHERE run_id = ?", [run_id])
    con.execute(
        "INSERT INTO runs VALUES (?, ?, ?, 'running', ?, NULL, NULL, NULL)",
        [run_id, extract_date, mode, _now()],
    )


def record_stage(con: duckdb.DuckDBPyConnection, run_id: str, stage: str, seconds: float,
                 stats: dict[str, Any]) -> None:
    ensure_tables(con)
    con.execute("DELETE FROM run_stages WHERE run_id = ? AND stage = ?", [run_id, stage])
    # Full precision: stages finishing within one second must still list in the order they ran.
    con.execute("INSERT INTO run_stages VALUES (?, ?, ?, ?, ?)",
                [run_id, stage, round(seconds, 3), json.dumps(stats, ensure_ascii=False, default=str),
                 dt.datetime.now()])


def run_stats(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    rows = con.execute(
        "SELECT stage, seconds, stats FROM run_stages WHERE run_id = ? ORDER BY recorded_at, stage", [run_id]
    ).fetchall()
    stats: dict[str, Any] = {"stage_seconds": {}}
    for stage, seconds, payload in rows:
        stats["stage_seconds"][stage] = seconds
        stats[stage] = json.loads(payload) if payload else {}
    return stats


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str = "") -> dict[str, Any]:
    stats = run_stats(con, run_id)
    con.execute(
        "UPDATE runs SET status = ?, finished_at = ?, message = ?, stats = ? WHERE run_id = ?",
        [status, _now(), message, json.dumps(stats, ensure_ascii=False, default=str), run_id],
    )
    return stats


def _failed_log(home: Home) -> Path:
    return home.state_dir / "failed_runs.jsonl"


def record_failed_run(home: Home, run_id: str, extract_date: str | None, mode: str | None, message: str,
                      started_at: dt.datetime | None = None, stats: dict[str, Any] | None = None) -> None:
    """Keep a failed run's row outside its (discarded) database, for the next run's ledger."""
    home.ensure()
    row = {"run_id": run_id, "extract_date": extract_date, "mode": mode, "status": "failed",
           "started_at": str(started_at or _now()), "finished_at": str(_now()), "message": message,
           "stats": stats or {}}
    jsonl.append(_failed_log(home), row)


def fold_failed_runs(con: duckdb.DuckDBPyConnection, home: Home) -> None:
    for _, line in jsonl.complete_lines(_failed_log(home)):
        r = json.loads(line)
        con.execute("DELETE FROM runs WHERE run_id = ?", [r["run_id"]])
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, 'failed', ?, ?, ?, ?)",
            [r["run_id"], r["extract_date"], r["mode"], r["started_at"], r["finished_at"], r["message"],
             json.dumps(r.get("stats") or {}, ensure_ascii=False)],
        )


def abandon_run(home: Home, run_id: str, message: str) -> dict[str, Any]:
    """A run failed: keep its row (with what its stages did) in the ledger and drop its state copy.

    The working state and the published registry are untouched by construction.
    """
    from registry.run_state import RunState, last_published_run

    state = RunState(home, run_id)
    if last_published_run(home) == run_id and state.path.exists():
        # It failed after its registry was swapped in: the published registry is this run's, so its state
        # must become the working state too (else resident_ids it issued would be issued again).
        state.promote()
        return {"run_id": run_id, "published": True, "message": message}
    extract_date = mode = None
    started_at = None
    stats: dict[str, Any] = {}
    if state.path.exists():
        try:
            con = duckdb.connect(str(state.path), read_only=True)
            try:
                row = con.execute("SELECT strftime(extract_date, '%Y-%m-%d'), mode, started_at FROM runs "
                                  "WHERE run_id = ?", [run_id]).fetchall()
                if row:
                    extract_date, mode, started_at = row[0]
                stats = run_stats(con, run_id)
            finally:
                con.close()
        except duckdb.Error:
            pass  # a copy broken by the crash: the ledger row is still written
    record_failed_run(home, run_id, extract_date, mode, message, started_at, stats)
    state.discard()
    return {"run_id": run_id, "extract_date": extract_date, "mode": mode, "message": message, "stats": stats}


KILLED = ("stopped before it finished (its process was killed or the machine went down); "
          "its working copy was removed by the next run")


def abandon_killed_runs(home: Home, keep: str) -> list[str]:
    """The leftovers of runs whose process died mid-run, found by the next run (or rollback) while it
    holds the run lock, so that none of them is going: each one's working copy and scratch files are
    removed and its row kept in the ledger as failed; half-built or half-copied published files of other
    runs go too. Returns the run ids. (A run that had already swapped its registry in is rolled forward
    first, by registry.run_state.recover_published_run.)"""
    from registry.run_state import RunState, stale_run_copies

    killed = []
    for copy in stale_run_copies(home, keep):
        abandon_run(home, copy.stem, KILLED)
        killed.append(copy.stem)
    if home.run_dir.exists():
        for leftover in home.run_dir.iterdir():
            run_id = leftover.name.split(".")[0]
            if run_id != keep and leftover.suffix in (".copying", ".wal", ".work", ".spill"):
                RunState(home, run_id).discard()
            elif leftover.suffix == ".rollback":  # a rollback stopped before its rename (it holds the lock too)
                leftover.unlink(missing_ok=True)
    if home.published_dir.exists():
        for leftover in [*home.published_dir.glob(".building-*.duckdb"), *home.published_dir.glob(".base-*.duckdb")]:
            if keep not in leftover.name:
                leftover.unlink(missing_ok=True)
                leftover.with_name(leftover.name + ".wal").unlink(missing_ok=True)
    return killed


def published_dates(home: Home) -> list[str]:
    """Extract dates the published registry holds a published run for."""
    if not home.published_db.exists():
        return []
    try:
        con = duckdb.connect(str(home.published_db), read_only=True)
    except duckdb.Error:
        return []
    try:
        return [r[0] for r in con.execute(
            "SELECT DISTINCT strftime(extract_date, '%Y-%m-%d') FROM runs WHERE status = 'published'").fetchall()]
    except duckdb.Error:
        return []
    finally:
        con.close()


def delivery_message(con: duckdb.DuckDBPyConnection, extract_date: str) -> str:
    """One line for the ledger: which departments did not deliver fresh data for the night."""
    rows = con.execute(
        "SELECT department, status, coalesce(reason, '') FROM deliveries "
        "WHERE run_extract_date = CAST(? AS DATE) AND status <> 'loaded' ORDER BY department",
        [extract_date]).fetchall()
    if not rows:
        return "all four departments delivered"
    return "; ".join(f"{d}: {s} ({r})" for d, s, r in rows)
