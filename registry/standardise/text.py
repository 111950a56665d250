"""What no department's text value should hold: control characters (BEL, ESC, ...), typed or pasted in by
accident. Standardisation removes them from names and addresses and notes the value (notes.py); the raw
value is kept verbatim beside it. Tab, newline, form feed and carriage return are whitespace there, and
treated as such."""

from __future__ import annotations

# An RE2 class: C0 controls other than whitespace, DEL, and the C1 controls.
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0b\\x0e-\\x1f\\x7f-\\x9f]"


def without_controls_sql(raw: str) -> str:
    return f"regexp_replace({raw}, '{CONTROL_CHARACTERS}', '', 'g')"


def has_controls_sql(raw: str) -> str:
    return f"coalesce(regexp_matches({raw}, '{CONTROL_CHARACTERS}'), false)"
