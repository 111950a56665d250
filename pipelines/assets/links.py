"""Stage 3: the linkage model, scored record pairs, and records grouped into persons."""


import contextlib
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from pipelines.assets.deliveries import PLAN
from pipelines.resources import LinkageEngine, RegistryHome, RunDatabase
from pipelines.stage import Stage, run_stage, stats_of
from registry import progress, runs
from registry.night import NightPlan

GROUP = "links"


@contextlib.contextmanager
def engine_for(stage: Stage, linkage_engine: LinkageEngine, run_db: RunDatabase):
    """The stage's linkage engine on the run's connection; its figures go in the stage's, its scratch goes after."""
    engine = linkage_engine.open(stage.con, run_db.state.work_dir / "linkage")
    stage.stats.update(engine.describe())
    try:
        yield engine
    finally:
        engine.close()


def retrained_model_path(registry: RegistryHome, run_id: str):
    """A candidate model is kept in HOME/models/; adopting it means committing it over the repo's model."""
    return registry.paths.root / "models" / f"model-{run_id[:8]}.json"


@asset(group_name=GROUP, ins=PLAN, deps=[AssetKey("standardised_records")],
       description="The committed Splink model every night is linked with (a retrained one is only a candidate).")
def linkage_model(context: AssetExecutionContext, plan: NightPlan, registry: RegistryHome,
                  run_db: RunDatabase) -> None:
    from registry.linkage import training

    with run_stage(context, run_db, "linkage_model", plan) as stage:
        model = training.load_model()
        # The committed model's chart, once per version, so the UI links to what tonight's weights are.
        chart = registry.paths.root / "models" / f"committed-{model.version}.match_weights.html"
        if not chart.exists():
            chart.parent.mkdir(parents=True, exist_ok=True)
            model.save_match_weights_chart(chart)
        context.add_output_metadata({"match_weights_chart": MetadataValue.path(str(chart))})
        stage.stats["model_version"] = model.version
        stage.stats["parameters"] = model.parameters().to_dict(orient="records")


@asset(group_name=GROUP, ins=PLAN, deps=[AssetKey("linkage_model")],
       description="Scored record pairs with their per-comparison weights; on an incremental night only the "
                   "pairs of new and changed records are scored (predict_between / predict_within).")
def record_links(context: AssetExecutionContext, plan: NightPlan, run_db: RunDatabase,
                 linkage_engine: LinkageEngine) -> None:
    from registry.linkage import prediction, training

    with run_stage(context, run_db, "record_links", plan) as stage, engine_for(stage, linkage_engine, run_db) as engine:
        model = training.load_model()
        stage.stats["links_scored"] = prediction.predict_links(stage.con, model, plan, engine=engine)
        # The next night compares this with the committed model: a different one forces a full rebuild.
        runs.set_meta(stage.con, "model_version", model.version)
        stage.stats["links"] = stage.con.execute("SELECT count(*) FROM links").fetchall()[0][0]
        stage.rows = (stage.stats["links"], "links")


@asset(group_name=GROUP, ins=PLAN, deps=[AssetKey("record_links")],
       description="Records grouped into persons at the match threshold, with officers' same/different "
                   "decisions applied as must-link and cannot-link constraints.")
def person_clusters(context: AssetExecutionContext, plan: NightPlan, registry: RegistryHome,
                    run_db: RunDatabase, linkage_engine: LinkageEngine) -> None:
    from registry import contracts
    from registry.incremental import recomputed
    from registry.linkage.clustering import cluster_records
    from registry.review.decisions import load_decisions

    with run_stage(context, run_db, "person_clusters", plan) as stage, engine_for(stage, linkage_engine, run_db) as engine:
        stage.stats["decisions"] = stats_of(load_decisions(stage.con, registry.paths.decisions))
        if stage.stats["decisions"]["unreadable_lines"]:
            warning = (f"{registry.paths.decisions}: {stage.stats['decisions']['unreadable_lines']} line(s) are no "
                       f"decision and were skipped (lines {stage.stats['decisions']['unreadable_line_numbers']})")
            context.log.warning(warning)
            progress.note("warning: " + warning)
        # Incremental: only the components tonight's changes reach are recomputed (same clusters).
        stage.stats["clusters"] = cluster_records(stage.con, plan, engine=engine)
        stage.rows = (stage.stats["clusters"], "clusters")
        reclustered = recomputed(stage.con, contracts.CLUSTERS_RECOMPUTED)
        if reclustered:  # how much was reclustered tonight (absent: everything was)
            stage.stats["records_reclustered"] = stage.con.execute(
                f"SELECT count(*) FROM ({reclustered})").fetchall()[0][0]


@asset(group_name=GROUP, ins=PLAN, deps=[AssetKey("person_clusters")],
       description="With --retrain: a candidate model trained (EM, fixed seeds) on tonight's records with the "
                   "officers' same/different decisions as labels, and a report of what it would change on "
                   "tonight's data (parameters, links gained and lost, residents) before anyone adopts it.")
def candidate_model(context: AssetExecutionContext, plan: NightPlan, registry: RegistryHome,
                    run_db: RunDatabase, linkage_engine: LinkageEngine) -> None:
    from registry.linkage import training
    from registry.linkage.retraining import retrain

    if not plan.retrain:
        with run_stage(context, run_db, "candidate_model", plan) as stage:
            stage.stats["retrained"] = False
        return
    path = retrained_model_path(registry, plan.run_id)
    with run_stage(context, run_db, "candidate_model", plan) as stage:
        # The candidate trains and scores on the night's engine, in a scratch database of its own.
        report = retrain(stage.con, registry.paths.decisions, training.load_model(), path.parent, path.stem,
                         engine_on=lambda scratch: linkage_engine.open(scratch, run_db.state.work_dir / "candidate"))
        stage.stats.update({"retrained": True, "headline": report.headline(), "model_file": report.model_path,
                            "report": report.report_path, "labels": report.labels,
                            "links_gained": report.links["gained"], "links_lost": report.links["lost"],
                            "residents": report.residents, "decided_pairs": report.decided_pairs})
    context.add_output_metadata({"report": MetadataValue.md(Path(report.report_path).read_text(encoding="utf-8")),
                                 "match_weights_chart": MetadataValue.path(report.chart_path)})
