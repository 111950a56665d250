"""Great Expectations quality layer: run a suite stored in expectations/<suite_name>.json on a DataFrame.

Each expectation carries `meta.severity`: `block` (the data must not be used) or `warn` (report it,
carry on); missing severity means `warn`. Great Expectations is imported lazily (it costs seconds)
and its ephemeral context is built once per process.
"""

from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from registry.package_files import package_file
from registry.third_party import silence_pyspark_pandas_warning

# The suites ship as the package `expectations` (the top-level folder); REGISTRY_EXPECTATIONS overrides them.
EXPECTATIONS_DIR = Path(os.environ.get("REGISTRY_EXPECTATIONS", package_file(package="expectations")))

BLOCK = "block"
WARN = "warn"
SEVERITIES = (BLOCK, WARN)
# A share (`mostly`) judged on few rows says little: one malformed identity number among five new rows is
# a bad value (noted, the night goes on), not a bad delivery. Below this many rows a share blocks only
# when it fails by more than chance would (three standard deviations of the allowed failures); else warns.
MIN_ROWS_FOR_SHARE = 100

__all__ = ["ValidationOutcome", "validate", "load_suite", "suite_columns", "EXPECTATIONS_DIR",
           "BLOCK", "WARN"]


@dataclass
class ValidationOutcome:
    suite_name: str
    success: bool  # False when any blocking expectation failed; warnings never make it False
    blocking_failures: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)  # every expectation, passed or not
    statistics: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line per failed expectation, for logs and Dagster check descriptions: a blocking one by
        its explanation (what, where, which lines: registry.quality.suites) when it has one."""
        lines = [f"{self.suite_name}: {'passed' if self.success else 'BLOCKED'}"
                 f" ({len(self.blocking_failures)} blocking, {len(self.warnings)} warnings)"]
        for f in self.blocking_failures + self.warnings:
            lines.append(f"  [{f['severity']}] " + (f.get("explanation") or
                                                     f"{f['type']} {f['column'] or ''} {f['description']}".rstrip()))
        return "\n".join(lines)


def suite_path(suite_name: str, directory: Path | None = None) -> Path:
    return Path(directory or EXPECTATIONS_DIR) / f"{suite_name}.json"


@lru_cache(maxsize=64)
def _read_suite(path: str, mtime: float) -> dict:
    with open(path, encoding="utf-8") as fh:
        suite = json.load(fh)
    if not isinstance(suite.get("expectations"), list):
        raise ValueError(f"{path}: a suite needs an 'expectations' list")
    for i, exp in enumerate(suite["expectations"]):
        if "type" not in exp:
            raise ValueError(f"{path}: expectation #{i} has no 'type'")
        severity = exp.get("meta", {}).get("severity", WARN)
        if severity not in SEVERITIES:
            raise ValueError(f"{path}: expectation #{i} ({exp['type']}) has severity {severity!r}, "
                             f"expected one of {SEVERITIES}")
    return suite


def load_suite(suite_name: str, directory: Path | None = None) -> dict:
    """The suite as stored: {"name", "description", "expectations": [{"type", "kwargs", "meta"}]}."""
    path = suite_path(suite_name, directory)
    if not path.exists():
        raise FileNotFoundError(f"no expectation suite {suite_name!r}: {path} does not exist")
    return _read_suite(str(path), path.stat().st_mtime)


def suite_columns(suite: dict) -> list[str]:
    """Columns the suite's expectations look at (to validate only those: GX on a large table is slow)."""
    cols: list[str] = []
    for exp in suite["expectations"]:
        kw = exp.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if key in kw and kw[key] not in cols:
                cols.append(kw[key])
        for key in ("column_list", "column_set"):
            for c in kw.get(key) or ():
                if c not in cols:
                    cols.append(c)
    return cols


_lock = threading.Lock()
_batch_definition = None


def _whole_dataframe_batch_definition():
    """One ephemeral GX context per process: pandas datasource, dataframe asset, whole-frame batch."""
    global _batch_definition
    with _lock:
        if _batch_definition is None:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
            silence_pyspark_pandas_warning()
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

            config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(),
                                       analytics_enabled=False,
                                       progress_bars=ProgressBarsConfig(globally=False))
            context = gx.get_context(project_config=config, mode="ephemeral")
            asset = context.data_sources.add_pandas("registry").add_dataframe_asset("dataframe")
            _batch_definition = asset.add_batch_definition_whole_dataframe("whole_dataframe")
        return _batch_definition


def warm_up() -> None:
    """Import Great Expectations and build its context now, in the calling thread, while that thread
    would otherwise wait (the run's state being copied): the run's first check then does not wait
    seconds for it. Never in a background thread: two threads importing the same packages at once
    can see each other's half-initialised modules. An error is left for validate() to raise."""
    try:
        _whole_dataframe_batch_definition()
    except Exception:  # noqa: BLE001 - validate() builds it again and reports the error where it belongs
        pass


def _gx_suite(suite: dict):
    silence_pyspark_pandas_warning()
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = [ExpectationConfiguration(type=e["type"], kwargs=dict(e.get("kwargs", {})),
                                             meta=dict(e.get("meta", {}))).to_domain_obj()
                    for e in suite["expectations"]]
    return gx.ExpectationSuite(name=suite.get("name", "suite"), expectations=expectations)


def _result_row(stored: dict, gx_result: dict) -> dict:
    kwargs = dict(stored.get("kwargs", {}))
    meta = stored.get("meta", {})
    result = gx_result.get("result") or {}
    exc = gx_result.get("exception_info") or {}
    return {
        "type": stored["type"],
        "column": kwargs.get("column"),
        "kwargs": kwargs,
        "severity": meta.get("severity", WARN),
        "description": meta.get("description", ""),
        "success": bool(gx_result.get("success")),
        "observed_value": result.get("observed_value"),
        "element_count": result.get("element_count"),
        "unexpected_count": result.get("unexpected_count"),
        "missing_count": result.get("missing_count"),
        "unexpected_percent": result.get("unexpected_percent"),
        "partial_unexpected_list": list(result.get("partial_unexpected_list") or [])[:20],
        "exception": exc.get("exception_message") if exc.get("raised_exception") else None,
    }


# Expectations about the table as a whole; they don't hold on a subset of its rows.
TABLE_LEVEL = ("expect_table_row_count_to_be_between", "expect_column_values_to_be_unique")


def _numbers_alike(value: Any) -> Any:
    """GX hands back integer bounds as floats: compare 1890 and 1890.0 as the same setting."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: _numbers_alike(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_alike(v) for v in value]
    return value


def merged_results(chunks: list[ValidationOutcome], suite_name: str) -> ValidationOutcome:
    """One outcome from the outcomes of the same expectations on chunks of one table: a result fails if it
    fails on any chunk, and its counts add up (none of them may be a share: see validate's skip_shares)."""
    results = []
    for rows in zip(*(c.results for c in chunks)):
        def total(key: str) -> int | None:
            counts = [r[key] for r in rows if r.get(key) is not None]
            return sum(counts) if counts else None

        elements, unexpected, missing = total("element_count"), total("unexpected_count"), total("missing_count")
        observed = [r["observed_value"] for r in rows]
        results.append({**rows[0], "success": all(r["success"] for r in rows),
                        "observed_value": observed[0] if all(o == observed[0] for o in observed) else None,
                        "element_count": elements, "unexpected_count": unexpected, "missing_count": missing,
                        "unexpected_percent": (100 * unexpected / (elements - (missing or 0))
                                               if unexpected is not None and elements and elements > (missing or 0)
                                               else rows[0]["unexpected_percent"]),
                        "partial_unexpected_list": [v for r in rows for v in r["partial_unexpected_list"]][:20],
                        "exception": next((r["exception"] for r in rows if r["exception"]), None)})
    failed = [r for r in results if not r["success"]]
    blocking = [r for r in failed if r["severity"] == BLOCK]
    stats = {"evaluated_expectations": len(results), "successful_expectations": len(results) - len(failed),
             "unsuccessful_expectations": len(failed),
             "success_percent": 100 * (len(results) - len(failed)) / len(results) if results else None,
             "rows": sum(int(c.statistics.get("rows", 0)) for c in chunks), "chunks": len(chunks)}
    return ValidationOutcome(suite_name=suite_name, success=not blocking, blocking_failures=blocking,
                             warnings=[r for r in failed if r["severity"] != BLOCK], results=results,
                             statistics=stats)


def share_judged_on_enough_rows(row: dict) -> dict:
    """A failed blocking share (`mostly`) on fewer than MIN_ROWS_FOR_SHARE rows only warns, unless more
    of them fail than chance would explain (see MIN_ROWS_FOR_SHARE)."""
    rows, failing = row.get("element_count"), row.get("unexpected_count")
    if (row["success"] or row["severity"] != BLOCK or "mostly" not in row.get("kwargs", {}) or rows is None
            or rows >= MIN_ROWS_FOR_SHARE):
        return row
    allowed = 1 - float(row["kwargs"]["mostly"])
    if failing is not None and failing > rows * allowed + 3 * math.sqrt(rows * allowed * (1 - allowed)):
        return row
    return {**row, "severity": WARN,
            "description": f"{row['description']} (only {rows} rows: too few to judge a share by; "
                           "the bad values are noted)".lstrip()}


def validate(df: pd.DataFrame, suite_name: str, *, directory: Path | None = None,
             skip_types: tuple[str, ...] = (), skip_shares: bool = False) -> ValidationOutcome:
    """Run the suite expectations/<suite_name>.json on df (the whole DataFrame as one batch).

    skip_types leaves out expectations of those types, e.g. TABLE_LEVEL when df holds only the rows that
    are new tonight and the caller checks the whole table's row count and key uniqueness itself;
    skip_shares those with a `mostly` (when df is one chunk of a table whose shares the caller counts).
    """
    suite = load_suite(suite_name, directory)
    if skip_types or skip_shares:
        suite = {**suite, "expectations": [e for e in suite["expectations"] if e["type"] not in skip_types
                                           and not (skip_shares and "mostly" in e.get("kwargs", {}))]}
    batch = _whole_dataframe_batch_definition().get_batch(batch_parameters={"dataframe": df})
    raw = batch.validate(_gx_suite(suite), result_format="SUMMARY").to_json_dict()

    # GX returns results in its own order; match them back to the stored expectations by
    # (type, kwargs) so each keeps its severity even if two share a type.
    def key(type_: str, kwargs: dict) -> str:
        kw = {k: _numbers_alike(v) for k, v in kwargs.items() if k != "batch_id"}
        return type_ + json.dumps(kw, sort_keys=True, ensure_ascii=False, default=str)

    by_key: dict[str, list[dict]] = {}
    for r in raw["results"]:
        cfg = r["expectation_config"]
        by_key.setdefault(key(cfg["type"], cfg.get("kwargs", {})), []).append(r)

    results, blocking, warnings = [], [], []
    for stored in suite["expectations"]:
        matches = by_key.get(key(stored["type"], stored.get("kwargs", {})))
        gx_result = matches.pop(0) if matches else {
            "success": False, "exception_info": {"raised_exception": True,
                                                 "exception_message": "no result returned by GX"}}
        row = share_judged_on_enough_rows(_result_row(stored, gx_result))
        results.append(row)
        if not row["success"]:
            (blocking if row["severity"] == BLOCK else warnings).append(row)

    stats = dict(raw.get("statistics") or {})
    stats["rows"] = int(len(df))
    return ValidationOutcome(suite_name=suite_name, success=not blocking, blocking_failures=blocking,
                             warnings=warnings, results=results, statistics=stats)
