"""Vega-Lite specifications of the registry's charts, built from plain rows (lists of dicts).

The same specification is drawn in the browser by the officers' chart page (vega-embed, served from the
copy Splink ships in its package) and rendered to an image for Dagster's asset metadata (render.py).
Only Vega-Lite 5.2 features are used: that is the version Splink ships.
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.2.json"
WIDTH = 560
Spec = dict[str, Any]

# Health figures drawn over the nights, with what each line is per.
HISTORY_FIGURES: dict[str, str] = {
    "link_rate": "Link rate by department pair (share of the first department's records)",
    "unlinked_share": "Records linked to no other, by department",
    "unlinkable_share": "Unlinkable records (below the threshold even against themselves), by department",
    "completeness": "Compared fields filled in, by department",
    "mean_match_weight": "Mean match weight of links by department pair (bits)",
    "impossible_residents": "Residents of impossible shape (share of residents)",
    "review_open": "Open review items by kind",
}
# Figures with a line per department pair or field: drawn as a panel per department.
FACETED = ("link_rate", "completeness")


def _base(title: str, rows: list[dict], **extra) -> Spec:
    return {"$schema": SCHEMA, "title": title, "width": WIDTH, "data": {"values": rows}, **extra}


def health_history(rows: list[dict], figure: str) -> Spec:
    """One health figure over the nights, a line per scope (department, pair, kind); warnings as red points.
    rows: extract_date, figure, department, other, value, status, message (linkage_health)."""
    title = HISTORY_FIGURES.get(figure, figure)
    series = [r for r in rows if r["figure"] == figure]
    for r in series:
        r["scope"] = " / ".join(str(x) for x in (r.get("department"), r.get("other")) if x not in (None, ""))
    share = figure not in ("mean_match_weight", "review_open")
    y = {"field": "value", "type": "quantitative", "title": None,
         **({"axis": {"format": "%"}} if share else {})}
    if figure in FACETED:  # a panel per department, a line per pair or field: 28 lines in one panel is noise
        for r in series:
            r["scope"] = str(r.get("other"))
        return {"$schema": SCHEMA, "title": title, "data": {"values": series},
                "facet": {"field": "department", "type": "nominal", "title": None}, "columns": 2,
                "spec": {"width": WIDTH // 2 - 40, "height": 160, "layer": _history_layers(y)},
                "resolve": {"scale": {"y": "independent"}}}
    return _base(title, series, height=260, layer=_history_layers(y))


def _history_layers(y: dict) -> list[dict]:
    return [
        {"mark": {"type": "line", "point": True},
         "encoding": {"x": {"field": "extract_date", "type": "temporal", "title": "night"}, "y": y,
                      "color": {"field": "scope", "type": "nominal", "title": None},
                      "tooltip": [{"field": "extract_date", "type": "temporal"}, {"field": "scope"},
                                  {"field": "value", "type": "quantitative", "format": ".4~g"}]}},
        {"transform": [{"filter": "datum.status == 'warn'"}],
         "mark": {"type": "point", "color": "#c0392b", "size": 140, "filled": True},
         "encoding": {"x": {"field": "extract_date", "type": "temporal"}, "y": y,
                      "tooltip": [{"field": "message", "title": "warning"}]}}]


def resident_sizes(rows: list[dict]) -> Spec:
    """Tonight's residents by how many records they hold. rows: other (size), numerator (residents)."""
    return _base("Residents by number of department records", rows, height=200, mark="bar", encoding={
        "x": {"field": "other", "type": "ordinal", "title": "records per resident", "sort": None},
        "y": {"field": "numerator", "type": "quantitative", "title": "residents", "scale": {"type": "symlog"},
              "stack": None},
        "tooltip": [{"field": "other", "title": "records"}, {"field": "numerator", "title": "residents"}]})


def match_weight_distribution(rows: list[dict]) -> Spec:
    """Tonight's scored pairs by match weight against the distribution the model expects among pairs of one
    person. rows: figure (match_weight_histogram | model_match_weight), other (bin), value (share)."""
    data = [{"series": "tonight's scored pairs" if r["figure"] == "match_weight_histogram" else
             "the model's expectation for one person's pairs", "bin": float(r["other"]), "share": r["value"]}
            for r in rows if r["figure"] in ("match_weight_histogram", "model_match_weight")]
    return _base("Match weights: tonight against the model", data, height=240, mark={"type": "line",
                 "interpolate": "step-after", "point": False}, encoding={
        "x": {"field": "bin", "type": "quantitative", "title": "match weight (bits)"},
        "y": {"field": "share", "type": "quantitative", "title": "share of pairs", "axis": {"format": "%"}},
        "color": {"field": "series", "type": "nominal", "title": None, "legend": {"orient": "top"}},
        "tooltip": [{"field": "series"}, {"field": "bin"}, {"field": "share", "format": ".2%"}]})


def model_match_weights(parameters: list[dict], prior_weight: float) -> Spec:
    """The model's match weight of every comparison level (Splink's match weights chart, as bars).
    parameters: comparison, level, match_weight (TrainedModel.parameters())."""
    rows = [{"comparison": "prior", "level": "two random records", "match_weight": prior_weight}] + [
        {"comparison": p["comparison"], "level": p["level"], "match_weight": p["match_weight"]} for p in parameters]
    return _base("The model's match weights", rows, mark="bar", encoding={
        "row": {"field": "comparison", "type": "nominal", "title": None, "header": {"labelAngle": 0,
                                                                                   "labelAlign": "left"},
                "sort": None},
        "y": {"field": "level", "type": "nominal", "title": None, "sort": None},
        "x": {"field": "match_weight", "type": "quantitative", "title": "match weight (bits)"},
        "color": {"field": "match_weight", "type": "quantitative", "legend": None,
                  "scale": {"range": ["#c0392b", "#bbbbbb", "#27ae60"], "domain": [-10, 0, 10]}},
        "tooltip": [{"field": "comparison"}, {"field": "level"}, {"field": "match_weight", "format": ".2f"}]},
        resolve={"scale": {"y": "independent"}}, width=WIDTH - 160)


def calibration(rows: list[dict]) -> Spec:
    """Predicted probability against the share officers found to be one person, per probability band of an
    audit sample, with the 95% interval of the observed share; the diagonal is perfect calibration.
    rows: band, predicted, observed, observed_ci [lo, hi], labelled."""
    data = [{**r, "lo": r["observed_ci"][0], "hi": r["observed_ci"][1]} for r in rows]
    axis = {"type": "quantitative", "scale": {"domain": [0, 1]}}
    return _base("Calibration: predicted probability against officers' decisions", data, height=WIDTH * 0.7,
                 width=WIDTH * 0.7, layer=[
        {"data": {"values": [{"p": 0}, {"p": 1}]}, "mark": {"type": "line", "color": "#999", "strokeDash": [4, 4]},
         "encoding": {"x": {"field": "p", **axis}, "y": {"field": "p", **axis}}},
        {"mark": "rule", "encoding": {"x": {"field": "predicted", **axis}, "y": {"field": "lo", **axis},
                                      "y2": {"field": "hi"}}},
        {"mark": {"type": "point", "filled": True, "size": 80}, "encoding": {
            "x": {"field": "predicted", **axis, "title": "mean predicted probability"},
            "y": {"field": "observed", **axis, "title": "share decided the same person"},
            "size": {"field": "labelled", "type": "quantitative", "title": "pairs decided"},
            "tooltip": [{"field": "band"}, {"field": "predicted", "format": ".3f"},
                        {"field": "observed", "format": ".3f"}, {"field": "labelled"}]}}])


def accuracy_history(samples: list[dict]) -> Spec:
    """Estimated precision and recall of each audited night with their 95% intervals.
    samples: registry.accuracy.report.accuracy() entries."""
    rows = []
    for s in samples:
        for figure in ("precision", "recall"):
            if s.get(figure) is not None:
                rows.append({"extract_date": s["extract_date"], "figure": figure, "value": s[figure],
                             "lo": s[f"{figure}_ci"][0], "hi": s[f"{figure}_ci"][1], "decided": s["sample_decided"]})
    enc_x = {"field": "extract_date", "type": "temporal", "title": "audited night"}
    return _base("Pairwise precision and recall from the audit samples (95% intervals)", rows, height=220, layer=[
        {"mark": "rule", "encoding": {"x": enc_x, "y": {"field": "lo", "type": "quantitative",
                                                         "scale": {"zero": False}, "title": None},
                                      "y2": {"field": "hi"}, "color": {"field": "figure", "type": "nominal"}}},
        {"mark": {"type": "point", "filled": True}, "encoding": {
            "x": enc_x, "y": {"field": "value", "type": "quantitative", "axis": {"format": ".2%"}},
            "color": {"field": "figure", "type": "nominal", "title": None},
            "tooltip": [{"field": "figure"}, {"field": "value", "format": ".4%"}, {"field": "lo", "format": ".4%"},
                        {"field": "hi", "format": ".4%"}, {"field": "decided", "title": "items decided"}]}}])
