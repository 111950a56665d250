"""Stage 2: every department's records in one canonical shape."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.resources import RunDatabase
from pipelines.stage import run_stage, stats_of
from registry.departments import DEPARTMENTS


@asset(group_name="standardised", deps=[AssetKey(f"{d}_delivery") for d in DEPARTMENTS],
       description="Standardised records of all departments, with raw values kept beside them; "
                   "only new and changed records are standardised on an incremental night.")
def standardised_records(context: AssetExecutionContext, run_db: RunDatabase) -> None:
    from registry.standardise import standardise

    with run_stage(context, run_db, "standardised_records") as stage:
        _, mode = stage.night
        if mode == "incremental":
            run_db.copy_published_ahead()
        summary = standardise(stage.con, full=(mode == "full"))
        stage.stats.update(stats_of(summary))
        stage.stats["records"] = stage.con.execute("SELECT count(*) FROM records").fetchall()[0][0]
        stage.stats["changes"] = dict(stage.con.execute(
            "SELECT department || '.' || change, count(*) FROM record_changes GROUP BY ALL").fetchall())
