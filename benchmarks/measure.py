"""Running a command as a data engineer would and measuring it: wall time and the peak memory of its
whole process tree (the Spark engine's JVM is a child of `registry run`, the delivery parsers too).

    from measure import run_measured, stage_figures
    run = run_measured(["registry", "run", ...], log=Path("night.log"))   # run.wall, run.peak_gb
    stage_figures(run, home)   # {stage: (seconds, peak GB while it ran)} from the run ledger
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text()
            found += [int(c) for c in text.split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def tree_rss(pid: int) -> int:
    """Bytes resident in a process and all its descendants, now."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        todo += _children(p)
    return total


@dataclass
class Measured:
    wall: float  # seconds
    peak_gb: float  # the process tree's, sampled
    samples: list[tuple[float, int]] = field(default_factory=list, repr=False)  # (epoch seconds, bytes)

    def peak_between(self, start: float, end: float) -> float:
        inside = [b for t, b in self.samples if start <= t <= end]
        return max(inside, default=0) / 1024 ** 3


def run_measured(args: list[str], log: Path, env: dict | None = None, interval: float = 0.2) -> Measured:
    """Wall seconds and the peak memory of the process tree sampled every `interval` s; raises if the
    command fails. Starts from a quiet disk: what earlier steps wrote is flushed first, not during the run."""
    os.sync()
    time.sleep(2)
    peak = 0
    samples: list[tuple[float, int]] = []
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                rss = tree_rss(proc.pid)
                samples.append((time.time(), rss))
                peak = max(peak, rss)
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        stop.set()
        sampler.join()
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed; see {log}")
    # the largest single process, as the kernel counted it, bounds the sampled figure from below
    peak = max(peak, usage.ru_maxrss * 1024)
    return Measured(wall, peak / 1024 ** 3, samples)


def stage_figures(run: Measured, home: Path) -> dict[str, tuple[float, float]]:
    """{stage: (seconds, peak GB of the process tree while it ran)} of the home's latest published run, from
    its ledger (run_stages: each stage's seconds and the moment it finished)."""
    import duckdb

    con = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    try:
        rows = con.execute("""SELECT stage, seconds, recorded_at FROM run_stages WHERE run_id =
                                (SELECT run_id FROM runs WHERE status = 'published' ORDER BY started_at DESC LIMIT 1)
                              ORDER BY recorded_at""").fetchall()
    finally:
        con.close()
    figures = {}
    for stage, seconds, finished in rows:
        end = finished.timestamp() if isinstance(finished, dt.datetime) else float(finished)
        figures[stage] = (seconds, run.peak_between(end - seconds, end))
    return figures
