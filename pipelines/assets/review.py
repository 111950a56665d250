"""Stage 5: the quality officers' review queue for the night."""


from dagster import AssetExecutionContext, AssetKey, asset

from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import run_stage, stats_of


@asset(group_name="review", deps=[AssetKey("residents")],
       description="What the machine could not decide: uncertain links, conflicts, identity conflicts, "
                   "orphans and suspected over-merges; decided items stay closed unless their evidence changes.")
def review_queue(context: AssetExecutionContext, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.linkage.model import UNCERTAIN_BAND
    from registry.review.queue import build_review_queue

    with run_stage(context, run_db, "review_queue") as stage:
        extract_date, mode = stage.night
        # an incremental night rebuilds only the items whose inputs changed; the queue equals a full build
        summary = build_review_queue(stage.con, registry.paths.decisions, extract_date,
                                     uncertain_band=UNCERTAIN_BAND, incremental=mode == "incremental",
                                     run_id=stage.run_id)
        stage.stats.update(stats_of(summary))
        stage.stats["open_by_kind"] = dict(stage.con.execute(
            "SELECT kind, count(*) FROM review_queue WHERE status = 'open' GROUP BY kind").fetchall())
