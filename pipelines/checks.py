"""Great Expectations suites run as Dagster asset checks.

Blocking expectations (meta.severity = block) mean "this delivery, or tonight's records, are broken":
they fail the check with ERROR severity and nothing downstream runs, so the published registry stays.
The rest warn. The suites themselves live in expectations/ and run through registry.quality.
"""


from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue,
                     asset_check)

from pipelines.resources import RunDatabase
from registry.departments import DEPARTMENTS


def _validated(run_db: RunDatabase, table: str, suite_name: str) -> AssetCheckResult:
    from registry.quality import load_suite, suite_columns, validate

    suite = load_suite(suite_name)
    with run_db.connect() as con:
        existing = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
        # A column the suite expects but the table lacks is selected as NULL so that its expectation fails
        # clearly instead of the query.
        cols = suite_columns(suite) or sorted(existing)
        select = ", ".join(f'"{c}"' if c in existing else f'NULL AS "{c}"' for c in cols)
        df = con.execute(f"SELECT {select} FROM {table}").df()
    outcome = validate(df, suite_name)
    return AssetCheckResult(
        passed=outcome.success and not outcome.warnings,
        severity=AssetCheckSeverity.ERROR if not outcome.success else AssetCheckSeverity.WARN,
        description=outcome.summary()[:2000],
        metadata={
            "rows": MetadataValue.int(len(df)),
            "blocking_failures": MetadataValue.int(len(outcome.blocking_failures)),
            "warnings": MetadataValue.int(len(outcome.warnings)),
            "results": MetadataValue.json(outcome.results),
        },
    )


def _delivery_check(department: str):
    @asset_check(asset=AssetKey(f"{department}_delivery"), name=f"{department}_delivery_suite", blocking=True,
                 description=f"Great Expectations suite {department}_delivery on the loaded snapshot.")
    def _check(context: AssetCheckExecutionContext, run_db: RunDatabase) -> AssetCheckResult:
        return _validated(run_db, f"raw_{department}", f"{department}_delivery")
    return _check


@asset_check(asset=AssetKey("standardised_records"), name="standardised_records_suite", blocking=True,
             description="Great Expectations suite standardised_records on the canonical records.")
def standardised_records_suite(context: AssetCheckExecutionContext, run_db: RunDatabase) -> AssetCheckResult:
    return _validated(run_db, "records", "standardised_records")


asset_checks = [_delivery_check(d) for d in DEPARTMENTS] + [standardised_records_suite]
