"""Quality officers' decisions: recorded in HOME/review/decisions.jsonl, loaded as constraints for the run.

record_decision validates against the published registry and appends; read_decisions reads the file;
load_decisions turns it into the run database's `link_decisions` (must-link / cannot-link for
clustering) and `value_overrides` (for survivorship).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from registry.departments import DEPARTMENTS
from registry.home import Home
from registry.review import (ALLOWED_DECISIONS, DECISIONS, PAIR_KINDS, DecisionNotAllowed, MissingDecisionField,
                             ReviewError, item_id_for, journal, published)


def _home(home: Home | str | os.PathLike) -> Home:
    return home if isinstance(home, Home) else Home.at(home)


def record_decision(home: Home | str | os.PathLike, *, item_id: str | None = None, decision: str,
                    record_l: str | None = None, record_r: str | None = None, resident_id: str | None = None,
                    attribute: str | None = None, value: str | None = None, decided_by: str, reason: str,
                    evidence_hash: str | None = None) -> dict:
    """Validate one decision against the published registry and append it. Returns the row written.

    With item_id: a decision on a queued item; its records, resident, attribute and evidence hash come
    from the item. Without: `review link` on two records (`department:source_record_id`) that must be in
    the published crosswalk. Raises ReviewError with a message for the officer.
    """
    home = _home(home)
    decided_by = (decided_by or "").strip()
    reason = (reason or "").strip()
    if not decided_by:
        raise MissingDecisionField("decided_by", "who takes the decision")
    if not reason:
        raise MissingDecisionField("reason", "why (it is kept with the decision)")
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")

    con = published.connect(home)
    try:
        if item_id:
            row = _decision_on_item(con, home, item_id, decision, value, evidence_hash)
        else:
            row = _decision_on_records(con, decision, record_l, record_r)
    finally:
        con.close()
    row.update(decision=decision, decided_by=decided_by, reason=reason)
    if resident_id and not row.get("resident_id"):
        row["resident_id"] = resident_id
    if attribute and not row.get("attribute"):
        row["attribute"] = attribute
    return journal.append(home.decisions, row)


def _decision_on_item(con, home: Home, item_id: str, decision: str, value: str | None,
                      evidence_hash: str | None) -> dict:
    item = published.find_item(con, home, item_id)
    kind, subject = item["kind"], item["subject"] or {}
    if decision not in ALLOWED_DECISIONS[kind]:
        raise DecisionNotAllowed(f"a {kind} item", ALLOWED_DECISIONS[kind], decision)
    row = {"item_id": item_id, "kind": kind, "resident_id": item.get("resident_id"),
           "evidence_hash": evidence_hash or item.get("evidence_hash")}
    if kind in PAIR_KINDS:
        row["record_l"], row["record_r"] = subject.get("record_l"), subject.get("record_r")
    if subject.get("attribute"):  # an item about one value of a resident (conflict, birth_date_conflict)
        row["attribute"] = subject.get("attribute")
        row["resident_id"] = subject.get("resident_id") or item.get("resident_id")
    if decision == "value":
        value = str(value).strip() if value is not None else ""
        if not value:
            raise MissingDecisionField("value", "the one the golden record should hold")
        row["value"] = value
    return row


def _decision_on_records(con, decision: str, record_l: str | None, record_r: str | None) -> dict:
    if decision not in ("same", "different"):
        raise DecisionNotAllowed("a link between two records", ("same", "different"), decision)
    records = [r.strip() if r else "" for r in (record_l, record_r)]
    for r in records:
        department, _, key = r.partition(":")
        if department not in DEPARTMENTS or not key:
            raise ReviewError(f"record {r!r} is not written department:source_record_id "
                              f"(department one of {', '.join(DEPARTMENTS)})")
    if records[0] == records[1]:
        raise ReviewError(f"both records are {records[0]}: a link needs two different records")
    missing = published.missing_records(con, records)
    if missing:
        raise ReviewError(f"not in the published crosswalk: {', '.join(missing)}")
    record_l, record_r = sorted(records)
    # Give the pair the id its uncertain_link item has (queued or not), so the queue shows it decided.
    item_id = item_id_for("uncertain_link", f"{record_l}|{record_r}")
    queued = con.execute("SELECT evidence_hash FROM queue WHERE item_id = ?", [item_id]).fetchall()
    queued = queued[0] if queued else None
    return {"item_id": item_id, "kind": "uncertain_link" if queued else None, "record_l": record_l,
            "record_r": record_r, "evidence_hash": queued[0] if queued else None}


def read_decisions(home: Home | str | os.PathLike) -> pd.DataFrame:
    """Every decision in HOME/review/decisions.jsonl, in the order made (column line_no)."""
    con = duckdb.connect()
    try:
        journal.register(con, _home(home).decisions, "_decisions")
        return con.execute("SELECT * FROM _decisions ORDER BY line_no").df()
    finally:
        con.close()


def load_decisions(con: duckdb.DuckDBPyConnection, decisions_path: Path | str) -> dict:
    """Create `link_decisions` and `value_overrides` in the run database from the decisions file.

    The latest decision on a record pair (on a pair item or by `review link`) wins; a later --dismiss on
    the same pair withdraws the constraint. Likewise for values per (resident_id, attribute).
    Empty tables when there is no file. Returns their row counts, and the lines of the file that are no
    decision (skipped: `unreadable_lines`, their numbers in `unreadable_line_numbers`).
    """
    journal.register(con, decisions_path, "_load_decisions")
    skipped = journal.unreadable(con, "_load_decisions")
    con.execute("""
        CREATE OR REPLACE TABLE link_decisions AS
        WITH pairs AS (
            SELECT least(record_l, record_r) AS record_uid_l, greatest(record_l, record_r) AS record_uid_r, *
            FROM _load_decisions
            WHERE record_l IS NOT NULL AND record_r IS NOT NULL AND record_l <> record_r
              AND decision IN ('same', 'different', 'dismiss')),
        latest AS (
            SELECT record_uid_l, record_uid_r, arg_max(decision, line_no) AS decision,
                   arg_max(decision_id, line_no) AS decision_id, arg_max(decided_by, line_no) AS decided_by,
                   arg_max(decided_at, line_no) AS decided_at
            FROM pairs GROUP BY record_uid_l, record_uid_r)
        SELECT record_uid_l, record_uid_r, decision = 'same' AS same, decision_id, decided_by, decided_at
        FROM latest WHERE decision <> 'dismiss' ORDER BY record_uid_l, record_uid_r""")
    con.execute("""
        CREATE OR REPLACE TABLE value_overrides AS
        WITH latest AS (
            SELECT resident_id, attribute, arg_max(decision, line_no) AS decision, arg_max(value, line_no) AS value,
                   arg_max(decision_id, line_no) AS decision_id, arg_max(decided_by, line_no) AS decided_by,
                   arg_max(decided_at, line_no) AS decided_at
            FROM _load_decisions
            WHERE resident_id IS NOT NULL AND attribute IS NOT NULL
              AND (decision = 'value' OR (decision = 'dismiss' AND kind IN ('conflict', 'birth_date_conflict')))
            GROUP BY resident_id, attribute)
        SELECT resident_id, attribute, value, decision_id, decided_by, decided_at
        FROM latest WHERE decision = 'value' ORDER BY resident_id, attribute""")
    con.execute("DROP TABLE _load_decisions")
    con.execute("DROP TABLE _load_decisions_unreadable")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("link_decisions", "value_overrides")}
    return {**counts, "unreadable_lines": len(skipped), "unreadable_line_numbers": [n for n, _, _ in skipped[:20]]}
