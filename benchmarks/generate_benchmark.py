"""Time `registry generate` for N people: wall time, peak RSS of the generator process, rows per department.

    .venv/bin/python benchmarks/generate_benchmark.py [--people 1000000] [--seed 7] [--next]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--date", default="2026-11-20")
    ap.add_argument("--next", action="store_true", help="also time the following night (--previous)")
    ap.add_argument("--keep", default=None, help="write here instead of a temporary folder")
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="generate_bench_"))
    runs = [["--date", a.date]]
    if a.next:
        runs.append(["--date", "2026-11-21", "--previous", str(work / "landing" / a.date)])
    for extra in runs:
        cmd = [sys.executable, "-m", "registry.commands.generate", "--people", str(a.people), "--seed", str(a.seed),
               "--out", str(work / "landing"), *extra]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = r0.ru_maxrss
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak = r1.ru_maxrss
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        date = extra[1]
        rows = {}
        for d in ("public_security", "family_planning", "civil_affairs", "labour"):
            # The manifest is optional (some nights have none); the generator's own state always counts rows.
            m = work / "landing" / date / d / "manifest.json"
            state = work / "generator_state" / date / f"{d}.parquet"
            if m.exists():
                rows[d] = json.loads(m.read_text())["rows"]
            else:
                import duckdb
                rows[d] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{state}')").fetchall()[0][0] \
                    if state.exists() else None
        print(proc.stdout.strip())
        print(json.dumps({"people": a.people, "date": date, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
                          "peak_rss_mb": round(max(peak, before) / 1024), "rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
