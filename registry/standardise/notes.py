"""Value-level quarantine notes: a value the department delivered that could not be standardised.

The record is kept with the standardised value NULL (or, for a failing check character, kept and flagged);
the note names the delivery file, line, record key, the department's own field name and the raw value.
"""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.standardise.records import SOURCE_FIELDS
from registry.standardise.text import has_controls_sql

QUARANTINE_DDL = contracts.QUARANTINE.ddl()

_AS_NUMBER = "regexp_full_match(trim(s.id_number_raw), '[0-9](\\.[0-9]+)?[eE]\\+?[0-9]+')"

# (input column, reason, condition over s = staged input and r = standardised record)
CHECKS: tuple[tuple[str, str, str], ...] = (
    ("id_number_raw", "id_number_malformed", f"r.id_number_form = 'malformed' AND NOT {_AS_NUMBER}"),
    # typed into a spreadsheet as a number: only ~16 significant digits kept, the true number is lost
    ("id_number_raw", "id_number_lost_digits", f"r.id_number_form = 'malformed' AND {_AS_NUMBER}"),
    ("id_number_raw", "id_number_bad_check", "r.id_number_form = 'bad_check'"),
    ("id_number_raw", "id_number_impossible_birth_date",
     "r.id_number IS NOT NULL AND r.id_number_form <> 'bad_check' AND r.id_birth_date IS NULL"),
    ("id_number_raw", "id_number_implausible",
     "r.id_number_form IN ('valid', 'converted15') AND r.id_birth_date IS NOT NULL AND NOT r.id_number_valid"),
    ("birth_date_raw", "impossible_date", "s.birth_status = 'impossible'"),
    ("birth_date_raw", "unparseable_date", "s.birth_status = 'unparseable'"),
    # a real date, but before 1900 or after the extract date: nobody alive tonight was born then
    ("birth_date_raw", "implausible_birth_date", "s.birth_status = 'implausible'"),
    # removed from the standardised value (registry.standardise.text); the raw value keeps them
    ("name_raw", "control_characters_removed", has_controls_sql("s.name_raw")),
    ("former_name_raw", "control_characters_removed", has_controls_sql("s.former_name_raw")),
    ("hukou_address_raw", "control_characters_removed", has_controls_sql("s.hukou_address_raw")),
    ("current_address_raw", "control_characters_removed", has_controls_sql("s.current_address_raw")),
    ("status_change_date_raw", "unusable_date",
     "s.status_change_date_raw IS NOT NULL AND r.status_change_date IS NULL"),
    ("approval_date_raw", "unusable_date", "s.approval_date_raw IS NOT NULL AND r.approval_date IS NULL"),
    ("unemployment_date_raw", "unusable_date",
     "s.unemployment_date_raw IS NOT NULL AND r.unemployment_date IS NULL"),
    ("record_updated_at_raw", "unusable_timestamp",
     "s.record_updated_at_raw IS NOT NULL AND r.record_updated_at IS NULL "
     "AND s.department NOT IN ('public_security', 'civil_affairs')"),  # there it is the date noted above
    ("phone_raw", "unusable_phone", "nullif(trim(s.phone_raw), '') IS NOT NULL AND r.phone IS NULL"),
    ("sex_raw", "unknown_sex_value",
     "nullif(trim(s.sex_raw), '') IS NOT NULL AND r.sex IS NULL AND trim(s.sex_raw) NOT IN ('0', '9', '未知', '未说明')"),
    ("disability_cert", "malformed_disability_cert",
     "s.disability_cert IS NOT NULL AND r.disability_id_number IS NULL"),
    ("monthly_amount_raw", "malformed_amount", "s.monthly_amount_raw IS NOT NULL AND r.monthly_amount IS NULL"),
    ("children_count_raw", "malformed_count", "s.children_count_raw IS NOT NULL AND r.children_count IS NULL"),
)


def _field_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{d}' THEN '{f[column]}'" for d, f in SOURCE_FIELDS.items() if column in f)
    return f"CASE s.department {whens} END" if whens else "NULL"


VALUE_REASONS: tuple[str, ...] = tuple(dict.fromkeys(reason for _, reason, _ in CHECKS))
_REASON_LIST = ", ".join(f"'{r}'" for r in VALUE_REASONS)


def append_value_notes(con: duckdb.DuckDBPyConnection, staged: str, standardised: str) -> dict[tuple[str, str], int]:
    """Append one quarantine row per unusable value of the rows in `standardised`;
    returns (department, reason) -> number of notes.

    A record's notes for a file are written once: standardising it again from the same file (a rerun,
    a rebuild) replaces them instead of adding a second copy."""
    con.execute(QUARANTINE_DDL)
    con.execute(f"""DELETE FROM quarantine WHERE reason IN ({_REASON_LIST})
                    AND (department, file, record_key) IN
                        (SELECT department, source_file, source_record_id FROM {staged})""")
    selects = [
        f"""SELECT s.extract_date, s.department, s.source_file AS file, s.source_line AS line,
                   s.source_record_id AS record_key, {_field_sql(col)} AS field,
                   CAST(s.{col} AS VARCHAR) AS value, '{reason}' AS reason
            FROM {staged} s JOIN {standardised} r USING (record_uid) WHERE {cond}"""
        for col, reason, cond in CHECKS
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _value_notes AS " + " UNION ALL ".join(selects))
    con.execute("INSERT INTO quarantine (extract_date, department, file, line, record_key, field, value, reason) "
                "SELECT CAST(extract_date AS DATE), department, file, line, record_key, field, value, reason "
                "FROM _value_notes")
    rows = con.execute("SELECT department, reason, count(*) FROM _value_notes GROUP BY ALL").fetchall()
    return {(d, r): n for d, r, n in rows}


def carry_forward_value_notes(con: duckdb.DuckDBPyConnection, unchanged: str) -> int:
    """Notes of records that did not change tonight, repeated for tonight's delivery.

    An incremental night standardises only new and changed records; an unchanged record's unusable
    value is still in tonight's file, so its note is copied from the file the record was last
    standardised from to the file and line it now comes from — what a rebuild would write.
    `unchanged` holds (record_uid, department, source_record_id, old_file, old_extract_date,
    new_file, new_line, new_extract_date) for the unchanged records whose delivery moved on."""
    con.execute(QUARANTINE_DDL)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _carried_notes AS
        SELECT u.new_extract_date AS extract_date, q.department, u.new_file AS file, u.new_line AS line,
               q.record_key, q.field, q.value, q.reason
        FROM {unchanged} u JOIN quarantine q
          ON q.department = u.department AND q.record_key = u.source_record_id AND q.file = u.old_file
         AND q.extract_date = u.old_extract_date
        WHERE q.reason IN ({_REASON_LIST})""")
    con.execute(f"""DELETE FROM quarantine WHERE reason IN ({_REASON_LIST})
                    AND (department, file, record_key) IN (SELECT department, file, record_key FROM _carried_notes)""")
    con.execute("INSERT INTO quarantine SELECT * FROM _carried_notes")
    n = con.execute("SELECT count(*) FROM _carried_notes").fetchall()[0][0]
    con.execute("DROP TABLE _carried_notes")
    return n
