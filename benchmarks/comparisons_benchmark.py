"""How many record pairs the blocking rules make the model compare, and how that grows with population.

    .venv/bin/python benchmarks/comparisons_benchmark.py --db HOME/state/registry_state.duckdb
    .venv/bin/python benchmarks/comparisons_benchmark.py --people 10000,100000,1000000 --work /tmp/cmp

Counts the distinct blocked pairs exactly (Splink's count_comparisons_from_blocking_rules with the
whole sample), rule by rule (each rule's pairs not already made by the rules before it), on the
records of a run database, or of nights generated and standardised here. Prints pairs, pairs per
record, and the blocks that grow fastest (the largest block of each rule).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent.parent))


def count(db: Path) -> dict:
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from registry.linkage import load_model
    from registry.linkage.training import model_input

    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"ATTACH '{db}' AS source (READ_ONLY)")
        records = con.execute("SELECT count(*) FROM source.records").fetchall()[0][0]
        view = model_input(con, source="source.records", name="cmp_input")
        started = time.perf_counter()
        rules = load_model().blocking_rules()
        counted = count_comparisons_from_blocking_rules(
            DuckDBAPI(connection=con).register(view, dataset_display_name=view), blocking_rules=rules,
            link_type="dedupe_only", unique_id_column_name="record_uid", record_sample_proportion=1.0)
        seconds = time.perf_counter() - started
    finally:
        con.close()
    per_rule = [(r["blocking_rule"], r["marginal_comparison_count"]) for r in counted]
    total = counted[-1]["cumulative_comparison_count"]
    return {"records": records, "pairs": total, "per_record": total / records, "rules": per_rule,
            "seconds": seconds}


def build(people: int, seed: int, work: Path) -> Path:
    """One generated night, loaded and standardised into work/<people>/run.duckdb."""
    from registry.departments.load import load_night
    from registry.generate import generate_night
    from registry.night import full_night
    from registry.standardise import standardise

    folder = work / str(people)
    db = folder / "run.duckdb"
    if db.exists():
        return db
    folder.mkdir(parents=True, exist_ok=True)
    generate_night(folder / "landing", "2026-11-20", people, seed=seed, truth_path=folder / "truth.csv")
    con = duckdb.connect(str(db))
    try:
        load_night(con, folder / "landing", "2026-11-20")
        standardise(con, full_night("2026-11-20"))
    finally:
        con.close()
    shutil.rmtree(folder / "landing", ignore_errors=True)
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, action="append", default=[], help="a run or state database with records")
    parser.add_argument("--people", default="", help="comma-separated populations to generate and count")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/comparisons_benchmark"))
    args = parser.parse_args(argv)
    dbs = list(args.db) + [build(int(p), args.seed, args.work.resolve()) for p in args.people.split(",") if p]
    results = [count(db) for db in dbs]
    print(f"{'records':>12}{'pairs compared':>16}{'pairs/record':>14}{'count (s)':>11}")
    for r in results:
        print(f"{r['records']:>12,}{r['pairs']:>16,}{r['per_record']:>14.2f}{r['seconds']:>11.1f}")
    print("\npairs each rule adds (in order; a pair made by an earlier rule is not counted again):")
    for i, (rule, _) in enumerate(results[0]["rules"]):
        print(f"  {rule[:90]:<90}" + "".join(f"{r['rules'][i][1]:>14,}" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
