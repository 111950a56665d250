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


def _cut_in_half(landing: Path, department: str = "public_security") -> tuple[int, int]:
    """The department's night-2 file cut at a row boundary to half its rows, as a broken export leaves
    it (the independent writer writes no manifest that would catch it). Returns (rows before, after)."""
    path, = (landing / D2 / department).glob("*.csv")
    lines = path.read_bytes().split(b"\r\n")
    rows = [line for line in lines[1:] if line.strip()]
    path.write_bytes(b"\r\n".join(lines[:1] + rows[: len(rows) // 2]) + b"\r\n")
    assert not (path.parent / "manifest.json").exists()
    return len(rows), len(rows) // 2


def _crosswalk_keys(home: Path, department: str) -> set[str]:
    return {k for k, in published(home, "SELECT source_record_id FROM crosswalk WHERE department = ?", [department])}


def test_a_half_delivery_without_a_manifest_is_held_back(merged, tmp_path, monkeypatch, capsys):
    root, home = merged
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing)
    delivered, kept = _cut_in_half(landing)
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    files = [copy / "published" / "registry.duckdb", copy / "state" / "registry_state.duckdb"]
    before = [sha256(f) for f in files]
    night1_ps = _crosswalk_keys(copy, "public_security")
    run = ["run", "--home", str(copy), "--landing", str(landing), "--date", D2, "--quiet"]

    capsys.readouterr()
    assert main(run) == 1
    err = capsys.readouterr().err
    removed = len(night1_ps) - kept
    assert f"held back: it would remove {removed:,} of the {len(night1_ps):,} records of public_security" in err
    assert "resident(s) with no record at all" in err and "--accept-shrink" in err and "--accept-rejected" in err
    assert [sha256(f) for f in files] == before  # the registry and the state byte for byte

    # Publishing with the previous delivery standing: every good record of the others is tonight's.
    assert main(run + ["--accept-rejected"]) == 0
    status, reason = published(copy, "SELECT status, reason FROM deliveries WHERE run_extract_date = ? "
                                     "AND department = 'public_security'", [D2])[0]
    assert status == "rejected" and "held back" in reason
    assert _crosswalk_keys(copy, "public_security") == night1_ps

    # Accepting the shrink: the half delivery is tonight's snapshot, its missing people retired.
    assert main(run + ["--accept-shrink"]) == 0
    assert len(_crosswalk_keys(copy, "public_security")) == kept < delivered
    retired = published(copy, "SELECT count(*) FROM resident_events WHERE event = 'retired' AND extract_date = ?",
                        [D2])[0][0]
    assert retired > 0.05 * len(night1_ps)


def test_a_night_retiring_too_many_residents_is_held_back(merged, tmp_path, monkeypatch, capsys):
    root, home = merged
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing)
    _cut_in_half(landing)
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    registry_file = copy / "published" / "registry.duckdb"
    before = sha256(registry_file)
    capsys.readouterr()
    # Each delivery may now drop anything; the night's retirements still may not exceed 5%.
    assert main(["run", "--home", str(copy), "--landing", str(landing), "--date", D2, "--quiet", "--max-drop", "1"]) == 1
    err = capsys.readouterr().err
    assert "residents: held back: tonight would retire" in err and "more than 5% allowed" in err
    assert "records removed:" in err and "public_security" in err and "--accept-shrink" in err
    assert sha256(registry_file) == before
    # A larger share allowed for tonight lets it through.
    assert main(["run", "--home", str(copy), "--landing", str(landing), "--date", D2, "--quiet", "--max-drop", "1",
                 "--max-retire", "60%"]) == 0
