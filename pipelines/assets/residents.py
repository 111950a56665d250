"""Stage 4: residents — stable IDs, golden records by survivorship, lineage and history."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.resources import RunDatabase
from pipelines.stage import run_stage, stats_of


@asset(group_name="residents", deps=[AssetKey("person_clusters")],
       description="One golden record per resident with a stable resident_id, lineage of every value, "
                   "conflicts between departments, identity events and history.")
def residents(context: AssetExecutionContext, run_db: RunDatabase) -> None:
    from registry.residents.history import record_history
    from registry.residents.stable_ids import assign_resident_ids
    from registry.residents.survivorship import build_golden_records

    with run_stage(context, run_db, "residents") as stage:
        extract_date, _ = stage.night
        stage.stats["ids"] = stats_of(assign_resident_ids(stage.con, context.run.run_id, extract_date))
        stage.stats["survivorship"] = stats_of(build_golden_records(stage.con))
        stage.stats["history"] = stats_of(record_history(stage.con, extract_date))
        stage.stats["residents"] = stage.con.execute("SELECT count(*) FROM residents").fetchall()[0][0]
