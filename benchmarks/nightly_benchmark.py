"""Speed of the nightly merge as users see it: night 1 (full), night 2 incremental, night 2 rebuilt.

    .venv/bin/python benchmarks/nightly_benchmark.py --people 1000000 --work /tmp/nightly
    .venv/bin/python benchmarks/nightly_benchmark.py --landing /tmp/h8/landing --work /tmp/nightly
    .venv/bin/python benchmarks/nightly_benchmark.py --landing L --night1-home H   # reuse a home after night 1
    .venv/bin/python benchmarks/nightly_benchmark.py --landing L --night1-home H --repeat 3   # medians of 3 runs

Each night goes through `registry run` in a subprocess (the Dagster job, exactly what the schedule
launches). Night 2 runs incrementally in one home and with --full-rebuild in a copy of the home as it
stood after night 1. Prints per-stage seconds (from the run ledger), wall time and peak RSS of each
run, the speed-up, and whether both homes published the same residents (same records together).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

BIN = Path(sys.executable).parent
NIGHT1, NIGHT2 = "2026-11-19", "2026-11-20"


def _run(args: list[str], log: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS of the child in GB); raises if the command fails.

    Starts from a quiet disk, as the 02:00 schedule finds it: the gigabytes this benchmark has just
    copied (the homes) or the run before has written are flushed first, not during the timed run."""
    os.sync()
    time.sleep(2)
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed; see {log}")
    return wall, usage.ru_maxrss / 1024 / 1024


def _generate(people: int, work: Path, seed: int) -> Path:
    landing = work / "landing"
    for date, extra in ((NIGHT1, []), (NIGHT2, ["--previous", str(landing / NIGHT1)])):
        if (landing / date).exists():
            continue
        _run([str(BIN / "registry"), "generate", "--people", str(people), "--date", date, "--out", str(landing),
              "--seed", str(seed), "--truth", str(work / "truth" / f"{date}.csv"), *extra], work / f"generate-{date}.log")
    return landing


def _ledger(home: Path, date: str) -> dict:
    # The state's ledger row is final (it has the publish stage, timed after the swap).
    con = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    try:
        mode, stats = con.execute("SELECT mode, stats FROM runs WHERE extract_date = CAST(? AS DATE) "
                                  "AND status = 'published' ORDER BY started_at DESC LIMIT 1", [date]).fetchone()
    finally:
        con.close()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    return {"mode": mode, "stages": stats.get("stage_seconds", {}),
            "changes": (stats.get("standardised_records") or {}).get("changes", {})}


def _residents(home: Path) -> set[frozenset]:
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT list(record_uid ORDER BY record_uid) FROM crosswalk GROUP BY resident_id").fetchall()
    finally:
        con.close()
    return {frozenset(r[0]) for r in rows}


def _golden_equal(a: Path, b: Path) -> bool:
    """Same golden values for the same records (resident_ids may differ between the two homes)."""
    sql = """SELECT count(*) FROM (
               (SELECT * EXCLUDE (resident_id), (SELECT min(record_uid) FROM {db}.crosswalk x
                                                 WHERE x.resident_id = r.resident_id) AS first_record
                FROM {db}.residents r)
               EXCEPT ALL
               (SELECT * EXCLUDE (resident_id), (SELECT min(record_uid) FROM {other}.crosswalk x
                                                 WHERE x.resident_id = r.resident_id) AS first_record
                FROM {other}.residents r))"""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a / 'published' / 'registry.duckdb'}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b / 'published' / 'registry.duckdb'}' AS b (READ_ONLY)")
        return (con.execute(sql.format(db="a", other="b")).fetchone()[0] == 0
                and con.execute(sql.format(db="b", other="a")).fetchone()[0] == 0)
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nightly_benchmark"))
    parser.add_argument("--landing", type=Path, help=f"reuse a landing zone holding {NIGHT1} and {NIGHT2}")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--night1-home", type=Path,
                        help=f"a home as it stood after {NIGHT1} on the same landing (copied, not changed): "
                             "skips night 1")
    parser.add_argument("--skip-full-rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="time each night-2 run N times, each from a fresh copy of the home after night 1, "
                             "and compare medians (a 2-core machine varies by a few seconds from run to run)")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    landing = args.landing.resolve() if args.landing else _generate(args.people, work, args.seed)
    incremental, rebuilt = work / "home_incremental", work / "home_rebuilt"
    for h in (incremental, rebuilt):
        shutil.rmtree(h, ignore_errors=True)
    run = [str(BIN / "registry"), "run", "--landing", str(landing)]

    results = {}
    if args.night1_home:
        shutil.copytree(args.night1_home, incremental)
    else:
        results["night 1 full"] = _run(run + ["--home", str(incremental), "--date", NIGHT1], work / "night1.log")
        print(f"night 1 full: {results['night 1 full'][0]:.1f} s", flush=True)
    after_night1 = Path(args.night1_home) if args.night1_home else work / "home_after_night1"
    if not args.night1_home and (args.repeat > 1 or not args.skip_full_rebuild):
        shutil.rmtree(after_night1, ignore_errors=True)
        shutil.copytree(incremental, after_night1)
    ledgers = {"night 1 full": _ledger(incremental, NIGHT1)} if "night 1 full" in results else {}
    nights = [("night 2 incremental", incremental, [], "night2")]
    if not args.skip_full_rebuild:
        nights.append(("night 2 full rebuild", rebuilt, ["--full-rebuild"], "night2-full"))
    repeat = max(1, args.repeat)
    times: dict[str, list[float]] = {}
    for name, home, extra, log in nights:
        timed = []
        for i in range(repeat):
            if i > 0 or home == rebuilt:  # every run starts from the home as it stood after night 1
                shutil.rmtree(home, ignore_errors=True)
                shutil.copytree(after_night1, home)
            timed.append(_run(run + ["--home", str(home), "--date", NIGHT2, *extra],
                              work / (f"{log}.log" if repeat == 1 else f"{log}-{i + 1}.log")))
            print(f"{name}{f' ({i + 1}/{repeat})' if repeat > 1 else ''}: {timed[-1][0]:.1f} s", flush=True)
        times[name] = [wall for wall, _ in timed]
        results[name] = (statistics.median(times[name]), max(rss for _, rss in timed))
        ledgers[name] = _ledger(home, NIGHT2)  # the last run's stages

    stages = list(dict.fromkeys(s for led in ledgers.values() for s in led["stages"]))
    names = list(results)
    print(f"\nlanding {landing}; records changed on night 2: "
          f"{sum(ledgers['night 2 incremental']['changes'].values())}")
    print(f"{'stage':<26}" + "".join(f"{n:>22}" for n in names))
    for s in stages:
        print(f"{s:<26}" + "".join(f"{ledgers[n]['stages'].get(s, float('nan')):>22.1f}" for n in names))
    print(f"{'other (start-up, checks)':<26}" + "".join(
        f"{results[n][0] - sum(ledgers[n]['stages'].values()):>22.1f}" for n in names))
    print(f"{'wall time (s)':<26}" + "".join(f"{results[n][0]:>22.1f}" for n in names))
    print(f"{'peak RSS (GB)':<26}" + "".join(f"{results[n][1]:>22.2f}" for n in names))
    print(f"RUSAGE_CHILDREN peak RSS: {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024:.2f} GB")
    if repeat > 1:
        for name, walls in times.items():
            print(f"{name}: {', '.join(f'{w:.1f}' for w in walls)} s (median {statistics.median(walls):.1f} s: "
                  f"the wall time above; the stages are the last run's)")
    if "night 2 full rebuild" in results:
        speedup = results["night 2 full rebuild"][0] / results["night 2 incremental"][0]
        same = _residents(incremental) == _residents(rebuilt)
        print(f"speed-up of the incremental night over the full rebuild: {speedup:.1f}x"
              + (" (medians)" if repeat > 1 else ""))
        if repeat > 1:
            worst = min(times["night 2 full rebuild"]) / max(times["night 2 incremental"])
            print(f"  slowest incremental night against the fastest rebuild: {worst:.1f}x")
        print(f"incremental residents == full rebuild's (same records together): {same}")
        print(f"incremental golden records == full rebuild's: {_golden_equal(incremental, rebuilt)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
