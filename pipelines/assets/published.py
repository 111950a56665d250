"""Stage 6: the published registry, checked and swapped in atomically; then the run's state is kept."""


import time

from dagster import (AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetExecutionContext, AssetKey,
                     MaterializeResult, MetadataValue, asset)

from pipelines.assets.deliveries import PLAN
from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import stats_of, this_runs_plan
from registry import progress, runs
from registry.night import NightPlan


SUITE_CHECK = "published_registry_suite"


@asset(group_name="published", ins=PLAN, deps=[AssetKey("review_queue"), AssetKey("linkage_health")],
       check_specs=[AssetCheckSpec(SUITE_CHECK, asset="published_registry", blocking=True,
                                   description="Great Expectations suite published_registry on the golden table, "
                                               "with the SQL checks across tables, before the atomic swap.")],
       description="HOME/published/registry.duckdb: residents, crosswalk, review queue, runs and the "
                   "department views; blocking quality checks run before the atomic swap.")
def published_registry(context: AssetExecutionContext, plan: NightPlan, registry: RegistryHome,
                       run_db: RunDatabase):
    from registry.errors import PublishError
    from registry.publish import publish

    plan = this_runs_plan(context, plan)
    home = registry.paths
    progress.stage_started(runs.PUBLISH_STAGE)
    with run_db.connect() as con:
        message = runs.delivery_message(con, plan.extract_date)
        # The ledger row is final before the copy is published, so the registry shows this run as published.
        runs.finish_run(con, plan.run_id, "published", message)
        con.execute("CHECKPOINT")
        started = time.perf_counter()
        try:
            result = publish(con, home, plan, base_copy=run_db.take_published_base())
        except PublishError as exc:
            # The checks ran before the swap and stopped it: the check says so, then the step fails.
            if exc.checks:
                yield _suite_result(exc.checks)
            raise
        seconds = time.perf_counter() - started
        # From the swap on, the run is published: its figures are best effort, the promotion is not.
        stats = {}
        try:
            runs.record_stage(con, plan.run_id, runs.PUBLISH_STAGE, seconds, stats_of(result))
            stats = runs.finish_run(con, plan.run_id, "published", message)
            con.execute("CHECKPOINT")
        except Exception as exc:  # noqa: BLE001 - a ledger detail must not un-publish the night
            context.log.warning(f"publish figures not recorded: {exc}")
    run_db.state.promote()
    progress.stage_finished(runs.PUBLISH_STAGE, seconds, (result.tables.get("residents"), "residents published"))
    yield _suite_result(result.checks)
    yield MaterializeResult(metadata={
        "published": MetadataValue.path(str(home.published_db)),
        "seconds": MetadataValue.float(round(seconds, 3)),
        # incremental: yesterday's file plus tonight's changes; full: copied whole (and why)
        "build": MetadataValue.text(f"{result.build} ({result.build_reason})"),
        "checks": MetadataValue.json(stats_of(result)),
        "run_stats": MetadataValue.json(stats),
    })


def _suite_result(checks) -> AssetCheckResult:
    """The checks publish ran before its swap, as the asset check of the published registry."""
    blocking = [c for c in checks if not c.passed and c.severity == "block"]
    warnings = [c for c in checks if not c.passed and c.severity != "block"]
    lines = [f"{SUITE_CHECK}: {'BLOCKED' if blocking else 'passed'} ({len(blocking)} blocking, "
             f"{len(warnings)} warnings)"]
    lines += [f"  [{c.severity}] {c.name}: {c.failing} failing {c.detail}".rstrip() for c in blocking + warnings]
    return AssetCheckResult(
        check_name=SUITE_CHECK, passed=not blocking and not warnings,
        severity=AssetCheckSeverity.ERROR if blocking else AssetCheckSeverity.WARN,
        description="\n".join(lines)[:2000],
        metadata={"checks": MetadataValue.json([c.__dict__ for c in checks]),
                  "blocking_failures": MetadataValue.int(len(blocking)),
                  "warnings": MetadataValue.int(len(warnings))})
