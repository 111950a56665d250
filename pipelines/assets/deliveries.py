"""Stage 1: the departments' deliveries for the night, loaded as raw snapshots."""


from dagster import AssetExecutionContext, AssetKey, Failure, MetadataValue, asset

from pipelines.resources import Night, RegistryHome, RunDatabase, night_date
from pipelines.stage import run_stage
from registry import runs
from registry.departments import DEPARTMENTS

GROUP = "deliveries"


@asset(group_name=GROUP, description="Fixes the night this run is for and whether it runs incrementally.")
def run_plan(context: AssetExecutionContext, night: Night, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.linkage.training import load_model

    extract_date = night_date(night.extract_date, registry.landing_path)
    if extract_date is None:
        raise RuntimeError(f"no deliveries in the landing zone {registry.landing_path}")
    with run_db.connect() as con:
        has_records = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'records'").fetchall()[0][0] > 0
        runs.ensure_tables(con)
        latest = con.execute("SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'").fetchall()[0][0]
        if latest and extract_date < latest:
            # The state moves forward only: a night before the latest merged one would roll every department back.
            raise Failure(f"{extract_date} is earlier than the latest merged night {latest}; the registry only "
                          f"moves forward (rerun {latest} or a later night). The published registry stays as it was")
        last_model = runs.get_meta(con, "model_version") if has_records else None
        current_model = load_model().version
        if night.full_rebuild:
            mode, why = "full", "full rebuild requested"
        elif not has_records:
            mode, why = "full", "no earlier state: first run"
        elif night.retrain or last_model != current_model:
            mode, why = "full", f"linkage model changed ({last_model} -> {current_model})"
        else:
            mode, why = "incremental", "compared with the last processed snapshots"
        runs.begin_run(con, registry.paths, context.run.run_id, extract_date, mode)
    context.add_output_metadata({
        "extract_date": extract_date, "mode": mode, "why": why,
        "landing": MetadataValue.path(str(registry.landing_path)),
    })


def step_priority(department: str, *, check: bool = False) -> str:
    """Dagster runs the ready step of highest priority first: each delivery is loaded in the order the
    parsing workers have the files ready, and its check runs right after it, while the next file (the
    workbook last) is still being parsed, rather than all four checks after the last load."""
    from registry.departments.parsing import READY_ORDER

    rank = 2 * (len(READY_ORDER) - READY_ORDER.index(department))
    return str(rank - 1 if check else rank)


def _delivery_asset(department: str):
    @asset(name=f"{department}_delivery", group_name=GROUP, deps=[AssetKey("run_plan")],
           op_tags={"dagster/priority": step_priority(department)},
           description=f"{department}'s delivery for the night (the latest earlier one stands if it missed it).")
    def _load(context: AssetExecutionContext, registry: RegistryHome, night: Night, run_db: RunDatabase) -> None:
        from registry.departments.load import load_department

        with run_stage(context, run_db, f"{department}_delivery") as stage:
            extract_date, _ = stage.night
            outcome = load_department(stage.con, registry.landing_path, department, extract_date,
                                      workdir=run_db.state.path.parent, parsing=run_db.parsing)
            stage.stats.update({
                "status": outcome.status, "delivery_date": str(outcome.delivery_date or ""),
                "file": str(outcome.file or ""), "reason": outcome.reason or "",
                "rows_delivered": outcome.rows_delivered, "rows_loaded": outcome.rows_loaded,
                "rows_quarantined": outcome.rows_quarantined,
                "quarantined_by_reason": dict(outcome.quarantined_by_reason or {}),
            })
        if outcome.status == "missing":
            raise Failure(f"{department}: no delivery for {extract_date} or any earlier night in "
                          f"{registry.landing_path}; the published registry stays as it was")
        if outcome.status == "rejected" and not night.accept_rejected:
            raise Failure(f"{department}: delivery rejected: {outcome.reason}. The published registry stays "
                          f"as it was; rerun with --accept-rejected to publish with the previous delivery standing")
        if outcome.status != "loaded":
            context.log.warning(f"{department}: {outcome.status}: {outcome.reason}")
    return _load


delivery_assets = [_delivery_asset(d) for d in DEPARTMENTS]
