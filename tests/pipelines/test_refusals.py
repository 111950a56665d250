"""Nights come from deliveries, and a night that would silently damage the registry is refused: each
refusal is one clear line, and every file of the home stays byte for byte as it was (no `runs` row, no
home created where none was)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.cli import main
from tests.independent.writer import write_night
from tests.pipelines.faults import published, sha256

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-19", "2026-11-20"
REGISTRY = str(Path(sys.executable).parent / "registry")


def fingerprint(home: Path) -> dict[str, str]:
    """Every file of the home, by content (Dagster's own run history aside)."""
    return {str(p.relative_to(home)): sha256(p) for p in sorted(home.rglob("*"))
            if p.is_file() and "dagster" not in p.parts and p.name != "run.lock"}


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """A landing zone with two nights of the independent writer, and a home that merged the first."""
    root = tmp_path_factory.mktemp("refusals")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    try:
        for date in (D1, D2):
            write_night(root / "landing", date, 600, seed=47)
        home = root / "home"
        assert main(["run", "--home", str(home), "--landing", str(root / "landing"), "--date", D1, "--quiet"]) == 0
        return root, home
    finally:
        mp.undo()


def _refused(args: list[str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([REGISTRY, "run", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr  # one clear line
    assert done.stderr.startswith("registry run: refused, nothing changed: ")
    assert time.monotonic() - started < 20  # refused before anything starts (no Dagster, no state copy)
    return done


@pytest.mark.parametrize("date, says", [
    ("2062-11-21", "no department delivered for 2062-11-21"),
    ("2026-13-01", "'2026-13-01' is not a date"),
    ("20261120", "write it YYYY-MM-DD"),
    ("2026-11-18", "no department delivered for 2026-11-18"),
])
def test_a_date_nobody_delivered_for_is_refused_and_nothing_changes(merged, tmp_path, date, says):
    root, home = merged
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    before = fingerprint(copy)
    done = _refused(["--home", str(copy), "--landing", str(root / "landing"), "--date", date])
    assert says in done.stderr
    if "no department delivered" in says:
        assert f"the nights delivered there: {D1}, {D2}" in done.stderr
    assert fingerprint(copy) == before  # no runs row, no failed-runs ledger line, no copy left
    assert published(copy, "SELECT count(*) FROM runs")[0][0] == 1


def test_a_mistyped_home_creates_nothing(merged, tmp_path):
    typo = tmp_path / "registry_hom"
    done = _refused(["--home", str(typo)])
    assert "no department has delivered anything" in done.stderr
    assert not typo.exists()


def test_a_night_before_the_latest_merged_one_is_refused_and_nothing_changes(merged, tmp_path):
    root, home = merged
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    assert main(["run", "--home", str(copy), "--landing", str(root / "landing"), "--date", D2, "--quiet"]) == 0
    before = fingerprint(copy)
    done = _refused(["--home", str(copy), "--landing", str(root / "landing"), "--date", D1])
    assert f"earlier than the latest merged night {D2}" in done.stderr and "registry rollback" in done.stderr
    assert fingerprint(copy) == before


def test_without_a_date_the_latest_delivered_night_runs(merged, tmp_path, monkeypatch):
    root, home = merged
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing)
    (landing / "2026-11-30" / "labour").mkdir(parents=True)  # a folder, but nothing delivered in it
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    assert main(["run", "--home", str(copy), "--landing", str(landing), "--quiet"]) == 0
    assert published(copy, "SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'") == [(D2,)]
