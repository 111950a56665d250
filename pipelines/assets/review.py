"""Stage 5: the quality officers' review queue for the night."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.assets.deliveries import PLAN
from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import run_stage, stats_of
from registry.night import NightPlan


@asset(group_name="review", ins=PLAN, deps=[AssetKey("residents")],
       description="What the machine could not decide: uncertain links, links it overruled, conflicts, identity conflicts, "
                   "orphans, suspected over-merges and the audit samples drawn; decided items stay closed unless their "
                   "evidence changes.")
def review_queue(context: AssetExecutionContext, plan: NightPlan, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.linkage.calibration import UNCERTAIN_BAND
    from registry.review.items.audit_sample import register_items
    from registry.review.queue import build_review_queue

    with run_stage(context, run_db, "review_queue", plan) as stage:
        register_items(stage.con, registry.paths.audit_samples)  # the audit samples drawn so far
        # an incremental night rebuilds only the items whose inputs changed; the queue equals a full build
        summary = build_review_queue(stage.con, plan, registry.paths.decisions, uncertain_band=UNCERTAIN_BAND)
        stage.stats.update(stats_of(summary))
        stage.stats["open_by_kind"] = dict(stage.con.execute(
            "SELECT kind, count(*) FROM review_queue WHERE status = 'open' GROUP BY kind").fetchall())
        stage.rows = (sum(stage.stats["open_by_kind"].values()), "open review items")
