"""The Dagster definitions load, validate, and the triggers pick the right night."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dagster import RunRequest, build_schedule_context, build_sensor_context

from registry.departments import DEPARTMENTS, data_file_name

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_hold_the_job_schedule_sensors_and_checks():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("nightly_merge")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert {"run_plan", "standardised_records", "record_links", "person_clusters", "residents",
            "review_queue", "published_registry"} | {f"{d}_delivery" for d in DEPARTMENTS} <= keys
    assert defs.resolve_schedule_def("nightly_merge_schedule").execution_timezone == "Asia/Shanghai"
    assert defs.resolve_sensor_def("deliveries_landed_sensor") is not None
    check_names = {c.name for c in defs.resolve_asset_graph().asset_check_keys}
    assert {f"{d}_delivery_suite" for d in DEPARTMENTS} | {"standardised_records_suite",
                                                           "published_registry_suite"} <= check_names


@pytest.mark.slow
def test_dagster_definitions_validate_passes(tmp_path):
    env = dict(os.environ, DAGSTER_HOME=str(tmp_path))
    out = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                          "-w", "workspace.yaml"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def _land(landing: Path, date: str, departments) -> None:
    for d in departments:
        folder = landing / date / d
        folder.mkdir(parents=True, exist_ok=True)
        (folder / data_file_name(d, date)).write_bytes(b"x")


def test_schedule_asks_for_the_night_before(tmp_path, monkeypatch):
    from pipelines.definitions import defs
    from pipelines.resources import RegistryHome

    schedule = defs.resolve_schedule_def("nightly_merge_schedule")
    when = dt.datetime(2026, 11, 21, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def tick():
        return schedule.evaluate_tick(build_schedule_context(
            scheduled_execution_time=when, resources={"registry": RegistryHome(home=str(tmp_path))}))

    # Nights come from deliveries: nothing landed for the night before, nothing is run.
    nothing = tick()
    assert not nothing.run_requests and "no department delivered for 2026-11-20" in nothing.skip_message
    _land(tmp_path / "landing", "2026-11-20", DEPARTMENTS[:1])
    request = tick().run_requests[0]
    assert request.run_config["resources"]["night"]["config"]["extract_date"] == "2026-11-20"


def test_sensor_starts_complete_nights_and_waits_for_incomplete_ones(tmp_path):
    from pipelines.resources import Clock, RegistryHome
    from pipelines.sensors import deliveries_landed_sensor, nights_ready

    landing = tmp_path / "landing"
    _land(landing, "2026-11-19", DEPARTMENTS)
    _land(landing, "2026-11-20", DEPARTMENTS[:3])  # labour has not delivered yet
    early = dt.datetime(2026, 11, 21, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert nights_ready(landing, set(), early) == [("2026-11-19", [])]
    late = dt.datetime(2026, 11, 21, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert nights_ready(landing, {"2026-11-19"}, late) == [("2026-11-20", ["labour"])]

    # The sensor's clock is a resource: at 07:00 the morning after, both nights are due ...
    ctx = build_sensor_context(resources={"registry": RegistryHome(home=str(tmp_path)),
                                          "clock": Clock(fixed="2026-11-21T07:00:00+08:00")})
    requests = [r for r in deliveries_landed_sensor(ctx) if isinstance(r, RunRequest)]
    assert [r.tags["registry/extract_date"] for r in requests][:1] == ["2026-11-19"]
    assert "2026-11-19" in json.loads(ctx.cursor)
    assert [r.tags["registry/extract_date"] for r in requests] == ["2026-11-19", "2026-11-20"]
    assert requests[1].tags["registry/missing_departments"] == "labour"
    # ... at 01:00 only the complete one, and the incomplete one waits for labour or the cutoff.
    early = build_sensor_context(resources={"registry": RegistryHome(home=str(tmp_path)),
                                            "clock": Clock(fixed="2026-11-21T01:00:00+08:00")})
    assert [r.tags["registry/extract_date"] for r in deliveries_landed_sensor(early)
            if isinstance(r, RunRequest)] == ["2026-11-19"]
