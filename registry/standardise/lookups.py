"""Small lookup tables built in Python (distinct characters, gazetteer) handed to DuckDB in one go."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def temp_table(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """CREATE OR REPLACE TEMP TABLE name of VARCHAR columns from rows (one Arrow batch, not row inserts)."""
    data = pa.table({c: pa.array([r[i] for r in rows], type=pa.string()) for i, c in enumerate(columns)})
    con.register("_lookup_rows", data)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _lookup_rows")
    finally:
        con.unregister("_lookup_rows")


# CJK Unified Ideographs: a character here is looked up by position in a LIST (O(1)), anything else
# (latin runs, rare extension characters) in a MAP, whose lookup is a scan.
CJK_FIRST, CJK_LAST = 0x4E00, 0x9FFF


def char_lookup_tables_sql(table: str, key: str, value: str, name: str) -> str:
    """Two scalar columns `{name}_arr` (LIST by code point) and `{name}_map` (MAP for the rest), from table."""
    size = CJK_LAST - CJK_FIRST + 1
    is_cjk = f"(length({key}) = 1 AND unicode({key}) BETWEEN {CJK_FIRST} AND {CJK_LAST})"
    return (f"(SELECT list(t.{value} ORDER BY r.i) FROM range({size}) r(i) LEFT JOIN "
            f"(SELECT * FROM {table} WHERE {is_cjk}) t ON unicode(t.{key}) = {CJK_FIRST} + r.i) AS {name}_arr, "
            f"(SELECT map(list({key}), list({value})) FROM {table} WHERE NOT {is_cjk}) AS {name}_map")


def char_lookup_sql(token: str, name: str) -> str:
    """The value of one token (a character or a latin run) from the columns of char_lookup_tables_sql."""
    return (f"CASE WHEN length({token}) = 1 AND unicode({token}) BETWEEN {CJK_FIRST} AND {CJK_LAST} "
            f"THEN {name}_arr[unicode({token}) - {CJK_FIRST - 1}] ELSE {name}_map[{token}] END")
