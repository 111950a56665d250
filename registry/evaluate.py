"""Linkage accuracy: pairwise and B-cubed precision/recall/F1 of predicted clusters against truth.

`score(frame)` works on any table of (record, predicted, truth) — the published crosswalk joined
with a truth file, or a benchmark's output. Pairs are counted with cluster-size combinatorics
(n choose 2 per group) in SQL, never enumerated.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from registry.home import Home

_METRIC_SQL = """
WITH t AS (SELECT record, predicted, truth FROM {rel}),
  cell AS (SELECT predicted, truth, count(*) AS n FROM t GROUP BY ALL),
  pred AS (SELECT predicted, count(*) AS n FROM t GROUP BY ALL),
  tru  AS (SELECT truth, count(*) AS n FROM t GROUP BY ALL),
  bc AS (  -- per record: size of (predicted ∩ true cluster), of predicted, of true cluster
    SELECT c.n AS both_n, p.n AS pred_n, r.n AS true_n, c.n AS weight
    FROM cell c JOIN pred p USING (predicted) JOIN tru r USING (truth))
SELECT
  (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM cell)::HUGEINT AS true_positive_pairs,
  (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM pred)::HUGEINT AS predicted_pairs,
  (SELECT coalesce(sum(n * (n - 1) / 2), 0) FROM tru)::HUGEINT AS true_pairs,
  (SELECT sum(weight * both_n / pred_n) / sum(weight) FROM bc) AS bcubed_precision,
  (SELECT sum(weight * both_n / true_n) / sum(weight) FROM bc) AS bcubed_recall,
  (SELECT count(*) FROM t) AS records,
  (SELECT count(*) FROM pred) AS predicted_clusters,
  (SELECT count(*) FROM tru) AS true_clusters
"""


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score(frame: pd.DataFrame | str, con: duckdb.DuckDBPyConnection | None = None) -> dict:
    """Metrics of a (record, predicted, truth) DataFrame, or of a table/view of that name on `con`."""
    con = con or duckdb.connect()
    if isinstance(frame, pd.DataFrame):
        missing = {"record", "predicted", "truth"} - set(frame.columns)
        if missing:
            raise ValueError(f"score() needs columns record, predicted, truth; missing {sorted(missing)}")
        con.register("_score_frame", frame)
        rel = "_score_frame"
    else:
        rel = frame
    row = con.execute(_METRIC_SQL.format(rel=rel)).df().iloc[0]
    tp, pp, tpairs = int(row.true_positive_pairs), int(row.predicted_pairs), int(row.true_pairs)
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    bp, br = float(row.bcubed_precision or 0), float(row.bcubed_recall or 0)
    return {"records": int(row.records), "predicted_clusters": int(row.predicted_clusters),
            "true_clusters": int(row.true_clusters), "true_positive_pairs": tp, "predicted_pairs": pp,
            "true_pairs": tpairs, "pairwise_precision": precision, "pairwise_recall": recall,
            "pairwise_f1": _f1(precision, recall), "bcubed_precision": bp, "bcubed_recall": br,
            "bcubed_f1": _f1(bp, br)}


def read_truth(path: str | Path) -> pd.DataFrame:
    """The generator's truth file: department, source_record_id, person_id (all read as text)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"truth file not found: {path}")
    truth = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"department", "source_record_id", "person_id"} - set(truth.columns)
    if missing:
        raise ValueError(f"{path}: line 1 (header) lacks column(s) {sorted(missing)}")
    empty = truth[(truth[["department", "source_record_id", "person_id"]] == "").any(axis=1)]
    if len(empty):
        raise ValueError(f"{path}: line {empty.index[0] + 2}: empty department, source_record_id or person_id")
    return truth[["department", "source_record_id", "person_id"]]


def evaluate_home(home: str | None, truth_path: str | Path) -> dict:
    """Score the published crosswalk of HOME against a truth file. Truth records missing from the
    crosswalk count as unlinked singletons; crosswalk records without truth are reported, not scored."""
    published = Home.at(home).published_db
    if not published.exists():
        raise FileNotFoundError(f"no published registry at {published}: no nightly merge has published one yet")
    con = duckdb.connect()
    con.execute(f"ATTACH '{published}' AS published (READ_ONLY)")
    con.register("truth_df", read_truth(truth_path))
    con.execute("""CREATE TEMP VIEW scored AS
        SELECT t.department || ':' || t.source_record_id AS record,
               coalesce(c.resident_id::VARCHAR, 'unlinked:' || t.department || ':' || t.source_record_id) AS predicted,
               t.person_id AS truth
        FROM truth_df t LEFT JOIN published.crosswalk c
          ON c.department = t.department AND c.source_record_id = t.source_record_id""")
    result = score("scored", con)
    result["truth_records_not_published"] = con.execute(
        "SELECT count(*) FROM scored WHERE predicted LIKE 'unlinked:%'").fetchall()[0][0]
    result["published_records_without_truth"] = con.execute("""
        SELECT count(*) FROM published.crosswalk c ANTI JOIN truth_df t
          ON c.department = t.department AND c.source_record_id = t.source_record_id""").fetchall()[0][0]
    con.close()
    return result


def format_text(result: dict) -> str:
    lines = [f"records scored         {result['records']:,}",
             f"residents (predicted)  {result['predicted_clusters']:,}   persons (truth) {result['true_clusters']:,}",
             f"pairwise   precision {result['pairwise_precision']:.5f}  recall {result['pairwise_recall']:.5f}"
             f"  F1 {result['pairwise_f1']:.5f}",
             f"B-cubed    precision {result['bcubed_precision']:.5f}  recall {result['bcubed_recall']:.5f}"
             f"  F1 {result['bcubed_f1']:.5f}"]
    for k in ("truth_records_not_published", "published_records_without_truth"):
        if k in result:
            lines.append(f"{k.replace('_', ' '):<22} {result[k]:,}")
    return "\n".join(lines)


def format_json(result: dict) -> str:
    return json.dumps(result, sort_keys=True)
