"""The rows behind each chart, read from a HOME: the published registry's linkage_health (read-only),
the audit samples with their decisions, and the committed model. No personal data: figures only."""

from __future__ import annotations

import duckdb

from registry.charts import specs
from registry.contracts import LINKAGE_HEALTH
from registry.sql import table_exists
from registry.home import Home

DISTRIBUTIONS = ("match_weight_histogram", "model_match_weight", "residents_by_size")


def health_rows(home: Home, figures: tuple[str, ...] | None = None) -> list[dict]:
    """linkage_health rows of every published night (of `figures`, or all), oldest night first."""
    if not home.published_db.exists():
        return []
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        return rows_of(con, figures)
    finally:
        con.close()


def rows_of(con: duckdb.DuckDBPyConnection, figures: tuple[str, ...] | None = None) -> list[dict]:
    """linkage_health rows on a connection (a run's database, or the published registry)."""
    if not table_exists(con, LINKAGE_HEALTH.name):
        return []
    where = "WHERE figure IN (SELECT unnest(?::VARCHAR[]))" if figures else ""
    cur = con.execute(f"""SELECT strftime(extract_date, '%Y-%m-%d') AS extract_date, figure, department, other,
                                 value, numerator, denominator, baseline, status, message
                          FROM {LINKAGE_HEALTH.name} {where} ORDER BY extract_date, figure, department, other""",
                      [list(figures)] if figures else [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def latest_night(rows: list[dict]) -> list[dict]:
    last = max((r["extract_date"] for r in rows), default=None)
    return [r for r in rows if r["extract_date"] == last]


def night_charts(rows: list[dict], parameters: list[dict], prior_weight: float) -> dict[str, dict]:
    """Charts of the health figures (every night's rows), tonight's distributions and the model."""
    out = {f"history_{figure}": specs.health_history(rows, figure) for figure in specs.HISTORY_FIGURES
           if any(r["figure"] == figure for r in rows)}
    tonight = latest_night(rows)
    sizes = [r for r in tonight if r["figure"] == "residents_by_size"]
    if sizes:
        out["resident_sizes"] = specs.resident_sizes(sizes)
    if any(r["figure"] == "match_weight_histogram" for r in tonight):
        out["match_weights_tonight"] = specs.match_weight_distribution(tonight)
    out["model_match_weights"] = specs.model_match_weights(parameters, prior_weight)
    return out


def accuracy_charts(audits: list[dict]) -> dict[str, dict]:
    """Calibration of the latest audited night with decisions, and the estimates of every audited night."""
    decided = [a for a in audits if a.get("sample_decided")]
    out = {}
    if decided and decided[-1].get("calibration"):
        out["calibration"] = specs.calibration(decided[-1]["calibration"])
    if decided:
        out["accuracy_history"] = specs.accuracy_history(decided)
    return out


def all_charts(home: Home, nights: int | None = None) -> dict[str, dict]:
    """Every chart of a HOME, by name; the health over the last `nights` nights (all by default)."""
    from registry.accuracy.report import accuracy
    from registry.linkage.training import load_model

    model = load_model()
    rows = health_rows(home)
    if nights:
        keep = sorted({r["extract_date"] for r in rows})[-nights:]
        rows = [r for r in rows if r["extract_date"] in keep]
    charts = night_charts(rows, model.parameters().to_dict(orient="records"), model.prior_match_weight())
    charts.update(accuracy_charts(accuracy(home)))
    return charts


def page(home: Home) -> dict:
    """What the officers' chart page shows: the latest night, its warnings, the latest audited night's
    estimates, and every chart (figures only, no personal data)."""
    from registry.health.report import quality

    q = quality(home)
    accuracy = {k: q.get(k) for k in ("precision", "precision_ci", "recall", "recall_ci", "sample_size",
                                      "sample_decided")}
    accuracy["extract_date"] = q.get("sample_extract_date")
    return {"run_id": q["run_id"], "extract_date": q["extract_date"], "warnings": q["health"]["warnings"],
            "accuracy": accuracy, "recall_covers": q["recall_covers"], "charts": all_charts(home)}
