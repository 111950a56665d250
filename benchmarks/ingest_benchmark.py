"""Time and peak memory of loading (and, when available, standardising) one night.

    .venv/bin/python benchmarks/ingest_benchmark.py --people 1000000 [--landing DIR] [--date YYYY-MM-DD]

Generates the night with registry.generate when --landing has no delivery for --date, then loads
the four departments into a fresh DuckDB file, then runs registry.standardise.standardise if it
imports. Prints one line per step: seconds, rows, peak RSS of the process so far.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from registry.departments import DEPARTMENTS  # noqa: E402
from registry.departments.landing import deliveries_for  # noqa: E402
from registry.departments.load import load_department  # noqa: E402
from registry.night import full_night  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--date", default="2026-11-20")
    p.add_argument("--landing", type=Path, default=None)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--validate", action="store_true", help="also run the GX delivery suites")
    p.add_argument("--no-standardise", action="store_true", help="time the loading alone")
    a = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ingest_bench_"))
    landing = a.landing or work / "landing"
    if not any(deliveries_for(landing, a.date).values()):
        from registry.generate import generate_night
        t = time.perf_counter()
        generate_night(landing, a.date, a.people, seed=a.seed, truth_path=work / "truth.csv")
        print(f"generate   {time.perf_counter() - t:7.1f}s  people={a.people}")
    con = duckdb.connect(str(work / "bench.duckdb"))
    con.execute(f"SET threads={a.threads}")
    con.execute("SET enable_progress_bar=false")
    total = time.perf_counter()
    for department in DEPARTMENTS:
        t = time.perf_counter()
        o = load_department(con, landing, department, a.date, workdir=work)
        print(f"load {department:16s} {time.perf_counter() - t:6.1f}s  status={o.status} "
              f"delivered={o.rows_delivered} loaded={o.rows_loaded} quarantined={o.rows_quarantined} "
              f"{o.quarantined_by_reason}  peak={peak_mib():.0f} MiB")
    load_s = time.perf_counter() - total
    print(f"load total {load_s:6.1f}s")
    standardise = None
    if not a.no_standardise:
        try:
            from registry.standardise import standardise
        except ImportError:
            pass
    if standardise is not None:
        t = time.perf_counter()
        standardise(con, full_night())
        n = con.execute("SELECT count(*) FROM records").fetchall()[0][0]
        print(f"standardise {time.perf_counter() - t:6.1f}s  records={n}  peak={peak_mib():.0f} MiB")
    if a.validate:
        from registry.quality.suites import validate_department
        for department in DEPARTMENTS:
            t = time.perf_counter()
            v = validate_department(con, department)
            print(f"validate {department:16s} {time.perf_counter() - t:6.1f}s  success={v.success} "
                  f"warnings={len(v.warnings)}  peak={peak_mib():.0f} MiB")
    print(f"total {time.perf_counter() - total:6.1f}s  peak={peak_mib():.0f} MiB  work={work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
