"""Residents: stable resident IDs, golden records with lineage and conflicts, and their history.

One call for the pipeline, in this order (each step reads what the previous one wrote):
  assign_resident_ids  clusters + yesterday's crosswalk -> crosswalk, resident_ids, resident_events
  build_golden_records records + crosswalk (+ value_overrides) -> residents, lineage, conflicts
  record_history       residents -> resident_history
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from registry.night import NightPlan
from registry.residents.history import HistorySummary, as_of, record_history
from registry.residents.stable_ids import IdSummary, assign_resident_ids
from registry.residents.survivorship import SurvivorshipSummary, build_golden_records

__all__ = ["build_residents", "assign_resident_ids", "build_golden_records", "record_history", "as_of",
           "IdSummary", "SurvivorshipSummary", "HistorySummary"]


def build_residents(con: duckdb.DuckDBPyConnection, night: NightPlan,
                    rules_path: str | Path | None = None) -> dict:
    """The residents stage: the three resident steps for the night; returns their figures for the run ledger."""
    ids = assign_resident_ids(con, night.run_id, night.extract_date)
    golden = build_golden_records(con, night, rules_path)
    history = record_history(con, night.extract_date)
    return {"ids": ids.as_dict(), "survivorship": golden.as_dict(), "history": history.as_dict()}
