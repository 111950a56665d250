"""Publish the registry: build a new DuckDB file beside the published one, check it, swap it in.

1. Blocking checks on the run database (SQL across tables + the `published_registry` GX suite on
   `residents`). Any failure raises PublishError; nothing under HOME/published is touched.
2. Build HOME/published/.building-<run_id>.duckdb: the published tables, copied inside DuckDB, and
   the department views of access_policy.yaml. Checkpointed and closed (no WAL left beside it).
3. os.replace() it over HOME/published/registry.duckdb — an atomic rename: a reader opening the
   registry sees the old file or the new one, never half of one. A crash at any earlier moment
   leaves the old registry as it was (the half-built file is removed by the next publish).
4. Keep a version as HOME/published/versions/registry-<run_id>.duckdb (a hard link to the file just
   published, a copy where the file system has none); the newest keep_versions stay.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from registry.home import Home
from registry.run_state import fsync_path

log = logging.getLogger(__name__)

ACCESS_POLICY = Path(__file__).with_name("access_policy.yaml")
SUITE = "published_registry"
ID_NUMBER_PATTERN = r"^\d{17}[\dX]$"

# Tables the registry is built from; published as they are.
REQUIRED_TABLES = ("residents", "crosswalk", "lineage", "conflicts", "resident_events", "resident_history")
# Produced by other stages; published when present, else as an empty table of the contract's shape,
# so that a reader can always query them.
OPTIONAL_TABLES = {
    "resident_ids": "resident_id VARCHAR, status VARCHAR, created_run_id VARCHAR, created_date DATE, "
                    "retired_run_id VARCHAR, retired_date DATE, merged_into VARCHAR",
    "review_queue": "item_id VARCHAR, kind VARCHAR, priority INTEGER, status VARCHAR, resident_id VARCHAR, "
                    "street VARCHAR, community VARCHAR, summary VARCHAR, subject JSON, evidence JSON, "
                    "evidence_hash VARCHAR, first_raised_date DATE, decided_at TIMESTAMP, decision VARCHAR",
    "runs": "run_id VARCHAR, extract_date DATE, mode VARCHAR, status VARCHAR, started_at TIMESTAMP, "
            "finished_at TIMESTAMP, message VARCHAR, stats JSON",
    "quarantine": "extract_date DATE, department VARCHAR, file VARCHAR, line BIGINT, record_key VARCHAR, "
                  "field VARCHAR, value VARCHAR, reason VARCHAR",
    "deliveries": "run_extract_date DATE, department VARCHAR, delivery_date DATE, file VARCHAR, status VARCHAR, "
                  "reason VARCHAR, rows_delivered BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, "
                  "sha256 VARCHAR",
}
STALE_BUILD_SECONDS = 3600


class PublishError(RuntimeError):
    """The registry was not published; the previous one is untouched."""


@dataclass
class CheckResult:
    name: str
    passed: bool
    failing: int
    detail: str = ""
    severity: str = "block"


@dataclass
class PublishResult:
    run_id: str
    path: Path
    version_path: Path | None
    tables: dict[str, int]
    views: list[str]
    checks: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "path": str(self.path),
                "version_path": str(self.version_path) if self.version_path else None,
                "tables": self.tables, "views": self.views, "warnings": self.warnings,
                "checks": [c.__dict__ for c in self.checks], "seconds": round(self.seconds, 3)}


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?",
                       [table]).fetchone()[0] > 0


# Blocking checks -------------------------------------------------------------------------------

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
    missing = [t for t in REQUIRED_TABLES + ("records",) if not _exists(con, t)]
    if missing:
        return [CheckResult("required tables present", False, len(missing), "missing: " + ", ".join(missing))]
    results = []
    for name, sql in _SQL_CHECKS.items():
        failing = int(con.execute(sql).fetchone()[0])
        results.append(CheckResult(name, failing == 0, failing))
    return results


def _quality_suite(con: duckdb.DuckDBPyConnection) -> list[CheckResult]:
    """The GX suite on the golden table (only the columns it looks at: GX on 1M rows is slow)."""
    try:
        from registry import quality
    except ImportError:  # the quality layer is not installed: the SQL checks above still hold
        log.warning("registry.quality not available: GX suite %s skipped", SUITE)
        return []
    suite = quality.load_suite(SUITE)
    have = {c for c, in con.execute("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_schema = 'main' AND table_name = 'residents'").fetchall()}
    cols = [c for c in quality.suite_columns(suite) if c in have] or ["resident_id"]
    df = con.execute(f"SELECT {', '.join(cols)} FROM residents").df()
    outcome = quality.validate(df, SUITE)
    results = []
    for severity, failures in (("block", outcome.blocking_failures), ("warn", outcome.warnings)):
        for r in failures:
            detail = f"({r.get('description') or ''}{'; ' + r['exception'] if r.get('exception') else ''})"
            results.append(CheckResult(f"GX {r.get('type')} {r.get('column') or ''}".strip(), False,
                                       int(r.get("unexpected_count") or 0), detail, severity))
    if outcome.success and not outcome.blocking_failures:
        results.append(CheckResult(f"GX suite {SUITE}", True, 0))
    return results


# Access policy ---------------------------------------------------------------------------------

def _flatten(items) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def load_access_policy(path: str | Path | None = None) -> dict[str, dict]:
    """{department: {"residents_columns": [...], "crosswalk": "own" | "none"}}"""
    path = Path(path or ACCESS_POLICY)
    with open(path, encoding="utf-8") as fh:
        policy = yaml.safe_load(fh) or {}
    depts = policy.get("departments") or {}
    for dept, spec in depts.items():
        spec["residents_columns"] = list(dict.fromkeys(_flatten(spec.get("residents_columns") or [])))
        if spec.get("crosswalk", "own") not in ("own", "none"):
            raise PublishError(f"{path}: department {dept!r}: crosswalk must be 'own' or 'none'")
    return depts


def _view_statements(policy: dict[str, dict], residents_columns: set[str]) -> dict[str, str]:
    views = {}
    for dept, spec in policy.items():
        unknown = [c for c in spec["residents_columns"] if c not in residents_columns]
        if unknown:
            raise PublishError(f"access policy for {dept!r} names columns that residents does not have: "
                               + ", ".join(unknown))
        cols = ", ".join(f'"{c}"' for c in spec["residents_columns"])
        views[f"{dept}_residents"] = f"SELECT {cols} FROM residents"
        if spec.get("crosswalk", "own") == "own":
            views[f"{dept}_crosswalk"] = (
                "SELECT department, source_record_id, resident_id, match_probability FROM crosswalk "
                f"WHERE department = '{dept}'")
    return views


# Publish ---------------------------------------------------------------------------------------

def _remove_db_file(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def _clean_stale_builds(published_dir: Path, run_id: str) -> None:
    """Half-built files of crashed publishes (this run's, or any older than an hour)."""
    now = time.time()
    for p in published_dir.glob(".building-*.duckdb"):
        if p.name == f".building-{run_id}.duckdb" or now - p.stat().st_mtime > STALE_BUILD_SECONDS:
            log.info("removing half-built registry %s", p)
            _remove_db_file(p)


def _build(con: duckdb.DuckDBPyConnection, target: Path, run_id: str, views: dict[str, str]) -> dict[str, int]:
    quoted = str(target).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS _publish")
    try:
        for table in REQUIRED_TABLES:
            con.execute(f"CREATE TABLE _publish.{table} AS SELECT * FROM main.{table}")
        for table, ddl in OPTIONAL_TABLES.items():
            if _exists(con, table):
                con.execute(f"CREATE TABLE _publish.{table} AS SELECT * FROM main.{table}")
            else:
                con.execute(f"CREATE TABLE _publish.{table} ({ddl})")
        # The published copy says what it is: this run is published (the state's ledger is
        # finalised by the run itself once publish returns).
        con.execute("UPDATE _publish.runs SET status = 'published', "
                    "finished_at = coalesce(finished_at, CAST(now() AS TIMESTAMP)) "
                    "WHERE run_id = ? AND status = 'running'", [run_id])
    finally:
        con.execute("DETACH _publish")
    # Views are created through the file's own connection so that they name its tables without a
    # catalog prefix (an ATTACH alias baked into a view breaks for every reader).
    pub = duckdb.connect(str(target))
    try:
        for name, sql in views.items():
            pub.execute(f"CREATE VIEW {name} AS {sql}")
        counts = {t: pub.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in list(REQUIRED_TABLES) + list(OPTIONAL_TABLES)}
        pub.execute("CHECKPOINT")
    finally:
        pub.close()
    if Path(str(target) + ".wal").exists():
        raise PublishError(f"{target}: write-ahead log left after close; not publishing a partial file")
    fsync_path(target)
    return counts


def _swap(building: Path, published: Path) -> None:
    os.replace(building, published)
    fsync_path(published.parent)


def _keep_version(home: Home, run_id: str, keep_versions: int) -> Path | None:
    if keep_versions <= 0:
        return None
    home.versions_dir.mkdir(parents=True, exist_ok=True)
    version = home.versions_dir / f"registry-{run_id}.duckdb"
    tmp = home.versions_dir / f".copy-{run_id}.duckdb"
    tmp.unlink(missing_ok=True)
    # A published file is never written after its swap (every reader opens it read-only; the next
    # publish replaces it by rename), so the version can be a hard link to it: no multi-GB copy.
    try:
        os.link(home.published_db, tmp)
    except OSError:  # a file system without hard links
        shutil.copyfile(home.published_db, tmp)
    os.replace(tmp, version)
    versions = sorted(home.versions_dir.glob("registry-*.duckdb"), key=lambda p: (p.stat().st_mtime, p.name))
    for old in versions[:-keep_versions]:
        old.unlink(missing_ok=True)
    return version


def publish(con: duckdb.DuckDBPyConnection, home: Home, run_id: str, keep_versions: int = 7,
            access_policy: str | Path | None = None) -> PublishResult:
    """Check the run's registry tables and atomically replace HOME/published/registry.duckdb."""
    started = time.monotonic()
    checks = blocking_checks(con)
    if all(c.passed for c in checks):
        checks += _quality_suite(con)
    failed = [c for c in checks if not c.passed and c.severity == "block"]
    if failed:
        raise PublishError("registry not published, blocking checks failed: "
                           + "; ".join(f"{c.name}: {c.failing} failing {c.detail}".strip() for c in failed))
    warnings = [f"{c.name}: {c.failing} failing {c.detail}".strip() for c in checks
                if not c.passed and c.severity == "warn"]

    residents_columns = {c for c, in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = 'residents'").fetchall()}
    views = _view_statements(load_access_policy(access_policy), residents_columns)

    home.published_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale_builds(home.published_dir, run_id)
    building = home.published_dir / f".building-{run_id}.duckdb"
    try:
        counts = _build(con, building, run_id, views)
        # Read-only on disk: kept versions are hard links to it, and no reader may write through it.
        os.chmod(building, 0o444)
        _swap(building, home.published_db)
    except BaseException:
        _remove_db_file(building)
        raise
    # After the swap nothing may fail the run: the registry is published, and the run's state must follow.
    try:
        version = _keep_version(home, run_id, keep_versions)
    except OSError as exc:
        version = None
        warnings.append(f"version not kept: {exc}")
    result = PublishResult(run_id=run_id, path=home.published_db, version_path=version, tables=counts,
                           views=sorted(views), checks=checks, warnings=warnings,
                           seconds=time.monotonic() - started)
    log.info("published %s: %s", home.published_db, counts)
    return result
