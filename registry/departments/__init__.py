"""The four departments' deliveries: where they land, how they are read and loaded as raw snapshots.

What each department delivers (file, format, columns, record key) is specified once, in
registry.contracts (DEPARTMENT_SPECS); the names below are that specification's, for the loaders.
"""

from __future__ import annotations

from registry.contracts import DEPARTMENT_SPECS, DEPARTMENTS, RECORD_HASH_COLUMN, department
from registry.sql import quote_identifier

PUBLIC_SECURITY, FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR = DEPARTMENTS

# Columns (keys for labour) in the order the departments deliver them; record key columns; file names.
COLUMNS: dict[str, tuple[str, ...]] = {d.name: d.columns for d in DEPARTMENT_SPECS.values()}
RECORD_KEYS: dict[str, str] = {d.name: d.record_key for d in DEPARTMENT_SPECS.values()}
FILE_PATTERNS: dict[str, str] = {d.name: d.file_pattern for d in DEPARTMENT_SPECS.values()}
SHEET_NAME_FAMILY_PLANNING = DEPARTMENT_SPECS[FAMILY_PLANNING].sheet

__all__ = ["DEPARTMENTS", "PUBLIC_SECURITY", "FAMILY_PLANNING", "CIVIL_AFFAIRS", "LABOUR", "COLUMNS", "RECORD_KEYS",
           "FILE_PATTERNS", "SHEET_NAME_FAMILY_PLANNING", "RECORD_HASH_COLUMN", "data_file_name", "record_hash_sql"]


def data_file_name(department_name: str, extract_date: str) -> str:
    """File name of a department's delivery for an extract date given as YYYY-MM-DD."""
    return department(department_name).file_name(extract_date)


def record_hash_sql(department_name: str) -> str:
    """md5 of the department's verbatim columns in delivery order (NULL distinct from ''): what change
    detection compares night to night."""
    parts = ", ".join(f"coalesce({quote_identifier(c)}, chr(1))" for c in COLUMNS[department_name])
    return f"md5(concat_ws(chr(31), {parts}))"
