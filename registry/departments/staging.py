"""What every reader of a delivery produces (`Staged`), and the header rule they share.

A reader (registry/departments/readers.py, workbook.py) leaves two temp tables on its connection:
  <stage>           the department's columns (VARCHAR, '' -> NULL) + _source_line BIGINT
  <stage>_problems  rows that could not be parsed: line, record_key, field, value, reason
and the loader's row rules (registry/departments/row_rules.py) add <stage>_notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry.departments import COLUMNS
from registry.departments.landing import DeliveryRejected


@dataclass
class Staged:
    table: str
    problems: str
    rows_delivered: int
    # Set once the loader's row rules ran (registry.departments.row_rules.screen_rows): `table` then holds
    # only the loadable rows, `problems` every quarantined row and `notes` the value notes.
    notes: str | None = None


def check_columns(header: list[str], department: str, source: Path, where: str) -> None:
    """Every column the department delivers is in the header, and none of them twice."""
    seen, dupes = set(), []
    for h in header:
        if h in seen and h in COLUMNS[department]:
            dupes.append(h)
        seen.add(h)
    if dupes:
        raise DeliveryRejected(f"{source.name}: {where}: column(s) {', '.join(dupes)} appear twice")
    missing = [c for c in COLUMNS[department] if c not in seen]
    if missing:
        raise DeliveryRejected(f"{source.name}: {where}: required column(s) missing: {', '.join(missing)} "
                               f"(found: {', '.join(header) or 'none'})")
