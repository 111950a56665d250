"""One place for what every asset does around its library call: take the run's database connection,
check it runs in the night planned for this run, time the stage, and put the stage's figures in the
run ledger and in Dagster metadata."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
from dagster import AssetExecutionContext, MetadataValue

from pipelines.resources import RunDatabase
from registry import progress, runs
from registry.night import NightPlan
from registry.sql import drop_temporaries


@dataclass
class Stage:
    name: str
    con: duckdb.DuckDBPyConnection
    night: NightPlan
    stats: dict[str, Any] = field(default_factory=dict)
    rows: tuple[int, str] | None = None  # the stage's output for the progress line, e.g. (21490, "records")


def stats_of(summary: Any) -> dict[str, Any]:
    """A library summary (dataclass, object with as_dict(), or dict) as plain figures."""
    if summary is None:
        return {}
    if isinstance(summary, dict):
        return dict(summary)
    if hasattr(summary, "as_dict"):
        return dict(summary.as_dict())
    if dataclasses.is_dataclass(summary):
        return dataclasses.asdict(summary)
    return {"summary": str(summary)}


def _metadata_value(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return MetadataValue.json(v)
    if isinstance(v, float):
        return MetadataValue.float(v)
    if isinstance(v, bool):
        return MetadataValue.bool(v)
    if isinstance(v, int):
        return MetadataValue.int(v)
    return MetadataValue.text(str(v))


def this_runs_plan(context, plan: NightPlan) -> NightPlan:
    """The plan, if it is this run's (a step run on its own would get the plan of an earlier run)."""
    if plan.run_id != context.run.run_id:
        raise RuntimeError(f"run {context.run.run_id} has no plan: the run_plan asset must run first")
    return plan


@contextlib.contextmanager
def run_stage(context: AssetExecutionContext, db: RunDatabase, name: str, plan: NightPlan) -> Iterator[Stage]:
    started = time.perf_counter()
    plan = this_runs_plan(context, plan)
    progress.stage_started(name)
    with db.connect() as con:
        stage = Stage(name=name, con=con, night=plan)
        try:
            yield stage
        except BaseException as exc:
            progress.stage_failed(name, time.perf_counter() - started, exc)
            raise
        drop_temporaries(con)
        seconds = time.perf_counter() - started
        runs.record_stage(con, plan.run_id, name, seconds, stage.stats)
    progress.stage_finished(name, seconds, stage.rows)
    metadata = {k: _metadata_value(v) for k, v in stage.stats.items()}
    metadata["seconds"] = MetadataValue.float(round(seconds, 3))
    context.add_output_metadata(metadata)
