"""A run killed mid-night (SIGKILL, as a power cut or an OOM killer does) leaves its working copy behind;
the next run removes it, keeps the killed run in the ledger as failed, and the registry the killed run
never published stays byte for byte as it was. It leaves no process behind: its parse workers and
multiprocessing's resource tracker end with it."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
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


def _process(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process from /proc; None once it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (command) "
    return None if fields[0] in ("Z", "X") else (int(fields[1]), fields[19])


def _descendants(pid: int) -> dict[int, str]:
    """Every live process below `pid`, with its start time (so that a reused pid is not mistaken for it)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (proc := _process(int(entry.name))):
            parents[int(entry.name)] = proc
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, started) in parents.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def _survives(pid: int, started: str) -> bool:
    """Whether the process seen as `pid`, started at `started`, is still alive."""
    proc = _process(pid)
    return proc is not None and proc[1] == started


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_a_killed_run_leaves_no_parse_worker_behind(tmp_path):
    landing, home = tmp_path / "landing", tmp_path / "home"
    assert main(["generate", "--people", "4000", "--date", D1, "--out", str(landing), "--seed", "5",
                 "--truth", str(tmp_path / "truth.csv")]) == 0
    proc = subprocess.Popen([REGISTRY, "run", "--home", str(home), "--landing", str(landing), "--date", D1],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster")})
    below: dict[int, str] = {}
    try:
        # Parsing under way: both workers started and the first delivery parsed (the workbook is still going).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            below = _descendants(proc.pid)
            workers = [p for p in below if "spawn_main" in _cmdline(p)]
            if len(workers) == 2 and list(home.glob("state/runs/*.work/*.rows.parquet")):
                break
            assert proc.poll() is None, "the run ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the run's parse workers never started parsing")
        assert any("resource_tracker" in _cmdline(p) for p in below)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_survives(pid, started) for pid, started in below.items()):
            time.sleep(0.1)
        survivors = {pid: _cmdline(pid) for pid, started in below.items() if _survives(pid, started)}
        assert survivors == {}
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid, started in below.items():
            if _survives(pid, started):
                os.kill(pid, signal.SIGKILL)
