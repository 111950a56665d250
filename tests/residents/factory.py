"""Build the residents stage's inputs (records, links, clusters) directly in DuckDB for tests.

The canonical columns of registry.contracts; tests give the few values they care about.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from registry import contracts

RECORDS_DDL = contracts.RECORDS.ddl(replace=True)

PREFIX = {d.name: d.key_prefix for d in contracts.DEPARTMENT_SPECS.values()}


def record(department: str, key: int, **values) -> dict:
    """One record row; `key` becomes e.g. GA0000000001. Birth fields are derived from birth_date
    ('YYYY-MM-DD' or 'YYYY-MM')."""
    sid = f"{PREFIX[department]}{key:010d}"
    row = {"record_uid": f"{department}:{sid}", "department": department, "source_record_id": sid,
           "extract_date": "2026-11-20"}
    birth = values.pop("birth", None)
    if birth:
        parts = [int(p) for p in birth.split("-")]
        row.update(birth_year=parts[0], birth_month=parts[1])
        if len(parts) == 3:
            row.update(birth_date=birth, birth_day=parts[2], birth_date_precision="day")
        else:
            row.update(birth_date_precision="month")
    if values.get("id_number") is not None and "id_number_valid" not in values:
        values["id_number_valid"] = True
    row.update(values)
    return row


def load_records(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    con.execute(RECORDS_DDL)
    cols = [c for c, in con.execute("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_name = 'records' ORDER BY ordinal_position").fetchall()]
    df = pd.DataFrame(rows).reindex(columns=cols).astype(object)
    df = df.where(pd.notna(df), None)
    con.register("_records_in", df)
    con.execute("INSERT INTO records BY NAME SELECT * FROM _records_in")
    con.unregister("_records_in")


def load_clusters(con: duckdb.DuckDBPyConnection, groups: list[list[str]]) -> None:
    """clusters from groups of record_uids (every record must be in one group)."""
    rows = []
    for g in groups:
        cid = min(g)
        rows += [(uid, cid, len(g)) for uid in g]
    con.execute(contracts.CLUSTERS.ddl(replace=True))
    if rows:
        con.executemany("INSERT INTO clusters VALUES (?, ?, ?)", rows)


def load_links(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str, float]]) -> None:
    con.execute(contracts.LINKS.ddl(replace=True))
    for a, b, p in pairs:
        l, r = sorted((a, b))
        con.execute("INSERT INTO links VALUES (?, ?, 0, ?, '[]')", [l, r, p])


def uid(department: str, key: int) -> str:
    return f"{department}:{PREFIX[department]}{key:010d}"
