"""The night plan: which night a run merges, whether it runs in full or incrementally and why, and the
change set its incremental stages read. Decided once, by `plan_night`, at the start of a run; every
stage takes the plan; nothing else reads the run ledger to find out.

A night is `full` on the first run, when a full rebuild is asked for, and when the committed linkage
model differs from the one the state was linked with; otherwise `incremental` (a retrain trains a
candidate beside the night: the night itself is linked with the committed model).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from registry import runs
from registry.errors import NightRefused
from registry.home import Home
from registry.shrink import ShrinkGuard
from registry.incremental import RECORD_CHANGES, ChangeSet
from registry.sql import table_exists

FULL, INCREMENTAL = "full", "incremental"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    shrink: ShrinkGuard = ShrinkGuard()  # how much one delivery / one night may remove (registry.shrink)
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
                "accept_rejected": self.accept_rejected, "previous_run": self.previous_run or "",
                "max_record_drop": self.shrink.max_record_drop,
                "max_resident_retire": self.shrink.max_resident_retire, "accept_shrink": self.shrink.accepted}


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
               full_rebuild: bool = False, retrain: bool = False, accept_rejected: bool = False,
               shrink: ShrinkGuard | None = None) -> NightPlan:
    """Decide the night of run `run_id` on its database, and open its row in the run ledger.

    extract_date: YYYY-MM-DD, or empty for the latest night in the landing zone. Raises NightRefused
    (nothing changed) when the landing zone holds no night, or the night is before the latest merged one.
    """
    from registry.linkage.training import load_model

    date = check_night(landing, extract_date)
    has_records = table_exists(con, "records")
    runs.ensure_tables(con)
    check_forward(date, con.execute("SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'"
                                    ).fetchall()[0][0])
    last_model = runs.get_meta(con, "model_version") if has_records else None
    current_model = load_model().version
    if full_rebuild:
        mode, why = FULL, "full rebuild requested"
    elif not has_records:
        mode, why = FULL, "no earlier state: first run"
    elif last_model != current_model:
        mode, why = FULL, f"linkage model changed ({last_model} -> {current_model})"
    else:
        mode, why = INCREMENTAL, "compared with the last processed snapshots"
    previous, figures = _previous_publish(con, run_id)
    runs.begin_run(con, home, run_id, date, mode)
    return NightPlan(run_id=run_id, extract_date=date, mode=mode, reason=why, landing=Path(landing), retrain=retrain,
                     accept_rejected=accept_rejected, shrink=shrink or ShrinkGuard(), previous_run=previous,
                     previous_publish=figures)


def check_night(landing: Path, extract_date: str = "") -> str:
    """The night a run may merge, checked before anything starts: the date asked for must be a date
    (YYYY-MM-DD) that at least one department delivered for; without one, the latest such night in the
    landing zone. Raises NightRefused (one line; nothing is changed or created)."""
    from registry.departments.landing import deliveries_for, delivered_dates

    nights = delivered_dates(landing)
    if not extract_date:
        if not nights:
            raise NightRefused(f"no department has delivered anything in the landing zone {landing}")
        return nights[-1]
    if not _DATE.fullmatch(extract_date):
        raise NightRefused(f"{extract_date!r} is not an extract date: write it YYYY-MM-DD")
    try:
        dt.date.fromisoformat(extract_date)
    except ValueError as exc:
        raise NightRefused(f"{extract_date!r} is not a date ({exc})") from None
    if not any(deliveries_for(landing, extract_date).values()):
        known = (f"; the nights delivered there: {', '.join(nights[-5:])}" if nights
                 else "; no department has delivered anything there")
        raise NightRefused(f"no department delivered for {extract_date} in {landing}{known}")
    return extract_date


def check_forward(extract_date: str, latest_merged: str | None) -> None:
    """The state moves forward only: a night before the latest merged one would roll every department
    back. Raises NightRefused."""
    if latest_merged and extract_date < latest_merged:
        raise NightRefused(f"{extract_date} is earlier than the latest merged night {latest_merged}; the registry "
                           f"only moves forward (rerun {latest_merged} or a later night, or take {latest_merged} "
                           "back first: registry rollback). The published registry stays as it was")


def latest_merged_night(home: Home) -> str | None:
    """The extract date of the latest night the working state holds as published (None: no state yet)."""
    if not home.state_db.exists():
        return None
    con = duckdb.connect(str(home.state_db), read_only=True)
    try:
        return con.execute("SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'").fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


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
