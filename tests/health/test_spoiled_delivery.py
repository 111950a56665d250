"""Linkage health over generated nights through `registry run`: silent on ordinary nights, a warning naming
the department and the figure on a night when one department's delivery is spoiled (half its identity
numbers blanked, as an export change would), in the published table, `registry quality` and Dagster."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetKey, DagsterInstance

from registry.cli import main
from tests.health.spoil import blank_identity_numbers

pytestmark = pytest.mark.slow

PEOPLE = 4000
NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
SPOILED = "2026-11-21"


def _warnings(home: Path, date: str) -> list[str]:
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute("SELECT message FROM linkage_health "
                                          "WHERE extract_date = ? AND status = 'warn'",
                                          [date]).fetchall()]
    finally:
        con.close()


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("health")
    home, landing = root / "home", root / "landing"
    warnings = {}
    previous = None
    for date in NIGHTS:
        argv = ["generate", "--people", str(PEOPLE), "--date", date, "--out", str(landing), "--seed", "5",
                "--truth", str(root / "truth" / f"{date}.csv")]
        assert main(argv + (["--previous", str(landing / previous)] if previous else [])) == 0
        if date == SPOILED:
            assert blank_identity_numbers(landing / date, "civil_affairs") > 100
        assert main(["run", "--home", str(home), "--landing", str(landing), "--date", date]) == 0
        warnings[date] = _warnings(home, date)
        previous = date
    quality = io.StringIO()
    with contextlib.redirect_stdout(quality):
        assert main(["quality", "--home", str(home), "--json"]) == 0
    with DagsterInstance.from_config(str(home / "dagster")) as instance:  # registry run's default DAGSTER_HOME
        checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [AssetCheckKey(AssetKey("linkage_health"), name) for name in ("linkable_records", "link_rates")])
        checks = {k.name: v.event.dagster_event.event_specific_data for k, v in checks.items()}
    return warnings, json.loads(quality.getvalue()), checks


def test_ordinary_nights_are_silent(nights):
    warnings, _, _ = nights
    for date in NIGHTS[:-1]:
        assert warnings[date] == [], date


def test_a_spoiled_delivery_warns_naming_the_department_and_the_figure(nights):
    warnings, _, _ = nights
    spoiled = warnings[SPOILED]
    assert any("civil_affairs records with id_number filled in fell by" in w for w in spoiled), spoiled
    assert all("civil_affairs" in w for w in spoiled), spoiled  # no other department is blamed


def test_registry_quality_reports_the_warning(nights):
    _, quality, _ = nights
    assert quality["extract_date"] == SPOILED
    assert any("civil_affairs" in w and "id_number" in w for w in quality["health"]["warnings"])
    assert quality["precision"] is None and quality["sample_decided"] == 0  # no audit sample yet


def test_the_dagster_check_warns_without_blocking_the_night(nights):
    _, _, checks = nights
    failed = checks["linkable_records"]
    assert not failed.passed and failed.severity.value == "WARN"
    assert "civil_affairs" in failed.description
    assert checks["link_rates"].passed
