"""Change detection between the department's current snapshot and the records already standardised."""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.departments import RECORD_HASH_COLUMN, RECORD_KEYS, record_hash_sql
from registry.sql import columns, literal_list
from registry.standardise.records import q, raw_table, record_uid_sql

CHANGES_DDL = contracts.RECORD_CHANGES.ddl(replace=True)


def raw_hash_sql(con: duckdb.DuckDBPyConnection, department: str) -> str:
    """The raw rows' record hash: the column the loader stored, or computed (a snapshot loaded before
    the column existed, or built by hand)."""
    stored = RECORD_HASH_COLUMN in columns(con, raw_table(department))
    return RECORD_HASH_COLUMN if stored else record_hash_sql(department)


def detect_changes(con: duckdb.DuckDBPyConnection, departments: list[str]) -> None:
    """Rewrite `record_changes` for the given departments: new / changed / removed against the existing
    `records` (by record_hash). Record keys are unique in a raw snapshot (ingestion quarantines duplicates)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _raw_hashes (record_uid VARCHAR, department VARCHAR, "
                "record_hash VARCHAR)")
    for d in departments:
        key = q(RECORD_KEYS[d])
        con.execute(f"""INSERT INTO _raw_hashes
            SELECT {record_uid_sql(d)}, '{d}', {raw_hash_sql(con, d)} FROM {raw_table(d)}
            WHERE {key} IS NOT NULL""")
    con.execute(CHANGES_DDL)
    in_scope = literal_list(departments)
    con.execute(f"""INSERT INTO record_changes
        SELECT coalesce(h.record_uid, r.record_uid), coalesce(h.department, r.department),
               CASE WHEN r.record_uid IS NULL THEN 'new' WHEN h.record_uid IS NULL THEN 'removed'
                    ELSE 'changed' END
        FROM _raw_hashes h
        FULL OUTER JOIN (SELECT record_uid, department, record_hash FROM records
                         WHERE department IN ({in_scope})) r ON r.record_uid = h.record_uid
        WHERE h.record_hash IS DISTINCT FROM r.record_hash""")


def changed_raw_rows_sql(department: str, hash_sql: str | None = None) -> str:
    """A SELECT of the rows of raw_<department> that are new or changed against the standardised `records`
    (run before tonight's standardisation): what tonight's delivery brings that was not validated before.
    hash_sql: raw_hash_sql() of the snapshot (default: computed)."""
    return f"""SELECT * EXCLUDE (_uid, _hash) FROM (
            SELECT *, {record_uid_sql(department)} AS _uid, {hash_sql or record_hash_sql(department)} AS _hash
            FROM {raw_table(department)}) t
        WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.record_uid = t._uid AND r.record_hash = t._hash)"""
