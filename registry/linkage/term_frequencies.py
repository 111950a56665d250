"""Term frequencies from the night's data: how common each name (and each name's sound) is tonight.

Splink adjusts a name match by how common the name is: 张伟 agreeing says less than 欧阳娜娜 agreeing,
and how common a name is depends on the district, not on the night the model was trained on. So the
frequencies are counted over tonight's `records`. Each is rounded down to a power of two (the count,
and the total it is divided by): a factor of two is all the precision the adjustment needs, and a name
whose count moves by one tonight then keeps its frequency, except when the count crosses a power of
two. An incremental night rescores the records whose name's rounded frequency changed
(`changed_records_sql`), so that it scores every pair as a full night would.
"""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.sql import table_exists

TF_COLUMNS = ("name", "name_pinyin")
STATE_TABLE = contracts.LINKAGE_TERM_FREQUENCIES.name


def _table(column: str) -> str:
    return f"linkage_tf_{column}"


def _frequencies_sql(column: str, source: str = "records") -> str:
    return f"""
        WITH c AS (SELECT {column} AS value, count(*) AS n FROM {source} WHERE {column} IS NOT NULL GROUP BY 1),
             t AS (SELECT sum(n) AS total FROM c)
        SELECT value AS {column}, pow(2, floor(log2(n))) / pow(2, floor(log2(total))) AS tf_{column}
        FROM c, t"""


def compute(con: duckdb.DuckDBPyConnection, source: str = "records") -> dict[str, str]:
    """Temp tables linkage_tf_<column>(<column>, tf_<column>) of tonight's records; returns column -> table."""
    out = {}
    for column in TF_COLUMNS:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_table(column)} AS {_frequencies_sql(column, source)}")
        out[column] = _table(column)
    return out


def register(engine, db, linker, tables: dict[str, str]) -> None:
    """Give the linker tonight's frequencies (tables of `compute`) on the engine it runs on."""
    for column, table in tables.items():
        linker.table_management.register_term_frequency_lookup(engine.register(db, table), column)


def changed_records_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """SQL selecting the record_uid of records whose name or pinyin has another frequency tonight than
    the one the standing links were scored with; None when there is no standing basis (score all)."""
    if not table_exists(con, STATE_TABLE):
        return None
    parts = []
    for column in TF_COLUMNS:
        diff = (f"(SELECT {column} AS value, tf_{column} AS tf FROM {_table(column)} EXCEPT "
                f"SELECT value, tf FROM {STATE_TABLE} WHERE column_name = '{column}') UNION "
                f"(SELECT value, tf FROM {STATE_TABLE} WHERE column_name = '{column}' EXCEPT "
                f"SELECT {column}, tf_{column} FROM {_table(column)})")
        parts.append(f"SELECT record_uid FROM records WHERE {column} IN (SELECT value FROM ({diff}))")
    return " UNION ".join(parts)


def store(con: duckdb.DuckDBPyConnection) -> None:
    """Keep tonight's frequencies as the basis of the standing links."""
    rows = " UNION ALL ".join(f"SELECT '{c}' AS column_name, {c} AS value, tf_{c} AS tf FROM {_table(c)}"
                              for c in TF_COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE {STATE_TABLE} AS {rows}")
