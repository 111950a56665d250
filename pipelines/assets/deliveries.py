"""Stage 1: the night's plan, then the departments' deliveries loaded as raw snapshots."""

from dagster import AssetExecutionContext, AssetIn, MetadataValue, asset

from pipelines.resources import Night, RegistryHome, RunDatabase
from pipelines.stage import run_stage
from registry import progress
from registry.departments import DEPARTMENTS
from registry.night import NightPlan

GROUP = "deliveries"
PLAN = {"plan": AssetIn("run_plan")}


@asset(group_name=GROUP, description="Fixes the night this run is for and whether it runs incrementally.")
def run_plan(context: AssetExecutionContext, night: Night, registry: RegistryHome, run_db: RunDatabase) -> NightPlan:
    from registry.night import plan_night
    from registry.shrink import ShrinkGuard

    with run_db.connect() as con:
        plan = plan_night(con, registry.paths, context.run.run_id, registry.landing_path,
                          extract_date=night.extract_date, full_rebuild=night.full_rebuild, retrain=night.retrain,
                          accept_rejected=night.accept_rejected,
                          shrink=ShrinkGuard(night.max_record_drop, night.max_resident_retire, night.accept_shrink))
    described = plan.describe()
    progress.note(f"night {plan.extract_date}: {plan.mode} ({plan.reason})")
    context.add_output_metadata({**described, "landing": MetadataValue.path(described["landing"])})
    return plan


def step_priority(department: str, *, check: bool = False) -> str:
    """Dagster runs the ready step of highest priority first: each delivery is loaded in the order the
    parsing workers have the files ready, and its check runs right after it, while the next file (the
    workbook last) is still being parsed, rather than all four checks after the last load."""
    from registry.departments.parsing import READY_ORDER

    rank = 2 * (len(READY_ORDER) - READY_ORDER.index(department))
    return str(rank - 1 if check else rank)


def _delivery_asset(department: str):
    @asset(name=f"{department}_delivery", group_name=GROUP, ins=PLAN,
           op_tags={"dagster/priority": step_priority(department)},
           description=f"{department}'s delivery for the night (the latest earlier one stands if it missed it).")
    def _load(context: AssetExecutionContext, plan: NightPlan, run_db: RunDatabase) -> None:
        from registry.departments.load import load_department, stop_unless_usable

        with run_stage(context, run_db, f"{department}_delivery", plan) as stage:
            outcome = load_department(stage.con, plan.landing, department, plan.extract_date,
                                      workdir=run_db.state.path.parent, parsing=run_db.parsing, shrink=plan.shrink)
            stage.stats.update({
                "status": outcome.status, "delivery_date": str(outcome.delivery_date or ""),
                "file": str(outcome.file or ""), "reason": outcome.reason or "",
                "rows_delivered": outcome.rows_delivered, "rows_loaded": outcome.rows_loaded,
                "rows_quarantined": outcome.rows_quarantined,
                "quarantined_by_reason": dict(outcome.quarantined_by_reason or {}),
            })
            stage.rows = (outcome.rows_loaded, f"rows standing ({outcome.status})")
        stop_unless_usable(outcome, plan)
        if outcome.status != "loaded":
            context.log.warning(f"{department}: {outcome.status}: {outcome.reason}")
    return _load


delivery_assets = [_delivery_asset(d) for d in DEPARTMENTS]
