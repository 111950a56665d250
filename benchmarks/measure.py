"""Running a command as a data engineer would and measuring it: wall time and the peak memory of its
whole process tree (the Spark engine's JVM is a child of `registry run`, the delivery parsers too).

    from measure import run_measured
    wall, peak_gb = run_measured(["registry", "run", ...], log=Path("night.log"))
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
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


def run_measured(args: list[str], log: Path, env: dict | None = None, interval: float = 0.2) -> tuple[float, float]:
    """(wall seconds, peak GB of the process tree sampled every `interval` s); raises if the command fails.
    Starts from a quiet disk: what earlier steps wrote is flushed first, not during the timed run."""
    os.sync()
    time.sleep(2)
    peak = 0
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, tree_rss(proc.pid))
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
    return wall, peak / 1024 ** 3
