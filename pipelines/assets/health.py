"""Stage 5b: tonight's linkage health (registry.health), with warning checks that never block the night."""


from dagster import (AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetExecutionContext,
                     AssetKey, MetadataValue, asset, asset_check)

from pipelines.assets.deliveries import PLAN
from pipelines.resources import RegistryHome, RunDatabase
from pipelines.stage import run_stage, stats_of, this_runs_plan
from registry.night import NightPlan

ASSET = "linkage_health"
# check name -> the figures it watches (registry/health/thresholds.yaml says when each warns)
CHECKS = {
    "link_rates": ("link_rate", "unlinked_share"),
    "linkable_records": ("unlinkable_share", "mean_self_match_weight", "completeness"),
    "match_weights": ("mean_match_weight", "uncertain_share"),
    "impossible_residents": ("impossible_residents",),
    "review_backlog": ("review_open", "review_open_age_days"),
}
# Charts shown as images in the asset's metadata (the rest are on the officers' chart page).
DAGSTER_CHARTS = ("history_link_rate", "history_completeness", "history_mean_match_weight", "match_weights_tonight",
                  "resident_sizes", "model_match_weights", "calibration", "accuracy_history")
DAGSTER_NIGHTS = 90
# Figures shown as numbers in Dagster, so that its Plots tab draws them night after night.
PLOTTED = ("link_rate", "unlinked_share", "unlinkable_share", "impossible_residents", "review_open")


@asset(name=ASSET, group_name="review", ins=PLAN, deps=[AssetKey("review_queue")],
       description="Linkage health of the night: link rates by department pair, unlinked and unlinkable records, "
                   "completeness of the compared fields, match weights against the model's, resident sizes and "
                   "impossible residents, the review queue's size and age; each judged against recent nights.")
def linkage_health(context: AssetExecutionContext, plan: NightPlan, run_db: RunDatabase) -> None:
    from registry.health.nightly import measure_night
    from registry.linkage.training import load_model

    with run_stage(context, run_db, ASSET, plan) as stage:
        summary = measure_night(stage.con, plan, load_model())
        stage.stats.update(stats_of(summary))
        figures = stage.con.execute(
            "SELECT figure, department, other, value FROM linkage_health WHERE run_id = ? AND figure IN "
            "(SELECT unnest(?::VARCHAR[])) ORDER BY ALL", [plan.run_id, list(PLOTTED)]).fetchall()
    metadata = {" ".join(str(x) for x in (f, d, o) if x is not None): MetadataValue.float(float(v))
                for f, d, o, v in figures if v is not None}
    metadata["warnings"] = MetadataValue.md("\n".join(f"- {w}" for w in summary.warnings) or "none")
    context.add_output_metadata(metadata)


@asset(group_name="published", deps=[AssetKey("published_registry")],
       description="The officers' chart page in Dagster: health over the nights, tonight's match weights against "
                   "the model's, resident sizes, the model's match weights, the audit sample's calibration and "
                   "estimates; drawn from the published registry after the swap, so the night is never later for it.")
def linkage_health_charts(context: AssetExecutionContext, registry: RegistryHome) -> None:
    from registry.charts import data, render

    specs = data.all_charts(registry.paths, nights=DAGSTER_NIGHTS)
    context.add_output_metadata({f"chart: {name}": MetadataValue.md(render.markdown_image(specs[name]))
                                 for name in DAGSTER_CHARTS if name in specs})


def _health_check(name: str, watched: tuple[str, ...]):
    @asset_check(asset=AssetKey(ASSET), name=name, blocking=False, additional_ins=PLAN,
                 description=f"Warns when tonight's {', '.join(watched)} moved past registry/health/thresholds.yaml.")
    def _check(context: AssetCheckExecutionContext, plan: NightPlan, run_db: RunDatabase) -> AssetCheckResult:
        run_id = this_runs_plan(context, plan).run_id
        with run_db.connect() as con:
            rows = con.execute(
                "SELECT figure, department, other, value, baseline, status, message FROM linkage_health "
                "WHERE run_id = ? AND figure IN (SELECT unnest(?::VARCHAR[])) ORDER BY status DESC, figure, "
                "department, other", [run_id, list(watched)]).fetchall()
        warnings = [r[6] for r in rows if r[5] == "warn"]
        table = "| figure | scope | tonight | baseline | status |\n|---|---|---|---|---|\n" + "\n".join(
            f"| {f} | {' '.join(str(x) for x in (d, o) if x is not None)} | {v:.4g} | "
            f"{'' if b is None else f'{b:.4g}'} | {s} |" for f, d, o, v, b, s, _ in rows if v is not None)
        return AssetCheckResult(
            passed=not warnings, severity=AssetCheckSeverity.WARN,
            description=("; ".join(warnings) if warnings else "within thresholds")[:2000],
            metadata={"warnings": MetadataValue.int(len(warnings)), "figures": MetadataValue.md(table)})
    return _check


health_checks = [_health_check(name, watched) for name, watched in CHECKS.items()]
