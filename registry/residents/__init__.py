"""Residents: stable resident IDs, golden records with lineage and conflicts, and their history.

One call for the pipeline, in this order (each step reads what the previous one wrote):
  assign_resident_ids  clusters + yesterday's crosswalk -> crosswalk, resident_ids, resident_events
  build_golden_records records + crosswalk (+ value_overrides) -> residents, lineage, conflicts
  record_history       residents -> resident_history
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from registry.residents.history import HistorySummary, as_of, record_history
from registry.residents.stable_ids import IdSummary, assign_resident_ids
from registry.residents.survivorship import SurvivorshipSummary, build_golden_records

__all__ = ["build_residents", "assign_resident_ids", "build_golden_records", "record_history", "as_of",
           "IdSummary", "SurvivorshipSummary", "HistorySummary"]


def build_residents(con: duckdb.DuckDBPyConnection, run_id: str, extract_date: str,
                    rules_path: str | Path | None = None) -> dict:
    """Run the three resident steps; returns their figures for the run ledger."""
    ids = assign_resident_ids(con, run_id, extract_date)
    golden = build_golden_records(con, rules_path)
    history = record_history(con, extract_date)
    return {"ids": ids.as_dict(), "golden": golden.as_dict(), "history": history.as_dict()}
