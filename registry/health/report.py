"""What `registry quality` says: the latest published night's health, and the accuracy its audit samples
estimate. Reads the published registry (read-only) and the audit samples with their decisions."""

from __future__ import annotations

import duckdb

from registry.accuracy import frame
from registry.accuracy.report import accuracy
from registry.contracts import LINKAGE_HEALTH
from registry.sql import table_exists
from registry.home import Home
from registry.review import ReviewError

RECALL_COVERS = frame.COVERS
# Figures worth a line in the text report, beside the warnings.
HEADLINE = ("link_rate", "unlinked_share", "unlinkable_share", "impossible_residents", "review_open",
            "review_open_age_days")


def _published_health(home: Home) -> tuple[dict, list[dict]]:
    if not home.published_db.exists():
        raise ReviewError(f"no published registry at {home.published_db}: run `registry run --home {home.root}` first")
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        night = con.execute("SELECT run_id, strftime(extract_date, '%Y-%m-%d') FROM runs WHERE status = 'published' "
                            "ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchall()
        has = table_exists(con, LINKAGE_HEALTH.name)
        if not night:
            raise ReviewError(f"{home.published_db} holds no published run")
        run_id, extract_date = night[0]
        rows = con.execute(f"""SELECT figure, department, other, value, baseline, status, message
                               FROM {LINKAGE_HEALTH.name} WHERE run_id = ? ORDER BY figure, department, other""",
                           [run_id]).df() if has else None
    finally:
        con.close()
    figures = [] if rows is None else [
        {k: (None if v != v else v) for k, v in r.items()} for r in rows.to_dict(orient="records")]
    return {"run_id": run_id, "extract_date": extract_date}, figures


def quality(home: Home) -> dict:
    night, figures = _published_health(home)
    audits = accuracy(home)
    latest = next((a for a in reversed(audits) if a["sample_decided"] > 0), audits[-1] if audits else None)
    result = {
        **night,
        "health": {"warnings": [f["message"] for f in figures if f["status"] == "warn"],
                   "figures": [f for f in figures if f["status"] != "info" or f["figure"] in HEADLINE]},
        "precision": None, "precision_ci": None, "recall": None, "recall_ci": None,
        "sample_size": 0, "sample_decided": 0, "sample_extract_date": None, "sample_run_id": None,
        "recall_covers": RECALL_COVERS, "samples": audits,
    }
    if latest is not None:
        result.update({k: latest[k] for k in ("precision", "precision_ci", "recall", "recall_ci", "sample_size",
                                              "sample_decided", "strata_undecided", "calibration")})
        result["sample_extract_date"], result["sample_run_id"] = latest["extract_date"], latest["run_id"]
    return result


def _pct(x) -> str:
    return "—" if x is None else f"{x:.4%}"


def format_text(result: dict) -> str:
    lines = [f"Linkage health of {result['extract_date']} (run {result['run_id']})"]
    warnings = result["health"]["warnings"]
    lines += [f"  WARNING {w}" for w in warnings] or ["  no warnings"]
    for f in result["health"]["figures"]:
        if f["figure"] in HEADLINE and f["status"] != "warn":
            scope = " ".join(str(x) for x in (f["department"], f["other"]) if x is not None)
            lines.append(f"  {f['figure']:<22} {scope:<36} {f['value']:.4g}")
    lines.append("")
    if not result["sample_size"]:
        lines.append("Accuracy: no audit sample yet (`registry review sample --size 300` draws one)")
    else:
        lines.append(f"Accuracy of {result['sample_extract_date']} from its audit sample: "
                     f"{result['sample_decided']} of {result['sample_size']} items decided")
        if result["precision"] is not None:
            lo, hi = result["precision_ci"]
            lines.append(f"  pairwise precision {_pct(result['precision'])}  (95% interval {_pct(lo)} – {_pct(hi)})")
        if result["recall"] is not None:
            lo, hi = result["recall_ci"]
            lines.append(f"  pairwise recall    {_pct(result['recall'])}  (95% interval {_pct(lo)} – {_pct(hi)})")
            lines.append(f"  recall covers {result['recall_covers']}")
        if result.get("strata_undecided"):
            lines.append(f"  {len(result['strata_undecided'])} strata have no decided item yet: the model's own "
                         "probability stands in for them, and the intervals are wide")
    return "\n".join(lines)

