"""The one entry point Dagster loads (workspace.yaml, `dagster dev`, `registry run`)."""

from __future__ import annotations

from dagster import Definitions

from pipelines.assets.deliveries import delivery_assets, run_plan
from pipelines.assets.health import health_checks, linkage_health, linkage_health_charts
from pipelines.assets.links import candidate_model, linkage_model, person_clusters, record_links
from pipelines.assets.published import published_registry
from pipelines.assets.residents import residents
from pipelines.assets.review import review_queue
from pipelines.assets.standardised import standardised_records
from pipelines.checks import asset_checks
from pipelines.jobs import nightly_merge
from pipelines.resources import Clock, LinkageEngine, Night, RegistryHome, RunDatabase
from pipelines.schedules import nightly_merge_schedule
from pipelines.sensors import deliveries_landed_sensor, nightly_merge_failed

registry_home = RegistryHome()

defs = Definitions(
    assets=[run_plan, *delivery_assets, standardised_records, linkage_model, record_links, person_clusters,
            candidate_model, residents, review_queue, linkage_health, published_registry, linkage_health_charts],
    asset_checks=[*asset_checks, *health_checks],
    jobs=[nightly_merge],
    schedules=[nightly_merge_schedule],
    sensors=[deliveries_landed_sensor, nightly_merge_failed],
    resources={"registry": registry_home, "night": Night(), "run_db": RunDatabase(registry=registry_home),
               "clock": Clock(), "linkage_engine": LinkageEngine(registry=registry_home)},
)
