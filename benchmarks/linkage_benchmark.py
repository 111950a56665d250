"""Linkage accuracy on districts the model never saw, beside two baselines, with the review load.

For each writer (the project's generator, `generator`; the independently written one in
tests/independent, `independent`) and each held-out seed: write a first night (and the night after),
run them through `registry run` as a data engineer does, and score

  (a) exact match on the normalised identity number,
  (b) plain Splink with its standard comparison library on the standardised fields,
  (c) the registry's linkage (committed model, household evidence, constrained clustering),

each in its own process on a copy of the night's standardised records (time and peak memory are its
own), by pairwise and B-cubed precision/recall/F1, by department pair and by irregularity (the truth's
`irregularities` column); the calibration of the registry's match probabilities (predicted against the
share of truly matching pairs); and the review queue the night published: items per 100 residents on
the first and on the incremental night, the share of the machine's remaining errors (wrongly split or
merged residents) that have an item, and the share of items whose machine decision was wrong.

    python benchmarks/linkage_benchmark.py --people 20000 --seeds 101,202 --work /tmp/bench
    python benchmarks/linkage_benchmark.py --people 100000 --writers independent --seeds 303 --json out.json
    python benchmarks/linkage_benchmark.py --db RUN.duckdb --truth truth.csv   # records already built

The committed model was trained on generator seed 1 (registry/linkage/model/model.json says so): use
other seeds here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

METHODS = ("exact_id", "plain_splink", "registry")
WRITERS = ("generator", "independent")
DATES = ("2026-11-20", "2026-11-21")
# Irregularities reported (the truth's tags), in display order.
IRREGULARITIES = ("no_id", "child_no_id", "id_typo", "shared_id", "homophone", "traditional", "spaces",
                  "separator", "former_name", "pinyin", "twin", "address_outdated")
# Bin edges of the calibration table; the uncertain band's ends are chosen among them
# (registry/linkage/calibration.py).
CALIBRATION_BINS = (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0000001)


# ---------------------------------------------------------------- nights

def write_nights(writer: str, seed: int, people: int, folder: Path, nights: int) -> list[tuple[str, Path]]:
    """The writer's nights under folder/landing; returns [(date, truth file)]."""
    landing, out = folder / "landing", []
    for i, date in enumerate(DATES[:nights]):
        truth = folder / f"truth-{date}.csv"
        if writer == "generator":
            from registry.generate import generate_night
            generate_night(landing, date, people, seed=seed, truth_path=truth,
                           previous=landing / DATES[i - 1] if i else None)
        else:
            from tests.independent.writer import write_next_night, write_night
            if i == 0:
                write_night(landing, date, people, seed, truth_path=truth)
            else:
                write_next_night(landing, date, people, seed, DATES[i - 1], truth_path=truth)
        out.append((date, truth))
    return out


# Runs a command and reports its own peak memory (the child's maximum resident set) on stderr's last line.
_MEASURED = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(rc)")


def run_night(home: Path, landing: Path, date: str) -> dict:
    """`registry run` in its own process: seconds, peak memory, the linkage stages' seconds."""
    env = dict(os.environ, DAGSTER_HOME=str(home / "dagster"))
    (home / "dagster").mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", _MEASURED, str(Path(sys.executable).with_name("registry")), "run",
           "--home", str(home), "--landing", str(landing), "--date", date]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"registry run {date} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-3000:]}")
    peak = int(proc.stderr.strip().splitlines()[-1]) / 1024
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        stats = json.loads(con.execute("SELECT stats FROM runs WHERE status = 'published' ORDER BY finished_at DESC "
                                       "LIMIT 1").fetchall()[0][0])
    finally:
        con.close()
    stages = stats.get("stage_seconds", {})
    linkage = sum(v for k, v in stages.items() if k in ("record_links", "person_clusters"))
    return {"seconds": round(seconds, 1), "peak_mb": round(peak), "linkage_stage_seconds": round(linkage, 1),
            "stage_seconds": stages}


# ---------------------------------------------------------------- the three methods

def _exact_id(con) -> None:
    con.execute("""CREATE OR REPLACE TABLE bench_clusters AS
        SELECT record_uid, coalesce(id_number, record_uid) AS cluster_id FROM records""")


def _plain_splink(con) -> None:
    import logging

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


def _peak_mb() -> int:
    """This process's peak resident memory since it started (VmHWM: ru_maxrss would include the RSS of
    the process that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_method(method: str, db: Path, truth: Path) -> dict:
    """Run one method on (a copy of) db in this process; returns its accuracy, seconds and peak memory."""
    con = duckdb.connect(str(db))
    started = time.perf_counter()
    {"exact_id": _exact_id, "plain_splink": _plain_splink, "registry": _registry}[method](con)
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    register_truth(con, truth)
    con.execute("""CREATE OR REPLACE TEMP VIEW bench_assign AS
        SELECT c.record_uid, c.cluster_id::VARCHAR AS predicted FROM bench_clusters c""")
    result = accuracy(con, "bench_assign")
    if method == "registry":
        result["calibration"] = calibration(con)
    result.update(method=method, seconds=round(seconds, 1), peak_mb=peak)
    con.close()
    return result


def methods_on(db: Path, truth: Path, methods: list[str]) -> list[dict]:
    out = []
    for method in methods:
        copy = db.with_name(f"bench_{method}.duckdb")
        shutil.copyfile(db, copy)
        proc = subprocess.run([sys.executable, __file__, "--method", method, "--db", str(copy),
                               "--truth", str(truth)], capture_output=True, text=True)
        copy.unlink(missing_ok=True)
        if proc.returncode != 0:
            print(f"{method} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            continue
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


# ---------------------------------------------------------------- scoring

def register_truth(con, truth: Path) -> None:
    t = pd.read_csv(truth, dtype=str, keep_default_na=False)
    if "irregularities" not in t.columns:
        t["irregularities"] = ""
    t["record_uid"] = t["department"] + ":" + t["source_record_id"]
    con.register("_truth_df", t[["record_uid", "department", "person_id", "irregularities"]])
    con.execute("""CREATE OR REPLACE TEMP TABLE bench_truth AS
        SELECT record_uid, department, person_id,
               list_filter(string_split(irregularities, ';'), lambda x: x <> '') AS tags
        FROM _truth_df WHERE record_uid IN (SELECT record_uid FROM records)""")
    con.unregister("_truth_df")


def accuracy(con, assign: str) -> dict:
    """Pairwise and B-cubed figures of `assign(record_uid, predicted)` against bench_truth, overall, by
    department pair and by irregularity."""
    from registry.evaluate import score

    con.execute(f"""CREATE OR REPLACE TEMP TABLE bench_scored AS
        SELECT t.record_uid, t.department, t.person_id, t.tags,
               coalesce(a.predicted, 'single:' || t.record_uid) AS predicted
        FROM bench_truth t LEFT JOIN {assign} a USING (record_uid)""")
    con.execute("CREATE OR REPLACE TEMP VIEW bench_rpt AS SELECT record_uid AS record, predicted, person_id AS truth "
                "FROM bench_scored")
    result = score("bench_rpt", con)
    # pairs, enumerated within true persons and within predicted clusters (both small)
    con.execute("""CREATE OR REPLACE TEMP TABLE bench_true_pairs AS
        SELECT a.record_uid AS l, b.record_uid AS r, a.department AS dl, b.department AS dr,
               list_distinct(list_concat(a.tags, b.tags)) AS tags, a.predicted = b.predicted AS found
        FROM bench_scored a JOIN bench_scored b ON a.person_id = b.person_id AND a.record_uid < b.record_uid""")
    con.execute("""CREATE OR REPLACE TEMP TABLE bench_pred_pairs AS
        SELECT a.record_uid AS l, b.record_uid AS r, a.department AS dl, b.department AS dr,
               list_distinct(list_concat(a.tags, b.tags)) AS tags, a.person_id = b.person_id AS correct
        FROM bench_scored a JOIN bench_scored b ON a.predicted = b.predicted AND a.record_uid < b.record_uid""")
    pair = "least(dl, dr) || ' - ' || greatest(dl, dr)"
    by_pair = {}
    for name, n, found in con.execute(f"SELECT {pair}, count(*), count(*) FILTER (WHERE found) FROM bench_true_pairs "
                                      "GROUP BY 1 ORDER BY 1").fetchall():
        by_pair[name] = {"true_pairs": n, "recall": found / n if n else 1.0}
    for name, n, correct in con.execute(f"SELECT {pair}, count(*), count(*) FILTER (WHERE correct) FROM "
                                        "bench_pred_pairs GROUP BY 1").fetchall():
        by_pair.setdefault(name, {"true_pairs": 0, "recall": 1.0})
        by_pair[name].update(predicted_pairs=n, precision=correct / n if n else 1.0)
    by_irr = {}
    for tag in IRREGULARITIES:
        n, found = con.execute("SELECT count(*), count(*) FILTER (WHERE found) FROM bench_true_pairs "
                               "WHERE list_contains(tags, ?)", [tag]).fetchall()[0]
        m, correct = con.execute("SELECT count(*), count(*) FILTER (WHERE correct) FROM bench_pred_pairs "
                                 "WHERE list_contains(tags, ?)", [tag]).fetchall()[0]
        by_irr[tag] = {"true_pairs": n, "recall": found / n if n else None, "false_pairs": m - correct,
                       "precision": correct / m if m else None}
    result["missed_pairs"] = result["true_pairs"] - result["true_positive_pairs"]
    result["false_pairs"] = result["predicted_pairs"] - result["true_positive_pairs"]
    result["by_department_pair"] = by_pair
    result["by_irregularity"] = by_irr
    return result


def calibration(con) -> list[dict]:
    """Scored pairs (links) by predicted probability: how many, mean predicted, how many truly one person."""
    edges = list(CALIBRATION_BINS)
    case = " ".join(f"WHEN match_probability < {hi} THEN {i}" for i, hi in enumerate(edges[1:]))
    rows = con.execute(f"""
        SELECT CASE {case} END AS bin, count(*), avg(match_probability),
               count(*) FILTER (WHERE tl.person_id = tr.person_id)
        FROM links l JOIN bench_truth tl ON tl.record_uid = l.record_uid_l
                     JOIN bench_truth tr ON tr.record_uid = l.record_uid_r
        GROUP BY 1 ORDER BY 1""").fetchall()
    return [{"from": edges[b], "to": min(edges[b + 1], 1.0), "pairs": n, "predicted": p, "one_person": k,
             "observed": k / n} for b, n, p, k in rows if b is not None]


def calibration_by_writer(results: list[dict]) -> dict[str, list[dict]]:
    """Every district's calibration rows of the registry, by writer (the seed kept on each row)."""
    out: dict[str, list[dict]] = {}
    for d in results:
        for r in d["methods"]:
            if r["method"] == "registry" and r.get("calibration"):
                out.setdefault(d["writer"], []).extend(dict(c, seed=d["seed"]) for c in r["calibration"])
    return out


def write_calibration(path: Path, results: list[dict], people: int) -> None:
    """The calibration file registry/linkage/calibration.py chooses the uncertain band from."""
    from registry.linkage import load_model

    by_writer = calibration_by_writer(results)
    head = {"model_version": load_model().version, "people": people, "seeds": sorted({d["seed"] for d in results}),
            "produced_by": "benchmarks/linkage_benchmark.py --calibration-out"}
    # one bin a line, so that a re-measurement reads as a diff
    writers = ",\n".join(
        f'  "{w}": [\n' + ",\n".join("   " + json.dumps({k: (round(v, 6) if isinstance(v, float) else v)
                                                         for k, v in c.items()}) for c in rows) + "\n  ]"
        for w, rows in sorted(by_writer.items()))
    path.write_text(json.dumps(head, indent=1)[:-2] + ',\n "writers": {\n' + writers + "\n }\n}\n", encoding="utf-8")


def band_lines(by_writer: dict[str, list[dict]]) -> list[str]:
    """The band these measurements choose, beside the one the committed calibration chooses."""
    from registry.linkage.calibration import BOTTOM_SHARE, TOP_PRECISION, UNCERTAIN_BAND, choose_band

    lo, hi = choose_band(by_writer)
    return [f"uncertain band chosen from this calibration ({', '.join(sorted(by_writer))}; top: every bin above it "
            f">= {TOP_PRECISION} one person, bottom: >= {BOTTOM_SHARE}): [{lo}, {hi}); committed band "
            f"(registry/linkage/model/calibration.json): [{UNCERTAIN_BAND[0]}, {UNCERTAIN_BAND[1]})"]


# ---------------------------------------------------------------- the review queue

def review_figures(home: Path, truth: Path, date: str) -> dict:
    """The published queue of a home against the truth."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{home / 'published' / 'registry.duckdb'}' AS pub (READ_ONLY)")
    con.execute("CREATE TEMP TABLE records AS SELECT department || ':' || source_record_id AS record_uid "
                "FROM pub.crosswalk")
    register_truth(con, truth)
    con.execute("""CREATE TEMP TABLE xw AS SELECT department || ':' || source_record_id AS record_uid,
                                                 resident_id FROM pub.crosswalk""")
    con.execute("CREATE TEMP VIEW bench_assign AS SELECT record_uid, resident_id AS predicted FROM xw")
    acc = accuracy(con, "bench_assign")
    residents = con.execute("SELECT count(DISTINCT resident_id) FROM xw").fetchall()[0][0]
    con.execute("""CREATE TEMP TABLE items AS
        SELECT item_id, kind, CAST(first_raised_date AS VARCHAR) AS raised,
               json_extract_string(subject, '$.reason') AS reason,
               list_filter([json_extract_string(subject, '$.record_l'), json_extract_string(subject, '$.record_r'),
                            json_extract_string(subject, '$.record')], lambda x: x IS NOT NULL) AS recs,
               list_filter([resident_id, json_extract_string(subject, '$.resident_id'),
                            json_extract_string(subject, '$.resident_l'), json_extract_string(subject, '$.resident_r')],
                           lambda x: x IS NOT NULL)
               || coalesce(json_extract_string(evidence, '$.nearest_household_records[*].record')::VARCHAR[], [])
                  AS named
        FROM pub.review_queue WHERE status = 'open'""")
    # every resident an item names: its own, its subject's, and those of the records it shows
    con.execute("""CREATE TEMP TABLE item_residents AS
        SELECT DISTINCT item_id, coalesce(x.resident_id, n) AS resident_id
        FROM (SELECT item_id, unnest(named || recs) AS n FROM items) i LEFT JOIN xw x ON x.record_uid = i.n""")
    con.execute("CREATE TEMP TABLE t AS SELECT x.record_uid, x.resident_id, b.person_id FROM xw x "
                "JOIN bench_truth b USING (record_uid)")
    # remaining errors: a person's records outside its main resident (splits); a resident's records of
    # other persons than its main one (merges)
    con.execute("""CREATE TEMP TABLE splits AS
        WITH c AS (SELECT person_id, resident_id, count(*) AS n FROM t GROUP BY ALL),
             main AS (SELECT person_id, arg_max(resident_id, n * 1e9 - hash(resident_id) % 1000000) AS main FROM c
                      GROUP BY person_id HAVING count(*) > 1)
        SELECT c.person_id, c.resident_id FROM c JOIN main USING (person_id) WHERE c.resident_id <> main.main""")
    con.execute("""CREATE TEMP TABLE merges AS
        WITH c AS (SELECT resident_id, person_id, count(*) AS n FROM t GROUP BY ALL),
             main AS (SELECT resident_id, arg_max(person_id, n * 1e9 - hash(person_id) % 1000000) AS main FROM c
                      GROUP BY resident_id HAVING count(*) > 1)
        SELECT c.resident_id, c.person_id FROM c JOIN main USING (resident_id) WHERE c.person_id <> main.main""")
    # a split person is surfaced by an item naming two of its residents, or by an orphan item on one of
    # them (an orphan item asks the officer to find the record's household-register record)
    split_surfaced = con.execute("""
        WITH held AS (SELECT DISTINCT person_id, resident_id FROM t WHERE person_id IN (SELECT person_id FROM splits)),
        seen AS (
            SELECT DISTINCT a.item_id, h.person_id, a.resident_id FROM item_residents a JOIN held h USING (resident_id)),
        surfaced AS (
            SELECT person_id FROM seen GROUP BY item_id, person_id HAVING count(DISTINCT resident_id) >= 2
            UNION SELECT s.person_id FROM seen s JOIN items i USING (item_id) WHERE i.kind = 'orphan')
        SELECT count(*) FILTER (WHERE person_id IN (SELECT person_id FROM surfaced)), count(*) FROM splits""").fetchall()[0]
    merge_surfaced = con.execute("""
        SELECT count(*) FILTER (WHERE EXISTS (
            SELECT 1 FROM items i JOIN item_residents r USING (item_id)
            WHERE r.resident_id = m.resident_id
              AND (i.kind IN ('conflict', 'weak_cluster', 'identity_conflict')
                   OR EXISTS (SELECT 1 FROM unnest(i.recs) u(rec) JOIN t ON t.record_uid = u.rec
                              WHERE t.person_id = m.person_id)))), count(*)
        FROM merges m""").fetchall()[0]
    # items whose machine decision was wrong
    wrong = con.execute("""
        WITH pairs AS (
            SELECT i.item_id, i.kind, i.reason, xl.resident_id = xr.resident_id AS machine_same,
                   tl.person_id = tr.person_id AS truly_same
            FROM items i JOIN xw xl ON xl.record_uid = i.recs[1] JOIN xw xr ON xr.record_uid = i.recs[2]
            JOIN t tl ON tl.record_uid = i.recs[1] JOIN t tr ON tr.record_uid = i.recs[2]
            WHERE len(i.recs) = 2),
        orphans AS (
            SELECT i.item_id, EXISTS (SELECT 1 FROM bench_truth b JOIN t o ON o.record_uid = i.recs[1]
                                      WHERE b.person_id = o.person_id AND b.department = 'public_security') AS wrong
            FROM items i WHERE i.kind = 'orphan'),
        conflicts AS (
            SELECT i.item_id, EXISTS (SELECT 1 FROM merges m JOIN item_residents r ON r.resident_id = m.resident_id
                                      WHERE r.item_id = i.item_id) AS wrong
            FROM items i WHERE i.kind = 'conflict')
        SELECT (SELECT count(*) FILTER (WHERE machine_same <> truly_same) FROM pairs)
             + (SELECT count(*) FILTER (WHERE wrong) FROM orphans) + (SELECT count(*) FILTER (WHERE wrong) FROM conflicts),
               (SELECT count(*) FROM items)""").fetchall()[0]
    kinds = dict(con.execute("SELECT kind, count(*) FROM items GROUP BY 1 ORDER BY 1").fetchall())
    raised = con.execute("SELECT count(*) FROM items WHERE raised = ?", [date]).fetchall()[0][0]
    con.close()
    errors = split_surfaced[1] + merge_surfaced[1]
    return {"residents": residents, "items": sum(kinds.values()), "by_kind": kinds,
            "items_per_100": 100 * sum(kinds.values()) / max(residents, 1),
            "raised_tonight_per_100": 100 * raised / max(residents, 1),
            "splits": split_surfaced[1], "splits_surfaced": split_surfaced[0],
            "merges": merge_surfaced[1], "merges_surfaced": merge_surfaced[0],
            "errors_surfaced": (split_surfaced[0] + merge_surfaced[0]) / errors if errors else 1.0,
            "items_wrong": wrong[0], "items_wrong_share": wrong[0] / wrong[1] if wrong[1] else 0.0,
            "published": {k: acc[k] for k in ("pairwise_precision", "pairwise_recall", "pairwise_f1",
                                               "bcubed_precision", "bcubed_recall", "bcubed_f1")}}


# ---------------------------------------------------------------- one district, all figures

def district(writer: str, seed: int, people: int, work: Path, methods: list[str], nights: int) -> dict:
    folder = work / f"{writer}-{seed}-{people}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    written = write_nights(writer, seed, people, folder, nights)
    out = {"writer": writer, "seed": seed, "people": people, "write_seconds": round(time.perf_counter() - t0, 1)}
    home = folder / "home"
    (date1, truth1), *rest = written
    out["night1"] = run_night(home, folder / "landing", date1)
    snapshot = folder / "night1.duckdb"
    shutil.copyfile(home / "state" / "registry_state.duckdb", snapshot)
    out["methods"] = methods_on(snapshot, truth1, methods)
    out["review1"] = review_figures(home, truth1, date1)
    if rest:
        date2, truth2 = rest[0]
        out["night2"] = run_night(home, folder / "landing", date2)
        out["review2"] = review_figures(home, truth2, date2)
    snapshot.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- printing

def _f(x, spec=".4f") -> str:
    return "-" if x is None else format(x, spec)


def report(d: dict) -> str:
    lines = [f"\n=== {d['writer']} seed {d['seed']}, {d['people']:,} people "
             f"(night 1: {d['night1']['seconds']} s, linkage stages {d['night1']['linkage_stage_seconds']} s)"]
    lines.append(f"{'method':<14}{'records':>9}{'P':>9}{'R':>9}{'F1':>9}{'B3 P':>9}{'B3 R':>9}{'B3 F1':>9}"
                 f"{'missed':>8}{'false':>7}{'s':>7}{'peak MB':>9}")
    for r in d["methods"]:
        lines.append(f"{r['method']:<14}{r['records']:>9,}{r['pairwise_precision']:>9.5f}{r['pairwise_recall']:>9.5f}"
                     f"{r['pairwise_f1']:>9.5f}{r['bcubed_precision']:>9.5f}{r['bcubed_recall']:>9.5f}"
                     f"{r['bcubed_f1']:>9.5f}{r['missed_pairs']:>8}{r['false_pairs']:>7}{r['seconds']:>7.1f}"
                     f"{r['peak_mb']:>9}")
    by = {r["method"]: r for r in d["methods"]}
    names = [m for m in METHODS if m in by]
    lines.append("recall (precision) by department pair: " + " | ".join(names))
    for pair in by.get("registry", by[names[0]])["by_department_pair"]:
        cells = []
        for m in names:
            v = by[m]["by_department_pair"].get(pair, {})
            cells.append(f"{_f(v.get('recall'))} ({_f(v.get('precision'))})")
        n = by[names[-1]]["by_department_pair"].get(pair, {}).get("true_pairs", 0)
        lines.append(f"  {pair:<34}{n:>8}  " + "  ".join(cells))
    lines.append("recall (false pairs) by irregularity: " + " | ".join(names))
    for tag in IRREGULARITIES:
        v0 = by[names[-1]]["by_irregularity"][tag]
        if not v0["true_pairs"] and not v0["false_pairs"]:
            continue
        cells = [f"{_f(by[m]['by_irregularity'][tag]['recall'])} ({by[m]['by_irregularity'][tag]['false_pairs']})"
                 for m in names]
        lines.append(f"  {tag:<18}{v0['true_pairs']:>8}  " + "  ".join(cells))
    if "registry" in by and by["registry"].get("calibration"):
        lines.append("calibration of the registry's links: [from, to) pairs predicted observed")
        for c in by["registry"]["calibration"]:
            lines.append(f"  [{c['from']:<6}, {c['to']:<6}) {c['pairs']:>9} {c['predicted']:>9.4f} {c['observed']:>9.4f}")
        lines += ["  " + line for line in band_lines({d["writer"]: by["registry"]["calibration"]})]
    for key, night in (("review1", "first night"), ("review2", "incremental night")):
        if key in d:
            r = d[key]
            lines.append(f"review queue, {night}: {r['items']} open items for {r['residents']:,} residents = "
                         f"{r['items_per_100']:.2f} per 100 (raised tonight {r['raised_tonight_per_100']:.2f}); "
                         f"by kind {r['by_kind']}")
            lines.append(f"  errors surfaced {r['errors_surfaced']:.3f} (splits {r['splits_surfaced']}/{r['splits']}, "
                         f"merges {r['merges_surfaced']}/{r['merges']}); items whose machine decision was wrong "
                         f"{r['items_wrong']} = {r['items_wrong_share']:.3f}; published F1 "
                         f"{r['published']['pairwise_f1']:.5f}, B3 F1 {r['published']['bcubed_f1']:.5f}")
    if "night2" in d:
        lines.append(f"incremental night: {d['night2']['seconds']} s, linkage stages "
                     f"{d['night2']['linkage_stage_seconds']} s")
    return "\n".join(lines)


def summary(results: list[dict]) -> str:
    """Totals per writer and method over the seeds (pairs summed)."""
    lines = ["\n=== summary over seeds (pairs summed)"]
    for writer in WRITERS:
        rs = [d for d in results if d["writer"] == writer]
        if not rs:
            continue
        for m in METHODS:
            ms = [r for d in rs for r in d["methods"] if r["method"] == m]
            if not ms:
                continue
            tp = sum(r["true_positive_pairs"] for r in ms)
            pp = sum(r["predicted_pairs"] for r in ms)
            tr = sum(r["true_pairs"] for r in ms)
            p, rc = tp / pp if pp else 1.0, tp / tr if tr else 1.0
            fp_ps = [r["by_department_pair"].get("family_planning - public_security", {}) for r in ms]
            n = sum(v.get("true_pairs", 0) for v in fp_ps)
            found = sum(v.get("true_pairs", 0) * v.get("recall", 1.0) for v in fp_ps)
            b3 = sum(r["bcubed_f1"] for r in ms) / len(ms)
            lines.append(f"  {writer:<12}{m:<14} P {p:.5f}  R {rc:.5f}  F1 {2 * p * rc / (p + rc):.5f}  "
                         f"B3 F1 (mean) {b3:.5f}  FP-PS recall {found / n if n else 1.0:.4f}")
        for key in ("review1", "review2"):
            rv = [d[key] for d in rs if key in d]
            if rv:
                items = sum(r["items"] for r in rv)
                res = sum(r["residents"] for r in rv)
                errs = sum(r["splits"] + r["merges"] for r in rv)
                surf = sum(r["splits_surfaced"] + r["merges_surfaced"] for r in rv)
                lines.append(f"  {writer:<12}{key:<14} items per 100 residents {100 * items / res:.2f}; errors surfaced "
                             f"{surf}/{errs} = {surf / errs if errs else 1.0:.3f}")
    by_writer = calibration_by_writer(results)
    if by_writer:
        lines.append("calibration of the registry's links, seeds pooled: [from, to) "
                     + "  ".join(f"{w}: pairs observed" for w in sorted(by_writer)))
        from registry.linkage.calibration import pooled
        pools = {w: pooled(rows) for w, rows in by_writer.items()}
        for lo, hi in sorted({b for p in pools.values() for b in p}):
            cells = []
            for w in sorted(pools):
                b = pools[w].get((lo, hi))
                cells.append(f"{b['pairs']:>9} {b['one_person'] / b['pairs']:>9.4f}" if b else f"{'-':>9} {'-':>9}")
            lines.append(f"  [{lo:<6}, {hi:<6}) " + "   ".join(cells))
        lines += ["  " + line for line in band_lines(by_writer)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=20_000)
    p.add_argument("--seeds", default="101,202", help="held-out seeds, comma-separated")
    p.add_argument("--writers", default=",".join(WRITERS))
    p.add_argument("--work", type=Path, default=None, help="working folder (default: a temporary one, removed)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--nights", type=int, default=2, choices=(1, 2), help="2: also an incremental night")
    p.add_argument("--json", type=Path, help="write every figure here")
    p.add_argument("--calibration-out", type=Path,
                   help="write the registry's calibration per writer here (registry/linkage/model/calibration.json "
                        "is this file for held-out seeds of both writers: the uncertain band is chosen from it)")
    p.add_argument("--keep", action="store_true", help="keep the districts' folders")
    p.add_argument("--db", type=Path, help="a run database whose `records` are already standardised")
    p.add_argument("--truth", type=Path)
    p.add_argument("--method", help=argparse.SUPPRESS)  # internal: run one method in this process
    args = p.parse_args(argv)

    if args.method:
        print(json.dumps(run_method(args.method, args.db, args.truth), default=str))
        return 0
    methods = args.methods.split(",")
    if args.db is not None:
        if args.truth is None:
            p.error("--db needs --truth")
        d = {"writer": "given", "seed": "-", "people": 0, "night1": {"seconds": "-", "linkage_stage_seconds": "-"},
             "methods": methods_on(args.db, args.truth, methods)}
        print(report(d))
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="linkage_bench_"))
    results = []
    for writer in args.writers.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            d = district(writer, seed, args.people, work, methods, args.nights)
            results.append(d)
            print(report(d), flush=True)
            if not args.keep:
                shutil.rmtree(work / f"{writer}-{seed}-{args.people}", ignore_errors=True)
    print(summary(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    if args.calibration_out:
        write_calibration(args.calibration_out, results, args.people)
    if args.work is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
