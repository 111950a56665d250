"""Stage 2: every department's records in one canonical shape."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.assets.deliveries import PLAN
from pipelines.resources import RunDatabase
from pipelines.stage import run_stage, stats_of
from registry.departments import DEPARTMENTS
from registry.night import NightPlan


@asset(group_name="standardised", ins=PLAN, deps=[AssetKey(f"{d}_delivery") for d in DEPARTMENTS],
       description="Standardised records of all departments, with raw values kept beside them; "
                   "only new and changed records are standardised on an incremental night.")
def standardised_records(context: AssetExecutionContext, plan: NightPlan, run_db: RunDatabase) -> None:
    from registry.standardise import standardise

    with run_stage(context, run_db, "standardised_records", plan) as stage:
        if plan.incremental:
            run_db.copy_published_ahead()
        summary = standardise(stage.con, plan)
        stage.stats.update(stats_of(summary))
        stage.stats["records"] = stage.con.execute("SELECT count(*) FROM records").fetchall()[0][0]
        stage.rows = (summary.standardised, f"records standardised of {stage.stats['records']:,}")
        stage.stats["changes"] = dict(stage.con.execute(
            f"SELECT department || '.' || change, count(*) FROM {plan.changes.table} GROUP BY ALL").fetchall())
