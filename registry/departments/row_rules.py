"""The loader's row rules on a staged delivery: which rows are quarantined, which get a value note.

Quarantine rules (row-level: the row is NOT loaded):
  wrong_field_count / unparseable_row   CSV row that does not split into the header's fields (readers)
  invalid_json / not_a_json_object      JSON Lines line that is not a JSON object (readers; the rest loads)
  missing_record_key                    no record key
  oversized_value                       a value longer than MAX_VALUE_CHARS: no department field holds
                                        that much; such a line is junk, not a record
  duplicate_record_key                  key seen on an earlier line of the same delivery: the first
                                        occurrence is loaded, every later one quarantined (so the
                                        record stays present and no spurious "removed" appears)
Value-level note (the row IS loaded, as delivered):
  record_key_format                     key not <prefix> + 10 digits; still unique and stable, so usable

They run in the parsing workers (registry/departments/parsing.py) or in the loader, with one result.
"""

from __future__ import annotations

import duckdb

from registry.contracts import department as department_spec
from registry.departments.staging import Staged
from registry.sql import quote_identifier, quote_literal

# Reasons written by ingestion (the part before ':'); standardisation writes its own.
ROW_REASONS = ("wrong_field_count", "unparseable_row", "invalid_json", "not_a_json_object",
               "missing_record_key", "oversized_value", "duplicate_record_key")
# The longest value a department field can plausibly hold (addresses run to about a hundred characters).
MAX_VALUE_CHARS = 2000
NOTE_REASONS = ("record_key_format",)


def screen_rows(con: duckdb.DuckDBPyConnection, department: str, staged: Staged) -> Staged:
    """The row rules of the module docstring on a staged delivery: rows without a record key and every
    repeat of a key go to `staged.problems`; keys in an unexpected format get a value note in
    <table>_notes. Runs in the parsing worker (registry.departments.parsing) or here, with one result."""
    spec = department_spec(department)
    stage, key, field = staged.table, quote_identifier(spec.record_key), quote_literal(spec.record_key)
    con.execute(f"""
        INSERT INTO {staged.problems}
        SELECT _source_line, NULL, {field}, NULL, 'missing_record_key: the row has no ' || {field}
        FROM {stage} WHERE {key} IS NULL""")
    columns = spec.columns
    too_long = {c: f"length({quote_identifier(c)}) > {MAX_VALUE_CHARS}" for c in columns}
    con.execute(f"""
        INSERT INTO {staged.problems}
        SELECT _source_line, {key}, field, left(value, 200),
               'oversized_value: ' || field || ' holds ' || chars || ' characters (at most {MAX_VALUE_CHARS})'
        FROM (SELECT _source_line, {key},
                     CASE {" ".join(f"WHEN {cond} THEN {quote_literal(c)}" for c, cond in too_long.items())} END AS field,
                     CASE {" ".join(f"WHEN {cond} THEN {quote_identifier(c)}" for c, cond in too_long.items())} END AS value,
                     greatest({", ".join(f"coalesce(length({quote_identifier(c)}), 0)" for c in columns)}) AS chars
              FROM {stage} WHERE {key} IS NOT NULL AND ({" OR ".join(too_long.values())}))""")
    con.execute(f"""
        INSERT INTO {staged.problems}
        SELECT _source_line, {key}, {field}, {key},
               'duplicate_record_key: first delivered on line ' || first_line || ', which is loaded'
        FROM (SELECT _source_line, {key}, min(_source_line) OVER (PARTITION BY {key}) AS first_line
              FROM {stage} WHERE {key} IS NOT NULL
                AND _source_line NOT IN (SELECT line FROM {staged.problems}))
        WHERE _source_line > first_line""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {stage}_notes AS
        SELECT _source_line AS line, {key} AS record_key, {field} AS field, {key} AS value,
               'record_key_format: not {spec.key_prefix} + 10 digits; loaded as delivered' AS reason
        FROM {stage} WHERE {key} IS NOT NULL AND NOT regexp_full_match({key}, {quote_literal(spec.key_pattern)})""")
    return Staged(stage, staged.problems, staged.rows_delivered, f"{stage}_notes")
