"""Stage 6: the published registry, checked and swapped in atomically; then the run's state is kept."""


import time

from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import stats_of
from registry import runs


@asset(group_name="published", deps=[AssetKey("review_queue")],
       description="HOME/published/registry.duckdb: residents, crosswalk, review queue, runs and the "
                   "department views; blocking quality checks run before the atomic swap.")
def published_registry(context: AssetExecutionContext, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.publish import publish

    home = registry.paths
    with run_db.connect() as con:
        message = run_message(con, context.run.run_id)
        # The ledger row is final before the copy is published, so the registry shows this run as published.
        runs.finish_run(con, context.run.run_id, "published", message)
        con.execute("CHECKPOINT")
        started = time.perf_counter()
        result = publish(con, home, context.run.run_id, base_copy=run_db.take_published_base())
        seconds = time.perf_counter() - started
        # From the swap on, the run is published: its figures are best effort, the promotion is not.
        stats = {}
        try:
            runs.record_stage(con, context.run.run_id, "published_registry", seconds, stats_of(result))
            stats = runs.finish_run(con, context.run.run_id, "published", message)
            con.execute("CHECKPOINT")
        except Exception as exc:  # noqa: BLE001 - a ledger detail must not un-publish the night
            context.log.warning(f"publish figures not recorded: {exc}")
    run_db.state.promote()
    context.add_output_metadata({
        "published": MetadataValue.path(str(home.published_db)),
        "seconds": MetadataValue.float(round(seconds, 3)),
        # incremental: yesterday's file plus tonight's changes; full: copied whole (and why)
        "build": MetadataValue.text(f"{result.build} ({result.build_reason})"),
        "checks": MetadataValue.json(stats_of(result)),
        "run_stats": MetadataValue.json(stats),
    })


def run_message(con, run_id: str) -> str:
    """One line for the ledger: which departments did not deliver fresh data tonight."""
    rows = con.execute(
        "SELECT department, status, coalesce(reason, '') FROM deliveries "
        "WHERE run_extract_date = (SELECT extract_date FROM runs WHERE run_id = ?) AND status <> 'loaded' "
        "ORDER BY department", [run_id]).fetchall()
    if not rows:
        return "all four departments delivered"
    return "; ".join(f"{d}: {s} ({r})" for d, s, r in rows)
