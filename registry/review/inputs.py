"""What the review items are built from: the whole tables on a full build, or the slice of them that
tonight's affected residents need (registry.review.affected), with the crosswalk of the same slice in
temp table `_rq_xw`. Also the record card every item shows, and the identity groups two kinds share."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from registry.sql import literal_list, table_exists

# Fields of a record shown in evidence, in display order (those the records table has).
RECORD_CARD_FIELDS: tuple[str, ...] = (
    "record_uid", "department", "source_record_id", "name_raw", "name", "name_pinyin", "former_name", "sex",
    "birth_date", "birth_date_raw", "id_number_raw", "id_number", "id_number_form", "phone", "ethnicity",
    "hukou_address", "current_address", "household_id", "relation_to_head", "family_role", "person_status",
    "marital_status", "assistance_kind", "employment_status", "employer",
)
# Other record columns the items read (identity groups, hashes, places).
RECORD_INPUT_FIELDS: tuple[str, ...] = (
    "record_hash", "id_number_valid", "current_street", "current_community", "hukou_street", "hukou_community",
    "id_birth_date", "birth_disagrees_id", "sex_disagrees_id", "birth_year", "birth_month", "former_name_pinyin",
)
# The columns of every kind's item table.
ITEM_COLUMNS = "item_id, kind, priority, resident_id, summary, subject, evidence, evidence_hash"


@dataclass(frozen=True)
class Inputs:
    """The relations the item SQL reads: whole tables on a full build, the affected slice when splicing."""

    records: str = "records"
    links: str = "links"
    conflicts: str = "conflicts"
    lineage_scope: str = "true"   # a predicate on lineage `l`, the widest table: read only for the slice
    record_columns: frozenset[str] = field(default_factory=frozenset)


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Column names of a table or view, temporaries included."""
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def card_sql(alias: str, columns: frozenset[str] | set[str]) -> str:
    """JSON object of a record's displayed fields (JSON type, so it nests unquoted)."""
    fields = ", ".join(f"{c} := {alias}.{c}" for c in RECORD_CARD_FIELDS if c in columns)
    return f"to_json(struct_pack({fields}))"


def link_decisions_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The officers' link decisions (record_uid_l, record_uid_r, same); none when not loaded."""
    if table_exists(con, "link_decisions"):
        return "SELECT record_uid_l, record_uid_r, same FROM link_decisions"
    return ("SELECT CAST(NULL AS VARCHAR) AS record_uid_l, CAST(NULL AS VARCHAR) AS record_uid_r, "
            "CAST(NULL AS BOOLEAN) AS same LIMIT 0")


def in_sql(con: duckdb.DuckDBPyConnection, column: str, table: str, key: str, max_listed: int = 2000) -> str:
    """`column IN (the keys of table)`: a literal list while short, which DuckDB filters inside the scan of a
    big table instead of probing a hash table with every row."""
    keys = [k for (k,) in con.execute(f"SELECT DISTINCT {key} FROM {table} WHERE {key} IS NOT NULL "
                                      f"ORDER BY 1 LIMIT {max_listed + 1}").fetchall()]
    if not keys:
        return "false"
    if len(keys) > max_listed:
        return f"{column} IN (SELECT {key} FROM {table})"
    return f"{column} IN ({literal_list(keys)})"


def identity_groups(con: duckdb.DuckDBPyConnection, src: Inputs) -> None:
    """Temp table `_rq_idgroups`: per valid identity number and resident, its records (read by the
    identity conflicts, and by the conflicts, which leave two valid numbers in one resident to them).
    Numbers contradicting their holder are left out (_holder_agrees)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_idgroups AS
        SELECT r.id_number, x.resident_id, min(r.record_uid) AS rep, list(r.record_uid ORDER BY r.record_uid) AS recs,
               string_agg(r.record_uid || ':' || coalesce(r.record_hash, ''), ',' ORDER BY r.record_uid) AS hashes
        FROM {src.records} r JOIN _rq_xw x USING (record_uid)
        WHERE r.id_number_valid AND r.id_number IS NOT NULL {_holder_agrees('r', src.record_columns)}
        GROUP BY r.id_number, x.resident_id""")


def _holder_agrees(alias: str, columns: frozenset[str] | set[str]) -> str:
    """A number that contradicts its own record's sex or birth date is not that person's (a dependant
    filed under the head's number): it says nothing about who holds which number."""
    return "".join(f" AND NOT coalesce({alias}.{c}, false)" for c in ("birth_disagrees_id", "sex_disagrees_id")
                   if c in columns)
