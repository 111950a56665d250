"""Stage 6: the published registry, checked and swapped in atomically; then the run's state is kept."""


from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import run_stage, stats_of
from registry import runs


@asset(group_name="published", deps=[AssetKey("review_queue")],
       description="HOME/published/registry.duckdb: residents, crosswalk, review queue, runs and the "
                   "department views; blocking quality checks run before the atomic swap.")
def published_registry(context: AssetExecutionContext, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.publish import publish

    home = registry.paths
    # The ledger row is final before the copy is published, so the registry shows this run as published.
    with run_db.connect() as con:
        stats = runs.finish_run(con, context.run.run_id, "published", run_message(con, context.run.run_id))
        result = publish(con, home, context.run.run_id)
        con.execute("CHECKPOINT")
    run_db.state.promote()
    context.add_output_metadata({
        "published": MetadataValue.path(str(home.published_db)),
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
