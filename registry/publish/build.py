"""The registry file built whole from the run database (a full build), and how every build is
finished: artifacts written, rows counted, checkpointed, flushed to disk."""

from __future__ import annotations

from pathlib import Path

import duckdb

from registry import contracts
from registry.errors import PublishError
from registry.publish.artifacts import ARTIFACTS
from registry.publish.context import PublishContext
from registry.run_state import RunState, fsync_path
from registry.settings import DatabaseSettings
from registry.sql import quote_literal, table_exists

PUBLISHED = tuple(t.name for t in contracts.PUBLISHED_TABLES)


def attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str, read_only: bool = False) -> None:
    con.execute(f"ATTACH {quote_literal(path)} AS {alias}" + (" (READ_ONLY)" if read_only else ""))


def mark_published(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The published copy says what it is: this run is published (the state's ledger is finalised
    by the run itself once publish returns)."""
    con.execute("UPDATE _publish.runs SET status = 'published', "
                "finished_at = coalesce(finished_at, CAST(now() AS TIMESTAMP)) "
                "WHERE run_id = ? AND status = 'running'", [run_id])


def build_full(con: duckdb.DuckDBPyConnection, target: Path, ctx: PublishContext) -> tuple[dict[str, int], dict]:
    """The whole registry, copied table by table from the run database into a new file. A table the
    run database lacks is published empty in its contract's shape, so that a reader can always query it."""
    attach(con, target, "_publish")
    try:
        for table in contracts.PUBLISHED_TABLES:
            if table.required or table_exists(con, table.name):
                con.execute(f"CREATE TABLE _publish.{table.name} AS SELECT * FROM main.{table.name}")
            else:
                con.execute(table.shape.ddl(f"_publish.{table.name}", constraints=False))
        mark_published(con, ctx.night.run_id)
    finally:
        con.execute("DETACH _publish")
    return finish_file(target, ctx)


def finish_file(target: Path, ctx: PublishContext) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Artifacts, row counts, checkpoint; no WAL may be left beside the file. Returns the counts per
    published table and the names each artifact wrote."""
    # A second database instance beside the run's, whose memory it keeps: a share of the limit.
    spill = RunState(ctx.home, ctx.night.run_id).spill_dir / "publish"
    pub = duckdb.connect(str(target), config=DatabaseSettings.load(ctx.home).config(spill, share=0.25))
    try:
        for (name,) in pub.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal "
                                   "AND database_name = current_database() AND schema_name = 'main'").fetchall():
            pub.execute(f'DROP VIEW "{name}"')   # an incremental build starts from yesterday's views
        written = {artifact.name: artifact.write(pub, ctx) for artifact in ARTIFACTS}
        counts = {t: pub.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in PUBLISHED}
        pub.execute("CHECKPOINT")
    finally:
        pub.close()
    if Path(str(target) + ".wal").exists():
        raise PublishError(f"{target}: write-ahead log left after close; not publishing a partial file")
    fsync_path(target)
    return counts, written
