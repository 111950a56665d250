"""Stage 3: the linkage model, scored record pairs, and records grouped into persons."""


from dagster import AssetExecutionContext, AssetKey, MetadataValue, asset

from pipelines.resources import Night, RegistryHome, RunDatabase
from pipelines.stage import run_stage, stats_of

GROUP = "links"


@asset(group_name=GROUP, deps=[AssetKey("standardised_records")],
       description="The Splink model: the committed one, or retrained with EM (fixed seeds) when asked.")
def linkage_model(context: AssetExecutionContext, night: Night, registry: RegistryHome,
                  run_db: RunDatabase) -> None:
    from registry.linkage import training

    with run_stage(context, run_db, "linkage_model") as stage:
        if night.retrain:
            out_dir = registry.paths.root / "models"
            model = training.train_model(stage.con, out_dir=out_dir)
            chart = out_dir / f"match_weights_{model.version}.html"
            model.save_match_weights_chart(chart)
            stage.stats.update({"retrained": True, "model_file": str(model.path), "chart": str(chart)})
            context.add_output_metadata({"match_weights_chart": MetadataValue.path(str(chart))})
        else:
            model = training.load_model()
            stage.stats["retrained"] = False
        stage.stats["model_version"] = model.version
        stage.stats["parameters"] = model.parameters()


@asset(group_name=GROUP, deps=[AssetKey("linkage_model")],
       description="Scored record pairs with their per-comparison weights; on an incremental night only the "
                   "pairs of new and changed records are scored (predict_between / predict_within).")
def record_links(context: AssetExecutionContext, night: Night, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.linkage import prediction, training

    with run_stage(context, run_db, "record_links") as stage:
        _, mode = stage.night
        model = training.load_model(registry.paths.root / "models" if night.retrain else None)
        summary = prediction.predict_links(stage.con, model, incremental=(mode == "incremental"))
        stage.stats.update(stats_of(summary))
        stage.stats["links"] = stage.con.execute("SELECT count(*) FROM links").fetchone()[0]


@asset(group_name=GROUP, deps=[AssetKey("record_links")],
       description="Records grouped into persons at the match threshold, with officers' same/different "
                   "decisions applied as must-link and cannot-link constraints.")
def person_clusters(context: AssetExecutionContext, registry: RegistryHome, run_db: RunDatabase) -> None:
    from registry.linkage.clustering import cluster_records
    from registry.review.decisions import load_decisions

    with run_stage(context, run_db, "person_clusters") as stage:
        load_decisions(stage.con, registry.paths.decisions)
        summary = cluster_records(stage.con)
        stage.stats.update(stats_of(summary))
        stage.stats["clusters"] = stage.con.execute(
            "SELECT count(DISTINCT cluster_id) FROM clusters").fetchone()[0]
