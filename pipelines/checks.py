"""Great Expectations suites run as Dagster asset checks.

Blocking expectations (meta.severity = block) mean "this delivery, or tonight's records, are broken":
they fail the check with ERROR severity and nothing downstream runs, so the published registry stays.
The rest warn. The suites live in expectations/ and run through registry.quality.suites; on an
incremental night their row-level expectations look at the rows that are new or changed tonight.
"""

from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue,
                     asset_check)

from pipelines.assets.deliveries import step_priority
from pipelines.resources import RunDatabase
from registry.departments import DEPARTMENTS
from registry.temporaries import drop_temporaries


def _incremental(con, run_id: str) -> bool:
    rows = con.execute("SELECT mode FROM runs WHERE run_id = ?", [run_id]).fetchall()
    return bool(rows) and rows[0][0] == "incremental"


def _result(outcome) -> AssetCheckResult:
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
                 op_tags={"dagster/priority": step_priority(department, check=True)},
                 description=f"Great Expectations suite {department}_delivery on the loaded snapshot.")
    def _check(context: AssetCheckExecutionContext, run_db: RunDatabase) -> AssetCheckResult:
        from registry.quality.suites import validate_department

        with run_db.connect() as con:
            outcome = validate_department(con, department, changed_only=_incremental(con, context.run.run_id))
            drop_temporaries(con)
            return _result(outcome)
    return _check


@asset_check(asset=AssetKey("standardised_records"), name="standardised_records_suite", blocking=True,
             description="Great Expectations suite standardised_records on the canonical records.")
def standardised_records_suite(context: AssetCheckExecutionContext, run_db: RunDatabase) -> AssetCheckResult:
    from registry.quality.suites import validate_records

    with run_db.connect() as con:
        outcome = validate_records(con, changed_only=_incremental(con, context.run.run_id))
        drop_temporaries(con)
        return _result(outcome)


asset_checks = [_delivery_check(d) for d in DEPARTMENTS] + [standardised_records_suite]
