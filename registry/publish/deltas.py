"""An incremental publish: yesterday's published file plus tonight's changes, equal to a full build.

Only when that file is exactly the registry this run's state started from (`incremental_base`), it is
copied (never linked: versions are hard links to it) and brought up to tonight by each table's delta
rule (registry.contracts.PUBLISHED_TABLES, registry.incremental.splice): the rows of the residents
survivorship recomputed tonight, the keys tonight may have touched (verified by a checksum of every
row; a miss is diffed in full), tonight's rows of run tables, the small tables rewritten. Its row
counts are verified against the run database; if they do not add up, publish builds in full.

The file is rebuilt in full (which compacts it) when more than COMPACT_FREE_SHARE of its blocks are
free, or it holds COMPACT_GROWTH more blocks per row than its last full build: deleted and rewritten
rows leave blocks that only a full build gives back.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import duckdb

from registry import contracts
from registry.home import Home
from registry.incremental import recomputed, splice
from registry.night import NightPlan
from registry.publish.build import PUBLISHED, attach, finish_file, mark_published
from registry.publish.context import PublishContext
from registry.run_state import copy_file
from registry.sql import column_types, quote_literal, table_exists

log = logging.getLogger(__name__)

COMPACT_FREE_SHARE = 0.25
COMPACT_MIN_FREE_BYTES = 64 << 20
COMPACT_GROWTH = 0.25


class Diverged(RuntimeError):
    """The incremental file does not add up to the run database: build it in full instead."""


def incremental_base(con: duckdb.DuckDBPyConnection, home: Home, night: NightPlan) -> tuple[bool, str]:
    """Can tonight's registry be built from the published file? (yes, what from) or (no, why not).

    Only when the published file is exactly the registry this run's state started from: its latest
    published run is the night's previous published run, its row counts are those that run recorded
    when it published, every table has tonight's shape, and not too much of it is free."""
    if not night.incremental:
        return False, "not an incremental night"
    if recomputed(con, contracts.RESIDENTS_RECOMPUTED) is None:
        return False, "survivorship recomputed every resident"
    missing = [t.name for t in contracts.PUBLISHED_TABLES if not t.required and not table_exists(con, t.name)]
    if missing:
        return False, "run database lacks " + ", ".join(missing)
    published = home.published_db
    if not published.exists():
        return False, "nothing published yet"
    if Path(str(published) + ".wal").exists():
        return False, "published file has a write-ahead log beside it"
    previous, figures = night.previous_run, night.previous_publish
    if previous is None:
        return False, "no earlier published run in the run database"
    try:
        attach(con, published, "_base", read_only=True)
    except duckdb.Error as exc:
        return False, f"published file unreadable: {exc}"
    try:
        base_run = con.execute("SELECT run_id FROM _base.runs WHERE status = 'published' "
                               "ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchall()
        if not base_run or base_run[0][0] != previous:
            return False, (f"published file is run {base_run[0][0] if base_run else None}, "
                           f"this run starts from {previous}")
        for table in PUBLISHED:
            if column_types(con, table, "_base") != column_types(con, table):
                return False, f"table {table} changed shape"
        counts = {t: con.execute(f"SELECT count(*) FROM _base.{t}").fetchone()[0] for t in PUBLISHED}
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


def delta_keys(con: duckdb.DuckDBPyConnection, table: str, night: NightPlan) -> str:
    """SQL for the keys of `table` whose rows tonight may have changed (the touched set).

    crosswalk: a row is (record -> resident, match_probability = the record's strongest edge inside its
    cluster). It changes when the record changed (the change set), when its resident changed or its
    resident's membership did (then both residents are recomputed: members of residents_recomputed,
    yesterday's and tonight's), when a link inside it was rescored (only links of changed records are,
    and their resident is recomputed), or when an officer's same/different decision on it came or went,
    which leaves membership alone: every record named in link_decisions (the decisions are append-only,
    so yesterday's pairs are all still there).
    resident_ids: IDs issued or retired tonight, and every resident tonight's events or survivorship name."""
    resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED, "main")
    if table == "crosswalk":
        parts = [f"SELECT record_uid FROM main.crosswalk WHERE resident_id IN ({resurvived})",
                 f"SELECT record_uid FROM _publish.crosswalk WHERE resident_id IN ({resurvived})"]
        if night.changes.exists(con):
            parts.append(f"SELECT record_uid FROM main.{night.changes.table}")
        if table_exists(con, "link_decisions"):
            parts += ["SELECT record_uid_l FROM main.link_decisions", "SELECT record_uid_r FROM main.link_decisions"]
        return " UNION ALL ".join(parts)
    if table == "resident_ids":
        rid = quote_literal(night.run_id)
        return (f"SELECT resident_id FROM main.resident_ids WHERE created_run_id = {rid} OR retired_run_id = {rid} "
                f"UNION ALL SELECT resident_id FROM main.resident_events WHERE run_id = {rid} "
                f"UNION ALL SELECT other_resident_id FROM main.resident_events WHERE run_id = {rid} "
                f"UNION ALL {resurvived}")
    raise ValueError(table)


def checksum(con: duckdb.DuckDBPyConnection, database: str, table: str) -> tuple:
    """Row count and an order-free checksum of every row (every column)."""
    return con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {database}.{table} t").fetchone()


def apply_by_keys(con: duckdb.DuckDBPyConnection, table: str, key: str, keys_sql: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE _keys AS SELECT DISTINCT {key} AS k FROM ({keys_sql}) "
                f"WHERE {key} IS NOT NULL")
    splice(con, f"_publish.{table}", key, "SELECT k FROM _keys",
           f"SELECT * FROM main.{table} WHERE {key} IN (SELECT k FROM _keys)")
    con.execute("DROP TABLE _keys")


def apply_keyed_diff(con: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    """Rows of _publish.table that differ from main.table (in any column) are replaced by main's, by key."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _gone AS SELECT DISTINCT {key} FROM
                    (SELECT * FROM _publish.{table} EXCEPT ALL SELECT * FROM main.{table})""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _come AS
                    SELECT * FROM main.{table} EXCEPT ALL SELECT * FROM _publish.{table}""")
    splice(con, f"_publish.{table}", key, f"SELECT {key} FROM _gone", "SELECT * FROM _come")
    con.execute("DROP TABLE _gone")
    con.execute("DROP TABLE _come")


def build_incremental(con: duckdb.DuckDBPyConnection, target: Path, ctx: PublishContext, steps: dict[str, float],
                      warnings: list[str], base_copy: Path | None = None) -> tuple[dict[str, int], dict]:
    """Yesterday's published file plus tonight's deltas; raises Diverged if it does not add up.
    base_copy: a copy of the published file made ahead (BaseCopy.take()), moved into place."""
    clock = time.monotonic()

    def step(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        steps[name] = steps.get(name, 0.0) + now - clock
        clock = now

    night = ctx.night
    # A copy, never a link: the kept versions are hard links to the published file, which never changes.
    if base_copy is not None:
        os.replace(base_copy, target)
    else:
        copy_file(ctx.home.published_db, target)
    step("copy")
    attach(con, target, "_publish")
    try:
        resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED, "main")
        rewritten = []
        for table in contracts.PUBLISHED_TABLES:
            name = table.name
            if table.delta == "by_resident":
                splice(con, f"_publish.{name}", "resident_id", resurvived,
                       f"SELECT * FROM main.{name} WHERE resident_id IN ({resurvived})")
            elif table.delta == "by_key":
                apply_by_keys(con, name, table.key, delta_keys(con, name, night))
                if checksum(con, "_publish", name) != checksum(con, "main", name):
                    note = f"{name}: tonight's keys missed a changed row; diffed in full"
                    log.warning(note)
                    warnings.append(f"incremental publish: {note}")
                    apply_keyed_diff(con, name, table.key)
            elif table.delta == "by_run":   # appended per run; a rerun of this run replaces its own
                splice(con, f"_publish.{name}", "run_id", f"SELECT {quote_literal(night.run_id)}",
                       f"SELECT * FROM main.{name} WHERE run_id = {quote_literal(night.run_id)}")
            else:
                rewritten.append(name)
                continue
            step(name)
        for name in rewritten:
            con.execute(f"DROP TABLE _publish.{name}")
            con.execute(f"CREATE TABLE _publish.{name} AS SELECT * FROM main.{name}")
        mark_published(con, night.run_id)
        step("small tables")
        expected = {t: con.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in PUBLISHED}
    finally:
        con.execute("DETACH _publish")
    counts, written = finish_file(target, ctx)
    step("checkpoint")
    if counts != expected:
        raise Diverged("incremental registry does not add up to the run database: " + ", ".join(
            f"{t} {counts[t]} rows, expected {expected[t]}" for t in counts if counts[t] != expected[t]))
    return counts, written


def file_figures(path: Path, counts: dict[str, int], build: str, previous: dict) -> dict:
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
