"""Standardisation: the four departments' raw snapshots -> one canonical record shape, `records`.

    summary = standardise(con, night)   # incremental night: only new and changed records are standardised;
                                        # full night: `records` rebuilt from the raw snapshots

Writes `records` (registry.contracts.RECORDS), the night's change set (`record_changes`, the plan's
`changes`) and appends value-level notes to `quarantine`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb

from registry.departments import DEPARTMENTS
from registry.incremental import splice
from registry.night import NightPlan
from registry.standardise import addresses, names, notes, records
from registry.sql import literal_list, table_exists
from registry.standardise.changes import CHANGES_DDL, detect_changes, raw_hash_sql

__all__ = ["standardise", "StandardiseSummary", "DepartmentSummary"]


@dataclass
class DepartmentSummary:
    standardised: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    value_notes: dict[str, int] = field(default_factory=dict)  # reason -> count


@dataclass
class StandardiseSummary:
    full: bool
    departments: dict[str, DepartmentSummary]
    skipped: list[str]  # departments without a raw table: their records are left as they were
    seconds: float = 0.0
    distinct_names: int = 0
    distinct_addresses: int = 0

    @property
    def standardised(self) -> int:
        return sum(d.standardised for d in self.departments.values())

    def as_dict(self) -> dict:
        return {"full": self.full, "skipped": self.skipped, "seconds": round(self.seconds, 2),
                "departments": {k: vars(v) for k, v in self.departments.items()}}


def standardise(con: duckdb.DuckDBPyConnection, night: NightPlan) -> StandardiseSummary:
    started = time.perf_counter()
    present = [d for d in DEPARTMENTS if table_exists(con, records.raw_table(d))]
    skipped = [d for d in DEPARTMENTS if d not in present]
    full = not night.incremental or not table_exists(con, "records")

    summary = StandardiseSummary(full=full, departments={d: DepartmentSummary() for d in present},
                                 skipped=skipped)
    if not present:
        con.execute(CHANGES_DDL)
        summary.seconds = time.perf_counter() - started
        return summary

    if full:
        con.execute("CREATE OR REPLACE TEMP TABLE _std_input AS "
                    + " UNION ALL ".join(records.input_select(d, hash_sql=raw_hash_sql(con, d)) for d in present))
        con.execute(CHANGES_DDL)
        con.execute("INSERT INTO record_changes SELECT record_uid, department, 'new' FROM _std_input")
    else:
        detect_changes(con, present)
        con.execute("CREATE OR REPLACE TEMP TABLE _std_input AS " + " UNION ALL ".join(
            records.input_select(d, f"{records.record_uid_sql(d)} IN ({night.changes.uids_sql('new', 'changed')})",
                                 raw_hash_sql(con, d)) for d in present))

    con.execute("CREATE OR REPLACE TEMP TABLE _std_names AS SELECT name_raw FROM _std_input "
                "UNION SELECT former_name_raw FROM _std_input")
    summary.distinct_names = names.build_name_lookup(con, "_std_names", "_name_lookup")
    con.execute("CREATE OR REPLACE TEMP TABLE _std_addresses AS SELECT hukou_address_raw AS address_raw "
                "FROM _std_input UNION SELECT current_address_raw FROM _std_input")
    summary.distinct_addresses = addresses.build_address_lookup(con, "_std_addresses", "_address_lookup")

    con.execute("CREATE OR REPLACE TEMP TABLE _std_stage AS " + records.stage4_select(
        "(" + records.stage3_select("(" + records.stage2_select(
            "(" + records.stage_select("_std_input") + ")") + ")") + ")"))
    standardised = records.with_disagreements(
        records.records_select("_std_stage", "_name_lookup", "_address_lookup"))

    if full:
        kept = ""
        if skipped and table_exists(con, "records"):
            # A department without a raw table keeps its earlier records even on a rebuild.
            con.execute("CREATE OR REPLACE TEMP TABLE _std_kept AS "
                        f"SELECT * FROM records WHERE department IN ({literal_list(skipped)})")
            kept = "UNION ALL BY NAME SELECT * FROM _std_kept"
        con.execute(f"CREATE OR REPLACE TABLE records AS {standardised} {kept}")
        value_notes = notes.append_value_notes(con, "_std_stage", "records")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _std_records AS {standardised}")
        value_notes = notes.append_value_notes(con, "_std_stage", "_std_records")
        splice(con, "records", "record_uid", night.changes.uids_sql("changed", "removed"), "SELECT * FROM _std_records")
        _refresh_provenance(con, present)

    for d, change, n in con.execute("SELECT department, change, count(*) FROM record_changes GROUP BY ALL").fetchall():
        setattr(summary.departments[d], change, n)
    for d, n in con.execute("SELECT department, count(*) FROM _std_stage GROUP BY ALL").fetchall():
        summary.departments[d].standardised = n
    for (d, reason), n in value_notes.items():
        summary.departments[d].value_notes[reason] = n
    for t in ("_std_input", "_std_names", "_std_addresses", "_std_stage", "_std_records", "_name_lookup",
              "_address_lookup", "_raw_hashes", "_std_kept", "_value_notes", "_name_clean", "_name_simp",
              "_name_simplified", "_name_pinyin", "_surname_readings",
              "_gaz_variant", "_gaz_district", "_gaz_district_short", "_gaz_city"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    summary.seconds = time.perf_counter() - started
    return summary


def _refresh_provenance(con: duckdb.DuckDBPyConnection, departments: list[str]) -> None:
    """Unchanged records keep their standardised values (and their value notes) but point at the
    latest delivery's file and line."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _moved (record_uid VARCHAR, department VARCHAR,
        source_record_id VARCHAR, old_file VARCHAR, old_extract_date DATE, new_file VARCHAR, new_line BIGINT,
        new_extract_date DATE)""")
    for d in departments:
        con.execute(f"""INSERT INTO _moved
            SELECT records.record_uid, records.department, records.source_record_id, records.source_file,
                   records.extract_date, r._source_file, CAST(r._source_line AS BIGINT), CAST(r._extract_date AS DATE)
            FROM records JOIN {records.raw_table(d)} r ON records.record_uid = {records.record_uid_sql(d, "r")}
            WHERE records.department = '{d}'
              AND (records.extract_date IS DISTINCT FROM CAST(r._extract_date AS DATE)
                   OR records.source_line IS DISTINCT FROM CAST(r._source_line AS BIGINT)
                   OR records.source_file IS DISTINCT FROM r._source_file)""")
    # Records standardised tonight already carry tonight's provenance and notes.
    notes.carry_forward_value_notes(con, "(SELECT * FROM _moved WHERE old_file IS DISTINCT FROM new_file)")
    con.execute("""UPDATE records SET extract_date = m.new_extract_date, source_file = m.new_file,
                                      source_line = m.new_line
                   FROM _moved m WHERE records.record_uid = m.record_uid""")
    con.execute("DROP TABLE _moved")
