"""Great Expectations suites run as Dagster asset checks.

Blocking expectations (meta.severity = block) mean "this delivery, or tonight's records, are broken":
they fail the check with ERROR severity and nothing downstream runs, so the published registry stays.
The rest warn. The suites live in expectations/ and run through registry.quality.suites, scoped to the
night by the night plan (registry.quality.scoped).
"""

import time

from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue,
                     asset_check)

from pipelines.assets.deliveries import PLAN, step_priority
from pipelines.resources import RunDatabase
from pipelines.stage import this_runs_plan
from registry import progress
from registry.departments import DEPARTMENTS
from registry.night import NightPlan
from registry.sql import drop_temporaries


def _result(outcome, started: float) -> AssetCheckResult:
    verdict = "passed" if outcome.success else "BLOCKED"
    progress.note(f"check {outcome.suite_name} {verdict} in {time.perf_counter() - started:.1f} s "
                  f"({int(outcome.statistics.get('rows', 0)):,} rows, {len(outcome.blocking_failures)} blocking, "
                  f"{len(outcome.warnings)} warnings)")
    return AssetCheckResult(
        passed=outcome.success and not outcome.warnings,
        severity=AssetCheckSeverity.ERROR if not outcome.success else AssetCheckSeverity.WARN,
        description=outcome.summary()[:2000],
        metadata={
            "rows_validated": MetadataValue.int(int(outcome.statistics.get("rows", 0))),
            "scope": MetadataValue.text(str(outcome.statistics.get("scope", "whole table"))),
            "blocking_failures": MetadataValue.int(len(outcome.blocking_failures)),
            "warnings": MetadataValue.int(len(outcome.warnings)),
            "results": MetadataValue.json(outcome.results),
        },
    )


def _delivery_check(department: str):
    @asset_check(asset=AssetKey(f"{department}_delivery"), name=f"{department}_delivery_suite", blocking=True,
                 additional_ins=PLAN, op_tags={"dagster/priority": step_priority(department, check=True)},
                 description=f"Great Expectations suite {department}_delivery on the loaded snapshot.")
    def _check(context: AssetCheckExecutionContext, plan: NightPlan, run_db: RunDatabase) -> AssetCheckResult:
        from registry.quality.suites import validate_department

        started = time.perf_counter()
        with run_db.connect() as con:
            outcome = validate_department(con, department, this_runs_plan(context, plan))
            drop_temporaries(con)
            return _result(outcome, started)
    return _check


@asset_check(asset=AssetKey("standardised_records"), name="standardised_records_suite", blocking=True,
             additional_ins=PLAN, description="Great Expectations suite standardised_records on the canonical records.")
def standardised_records_suite(context: AssetCheckExecutionContext, plan: NightPlan,
                               run_db: RunDatabase) -> AssetCheckResult:
    from registry.quality.suites import validate_records

    started = time.perf_counter()
    with run_db.connect() as con:
        outcome = validate_records(con, this_runs_plan(context, plan))
        drop_temporaries(con)
        return _result(outcome, started)


asset_checks = [_delivery_check(d) for d in DEPARTMENTS] + [standardised_records_suite]
