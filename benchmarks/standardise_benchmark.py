"""Standardisation benchmark: one night of N people (≈ 2.1 N department records).

    .venv/bin/python benchmarks/standardise_benchmark.py --people 1000000 [--work /tmp/std_bench] [--threads 2]

Builds the raw_* tables with the project's generator and loader (registry.generate / registry.departments)
when they are importable, else with a synthetic generator of the same shape; then times a full
standardise() and an incremental one over the next night (when the generator can produce it), and prints
the wall time and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry.standardise import standardise  # noqa: E402
from registry.night import full_night, incremental_night  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_with_generator(con, work: Path, people: int, night2: bool) -> list[str]:
    from registry.departments.load import load_night
    from registry.generate.night import generate_night

    landing = work / "landing"
    dates = ["2026-11-20", "2026-11-21"] if night2 else ["2026-11-20"]
    t = time.perf_counter()
    if not (landing / dates[0]).exists():
        generate_night(landing, dates[0], people, seed=7)
        print(f"generated night 1 for {people} people in {time.perf_counter() - t:.1f}s")
    if night2 and not (landing / dates[1]).exists():
        try:
            generate_night(landing, dates[1], people, seed=7, previous=landing / dates[0])
        except Exception as e:  # the generator's next-night mode may not be ready: time the full run only
            print(f"next night not generated ({type(e).__name__}: {e}); incremental run skipped")
            shutil.rmtree(landing / dates[1], ignore_errors=True)
            dates = dates[:1]
    t = time.perf_counter()
    (work / "tmp").mkdir(exist_ok=True)
    load_night(con, landing, dates[0], workdir=work / "tmp")
    print(f"loaded night 1 in {time.perf_counter() - t:.1f}s")
    return dates


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--work", default="/tmp/std_bench")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fresh", action="store_true", help="regenerate the landing zone")
    args = ap.parse_args()

    work = Path(args.work) / str(args.people)
    if args.fresh and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute(f"SET threads = {args.threads}")
    dates = build_with_generator(con, work, args.people, night2=True)
    raw = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
           for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'raw_%'").fetchall()}
    print(f"raw rows: {raw} total {sum(raw.values())}")

    t, cpu = time.perf_counter(), time.process_time()
    s = standardise(con, full_night())
    full_s = time.perf_counter() - t
    print(f"full standardise CPU time {time.process_time() - cpu:.1f}s (all threads; wall time depends on load)")
    print(f"full standardise: {s.standardised} records in {full_s:.1f}s "
          f"({s.standardised / full_s:,.0f} records/s), distinct names {s.distinct_names}, "
          f"distinct addresses {s.distinct_addresses}, peak RSS {peak_rss_mb():,.0f} MB")
    for d, ds in s.departments.items():
        print(f"  {d}: {ds.standardised} standardised, notes {ds.value_notes}")

    if len(dates) > 1:
        from registry.departments.load import load_night
        load_night(con, work / "landing", dates[1], workdir=work / "tmp")
        t = time.perf_counter()
        s2 = standardise(con, incremental_night())
        inc_s = time.perf_counter() - t
        print(f"incremental standardise: {s2.standardised} records in {inc_s:.1f}s, peak RSS {peak_rss_mb():,.0f} MB")
        for d, ds in s2.departments.items():
            print(f"  {d}: new {ds.new} changed {ds.changed} removed {ds.removed}")
    con.close()


if __name__ == "__main__":
    main()
