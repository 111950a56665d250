"""Raw department tables built directly in an in-memory DuckDB, shaped as registry/departments writes them."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from registry.departments import COLUMNS, FILE_PATTERNS, RECORD_KEYS

EXTRACT_DATE = "2026-11-20"


def load_raw(con: duckdb.DuckDBPyConnection, department: str, rows: list[dict], extract_date: str = EXTRACT_DATE):
    """(Re)create raw_<department> with the department's columns (all VARCHAR) and the provenance columns.
    Rows give only the columns they need; the record key defaults to a running number."""
    cols = COLUMNS[department]
    key = RECORD_KEYS[department]
    prefix = {"public_security": "GA", "family_planning": "JS", "civil_affairs": "MZ", "labour": "LD"}[department]
    file = FILE_PATTERNS[department].format(ymd=extract_date.replace("-", ""))
    col_ddl = ", ".join(f'"{c}" VARCHAR' for c in cols)
    con.execute(f"CREATE OR REPLACE TABLE raw_{department} ({col_ddl}, _source_file VARCHAR, "
                f"_source_line BIGINT, _extract_date DATE)")
    values = []
    for i, row in enumerate(rows):
        unknown = set(row) - set(cols)
        assert not unknown, unknown
        full = {c: row.get(c) for c in cols}
        full[key] = full[key] or f"{prefix}{i + 1:010d}"
        values.append([full[c] for c in cols] + [file, i + 2, dt.date.fromisoformat(extract_date)])
    if values:
        placeholders = ", ".join("?" for _ in range(len(cols) + 3))
        con.executemany(f"INSERT INTO raw_{department} VALUES ({placeholders})", values)


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()
