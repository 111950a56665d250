"""Raw department tables built directly in an in-memory DuckDB, shaped as registry/departments writes them."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from registry import contracts

EXTRACT_DATE = "2026-11-20"


def load_raw(con: duckdb.DuckDBPyConnection, department: str, rows: list[dict], extract_date: str = EXTRACT_DATE):
    """(Re)create raw_<department> with the department's columns (all VARCHAR) and the provenance columns.
    Rows give only the columns they need; the record key defaults to a running number."""
    spec = contracts.department(department)
    cols, key, file = spec.columns, spec.record_key, spec.file_name(extract_date)
    # The raw snapshot's contract, less the record hash: the standardiser computes it when it is absent.
    raw = contracts.raw_snapshot(department)
    con.execute(contracts.Table(raw.name, raw.columns[:-1]).ddl(replace=True))
    values = []
    for i, row in enumerate(rows):
        unknown = set(row) - set(cols)
        assert not unknown, unknown
        full = {c: row.get(c) for c in cols}
        full[key] = full[key] or spec.record_id(i + 1)
        values.append([full[c] for c in cols] + [file, i + 2, dt.date.fromisoformat(extract_date)])
    if values:
        placeholders = ", ".join("?" for _ in range(len(cols) + 3))
        con.executemany(f"INSERT INTO raw_{department} VALUES ({placeholders})", values)


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()
