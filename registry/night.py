"""The night plan: which night a run merges, whether it runs in full or incrementally and why, and the
change set its incremental stages read. Decided once, by `plan_night`, at the start of a run; every
stage takes the plan; nothing else reads the run ledger to find out.

A night is `full` on the first run, when a full rebuild or a retrained model is asked for, and when the
committed linkage model differs from the one the state was linked with; otherwise `incremental`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from registry import runs
from registry.errors import NightRefused
from registry.home import Home
from registry.incremental import RECORD_CHANGES, ChangeSet
from registry.sql import table_exists

FULL, INCREMENTAL = "full", "incremental"


@dataclass(frozen=True)
class NightPlan:
    """One run's night. `previous_run` is the latest published run the run's state descends from, and
    `previous_publish` the figures its publish recorded (what tonight's publish may build on)."""

    run_id: str
    extract_date: str                 # YYYY-MM-DD
    mode: str                         # full | incremental
    reason: str                       # why, in words
    landing: Path | None = None
    retrain: bool = False
    accept_rejected: bool = False     # publish with a rejected delivery's predecessor standing
    previous_run: str | None = None
    previous_publish: dict[str, Any] = field(default_factory=dict, compare=False)
    changes: ChangeSet = RECORD_CHANGES

    @property
    def incremental(self) -> bool:
        return self.mode == INCREMENTAL

    def describe(self) -> dict[str, Any]:
        """The plan in plain figures (run metadata, logs)."""
        return {"extract_date": self.extract_date, "mode": self.mode, "why": self.reason,
                "landing": str(self.landing or ""), "retrain": self.retrain,
                "accept_rejected": self.accept_rejected, "previous_run": self.previous_run or ""}


def full_night(extract_date: str = "", run_id: str = "adhoc", reason: str = "full computation asked",
               **kwargs: Any) -> NightPlan:
    """A plan computing everything (for direct calls of the stages: tests, benchmarks)."""
    return NightPlan(run_id=run_id, extract_date=extract_date, mode=FULL, reason=reason, **kwargs)


def incremental_night(extract_date: str = "", run_id: str = "adhoc",
                      reason: str = "compared with the last processed snapshots", **kwargs: Any) -> NightPlan:
    """A plan computing what changed, where each stage's basis allows (for direct calls of the stages)."""
    return NightPlan(run_id=run_id, extract_date=extract_date, mode=INCREMENTAL, reason=reason, **kwargs)


def night_of(con: duckdb.DuckDBPyConnection, run_id: str, extract_date: str, mode: str, **kwargs: Any) -> NightPlan:
    """The plan of a run opened in the ledger by hand (runs.begin_run), its previous publish read from the
    ledger: for direct calls of the stages (tests, benchmarks); a nightly run uses plan_night."""
    previous, figures = _previous_publish(con, run_id)
    return NightPlan(run_id=run_id, extract_date=extract_date, mode=mode, reason=kwargs.pop("reason", "by hand"),
                     previous_run=previous, previous_publish=figures, **kwargs)


def plan_night(con: duckdb.DuckDBPyConnection, home: Home, run_id: str, landing: Path, *, extract_date: str = "",
               full_rebuild: bool = False, retrain: bool = False, accept_rejected: bool = False) -> NightPlan:
    """Decide the night of run `run_id` on its database, and open its row in the run ledger.

    extract_date: YYYY-MM-DD, or empty for the latest night in the landing zone. Raises NightRefused
    (nothing changed) when the landing zone holds no night, or the night is before the latest merged one.
    """
    from registry.departments.landing import night_date
    from registry.linkage.training import load_model

    date = night_date(extract_date, landing)
    if date is None:
        raise NightRefused(f"no deliveries in the landing zone {landing}")
    has_records = table_exists(con, "records")
    runs.ensure_tables(con)
    latest = con.execute("SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'").fetchall()[0][0]
    if latest and date < latest:
        # The state moves forward only: a night before the latest merged one would roll every department back.
        raise NightRefused(f"{date} is earlier than the latest merged night {latest}; the registry only "
                           f"moves forward (rerun {latest} or a later night). The published registry stays as it was")
    last_model = runs.get_meta(con, "model_version") if has_records else None
    current_model = load_model().version
    if full_rebuild:
        mode, why = FULL, "full rebuild requested"
    elif not has_records:
        mode, why = FULL, "no earlier state: first run"
    elif retrain or last_model != current_model:
        mode, why = FULL, f"linkage model changed ({last_model} -> {current_model})"
    else:
        mode, why = INCREMENTAL, "compared with the last processed snapshots"
    previous, figures = _previous_publish(con, run_id)
    runs.begin_run(con, home, run_id, date, mode)
    return NightPlan(run_id=run_id, extract_date=date, mode=mode, reason=why, landing=Path(landing), retrain=retrain,
                     accept_rejected=accept_rejected, previous_run=previous, previous_publish=figures)


def _previous_publish(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[str | None, dict]:
    """The latest published run of the state (not this one) and the figures its publish recorded."""
    row = con.execute("SELECT run_id FROM runs WHERE status = 'published' AND run_id <> ? "
                      "ORDER BY finished_at DESC NULLS LAST LIMIT 1", [run_id]).fetchall()
    if not row:
        return None, {}
    stats = con.execute("SELECT stats FROM run_stages WHERE run_id = ? AND stage = ? "
                        "ORDER BY recorded_at DESC LIMIT 1", [row[0][0], runs.PUBLISH_STAGE]).fetchall()
    try:
        return row[0][0], (json.loads(stats[0][0]) if stats and stats[0][0] else {})
    except (TypeError, ValueError):
        return row[0][0], {}
