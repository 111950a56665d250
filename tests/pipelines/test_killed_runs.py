"""A run killed mid-night (SIGKILL, as a power cut or an OOM killer does) leaves its working copy behind;
the next run removes it, keeps the killed run in the ledger as failed, and the registry the killed run
never published stays byte for byte as it was."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from registry.cli import main
from tests.independent.writer import write_night
from tests.pipelines.faults import published

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-19", "2026-11-20"
REGISTRY = str(Path(sys.executable).parent / "registry")


def test_the_next_run_cleans_up_after_a_killed_one(tmp_path, monkeypatch):
    landing, home = tmp_path / "landing", tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    for date in (D1, D2):
        write_night(landing, date, 600, seed=17)
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D1, "--quiet"]) == 0
    registry_file = home / "published" / "registry.duckdb"
    before = hashlib.sha256(registry_file.read_bytes()).hexdigest()

    proc = subprocess.Popen([REGISTRY, "run", "--home", str(home), "--landing", str(landing), "--date", D2],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")})
    for line in proc.stderr:
        if "standardised_records started" in line:
            killed_id = next(p.stem for p in (home / "state" / "runs").glob("*.duckdb"))
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    left = sorted(p.name for p in (home / "state" / "runs").iterdir())
    assert f"{killed_id}.duckdb" in left  # what a killed run leaves
    assert hashlib.sha256(registry_file.read_bytes()).hexdigest() == before

    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
    assert list((home / "state" / "runs").iterdir()) == []
    assert not list((home / "published").glob(".*"))
    status, message = published(home, "SELECT status, message FROM runs WHERE run_id = ?", [killed_id])[0]
    assert status == "failed" and "killed" in message
    assert published(home, "SELECT count(*) FROM runs WHERE status = 'published'")[0][0] == 2
