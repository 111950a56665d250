"""Stage 4: residents — stable IDs, golden records by survivorship, lineage and history."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.assets.deliveries import PLAN
from pipelines.resources import RunDatabase
from pipelines.stage import run_stage
from registry.night import NightPlan


@asset(group_name="residents", ins=PLAN, deps=[AssetKey("person_clusters")],
       description="One golden record per resident with a stable resident_id, lineage of every value, "
                   "conflicts between departments, identity events and history.")
def residents(context: AssetExecutionContext, plan: NightPlan, run_db: RunDatabase) -> None:
    from registry.residents import build_residents
    from registry.shrink import check_retirements

    with run_stage(context, run_db, "residents", plan) as stage:
        stage.stats.update(build_residents(stage.con, plan))
        # The shrink guard: tonight retires no more residents than allowed, or stops here, before publishing.
        stage.stats["retirements"] = check_retirements(stage.con, plan.run_id, plan.shrink, plan.changes.table)
        stage.stats["residents"] = stage.con.execute("SELECT count(*) FROM residents").fetchall()[0][0]
        stage.rows = (stage.stats["residents"], "residents")
