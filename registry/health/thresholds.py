"""Warnings on tonight's health figures: each against its baseline (the median of recent nights) or an
absolute limit, as thresholds.yaml says. A warning names the figure, its department (pair) and the numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from registry.package_files import package_file

THRESHOLDS = package_file("health", "thresholds.yaml")


@dataclass(frozen=True)
class Thresholds:
    baseline_nights: int
    rules: dict[str, dict]

    @classmethod
    def load(cls, path: str | Path = THRESHOLDS) -> "Thresholds":
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return cls(int(raw.get("baseline_nights", 7)), dict(raw.get("rules") or {}))


def describe(figure: str, department, other) -> str:
    """A figure and its scope in words, e.g. 'civil_affairs records with id_number filled in'."""
    words = {
        "link_rate": lambda d, o: (f"link rate {d} -> {o}" if d != o else f"{d} records sharing a resident with "
                                   f"another {d} record"),
        "unlinked_share": lambda d, o: f"{d} records linked to no other",
        "unlinkable_share": lambda d, o: f"unlinkable {d} records (below the threshold even against themselves)",
        "mean_self_match_weight": lambda d, o: f"mean self-match weight of {d} records",
        "completeness": lambda d, o: f"{d} records with {o} filled in",
        "mean_match_weight": lambda d, o: f"mean match weight of {d} / {o} links",
        "uncertain_share": lambda d, o: f"uncertain share of {d} / {o} scored pairs",
        "impossible_residents": lambda d, o: f"residents with {str(o).replace('_', ' ')}",
        "review_open": lambda d, o: f"open review items ({o})",
        "review_open_age_days": lambda d, o: f"{o} age of open review items (days)",
    }
    say = words.get(figure)
    return say(department, other) if say else " ".join(str(x) for x in (figure, department, other) if x is not None)


def _format(figure: str, value: float) -> str:
    if figure in ("mean_match_weight", "mean_self_match_weight"):
        return f"{value:.1f} bits"
    if figure in ("review_open", "review_open_age_days"):
        return f"{value:.0f}"
    if figure == "impossible_residents":
        return f"{value:.4%}"
    return f"{value:.1%}"


def judge(figure: str, department, other, value, baseline, size, rule: dict | None,
          baseline_count=None, tonight_count=None) -> tuple[str, float | None, str]:
    """(status, threshold, message) of one figure: status is 'warn', 'ok' or 'info' (no rule applies)."""
    if rule is None or value is None:
        return "info", None, ""
    name = describe(figure, department, other)
    if size is not None and size < rule.get("min_records", 0):
        return "info", None, ""
    if "above" in rule and value > rule["above"]:
        return "warn", float(rule["above"]), f"{name}: {_format(figure, value)}, above {rule['above']}"
    for direction in ("fall", "rise"):
        spec = rule.get(direction)
        if spec is None or baseline is None:
            continue
        sign = -1 if direction == "fall" else 1
        change = (value - baseline) * sign
        if "points" in spec:
            limit, moved = spec["points"] / 100, change
            if size and spec.get("noise"):  # a share of few records moves by chance: it must also beat that
                limit = max(limit, spec["noise"] * math.sqrt(baseline * (1 - baseline) / size))
        elif "bits" in spec:
            limit, moved = spec["bits"], change
        else:  # counts: both an absolute and a relative rise
            now, before = (tonight_count if tonight_count is not None else value), \
                (baseline_count if baseline_count is not None else baseline)
            limit = max(spec.get("count", 0), spec.get("share", 0) * before)
            moved = (now - before) * sign
        if moved >= limit:
            word = "fell" if direction == "fall" else "rose"
            if "points" in spec:
                delta = f"{abs(value - baseline) * 100:.1f} points"
            elif "bits" in spec:
                delta = f"{abs(value - baseline):.1f} bits"
            else:
                delta = f"{abs(moved):.0f}"
            return "warn", float(limit), (f"{name} {word} by {delta}: {_format(figure, value)} tonight, "
                                          f"{_format(figure, baseline)} on recent nights")
        return "ok", None, ""
    return "ok", None, ""


def assess(con: duckdb.DuckDBPyConnection, tonight: str, history: str, extract_date: str,
           thresholds: Thresholds) -> list[dict]:
    """Tonight's figures (table `tonight`, figures.COLUMNS) with baseline, status, threshold and message,
    the baseline read from `history` (linkage_health of earlier nights)."""
    rows = con.execute(f"""
        WITH recent AS (
            SELECT DISTINCT extract_date FROM {history}
            WHERE extract_date < DATE '{extract_date}'
            ORDER BY extract_date DESC LIMIT {int(thresholds.baseline_nights)}),
        base AS (
            SELECT figure, department, other, median(value) AS baseline, median(numerator) AS baseline_count
            FROM {history} WHERE extract_date IN (SELECT extract_date FROM recent) GROUP BY ALL)
        SELECT t.figure, t.department, t.other, t.value, t.numerator, t.denominator, b.baseline, b.baseline_count
        FROM {tonight} t LEFT JOIN base b
          ON b.figure = t.figure AND b.department IS NOT DISTINCT FROM t.department
         AND b.other IS NOT DISTINCT FROM t.other
        ORDER BY t.figure, t.department, t.other""").fetchall()
    out = []
    for figure, department, other, value, numerator, denominator, baseline, baseline_count in rows:
        status, limit, message = judge(figure, department, other, value, baseline, denominator,
                                       thresholds.rules.get(figure), baseline_count, numerator)
        out.append({"figure": figure, "department": department, "other": other, "value": value,
                    "numerator": numerator, "denominator": denominator, "baseline": baseline,
                    "status": status, "threshold": limit, "message": message or None})
    return out
