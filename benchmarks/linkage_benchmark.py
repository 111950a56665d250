"""Side-by-side linkage benchmark on the same standardised records:

  (a) exact match on the normalised identity number,
  (b) plain Splink with its standard comparison library on the standardised fields,
  (c) the registry's linkage (committed model, custom comparisons, constrained clustering).

    python benchmarks/linkage_benchmark.py --people 100000 --seed 2 --work /tmp/bench
    python benchmarks/linkage_benchmark.py --db RUN.duckdb --truth truth.csv   # records already built

Each method runs in its own process (a copy of the database), so its time and peak memory are
its own. Prints a table; pairwise and B-cubed metrics come from registry.evaluate.score.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

METHODS = ("exact_id", "plain_splink", "registry")


def build_records(people: int, seed: int, work: Path, date: str = "2026-11-20") -> tuple[Path, Path]:
    """generate -> load -> standardise into work/run.duckdb; returns (db, truth)."""
    from registry.departments.load import load_night
    from registry.generate import generate_night
    from registry.night import full_night
    from registry.standardise import standardise

    work.mkdir(parents=True, exist_ok=True)
    truth = work / "truth.csv"
    generate_night(work / "landing", date, people, seed=seed, truth_path=truth)
    db = work / "run.duckdb"
    con = duckdb.connect(str(db))
    load_night(con, work / "landing", date)
    standardise(con, full_night())
    con.close()
    return db, truth


def _exact_id(con) -> None:
    con.execute("""CREATE OR REPLACE TABLE bench_clusters AS
        SELECT record_uid, coalesce(id_number, record_uid) AS cluster_id FROM records""")


def _plain_splink(con) -> None:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    con.execute("""CREATE OR REPLACE TABLE bench_input AS SELECT record_uid, id_number, name_plain, birth_date,
                   birth_year, sex, phone, coalesce(current_address, hukou_address) AS address FROM records""")
    db = DuckDBAPI(connection=con)
    sdf = db.register("bench_input", dataset_display_name="bench_input")
    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="record_uid",
        comparisons=[cl.ExactMatch("id_number"), cl.NameComparison("name_plain"),
                     cl.DateOfBirthComparison("birth_date", input_is_string=False),
                     cl.ExactMatch("sex"), cl.ExactMatch("phone"), cl.ExactMatch("address")],
        blocking_rules_to_generate_predictions=[block_on("id_number"), block_on("name_plain", "birth_year")])
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_plain", "birth_year"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    con.execute("CREATE OR REPLACE TABLE bench_nodes AS SELECT record_uid FROM bench_input")
    nodes = db.register("bench_nodes", dataset_display_name="bench_nodes_sdf")
    clusters = cluster_pairwise_predictions_at_threshold(
        nodes, predictions, db_api=db, node_id_column_name="record_uid",
        edge_id_column_name_left="record_uid_l", edge_id_column_name_right="record_uid_r",
        threshold_match_probability=0.9)
    con.execute(f"""CREATE OR REPLACE TABLE bench_clusters AS
        SELECT record_uid, cluster_id FROM {clusters.physical_name}""")


def _registry(con) -> None:
    from registry.linkage import cluster_records, load_model, predict_links
    from registry.night import full_night

    predict_links(con, load_model(), full_night())
    cluster_records(con, full_night())
    con.execute("CREATE OR REPLACE TABLE bench_clusters AS SELECT record_uid, cluster_id FROM clusters")


def run_method(method: str, db: Path, truth: Path) -> dict:
    """Run one method on (a copy of) db; returns its metrics, seconds and peak memory."""
    from registry.evaluate import read_truth, score

    con = duckdb.connect(str(db))
    started = time.perf_counter()
    {"exact_id": _exact_id, "plain_splink": _plain_splink, "registry": _registry}[method](con)
    seconds = time.perf_counter() - started
    con.register("truth_df", read_truth(truth))
    con.execute("""CREATE OR REPLACE TEMP VIEW scored AS
        SELECT r.record_uid AS record, c.cluster_id::VARCHAR AS predicted, t.person_id AS truth
        FROM records r JOIN bench_clusters c USING (record_uid)
        JOIN truth_df t ON t.department = r.department AND t.source_record_id = r.source_record_id""")
    result = score("scored", con)
    result.update(method=method, seconds=round(seconds, 1),
                  peak_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    con.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--work", type=Path, default=Path("bench_work"))
    p.add_argument("--db", type=Path, help="a run database whose `records` are already standardised")
    p.add_argument("--truth", type=Path)
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--method", help=argparse.SUPPRESS)  # internal: run one method in this process
    args = p.parse_args(argv)

    if args.method:
        print(json.dumps(run_method(args.method, args.db, args.truth)))
        return 0
    if args.db is None:
        args.db, args.truth = build_records(args.people, args.seed, args.work)
    elif args.truth is None:
        p.error("--db needs --truth")
    results = []
    for method in args.methods.split(","):
        copy = args.db.with_name(f"bench_{method}.duckdb")
        shutil.copyfile(args.db, copy)
        out = subprocess.run([sys.executable, __file__, "--method", method, "--db", str(copy),
                              "--truth", str(args.truth)], capture_output=True, text=True)
        copy.unlink(missing_ok=True)
        if out.returncode != 0:
            print(f"{method} failed:\n{out.stderr[-3000:]}", file=sys.stderr)
            continue
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    header = f"{'method':<14}{'records':>10}{'precision':>11}{'recall':>9}{'F1':>9}{'B3 F1':>9}{'seconds':>9}{'peak MB':>9}"
    print(header)
    for r in results:
        print(f"{r['method']:<14}{r['records']:>10,}{r['pairwise_precision']:>11.5f}{r['pairwise_recall']:>9.5f}"
              f"{r['pairwise_f1']:>9.5f}{r['bcubed_f1']:>9.5f}{r['seconds']:>9.1f}{r['peak_mb']:>9}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
