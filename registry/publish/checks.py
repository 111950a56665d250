"""The checks a registry must pass to be published: SQL across the run's tables, and the Great
Expectations suite `published_registry` on the golden table (registry.quality.scoped's policy)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from registry import contracts, quality
from registry.quality.scoped import explain_failures, validate_table
from registry.sql import table_exists

SUITE = "published_registry"
ID_NUMBER_PATTERN = r"^\d{17}[\dX]$"


@dataclass
class CheckResult:
    name: str
    passed: bool
    failing: int
    detail: str = ""
    severity: str = "block"


_SQL_CHECKS = {
    "resident_id unique and present":
        "SELECT count(*) - count(DISTINCT resident_id) + count(*) FILTER (WHERE resident_id IS NULL) FROM residents",
    "identity number format (^\\d{17}[\\dX]$) where present":
        f"SELECT count(*) FROM residents WHERE id_number IS NOT NULL "
        f"AND NOT regexp_full_match(id_number, '{ID_NUMBER_PATTERN}')",
    "every record in the crosswalk (records missing from it)":
        "SELECT count(*) FROM records r ANTI JOIN crosswalk x USING (record_uid)",
    "every record in the crosswalk only once (duplicated rows)":
        "SELECT count(*) - count(DISTINCT record_uid) FROM crosswalk",
    "crosswalk only holds standardised records (unknown records)":
        "SELECT count(*) FROM crosswalk x ANTI JOIN records r USING (record_uid)",
    "crosswalk rows point at a published resident (dangling rows)":
        "SELECT count(*) FROM crosswalk x ANTI JOIN residents r USING (resident_id)",
}


def blocking_checks(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """The checks a registry must pass to be published, in SQL over the run database."""
    required = [t.name for t in contracts.PUBLISHED_TABLES if t.required] + [contracts.RECORDS.name]
    missing = [t for t in required if not table_exists(con, t)]
    if missing:
        return [CheckResult("required tables present", False, len(missing), "missing: " + ", ".join(missing))]
    results = []
    for name, sql in _SQL_CHECKS.items():
        failing = int(con.execute(sql).fetchone()[0])
        results.append(CheckResult(name, failing == 0, failing))
    return results


def suite_digest() -> str:
    """The suite as checked tonight: a night with another suite checks every row again."""
    try:
        return hashlib.sha256(quality.suite_path(SUITE).read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def quality_suite(con: duckdb.DuckDBPyConnection, recomputed: str | None = None) -> list[CheckResult]:
    """The suite on the golden table: every row, or (recomputed: a SELECT of tonight's recomputed
    residents; the others' rows are as they were when they passed) tonight's rows with the whole
    table's facts counted over all of it. Failed expectations, or one passing line for the suite."""
    tonight = (f"SELECT * FROM {contracts.RESIDENTS_TABLE} WHERE resident_id IN ({recomputed})"
               if recomputed else None)
    outcome = validate_table(con, contracts.RESIDENTS_TABLE, SUITE, tonight=tonight, key="resident_id")
    if outcome.blocking_failures:
        explain_failures(con, outcome, contracts.RESIDENTS_TABLE, "golden records", tonight=tonight,
                         line_sql="'resident ' || resident_id", order_sql="resident_id")
    results = []
    for r in outcome.results:
        if r["success"]:
            continue
        detail = f"({r.get('explanation') or r.get('description') or ''}" \
                 f"{'; ' + r['exception'] if r.get('exception') else ''})"
        results.append(CheckResult(f"GX {r.get('type')} {r.get('column') or ''}".strip(), False,
                                   int(r.get("unexpected_count") or 0), detail, r["severity"]))
    if not any(c.severity == "block" for c in results):
        scoped = outcome.statistics.get("scope") is not None
        results.append(CheckResult(f"GX suite {SUITE}" + (" (recomputed residents)" if scoped else ""), True, 0))
    return results
