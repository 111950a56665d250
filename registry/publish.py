"""Publish the registry: build a new DuckDB file beside the published one, check it, swap it in.

1. Blocking checks on the run database (SQL across tables + the `published_registry` GX suite on
   `residents`). Any failure raises PublishError; nothing under HOME/published is touched.
2. Build HOME/published/.building-<run_id>.duckdb: the published tables, copied inside DuckDB, and
   the department views of access_policy.yaml. Checkpointed and closed (no WAL left beside it).
   On an incremental night whose base is exactly the published file (see `incremental_base`), the
   file is instead a copy of the published one with tonight's deltas applied: residents, lineage,
   conflicts and resident_history of `residents_recomputed`, crosswalk and resident_ids by a keyed
   diff, tonight's resident_events, the small tables rewritten. It equals a full build (every row,
   every column); its row counts are verified against the run database, else it is built in full.
3. os.replace() it over HOME/published/registry.duckdb — an atomic rename: a reader opening the
   registry sees the old file or the new one, never half of one. A crash at any earlier moment
   leaves the old registry as it was (the half-built file is removed by the next publish).
4. Keep a version as HOME/published/versions/registry-<run_id>.duckdb (a hard link to the file just
   published, a copy where the file system has none); the newest keep_versions stay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import yaml

from registry.home import Home
from registry.run_state import copy_file, fsync_path

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

# Incremental publish ---------------------------------------------------------------------------
# Golden tables whose rows are those of `residents_recomputed` residents (ARCHITECTURE.md contract).
BY_RECOMPUTED_RESIDENT = ("residents", "lineage", "conflicts", "resident_history")
# Replaced by key, for the keys tonight can have touched (`_delta_keys`), then verified by a checksum
# of every row; a mismatch (a contract broken upstream) falls back to an exact diff of the table.
KEYED_TABLES = {"crosswalk": "record_uid", "resident_ids": "resident_id"}
# Small, and any of their rows may change tonight: rewritten whole.
REWRITTEN_TABLES = ("review_queue", "runs", "quarantine", "deliveries")
# Rebuilt in full (which compacts the file) when more than this share of the published file's
# blocks is free and that is worth a rewrite: deleted and rewritten rows leave free blocks that
# only a full build gives back (DuckDB reuses them, but the file does not shrink).
COMPACT_FREE_SHARE = 0.25
COMPACT_MIN_FREE_BYTES = 64 << 20
# Deleted rows stay in their row groups (used, not free, blocks) until DuckDB merges the row group:
# also rebuilt in full when the file holds this much more blocks per row than its last full build.
COMPACT_GROWTH = 0.25
STAGE = "published_registry"   # the run ledger's stage name, whose figures describe a publish


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
    build: str = "full"             # full | incremental: how the file was built
    build_reason: str = ""          # why it was built in full, or what it was built from
    suite_digest: str = ""          # the GX suite checked tonight (a changed suite checks every row again)
    step_seconds: dict[str, float] = field(default_factory=dict)
    file: dict = field(default_factory=dict)   # blocks, rows, and blocks per row at the last full build

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "path": str(self.path),
                "version_path": str(self.version_path) if self.version_path else None,
                "tables": self.tables, "views": self.views, "warnings": self.warnings,
                "checks": [c.__dict__ for c in self.checks], "seconds": round(self.seconds, 3),
                "build": self.build, "build_reason": self.build_reason, "suite_digest": self.suite_digest,
                "step_seconds": {k: round(v, 3) for k, v in self.step_seconds.items()}, "file": self.file}


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


def _suite_digest() -> str:
    try:
        from registry import quality
        return hashlib.sha256(quality.suite_path(SUITE).read_bytes()).hexdigest()[:16]
    except (ImportError, OSError):
        return ""


def _whole_table_result(con: duckdb.DuckDBPyConnection, exp: dict) -> dict | None:
    """An expectation that holds only for the whole table, counted in SQL; None if not one of those."""
    kw, meta = exp.get("kwargs", {}), exp.get("meta", {})
    col = '"' + str(kw.get("column", "")).replace('"', '""') + '"'
    if exp["type"] == "expect_column_values_to_be_unique":
        bad = con.execute(f"SELECT count({col}) - count(DISTINCT {col}) FROM residents").fetchone()[0]
        ok = bad == 0
    elif exp["type"] == "expect_table_row_count_to_be_between":
        bad = con.execute("SELECT count(*) FROM residents").fetchone()[0]
        ok = ((kw.get("min_value") is None or bad >= kw["min_value"])
              and (kw.get("max_value") is None or bad <= kw["max_value"]))
    elif exp["type"] == "expect_column_values_to_not_be_null" and "mostly" in kw:
        rows, bad = con.execute(f"SELECT count(*), count(*) - count({col}) FROM residents").fetchone()
        ok = rows == 0 or (rows - bad) / rows >= float(kw["mostly"])
    else:
        return None
    return {"type": exp["type"], "column": kw.get("column"), "kwargs": kw,
            "severity": meta.get("severity", "warn"), "description": meta.get("description", "") + " (whole table)",
            "success": bool(ok), "unexpected_count": None if ok else int(bad), "exception": None}


def _quality_suite(con: duckdb.DuckDBPyConnection, recomputed_only: bool = False) -> list[CheckResult]:
    """The GX suite on the golden table (only the columns it looks at: GX on 1M rows is slow).

    recomputed_only (an incremental night): the row-level expectations look at the residents recomputed
    tonight, the others' rows are as they were when they passed; what only holds for the whole table
    (uniqueness, row count, a `mostly` share of non-null values) is counted in SQL over all of it."""
    try:
        from registry import quality
    except ImportError:  # the quality layer is not installed: the SQL checks above still hold
        log.warning("registry.quality not available: GX suite %s skipped", SUITE)
        return []
    suite = quality.load_suite(SUITE)
    table_level = [e for e in suite["expectations"]
                   if e["type"] in quality.TABLE_LEVEL or "mostly" in e.get("kwargs", {})]
    if recomputed_only and any(_whole_table_result(con, e) is None for e in table_level):
        recomputed_only = False   # a table-level expectation SQL cannot count: GX sees the whole table
    have = {c for c, in con.execute("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_schema = 'main' AND table_name = 'residents'").fetchall()}
    cols = ", ".join(c for c in quality.suite_columns(suite) if c in have) or "resident_id"
    if not recomputed_only:
        rows = quality.validate(con.execute(f"SELECT {cols} FROM residents").df(), SUITE).results
    else:
        df = con.execute(f"SELECT {cols} FROM residents SEMI JOIN residents_recomputed USING (resident_id)").df()
        rows = quality.validate(df, SUITE, skip_types=quality.TABLE_LEVEL).results if len(df) else []
        whole = {(e["type"], json.dumps(e.get("kwargs", {}), sort_keys=True)): _whole_table_result(con, e)
                 for e in table_level}
        rows = [r for r in rows if (r["type"], json.dumps(r["kwargs"], sort_keys=True)) not in whole]
        rows += list(whole.values())
    results = []
    for r in rows:
        if r["success"]:
            continue
        detail = f"({r.get('description') or ''}{'; ' + r['exception'] if r.get('exception') else ''})"
        results.append(CheckResult(f"GX {r.get('type')} {r.get('column') or ''}".strip(), False,
                                   int(r.get("unexpected_count") or 0), detail, r["severity"]))
    if not any(c.severity == "block" for c in results):
        results.append(CheckResult(f"GX suite {SUITE}" + (" (recomputed residents)" if recomputed_only else ""),
                                   True, 0))
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
    for p in [*published_dir.glob(".building-*.duckdb"), *published_dir.glob(".base-*.duckdb")]:
        if p.name == f".base-{run_id}.duckdb":
            continue  # this run's copy made ahead (BaseCopy), in use
        if p.name == f".building-{run_id}.duckdb" or now - p.stat().st_mtime > STALE_BUILD_SECONDS:
            log.info("removing half-built registry %s", p)
            _remove_db_file(p)


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, read_only: bool = False) -> None:
    quoted = str(path).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {alias}" + (" (READ_ONLY)" if read_only else ""))


def _mark_published(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    # The published copy says what it is: this run is published (the state's ledger is
    # finalised by the run itself once publish returns).
    con.execute("UPDATE _publish.runs SET status = 'published', "
                "finished_at = coalesce(finished_at, CAST(now() AS TIMESTAMP)) "
                "WHERE run_id = ? AND status = 'running'", [run_id])


def _build(con: duckdb.DuckDBPyConnection, target: Path, run_id: str, views: dict[str, str]) -> dict[str, int]:
    """The whole registry, copied table by table from the run database into a new file."""
    _attach(con, target, "_publish")
    try:
        for table in REQUIRED_TABLES:
            con.execute(f"CREATE TABLE _publish.{table} AS SELECT * FROM main.{table}")
        for table, ddl in OPTIONAL_TABLES.items():
            if _exists(con, table):
                con.execute(f"CREATE TABLE _publish.{table} AS SELECT * FROM main.{table}")
            else:
                con.execute(f"CREATE TABLE _publish.{table} ({ddl})")
        _mark_published(con, run_id)
    finally:
        con.execute("DETACH _publish")
    return _finish_file(target, views)


def _finish_file(target: Path, views: dict[str, str]) -> dict[str, int]:
    """Department views, counts, checkpoint; no WAL may be left beside the file."""
    # Views are created through the file's own connection so that they name its tables without a
    # catalog prefix (an ATTACH alias baked into a view breaks for every reader).
    pub = duckdb.connect(str(target))
    try:
        for (name,) in pub.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                   "AND database_name = current_database() AND schema_name = 'main'").fetchall():
            pub.execute(f'DROP VIEW "{name}"')   # an incremental build starts from yesterday's views
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


# Incremental build -----------------------------------------------------------------------------

class _Diverged(RuntimeError):
    """The incremental file does not add up to the run database: build it in full instead."""


def _table_shape(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? "
                       "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                       [database, table]).fetchall()


def _previous_publish(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[str | None, dict]:
    """The run this run's state descends from (the latest published before it) and its publish figures."""
    if not (_exists(con, "runs") and _exists(con, "run_stages")):
        return None, {}
    row = con.execute("SELECT run_id FROM runs WHERE status = 'published' AND run_id <> ? "
                      "ORDER BY finished_at DESC NULLS LAST LIMIT 1", [run_id]).fetchall()
    if not row:
        return None, {}
    stats = con.execute("SELECT stats FROM run_stages WHERE run_id = ? AND stage = ? "
                        "ORDER BY recorded_at DESC LIMIT 1", [row[0][0], STAGE]).fetchall()
    try:
        return row[0][0], (json.loads(stats[0][0]) if stats and stats[0][0] else {})
    except (TypeError, ValueError):
        return row[0][0], {}


def _night_mode(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    if not _exists(con, "runs"):
        return None
    row = con.execute("SELECT mode FROM runs WHERE run_id = ?", [run_id]).fetchall()
    return row[0][0] if row else None


def incremental_base(con: duckdb.DuckDBPyConnection, home: Home, run_id: str) -> tuple[bool, str]:
    """Can tonight's registry be built from the published file? (yes, what from) or (no, why not).

    Only when the published file is exactly the registry this run's state started from: its latest
    published run is the run DB's previous published run, its row counts are those that run
    recorded when it published, every table has tonight's shape, and not too much of it is free."""
    if _night_mode(con, run_id) != "incremental":
        return False, "not an incremental night"
    if not _exists(con, "residents_recomputed"):
        return False, "survivorship recomputed every resident"
    missing = [t for t in OPTIONAL_TABLES if not _exists(con, t)]
    if missing:
        return False, "run database lacks " + ", ".join(missing)
    published = home.published_db
    if not published.exists():
        return False, "nothing published yet"
    if Path(str(published) + ".wal").exists():
        return False, "published file has a write-ahead log beside it"
    previous, figures = _previous_publish(con, run_id)
    if previous is None:
        return False, "no earlier published run in the run database"
    try:
        _attach(con, published, "_base", read_only=True)
    except duckdb.Error as exc:
        return False, f"published file unreadable: {exc}"
    try:
        base_run = con.execute("SELECT run_id FROM _base.runs WHERE status = 'published' "
                               "ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchall()
        if not base_run or base_run[0][0] != previous:
            return False, (f"published file is run {base_run[0][0] if base_run else None}, "
                           f"this run starts from {previous}")
        db = con.execute("SELECT current_database()").fetchone()[0]
        for table in list(REQUIRED_TABLES) + list(OPTIONAL_TABLES):
            if _table_shape(con, "_base", table) != _table_shape(con, db, table):
                return False, f"table {table} changed shape"
        counts = {t: con.execute(f"SELECT count(*) FROM _base.{t}").fetchone()[0]
                  for t in list(REQUIRED_TABLES) + list(OPTIONAL_TABLES)}
        if counts != figures.get("tables"):
            return False, f"published file's row counts are not those run {previous} published"
        total, free, block = con.execute("SELECT total_blocks, free_blocks, block_size FROM pragma_database_size() "
                                         "WHERE database_name = '_base'").fetchone()
        if total and free / total > COMPACT_FREE_SHARE and free * block >= COMPACT_MIN_FREE_BYTES:
            return False, f"compacting: {free / total:.0%} of the published file is free blocks"
        baseline = (figures.get("file") or {}).get("full_build_blocks_per_row")
        expected = (baseline or 0) * max(sum(counts.values()), 1)   # blocks a full build would take
        if (baseline and total > (1 + COMPACT_GROWTH) * expected
                and (total - expected) * block >= COMPACT_MIN_FREE_BYTES):
            return False, (f"compacting: the published file holds {total / expected - 1:.0%} more blocks per row "
                           "than its last full build")
    except duckdb.Error as exc:
        return False, f"published file not comparable: {exc}"
    finally:
        con.execute("DETACH _base")
    return True, f"published file of run {previous}"


def _delta_keys(con: duckdb.DuckDBPyConnection, table: str, run_id: str) -> str:
    """SQL for the keys of `table` whose rows tonight may have changed.

    crosswalk: a row is (record -> resident, match_probability = the record's strongest edge inside its
    cluster). It changes when the record changed (record_changes), when its resident changed or its
    resident's membership did (then both residents are recomputed: members of residents_recomputed,
    yesterday's and tonight's), when a link inside it was rescored (only links of changed records are,
    and their resident is recomputed), or when an officer's same/different decision on it came or went,
    which leaves membership alone: every record named in link_decisions (the decisions are append-only,
    so yesterday's pairs are all still there).
    resident_ids: IDs issued or retired tonight, and every resident tonight's events or survivorship name."""
    recomputed = "SELECT resident_id FROM main.residents_recomputed"
    if table == "crosswalk":
        parts = [f"SELECT record_uid FROM main.crosswalk WHERE resident_id IN ({recomputed})",
                 f"SELECT record_uid FROM _publish.crosswalk WHERE resident_id IN ({recomputed})"]
        if _exists(con, "record_changes"):
            parts.append("SELECT record_uid FROM main.record_changes")
        if _exists(con, "link_decisions"):
            parts += ["SELECT record_uid_l FROM main.link_decisions", "SELECT record_uid_r FROM main.link_decisions"]
        return " UNION ALL ".join(parts)
    if table == "resident_ids":
        rid = run_id.replace("'", "''")
        return (f"SELECT resident_id FROM main.resident_ids WHERE created_run_id = '{rid}' OR retired_run_id = '{rid}' "
                f"UNION ALL SELECT resident_id FROM main.resident_events WHERE run_id = '{rid}' "
                f"UNION ALL SELECT other_resident_id FROM main.resident_events WHERE run_id = '{rid}' "
                f"UNION ALL {recomputed}")
    raise ValueError(table)


def _checksum(con: duckdb.DuckDBPyConnection, database: str, table: str) -> tuple:
    """Row count and an order-free checksum of every row (every column)."""
    return con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {database}.{table} t").fetchone()


def _apply_by_keys(con: duckdb.DuckDBPyConnection, table: str, key: str, keys_sql: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE _keys AS SELECT DISTINCT {key} AS k FROM ({keys_sql}) WHERE {key} IS NOT NULL")
    con.execute(f"DELETE FROM _publish.{table} WHERE {key} IN (SELECT k FROM _keys)")
    con.execute(f"INSERT INTO _publish.{table} SELECT * FROM main.{table} WHERE {key} IN (SELECT k FROM _keys)")
    con.execute("DROP TABLE _keys")


def _apply_keyed_diff(con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    """Rows of _publish.table that differ from main.table (in any column) are replaced by main's, by key."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _gone AS SELECT DISTINCT {key} FROM
                    (SELECT * FROM _publish.{table} EXCEPT ALL SELECT * FROM main.{table})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _come AS
                    SELECT * FROM main.{table} EXCEPT ALL SELECT * FROM _publish.{table}""")
    con.execute(f"DELETE FROM _publish.{table} WHERE {key} IN (SELECT {key} FROM _gone)")
    con.execute(f"INSERT INTO _publish.{table} SELECT * FROM _come")
    con.execute("DROP TABLE _gone")
    con.execute("DROP TABLE _come")


class BaseCopy:
    """The published file being copied ahead of the publish stage, in a thread that only waits on the
    kernel (copy_file): an incremental publish then starts from it instead of copying 700 MB at 1M
    people on its critical path. `take()` hands it over only if the published file is still the very
    file it copied (same inode, size and modification time); otherwise publish copies as before."""

    def __init__(self, home: Home, run_id: str):
        self.source = home.published_db
        self.path = home.published_dir / f".base-{run_id}.duckdb"
        self._failed: BaseException | None = None
        self._thread = None
        try:
            self._identity = _file_identity(self.source)
        except OSError:  # nothing published yet
            self._identity = None
            return
        import threading

        self._thread = threading.Thread(target=self._copy, name="published-base-copy", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
            copy_file(self.source, self.path)
        except BaseException as exc:  # noqa: BLE001 - take() reports no copy; publish copies itself
            self._failed = exc

    def take(self) -> Path | None:
        """The finished copy, now the caller's (None: no usable copy; publish copies itself)."""
        if self._thread is None:
            return None
        self._thread.join()
        try:
            same = self._failed is None and _file_identity(self.source) == self._identity
        except OSError:
            same = False
        if not same:
            if self._failed is not None:
                log.warning("published file not copied ahead: %s", self._failed)
            self.discard()
            return None
        self._thread = None
        return self.path

    def discard(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        _remove_db_file(self.path)


def _file_identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _build_incremental(con: duckdb.DuckDBPyConnection, home: Home, target: Path, run_id: str,
                       views: dict[str, str], steps: dict[str, float], warnings: list[str],
                       base_copy: Path | None = None) -> dict[str, int]:
    """Yesterday's published file plus tonight's deltas; raises _Diverged if it does not add up.
    base_copy: a copy of the published file made ahead (BaseCopy.take()), moved into place."""
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        steps[name] = steps.get(name, 0.0) + now - clock
        clock = now

    # A copy, never a link: the kept versions are hard links to the published file, which never changes.
    if base_copy is not None:
        os.replace(base_copy, target)
    else:
        copy_file(home.published_db, target)
    step("copy")
    _attach(con, target, "_publish")
    try:
        recomputed = "SELECT resident_id FROM main.residents_recomputed"
        for table in BY_RECOMPUTED_RESIDENT:
            con.execute(f"DELETE FROM _publish.{table} WHERE resident_id IN ({recomputed})")
            con.execute(f"INSERT INTO _publish.{table} SELECT * FROM main.{table} "
                        f"WHERE resident_id IN ({recomputed})")
            step(table)
        for table, key in KEYED_TABLES.items():
            _apply_by_keys(con, table, key, _delta_keys(con, table, run_id))
            if _checksum(con, "_publish", table) != _checksum(con, "main", table):
                note = f"{table}: tonight's keys missed a changed row; diffed in full"
                log.warning(note)
                warnings.append(f"incremental publish: {note}")
                _apply_keyed_diff(con, table, key)
            step(table)
        # Events are appended per run; a rerun of this run replaces its own.
        con.execute("DELETE FROM _publish.resident_events WHERE run_id = ?", [run_id])
        con.execute("INSERT INTO _publish.resident_events SELECT * FROM main.resident_events WHERE run_id = ?",
                    [run_id])
        step("resident_events")
        for table in REWRITTEN_TABLES:
            con.execute(f"DROP TABLE _publish.{table}")
            con.execute(f"CREATE TABLE _publish.{table} AS SELECT * FROM main.{table}")
        _mark_published(con, run_id)
        step("small tables")
        expected = {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0]
                    for t in list(REQUIRED_TABLES) + list(OPTIONAL_TABLES)}
    finally:
        con.execute("DETACH _publish")
    counts = _finish_file(target, views)
    step("checkpoint")
    if counts != expected:
        raise _Diverged("incremental registry does not add up to the run database: " + ", ".join(
            f"{t} {counts[t]} rows, expected {expected[t]}" for t in counts if counts[t] != expected[t]))
    return counts


def _file_figures(path: Path, counts: dict[str, int], build: str, previous: dict) -> dict:
    """How big the new file is for its rows, and the baseline for deciding when to compact it."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        blocks = con.execute("SELECT total_blocks FROM pragma_database_size()").fetchone()[0]
    finally:
        con.close()
    rows = max(sum(counts.values()), 1)
    baseline = (previous.get("file") or {}).get("full_build_blocks_per_row") if build == "incremental" else None
    baseline = baseline or blocks / rows   # a full build, or the first incremental one after full ones
    return {"blocks": blocks, "rows": rows, "full_build_blocks_per_row": baseline}


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
        copy_file(home.published_db, tmp)
    os.replace(tmp, version)
    versions = sorted(home.versions_dir.glob("registry-*.duckdb"), key=lambda p: (p.stat().st_mtime, p.name))
    for old in versions[:-keep_versions]:
        old.unlink(missing_ok=True)
    return version


def publish(con: duckdb.DuckDBPyConnection, home: Home, run_id: str, keep_versions: int = 7,
            access_policy: str | Path | None = None, *, incremental: bool = True,
            base_copy: BaseCopy | None = None) -> PublishResult:
    """Check the run's registry tables and atomically replace HOME/published/registry.duckdb.

    incremental: on an incremental night, build the new file from the published one plus tonight's
    changes when that file is exactly this run's starting point (`incremental_base`); the result is
    the same registry as a full build. False: always build in full.
    base_copy: the published file copied ahead during the run (used, or removed, here)."""
    try:
        return _publish(con, home, run_id, keep_versions, access_policy, incremental, base_copy)
    finally:
        if base_copy is not None:
            base_copy.discard()


def _publish(con, home, run_id, keep_versions, access_policy, incremental, base_copy) -> PublishResult:
    started = time.monotonic()
    steps: dict[str, float] = {}
    checks = blocking_checks(con)
    steps["sql checks"] = time.monotonic() - started
    previous, figures = _previous_publish(con, run_id)
    digest = _suite_digest()
    # Rows not recomputed tonight passed this very suite the night they were computed.
    gx_recomputed_only = (_night_mode(con, run_id) == "incremental" and _exists(con, "residents_recomputed")
                          and bool(digest) and figures.get("suite_digest") == digest)
    if all(c.passed for c in checks):
        clock = time.monotonic()
        checks += _quality_suite(con, recomputed_only=gx_recomputed_only)
        steps["gx suite"] = time.monotonic() - clock
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
    clock = time.monotonic()
    use_base, reason = incremental_base(con, home, run_id) if incremental else (False, "full build asked")
    steps["base check"] = time.monotonic() - clock
    build = "incremental" if use_base else "full"
    try:
        counts = None
        if use_base:
            try:
                ahead = base_copy.take() if base_copy is not None else None
                counts = _build_incremental(con, home, building, run_id, views, steps, warnings, ahead)
            except _Diverged as exc:   # never publish a registry that differs from a full build
                log.warning("%s; building in full", exc)
                warnings.append(f"incremental publish abandoned: {exc}")
                build, reason = "full", str(exc)
                _remove_db_file(building)
        if counts is None:
            clock = time.monotonic()
            counts = _build(con, building, run_id, views)
            steps["full build"] = time.monotonic() - clock
        file_figures = _file_figures(building, counts, build, figures)
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
                           seconds=time.monotonic() - started, build=build, build_reason=reason,
                           suite_digest=digest, step_seconds=steps, file=file_figures)
    log.info("published %s (%s build: %s): %s", home.published_db, build, reason, counts)
    return result
