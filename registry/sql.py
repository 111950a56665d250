"""The few questions every stage asks of DuckDB, answered once: how to quote a name or a value, whether
a table is there, which columns it has, and how to drop what a step left on a shared connection."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb


def quote_identifier(name: str) -> str:
    """A table or column name as SQL ("名字" and names with quotes or spaces alike)."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """A value as an SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def literal_list(values: Iterable[object]) -> str:
    """'a', 'b', ... for an IN list (NULL when empty, so that `x IN (NULL)` matches nothing)."""
    return ", ".join(quote_literal(v) for v in values) or "NULL"


def table_exists(con: duckdb.DuckDBPyConnection, name: str, database: str | None = None) -> bool:
    """Whether an unqualified `name` reaches a table or view on this connection: one of the current
    database's main schema, or one of the connection's temporaries. Attached databases do not count,
    unless one is named (`database`: then its main schema only)."""
    if database is not None:
        return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
                           "AND table_catalog = ? AND table_schema = 'main'", [name, database]).fetchall()[0][0] > 0
    return con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND ((table_catalog = current_database() AND table_schema = current_schema()) OR table_catalog = 'temp')",
        [name]).fetchall()[0][0] > 0


def column_types(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> list[tuple[str, str]]:
    """(column, type) of a table of the current database (or of an attached `database`), in order."""
    return con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
                       "AND database_name = coalesce(?, current_database()) AND schema_name = 'main' "
                       "ORDER BY column_index", [table, database]).fetchall()


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The column names of a table of the current database, in order ([] if there is none)."""
    return [c for c, _ in column_types(con, table)]


def drop_temporaries(con: duckdb.DuckDBPyConnection, prefix: str = "") -> None:
    """Drop the connection's temp tables and views (registered frames too) whose names start with
    `prefix` (all of them by default): a connection shared by several steps must not carry one
    step's scratch into the next, nor keep its memory."""
    for kind, name in con.execute(
            """SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, ?)
               UNION ALL
               SELECT 'VIEW', view_name FROM duckdb_views()
               WHERE temporary AND NOT internal AND starts_with(view_name, ?)""", [prefix, prefix]).fetchall():
        con.execute(f"DROP {kind} IF EXISTS temp.main.{quote_identifier(name)}")
