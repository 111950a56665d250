"""When a review item counts as decided, one rule for the nightly queue and for what officers see
between nights: its latest decision (the later line of decisions.jsonl wins) saw the evidence the
item holds now, or recorded none. New evidence reopens the item."""

from __future__ import annotations


def latest_decisions_sql(decisions: str) -> str:
    """Per item, its latest decision, from a table of the decisions file (journal.register)."""
    return f"""SELECT item_id, arg_max(decision, line_no) AS decision, arg_max(decided_at, line_no) AS decided_at,
                      arg_max(decided_by, line_no) AS decided_by, arg_max(evidence_hash, line_no) AS evidence_hash
               FROM {decisions} WHERE item_id IS NOT NULL GROUP BY item_id"""


def decided_sql(decision: str, item: str) -> str:
    """SQL true when the item `item` is decided by its latest decision `decision` (a LEFT JOIN of
    latest_decisions_sql: all NULL when the item has none)."""
    return (f"({decision}.item_id IS NOT NULL AND ({decision}.evidence_hash IS NULL "
            f"OR {decision}.evidence_hash = {item}.evidence_hash))")
