"""The shrink guard: what would silently empty the registry is held back until someone accepts it.

A department's delivery is a full snapshot, so a file cut short (a half export, no manifest to catch
it) reads as thousands of people leaving the district. Two guards, each a share:

  - a delivery that would remove more than `max_record_drop` of the records of the department's
    standing snapshot (and more than FEW records) is held back like a rejected delivery (the previous one stands, the night stops
    unless publishing with it is accepted); its message says how many records it would remove and how
    many residents that would retire;
  - a night that would retire more than `max_resident_retire` of the residents (and more than FEW;
    those whose every record is gone, not those merged into another) is stopped before its publish, saying how many residents and records.

`accepted` (the data engineer's explicit word for tonight) lets both through.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from registry import contracts
from registry.errors import ShrinkHeldBack
from registry.sql import quote_identifier, table_exists

MAX_RECORD_DROP = 0.05
MAX_RESIDENT_RETIRE = 0.05
# Below this many records (or residents) a share says little: a small department's ordinary turnover
# (a few allowances stopped) is not held back however large a share of it that is.
FEW = 20


@dataclass(frozen=True)
class ShrinkGuard:
    max_record_drop: float = MAX_RECORD_DROP          # share of a department's snapshot one delivery may remove
    max_resident_retire: float = MAX_RESIDENT_RETIRE  # share of the residents one night may retire
    accepted: bool = False                            # tonight's shrink is accepted as it is

    def __post_init__(self):
        for share in (self.max_record_drop, self.max_resident_retire):
            if not 0 <= share <= 1:
                raise ValueError(f"a share is between 0 and 1, not {share}")


def delivery_held_back(con: duckdb.DuckDBPyConnection, department: str, tonight_keys: str,
                       guard: ShrinkGuard) -> str | None:
    """Why tonight's delivery is held back, or None. `tonight_keys`: a SELECT of the record keys the
    delivery would load (its loadable rows), compared with raw_<department>, the standing snapshot."""
    raw = contracts.raw_table(department)
    if guard.accepted or not table_exists(con, raw):
        return None
    key = quote_identifier(contracts.department(department).record_key)
    standing, date = con.execute(f"SELECT count(*), max(_extract_date)::VARCHAR FROM {raw}").fetchall()[0]
    if not standing:
        return None
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _shrink_removed AS
                    SELECT '{department}:' || r.{key} AS record_uid FROM {raw} r
                    WHERE r.{key} NOT IN (SELECT k FROM ({tonight_keys}) t(k) WHERE k IS NOT NULL)""")
    try:
        removed = con.execute("SELECT count(*) FROM _shrink_removed").fetchall()[0][0]
        if removed / standing <= guard.max_record_drop or removed <= FEW:
            return None
        residents = _residents_left_without_records(con, "_shrink_removed")
    finally:
        con.execute("DROP TABLE IF EXISTS _shrink_removed")
    return (f"held back: it would remove {removed:,} of the {standing:,} records of {department}'s snapshot of "
            f"{date} ({removed / standing:.1%}, more than {guard.max_record_drop:.0%} allowed), leaving "
            f"{residents:,} resident(s) with no record at all, to be retired; a delivery cut short? If the "
            "shrink is real, accept it for tonight")


def _residents_left_without_records(con: duckdb.DuckDBPyConnection, removed: str) -> int:
    """Residents (yesterday's crosswalk) every record of whom is in `removed`(record_uid)."""
    if not table_exists(con, "crosswalk"):
        return 0
    return con.execute(f"""
        SELECT count(*) FROM (
            SELECT resident_id, bool_and(record_uid IN (SELECT record_uid FROM {removed})) AS all_gone
            FROM crosswalk GROUP BY resident_id)
        WHERE all_gone""").fetchall()[0][0]


def check_retirements(con: duckdb.DuckDBPyConnection, run_id: str, guard: ShrinkGuard,
                      changes: str = "record_changes") -> dict:
    """The night's retirements against the guard, after its resident_ids were assigned: their figures,
    or ShrinkHeldBack when more than the allowed share of yesterday's residents would be retired."""
    retired, before = con.execute("""
        SELECT count(*) FILTER (WHERE retired_run_id = $1 AND merged_into IS NULL),
               count(*) FILTER (WHERE created_run_id IS DISTINCT FROM $1
                                  AND (status = 'active' OR retired_run_id = $1))
        FROM resident_ids""", [run_id]).fetchall()[0]
    figures = {"retired": retired, "active_before": before,
               "share": round(retired / before, 4) if before else 0.0}
    if guard.accepted or not before or retired / before <= guard.max_resident_retire or retired <= FEW:
        return figures
    removed = dict(con.execute(f"SELECT department, count(*) FROM {changes} WHERE change = 'removed' "
                               "GROUP BY ALL ORDER BY 1").fetchall()) if table_exists(con, changes) else {}
    records = ", ".join(f"{d} {n:,}" for d, n in removed.items()) or "none"
    raise ShrinkHeldBack(f"held back: tonight would retire {retired:,} of the {before:,} residents "
                         f"({retired / before:.1%}, more than {guard.max_resident_retire:.0%} allowed), their "
                         f"records gone from the deliveries (records removed: {records}); if the shrink is real, "
                         "accept it for tonight. The published registry stays as it was")
