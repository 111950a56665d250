"""First nights linked on DuckDB and on Spark, through `registry run --engine E`, at one or more sizes:
the engines side by side, and the one-machine curve.

    .venv/bin/python benchmarks/engine_benchmark.py --people 100000 --work /tmp/engines
    .venv/bin/python benchmarks/engine_benchmark.py --landing /tmp/engines/landing --engines spark \\
        --spark-conf spark.driver.memory=8g --spark-conf spark.sql.shuffle.partitions=32
    .venv/bin/python benchmarks/engine_benchmark.py --people 1000000,2000000,5000000 --engines duckdb \\
        --work /tmp/curve --remove-data      # the one-machine curve (needs ~25 GB of disk at 5M)

Each engine runs in its own home, in a subprocess, as a data engineer runs it (Spark in local mode
on this machine's cores unless --spark-master names a cluster; DuckDB within HOME/registry.yaml's
memory limit, --memory-limit to set one). Prints each stage's seconds from the run ledger and the
peak memory of the whole process tree while it ran (Spark's JVM included), wall time, and whether
both engines published the same registry (every resident table, row for row); with several sizes,
the curve: wall time and peak memory by population.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from comparisons_benchmark import count as count_comparisons  # noqa: E402
from measure import run_measured, stage_figures  # noqa: E402

BIN = Path(sys.executable).parent
DATE = "2026-11-20"
RESIDENT_TABLES = ("crosswalk", "residents", "review_queue", "lineage", "conflicts", "resident_events",
                   "resident_history")


def _ledger(home: Path) -> dict:
    con = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    try:
        stats = con.execute("SELECT stats FROM runs WHERE status = 'published' ORDER BY started_at DESC LIMIT 1"
                            ).fetchall()[0][0]
        records = con.execute("SELECT count(*) FROM records").fetchall()[0][0]
    finally:
        con.close()
    stats = json.loads(stats) if isinstance(stats, str) else stats
    return {"stages": stats.get("stage_seconds", {}), "records": records,
            "links": (stats.get("record_links") or {}).get("links")}


def same_registry(a: Path, b: Path) -> bool:
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a / 'published' / 'registry.duckdb'}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b / 'published' / 'registry.duckdb'}' AS b (READ_ONLY)")
        for table in RESIDENT_TABLES:
            cols = ", ".join(f'"{c}"' for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ?",
                [table]).fetchall() if c not in ("run_id", "first_raised_date", "decided_at"))
            for x, y in (("a", "b"), ("b", "a")):
                if con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{table} EXCEPT ALL "
                               f"SELECT {cols} FROM {y}.{table})").fetchall()[0][0]:
                    return False
        return True
    finally:
        con.close()


def _landing(people: int, seed: int, work: Path) -> tuple[Path, float]:
    """A generated first night of `people` under work/ (made once: reused when it is there)."""
    landing = work / f"landing-{people}"
    if (landing / DATE).exists():
        return landing, 0.0
    generated = run_measured([str(BIN / "registry"), "generate", "--people", str(people), "--date", DATE,
                              "--out", str(landing), "--seed", str(seed), "--truth", str(work / f"truth-{people}.csv")],
                             work / f"generate-{people}.log")
    print(f"generated {people:,} people in {generated.wall:.0f} s (peak {generated.peak_gb:.2f} GB)", flush=True)
    return landing, generated.wall


def _home(work: Path, engine: str, args: argparse.Namespace) -> Path:
    home = work / f"home_{engine}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    config: dict = {}
    if args.memory_limit:
        config["database"] = {"memory_limit": args.memory_limit}
    if engine == "spark":
        conf = dict(kv.split("=", 1) for kv in args.spark_conf)
        spark = {"master": args.spark_master} if args.spark_master else {}
        if conf:
            spark["config"] = conf
        config["linkage"] = {"spark": spark}
    if config:
        (home / "registry.yaml").write_text(json.dumps(config), encoding="utf-8")
    return home


def _first_nights(landing: Path, engines: list[str], work: Path, args: argparse.Namespace) -> dict:
    results = {}
    for engine in engines:
        home = _home(work, engine, args)
        run = run_measured([str(BIN / "registry"), "run", "--home", str(home), "--landing", str(landing),
                            "--date", DATE, "--engine", engine], work / f"run-{engine}.log")
        results[engine] = {"wall": run.wall, "peak": run.peak_gb, "stage_peaks": stage_figures(run, home),
                           **_ledger(home)}
        print(f"{engine}: {run.wall:.1f} s, peak {run.peak_gb:.2f} GB", flush=True)

    print(f"\nlanding {landing}; records: {results[engines[0]]['records']}")
    stages = list(dict.fromkeys(s for r in results.values() for s in r["stages"]))
    print(f"{'stage (s, peak GB)':<26}" + "".join(f"{e:>18}" for e in engines))
    for s in stages:
        print(f"{s:<26}" + "".join(f"{results[e]['stages'].get(s, float('nan')):>10.1f}"
                                   f"{results[e]['stage_peaks'].get(s, (0, 0))[1]:>8.2f}" for e in engines))
    print(f"{'wall time (s)':<26}" + "".join(f"{results[e]['wall']:>18.1f}" for e in engines))
    print(f"{'peak memory, tree (GB)':<26}" + "".join(f"{results[e]['peak']:>18.2f}" for e in engines))
    print(f"{'links':<26}" + "".join(f"{results[e]['links'] or 0:>18}" for e in engines), flush=True)
    if len(engines) == 2:
        print(f"same registry published by both engines: {same_registry(*(work / f'home_{e}' for e in engines))}")
    if args.count_comparisons:
        counted = count_comparisons(work / f"home_{engines[0]}" / "state" / "registry_state.duckdb")
        results[engines[0]]["pairs"] = counted["pairs"]
        print(f"pairs compared: {counted['pairs']:,} ({counted['per_record']:.2f} per record; "
              f"counted in {counted['seconds']:.0f} s)", flush=True)
    if not args.keep_homes:
        for e in engines:
            shutil.rmtree(work / f"home_{e}", ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", default="100000", help="one size, or several separated by commas (a curve)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/engine_benchmark"))
    parser.add_argument("--landing", type=Path, help=f"reuse a landing zone holding {DATE} (one size)")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--memory-limit", default="", help="DuckDB's memory limit, e.g. 6GB (default: the registry's)")
    parser.add_argument("--spark-master", default="", help="a cluster's master URL (default: local mode)")
    parser.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--keep-homes", action="store_true", help="keep each engine's home (they are large)")
    parser.add_argument("--count-comparisons", action="store_true",
                        help="count the pairs the blocking rules compare (benchmarks/comparisons_benchmark.py)")
    parser.add_argument("--remove-data", action="store_true", help="remove each generated landing zone once measured")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    engines = args.engines.split(",")
    sizes = [int(p) for p in args.people.split(",")]
    curve = []
    for people in sizes:
        if args.landing:
            landing, generated = args.landing.resolve(), 0.0
        else:
            landing, generated = _landing(people, args.seed, work)
        results = _first_nights(landing, engines, work, args)
        curve.append((people, generated, results))
        if args.remove_data and not args.landing:
            shutil.rmtree(landing, ignore_errors=True)
    if len(curve) > 1:
        print("\nthe one-machine curve (first nights)")
        print(f"{'people':>12}{'records':>12}{'pairs/record':>14}"
              + "".join(f"{e + ' s':>14}{e + ' GB':>12}" for e in engines))
        for people, _, results in curve:
            pairs = results[engines[0]].get("pairs")
            print(f"{people:>12,}{results[engines[0]]['records']:>12,}"
                  f"{pairs / results[engines[0]]['records'] if pairs else float('nan'):>14.2f}"
                  + "".join(f"{results[e]['wall']:>14.1f}{results[e]['peak']:>12.2f}" for e in engines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
