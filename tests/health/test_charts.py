"""The chart specifications: built from the rows a night leaves, and drawable (vl-convert renders each, as
Dagster's metadata shows them); the page's scripts come from the installed Splink package."""

from __future__ import annotations

import pytest

from registry.charts import data, render, specs, vendor

NIGHTS = ("2026-11-19", "2026-11-20")


def _rows() -> list[dict]:
    rows = []
    for i, night in enumerate(NIGHTS):
        for dept, rate in (("civil_affairs", 0.95 - 0.1 * i), ("labour", 0.97)):
            rows.append({"extract_date": night, "figure": "link_rate", "department": dept, "other": "public_security",
                         "value": rate, "status": "warn" if rate < 0.9 else "ok",
                         "message": f"link rate {dept} -> public_security fell" if rate < 0.9 else None})
            rows.append({"extract_date": night, "figure": "completeness", "department": dept, "other": "id_number",
                         "value": 0.9, "status": "ok", "message": None})
        rows.append({"extract_date": night, "figure": "residents_by_size", "department": None, "other": "2",
                     "value": 0.4, "numerator": 400, "status": "info", "message": None})
        for figure in ("match_weight_histogram", "model_match_weight"):
            rows.append({"extract_date": night, "figure": figure, "department": None, "other": "40.0", "value": 0.5,
                         "status": "info", "message": None})
    return rows


PARAMETERS = [{"comparison": "name", "level": "exact", "match_weight": 12.0},
              {"comparison": "name", "level": "different", "match_weight": -4.0}]
AUDITS = [{"extract_date": "2026-11-20", "sample_decided": 40, "precision": 0.99, "precision_ci": [0.97, 1.0],
           "recall": 0.995, "recall_ci": [0.98, 1.0],
           "calibration": [{"band": "0.5–0.9", "predicted": 0.7, "observed": 0.5, "observed_ci": [0.3, 0.7],
                            "labelled": 20, "pairs": 100.0}]}]


def test_every_chart_of_a_night_is_built_and_drawable():
    charts = data.night_charts(_rows(), PARAMETERS, -17.0)
    charts.update(data.accuracy_charts(AUDITS))
    assert {"history_link_rate", "history_completeness", "resident_sizes", "match_weights_tonight",
            "model_match_weights", "calibration", "accuracy_history"} <= set(charts)
    for name, spec in charts.items():
        assert spec["$schema"].endswith("v5.2.json"), name
        image = render.markdown_image(spec)
        assert image.startswith("![") and "data:image/svg+xml;base64," in image, (name, image[:200])


def test_history_marks_the_nights_that_warned():
    spec = specs.health_history(_rows(), "link_rate")
    values = spec["data"]["values"]
    assert {r["extract_date"] for r in values} == set(NIGHTS)
    assert [r["department"] for r in values if r["status"] == "warn"] == ["civil_affairs"]
    assert spec["facet"]["field"] == "department"  # a panel per department


def test_only_the_latest_night_feeds_tonights_distributions():
    rows = _rows()
    rows.append({"extract_date": "2026-11-18", "figure": "residents_by_size", "department": None, "other": "9",
                 "value": 1.0, "numerator": 1, "status": "info", "message": None})
    charts = data.night_charts(rows, PARAMETERS, -17.0)
    assert [r["other"] for r in charts["resident_sizes"]["data"]["values"]] == ["2"]


@pytest.mark.parametrize("name", list(vendor.SCRIPTS))
def test_the_charting_scripts_come_from_the_installed_splink(name):
    path = vendor.script_path(name)
    assert path.is_file() and path.stat().st_size > 10_000
    with pytest.raises(KeyError):
        vendor.script_path("../../etc/passwd")
