"""The nightly merge: one job over every stage, the same for the schedule, the sensor and `registry run`."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job, in_process_executor

NIGHTLY_MERGE = "nightly_merge"

# In-process: every stage works on the same DuckDB file of the run, one writer at a time.
nightly_merge = define_asset_job(
    NIGHTLY_MERGE,
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="Load the four departments' deliveries for one night, standardise, link, build residents "
                "and the review queue, and publish the registry.",
    tags={"registry/job": NIGHTLY_MERGE},
)


def night_run_config(extract_date: str = "", *, full_rebuild: bool = False, retrain: bool = False,
                     accept_rejected: bool = False, accept_shrink: bool = False, max_record_drop: float | None = None,
                     max_resident_retire: float | None = None, home: str | None = None,
                     landing: str | None = None, engine: str = "") -> dict:
    """Run configuration of one night; the schedule, the sensor and the CLI all build it here. `engine`
    (duckdb | spark) overrides the registry's configuration of where the linkage runs."""
    config: dict = {"resources": {"night": {"config": {
        "extract_date": extract_date, "full_rebuild": full_rebuild, "retrain": retrain,
        "accept_rejected": accept_rejected, "accept_shrink": accept_shrink}}}}
    for name, share in (("max_record_drop", max_record_drop), ("max_resident_retire", max_resident_retire)):
        if share is not None:
            config["resources"]["night"]["config"][name] = share
    if engine:
        config["resources"]["linkage_engine"] = {"config": {"engine": engine}}
    registry: dict = {}
    if home:
        registry["home"] = home
    if landing:
        registry["landing"] = landing
    if registry:
        config["resources"]["registry"] = {"config": registry}
    return config
