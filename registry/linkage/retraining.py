"""`registry run --retrain`: a candidate model trained on tonight's records and the officers' decisions, and a
report of what it would change, for a person to read before anyone adopts it.

The night itself is linked and published with the committed model. The candidate is trained (EM, fixed
seeds) in a scratch database holding a copy of tonight's records, with the officers' "same" decisions as
pairwise labels (Splink estimates m from them as one more training session); it then scores tonight's
records and clusters them, with every decision applied as a must-link or cannot-link constraint exactly
as the nightly clustering does, so no decided pair ends up against its decision. The report compares:

- parameters: the committed model, the candidate trained without the labels, and the candidate;
- tonight's links at or above the match threshold, gained and lost, by department pair;
- residents: record pairs newly put in one resident or newly separated, and how many residents that touches;
- decided pairs: how many each model scores against the officer's decision (the constraints overrule the
  score; a model that learned from the decisions should need overruling less).

Adopting means copying the candidate over registry/linkage/model/model.json and committing it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from registry.linkage import backend
from registry.linkage.clustering import cluster_records
from registry.linkage.engines import DuckDBEngine, LinkageEngine
from registry.linkage.model import MATCH_THRESHOLD, MODEL_COLUMNS
from registry.linkage.prediction import predict_links
from registry.linkage.training import TrainedModel, train_model
from registry.night import full_night
from registry.review.decisions import load_decisions

# Columns of `records` the scratch copy needs: what the model reads and what its derived columns read.
_SOURCE_COLUMNS = tuple(dict.fromkeys((*MODEL_COLUMNS, "hukou_rest", "current_rest")))
EXAMPLES = 10


@dataclass
class RetrainReport:
    model_path: str
    report_path: str
    chart_path: str
    committed_version: str
    candidate_version: str
    labels: dict[str, int]
    links: dict = field(default_factory=dict)
    residents: dict = field(default_factory=dict)
    decided_pairs: dict = field(default_factory=dict)
    parameters: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def headline(self) -> str:
        return (f"candidate model {self.candidate_version} (committed {self.committed_version}) trained with "
                f"{self.labels['same']} same / {self.labels['different']} different decisions: tonight's links "
                f"+{self.links['gained']} / -{self.links['lost']}, record pairs in one resident "
                f"+{self.residents['pairs_gained']} / -{self.residents['pairs_lost']}; decided pairs scored "
                f"against their decision: committed {self.decided_pairs['committed_against']}, candidate "
                f"{self.decided_pairs['candidate_against']}. Report: {self.report_path}")


def _scratch(run: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """An in-memory database with copies of tonight's records (model columns), links and clusters."""
    mem = duckdb.connect()
    have = {r[0] for r in run.execute("DESCRIBE records").fetchall()}
    columns = ", ".join(c for c in _SOURCE_COLUMNS if c in have)
    for name, sql in (("records", f"SELECT {columns} FROM records"),
                      ("committed_links", "SELECT record_uid_l, record_uid_r, match_probability FROM links"),
                      ("committed_clusters", "SELECT record_uid, cluster_id FROM clusters")):
        table = run.sql(sql).to_arrow_table()
        mem.register("_copy", table)
        mem.execute(f"CREATE TABLE {name} AS SELECT * FROM _copy")
        mem.unregister("_copy")
    return mem


def _labels(mem: duckdb.DuckDBPyConnection, decisions_path: Path) -> dict[str, int]:
    """link_decisions (latest decision per pair, as the night applies them) of records present tonight, and
    `retrain_labels`: the pairs decided the same person, for Splink."""
    load_decisions(mem, decisions_path)
    mem.execute("""DELETE FROM link_decisions WHERE record_uid_l NOT IN (SELECT record_uid FROM records)
                                              OR record_uid_r NOT IN (SELECT record_uid FROM records)""")
    mem.execute("CREATE TABLE retrain_labels AS SELECT record_uid_l, record_uid_r FROM link_decisions WHERE same")
    same, different = mem.execute("SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same) "
                                  "FROM link_decisions").fetchall()[0]
    return {"same": int(same), "different": int(different)}


def parameters_compared(committed: TrainedModel, before: TrainedModel | None, candidate: TrainedModel) -> pd.DataFrame:
    """comparison, level, then m / u / match_weight of each model side by side."""
    frames = [("committed", committed), ("without_labels", before), ("candidate", candidate)]
    out = None
    for name, model in frames:
        if model is None:
            continue
        p = model.parameters()[["comparison", "level", "m_probability", "u_probability", "match_weight"]]
        p = p.rename(columns={c: f"{c}_{name}" for c in ("m_probability", "u_probability", "match_weight")})
        out = p if out is None else out.merge(p, on=["comparison", "level"], how="outer", sort=False)
    out["weight_change"] = out["match_weight_candidate"] - out["match_weight_committed"]
    if before is not None:
        out["labels_change"] = out["match_weight_candidate"] - out["match_weight_without_labels"]
    return out


def _departments(uid: str) -> str:
    return f"split_part({uid}, ':', 1)"


def _compare_links(mem: duckdb.DuckDBPyConnection, threshold: float) -> dict:
    mem.execute(f"""CREATE TEMP TABLE link_change AS
        WITH a AS (SELECT record_uid_l, record_uid_r, match_probability AS p FROM committed_links
                   WHERE match_probability >= {threshold}),
             b AS (SELECT record_uid_l, record_uid_r, match_probability AS p FROM links
                   WHERE match_probability >= {threshold})
        SELECT coalesce(a.record_uid_l, b.record_uid_l) AS record_uid_l, coalesce(a.record_uid_r, b.record_uid_r)
               AS record_uid_r, CASE WHEN a.p IS NULL THEN 'gained' ELSE 'lost' END AS change
        FROM a FULL JOIN b USING (record_uid_l, record_uid_r) WHERE a.p IS NULL OR b.p IS NULL""")
    counts = dict(mem.execute("SELECT change, count(*) FROM link_change GROUP BY 1").fetchall())
    by_pair = mem.execute(f"""
        SELECT least({_departments('record_uid_l')}, {_departments('record_uid_r')}) || '/' ||
               greatest({_departments('record_uid_l')}, {_departments('record_uid_r')}) AS departments,
               count(*) FILTER (WHERE change = 'gained') AS gained, count(*) FILTER (WHERE change = 'lost') AS lost
        FROM link_change GROUP BY 1 ORDER BY 1""").df().to_dict(orient="records")
    examples = mem.execute(f"""
        SELECT c.change, c.record_uid_l, c.record_uid_r, k.match_probability AS committed,
               n.match_probability AS candidate
        FROM link_change c LEFT JOIN committed_links k USING (record_uid_l, record_uid_r)
        LEFT JOIN links n USING (record_uid_l, record_uid_r)
        ORDER BY c.change, abs(coalesce(n.match_probability, 0) - coalesce(k.match_probability, 0)) DESC
        LIMIT {2 * EXAMPLES}""").df().to_dict(orient="records")
    return {"threshold": threshold, "committed": mem.execute(
                f"SELECT count(*) FROM committed_links WHERE match_probability >= {threshold}").fetchall()[0][0],
            "candidate": mem.execute(f"SELECT count(*) FROM links WHERE match_probability >= {threshold}"
                                     ).fetchall()[0][0],
            "gained": int(counts.get("gained", 0)), "lost": int(counts.get("lost", 0)),
            "by_department_pair": by_pair, "examples": examples}


def _compare_residents(mem: duckdb.DuckDBPyConnection) -> dict:
    """Record pairs in one resident under each model (cluster-size combinatorics, never enumerated)."""
    row = mem.execute("""
        WITH j AS (SELECT a.cluster_id AS before, b.cluster_id AS after FROM committed_clusters a
                   JOIN clusters b USING (record_uid)),
             cell AS (SELECT before, after, count(*) AS n FROM j GROUP BY ALL),
             bef AS (SELECT before, count(*) AS n FROM j GROUP BY ALL),
             aft AS (SELECT after, count(*) AS n FROM j GROUP BY ALL)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM bef), (SELECT sum(n * (n - 1) / 2) FROM aft),
               (SELECT sum(n * (n - 1) / 2) FROM cell),
               (SELECT count(DISTINCT before) FROM cell WHERE before IN (
                    SELECT before FROM cell GROUP BY before HAVING count(*) > 1)),
               (SELECT count(DISTINCT after) FROM cell WHERE after IN (
                    SELECT after FROM cell GROUP BY after HAVING count(*) > 1))""").fetchall()[0]
    before, after, kept, split, merged = (int(x or 0) for x in row)
    return {"pairs_committed": before, "pairs_candidate": after, "pairs_gained": after - kept,
            "pairs_lost": before - kept, "residents_split": split, "residents_merged": merged}


def _compare_decided(mem: duckdb.DuckDBPyConnection, threshold: float) -> dict:
    row = mem.execute(f"""
        SELECT count(*),
               count(*) FILTER (WHERE (d.same AND coalesce(k.match_probability, 0) < {threshold})
                                 OR (NOT d.same AND coalesce(k.match_probability, 0) >= {threshold})),
               count(*) FILTER (WHERE (d.same AND coalesce(n.match_probability, 0) < {threshold})
                                 OR (NOT d.same AND coalesce(n.match_probability, 0) >= {threshold})),
               count(*) FILTER (WHERE (ca.cluster_id = cb.cluster_id) <> d.same)
        FROM link_decisions d
        LEFT JOIN committed_links k USING (record_uid_l, record_uid_r)
        LEFT JOIN links n USING (record_uid_l, record_uid_r)
        JOIN clusters ca ON ca.record_uid = d.record_uid_l JOIN clusters cb ON cb.record_uid = d.record_uid_r""",
                      ).fetchall()[0]
    return {"decided": int(row[0]), "committed_against": int(row[1]), "candidate_against": int(row[2]),
            "clustered_against": int(row[3])}


def retrain(run: duckdb.DuckDBPyConnection, decisions_path: Path | str, committed: TrainedModel, out_dir: Path,
            name: str, seed: int = 20261120, threshold: float = MATCH_THRESHOLD,
            engine_on: Callable[[duckdb.DuckDBPyConnection], LinkageEngine] | None = None, **training) -> RetrainReport:
    """Train the candidate on the run database's records and the decisions file, compare it with
    `committed` on tonight's data, and write out_dir/<name>.json (the model), <name>.report.json and
    <name>.report.md, and <name>.match_weights.html. The run database is only read.
    engine_on: opens the linkage engine on the scratch database (default: DuckDB in it)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mem = _scratch(run)
    engine = (engine_on or DuckDBEngine)(mem)
    # Splink warns "level not observed" for every rare level of every session: the report says what matters.
    logging.disable(logging.WARNING)
    try:
        backend.register_functions(mem)
        labels = _labels(mem, Path(decisions_path))
        candidate = train_model(mem, seed=seed, engine=engine, labels="retrain_labels" if labels["same"] else None,
                                **training)
        scratch_night = full_night(reason="a candidate model scored on tonight's records")
        predict_links(mem, candidate, scratch_night, engine=engine)
        cluster_records(mem, scratch_night, threshold=threshold, engine=engine)
        links = _compare_links(mem, threshold)
        residents = _compare_residents(mem)
        decided = _compare_decided(mem, threshold)
    finally:
        logging.disable(logging.NOTSET)
        engine.close()
        mem.close()
    model_path = candidate.save(out_dir / f"{name}.json")
    chart = candidate.save_match_weights_chart(out_dir / f"{name}.match_weights.html")
    params = parameters_compared(committed, candidate.before_labels, candidate)
    report = RetrainReport(str(model_path), str(out_dir / f"{name}.report.md"), str(chart), committed.version,
                           candidate.version, labels, links, residents, decided,
                           json.loads(params.to_json(orient="records")))
    (out_dir / f"{name}.report.json").write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2,
                                                            default=str), encoding="utf-8")
    Path(report.report_path).write_text(render_markdown(report, params), encoding="utf-8")
    return report


def render_markdown(report: RetrainReport, params: pd.DataFrame) -> str:
    """The report as a page for the person deciding whether to adopt the candidate."""
    def fmt(v, digits=4):
        return "" if v is None or v != v else (f"{v:.{digits}g}" if isinstance(v, float) else str(v))

    lines = [f"# Candidate linkage model {report.candidate_version}", "",
             f"Committed model: {report.committed_version}. Candidate: `{report.model_path}`.",
             f"Trained on tonight's records with {report.labels['same']} pairs officers decided are one person "
             f"as labels ({report.labels['different']} decided different are applied as constraints only).", "",
             "To adopt it: copy it over `registry/linkage/model/model.json` and commit; the next night rebuilds in "
             "full with it.", "", "## Tonight's links at or above the match threshold", "",
             f"committed {report.links['committed']:,}, candidate {report.links['candidate']:,}: "
             f"**{report.links['gained']:,} gained, {report.links['lost']:,} lost**", "",
             "| department pair | gained | lost |", "|---|---|---|"]
    lines += [f"| {r['departments']} | {r['gained']} | {r['lost']} |" for r in report.links["by_department_pair"]]
    lines += ["", "Largest changes:", "", "| change | pair | committed p | candidate p |", "|---|---|---|---|"]
    def score(p):   # a pair below the link floor is not kept in links
        return fmt(p) if p is not None and p == p else "below 0.01"

    lines += [f"| {e['change']} | {e['record_uid_l']} – {e['record_uid_r']} | {score(e['committed'])} | "
              f"{score(e['candidate'])} |" for e in report.links["examples"]]
    r = report.residents
    lines += ["", "## Residents (officers' decisions applied)", "",
              f"record pairs in one resident: committed {r['pairs_committed']:,}, candidate {r['pairs_candidate']:,} "
              f"(+{r['pairs_gained']:,} / -{r['pairs_lost']:,}); residents that would merge {r['residents_merged']:,}, "
              f"split {r['residents_split']:,}", "", "## Decided pairs", "",
              f"{report.decided_pairs['decided']} decided pairs; scored against the decision by the committed model: "
              f"{report.decided_pairs['committed_against']}, by the candidate: "
              f"{report.decided_pairs['candidate_against']} (the candidate learned from these decisions, so this is "
              f"no test of it). Clustered against a decision: {report.decided_pairs['clustered_against']}.", "",
              "## Parameters (match weight per level)", "",
              "`labels` is what the officers' labels changed (candidate against the same training without them); "
              "`change` is what adopting the candidate would change.", "",
              "| comparison | level | committed | without labels | candidate | labels | change |",
              "|---|---|---|---|---|---|---|"]
    for p in params.to_dict(orient="records"):
        lines.append(f"| {p['comparison']} | {p['level']} | {fmt(p.get('match_weight_committed'), 3)} | "
                     f"{fmt(p.get('match_weight_without_labels'), 3)} | {fmt(p.get('match_weight_candidate'), 3)} | "
                     f"{fmt(p.get('labels_change'), 3)} | {fmt(p.get('weight_change'), 3)} |")
    return "\n".join(lines) + "\n"

