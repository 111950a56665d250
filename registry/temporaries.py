"""Temp tables and views left on a DuckDB connection that outlives the step that made them."""

from __future__ import annotations

import duckdb


def drop_temporaries(con: duckdb.DuckDBPyConnection, prefix: str = "") -> None:
    """Drop the connection's temp tables and views (registered frames too) whose names start with
    `prefix` (all of them by default): a connection shared by several steps must not carry one
    step's scratch into the next, nor keep its memory."""
    for kind, name in con.execute(
            """SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, ?)
               UNION ALL
               SELECT 'VIEW', view_name FROM duckdb_views()
               WHERE temporary AND NOT internal AND starts_with(view_name, ?)""", [prefix, prefix]).fetchall():
        con.execute(f"DROP {kind} IF EXISTS temp.main.\"{name.replace(chr(34), chr(34) * 2)}\"")
