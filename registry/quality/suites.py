"""The suites of the run database's tables (the Dagster asset checks call these): each department's
delivery suite on its raw snapshot, and the records suite on `records`. How a suite is scoped to
tonight's rows is registry.quality.scoped's one policy.

Only the columns a suite looks at are read into pandas: GX on a large table is slow enough
without carrying twenty columns it never reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from registry import contracts
from registry.quality import ValidationOutcome
from registry.quality.scoped import explain_failures, validate_table
from registry.sql import columns, quote_identifier, table_exists

if TYPE_CHECKING:
    from registry.night import NightPlan

RECORDS_SUITE = "standardised_records"
# The delivery suites check the identity number as the standardiser reads it (one clean-up rule).
ID_NORMALISED = "_id_number_normalised"


def department_suite(department: str) -> str:
    return f"{department}_delivery"


def normalised_id_sql(column: str) -> str:
    """An identity number cleaned up exactly as registry.standardise cleans it up before reading it."""
    from registry.standardise.id_numbers import clean_sql

    return clean_sql(quote_identifier(column))


def validate_department(con: duckdb.DuckDBPyConnection, department: str,
                        night: NightPlan | None = None) -> ValidationOutcome:
    """The delivery suite on raw_<department>: the whole snapshot, or on an incremental night the rows
    that are new or changed since the last processed snapshot (registry.quality.scoped)."""
    from registry.standardise.changes import changed_raw_rows_sql, raw_hash_sql

    spec = contracts.department(department)
    table = contracts.raw_table(department)
    derived = ({ID_NORMALISED: normalised_id_sql(spec.id_number_column)}
               if spec.id_number_column in columns(con, table) else {})
    tonight = (changed_raw_rows_sql(department, raw_hash_sql(con, department))
               if night is not None and night.incremental and table_exists(con, "records") else None)
    outcome = validate_table(con, table, department_suite(department), tonight=tonight, key=spec.record_key,
                             derived=derived)
    if outcome.blocking_failures:
        present = set(columns(con, table))
        files = (", ".join(f for f, in con.execute(f"SELECT DISTINCT _source_file FROM {table} ORDER BY 1").fetchall())
                 if "_source_file" in present else "")
        explain_failures(con, outcome, table, f"{department} ({files})" if files else department, tonight=tonight,
                         derived=derived, shown={ID_NORMALISED: spec.id_number_column},
                         line_sql="'line ' || _source_line" if "_source_line" in present else None)
    return outcome


def validate_records(con: duckdb.DuckDBPyConnection, night: NightPlan | None = None, *,
                     table: str = "records") -> ValidationOutcome:
    """The canonical-record suite on `records` (registry.contracts.RECORDS); on an incremental night the
    records standardised tonight (new or changed), by registry.quality.scoped's policy."""
    tonight = (f"SELECT r.* FROM {table} r JOIN {night.changes.table} c USING (record_uid) "
               "WHERE c.change IN ('new', 'changed')") if night is not None and night.incremental else None
    outcome = validate_table(con, table, RECORDS_SUITE, tonight=tonight, key="record_uid")
    if outcome.blocking_failures:
        explain_failures(con, outcome, table, "standardised records", tonight=tonight,
                         line_sql="department || ' ' || source_file || ' line ' || source_line",
                         order_sql="department, source_line")
    return outcome
