"""The README's operations, run as written: `make demo` again and again, `registry query`, `make dagster`
on another port, and switching the schedule and sensor on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.pipelines.faults import published

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo") / "home"
    runs = [subprocess.run(["make", "demo", f"DEMO_HOME={home}", "DEMO_PEOPLE=1500"], cwd=ROOT, capture_output=True,
                           text=True, timeout=900) for _ in range(2)]
    return home, runs


def test_make_demo_can_be_run_again_and_again(demo_home):
    home, (first, second) = demo_home
    assert first.returncode == 0, first.stderr[-2000:]
    assert second.returncode == 0, second.stderr[-2000:]
    assert "Nightly merge 2026-11-20 (full) published" in first.stdout
    assert "Nightly merge 2026-11-21 (incremental) published" in first.stdout
    # the second time nothing is generated again and the latest night is rerun, with the same registry
    assert "wrote 2026-11-2" not in second.stdout and "earlier than the latest merged night" not in second.stderr
    assert "Nightly merge 2026-11-21 (incremental) published" in second.stdout
    nights = published(home, "SELECT strftime(extract_date, '%Y-%m-%d'), count(*) FROM runs "
                             "WHERE status = 'published' GROUP BY 1 ORDER BY 1")
    assert nights == [("2026-11-20", 1), ("2026-11-21", 2)]


def test_registry_query_reads_the_published_registry(demo_home):
    home, _ = demo_home
    query = [str(BIN / "registry"), "query", "--home", str(home)]
    table = subprocess.run(query + ["SELECT * FROM crosswalk WHERE department = 'civil_affairs' LIMIT 5"],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "source_record_id" in table.stdout and table.stdout.count("│ civil_affairs ") == 5
    rows = subprocess.run(query + ["--json", "SELECT resident_id, name FROM residents ORDER BY resident_id"],
                          capture_output=True, text=True, timeout=120)
    people = [json.loads(line) for line in rows.stdout.splitlines()]
    assert len(people) == published(home, "SELECT count(*) FROM residents")[0][0]
    csv_out = subprocess.run(query + ["--csv", "SELECT count(*) AS n FROM crosswalk"], capture_output=True, text=True)
    assert csv_out.stdout.splitlines() == ["n", str(published(home, "SELECT count(*) FROM crosswalk")[0][0])]
    # read-only, and no other file reachable
    before = (home / "published" / "registry.duckdb").stat().st_mtime_ns
    for sql in ("DELETE FROM residents", f"COPY residents TO '{home}/out.csv'", "SELECT * FROM read_csv('/etc/passwd')"):
        refused = subprocess.run(query + [sql], capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and refused.stderr.startswith("registry query: "), sql
    assert (home / "published" / "registry.duckdb").stat().st_mtime_ns == before and not (home / "out.csv").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_dagster_takes_a_port(demo_home):
    home, _ = demo_home
    port = _free_port()
    proc = subprocess.Popen(["make", "dagster", f"DEMO_HOME={home}", f"DAGSTER_PORT={port}"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, answer = time.monotonic() + 180, None
        while time.monotonic() < deadline and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    answer = r.status, json.loads(r.read())
            except OSError:
                time.sleep(1)
        assert answer is not None and answer[0] == 200 and "dagster_version" in answer[1]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_schedule_and_sensor_switch_on_as_the_readme_says(demo_home, tmp_path):
    home, _ = demo_home
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "REGISTRY_HOME": str(home)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    dagster = [str(BIN / "dagster")]

    def listed(kind: str) -> str:
        return subprocess.run(dagster + [kind, "list", "-w", "workspace.yaml"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300).stdout

    assert "nightly_merge_schedule [STOPPED]" in listed("schedule")  # off until switched on
    for command in (["schedule", "start", "nightly_merge_schedule"], ["sensor", "start", "deliveries_landed_sensor"]):
        done = subprocess.run(dagster + command + ["-w", "workspace.yaml"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert "nightly_merge_schedule [RUNNING]" in listed("schedule")
    assert "deliveries_landed_sensor [RUNNING]" in listed("sensor")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "dagster schedule start nightly_merge_schedule -w workspace.yaml" in readme
    assert "dagster sensor start deliveries_landed_sensor -w workspace.yaml" in readme
