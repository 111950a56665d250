"""The nightly review queue: what quality officers should look at, built set-wise in the run database.

build_review_queue reads `links`, `records`, `crosswalk`, `residents`, `conflicts`, `lineage` (and, when
present, `link_decisions`, `resident_ids` and last night's `review_queue`) and writes:
- `review_queue`: one row per item (registry.contracts.REVIEW_QUEUE), status `decided` only while the
  latest decision on the item saw the evidence the item holds tonight (registry.review.status);
- `review_decisions_orphaned`: decisions whose records (or resident) are gone (registry.review.orphaned).

Each kind of item is one module of registry.review.items, built from the same inputs
(registry.review.inputs); the street and community of each item's resident come from places.py.

Incremental (registry.incremental): an item is a function of a few residents (its subject's), their
member records, the links touching those records and the officers' "same" link decisions among them.
On an incremental night only the items of *affected* residents (registry.review.affected) are rebuilt,
from the same SQL fed with the affected residents' slice of the inputs, and spliced into last night's
queue; statuses are re-evaluated for every item against the decisions journal each night. The result
equals a full build (tests/review/test_incremental.py). A full build runs on a full night, with no
previous queue or basis, when the queue's definition (the basis: QUEUE_VERSION, band, record columns)
changed, or when most residents are affected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from registry import contracts
from registry.incremental import Basis, digest, splice
from registry.night import NightPlan
from registry.review import KINDS, journal
from registry.review.affected import DECISIONS_BASIS_TABLE, affected, affected_inputs, affected_items_only
from registry.review.inputs import (ITEM_COLUMNS, RECORD_CARD_FIELDS, RECORD_INPUT_FIELDS, Inputs, columns_of,
                                    identity_groups, link_decisions_sql)
from registry.review.items import ITEM_KINDS
from registry.review.orphaned import report_orphaned_decisions
from registry.review.places import resident_places
from registry.review.status import decided_sql, latest_decisions_sql
from registry.sql import drop_temporaries, table_exists

# Bump when an item's SQL changes meaning: the next night then builds the whole queue.
QUEUE_VERSION = "4"
BASIS_META_KEY = "review_queue_basis"


@dataclass
class QueueSummary:
    """Counts per kind: raised (newly open tonight, reopened included), closed (open last night, not tonight)."""

    raised: dict[str, int] = field(default_factory=dict)
    closed: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    decisions_orphaned: int = 0
    mode: str = "full"          # full | incremental
    items_rebuilt: int = 0      # items computed tonight (the rest kept from last night's queue)

    def as_dict(self) -> dict:
        return {"raised": self.raised, "closed": self.closed, "open": self.open, "decided": self.decided,
                "reopened": self.reopened, "decisions_orphaned": self.decisions_orphaned, "mode": self.mode,
                "items_rebuilt": self.items_rebuilt}


def build_review_queue(con: duckdb.DuckDBPyConnection, night: NightPlan, decisions_path: Path | str,
                       uncertain_band: tuple[float, float] = (0.5, 0.95)) -> QueueSummary:
    """Build `review_queue` (and `review_decisions_orphaned`) in the run database; see the module doc.

    An incremental night splices into last night's queue when that is possible and worthwhile
    (registry.incremental); the result is the same either way."""
    lo, hi = (float(x) for x in uncertain_band)
    rec_cols = columns_of(con, "records")
    journal.register(con, decisions_path, "_rq_decisions")
    standing = basis(con, (lo, hi), rec_cols)
    spliced = night.incremental and standing.holds(con) and affected(con, night, lo, hi)
    if spliced:
        inputs = affected_inputs(con, lo, hi, rec_cols)
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_xw AS SELECT record_uid, resident_id, department FROM crosswalk")
        inputs = Inputs(record_columns=frozenset(rec_cols))
    _build_items(con, inputs, lo, hi)
    rebuilt = affected_items_only(con) if spliced else con.execute("SELECT count(*) FROM _rq_items").fetchall()[0][0]
    resident_places(con, inputs)
    summary = _publish_queue(con, night.extract_date, spliced)
    con.execute(f"CREATE OR REPLACE TABLE {DECISIONS_BASIS_TABLE} AS {link_decisions_sql(con)}")
    standing.record(con)
    summary.mode, summary.items_rebuilt = ("incremental" if spliced else "full"), rebuilt
    _drop_work_tables(con)
    return summary


def basis(con: duckdb.DuckDBPyConnection, band: tuple[float, float], rec_cols: set[str]) -> Basis:
    """The queue's definition: items built under another basis are not reused."""
    res_cols = columns_of(con, "residents") if table_exists(con, "residents") else set()
    text = json.dumps({"version": QUEUE_VERSION, "band": list(band),
                       "record_columns": sorted(rec_cols & set(RECORD_CARD_FIELDS + RECORD_INPUT_FIELDS)),
                       "resident_place": sorted(res_cols & {"current_street", "current_community"})})
    return Basis(BASIS_META_KEY, digest(QUEUE_VERSION, text), (contracts.REVIEW_QUEUE.name, DECISIONS_BASIS_TABLE))


def _build_items(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> None:
    """Temp table `_rq_items`: every item the inputs yield (`_rq_xw` is the crosswalk of the same slice)."""
    identity_groups(con, src)
    built = [kind.build(con, src, lo, hi) for kind in ITEM_KINDS]
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_items AS "
                + " UNION ALL ".join(f"SELECT {ITEM_COLUMNS} FROM {table}" for table in built))
    _one_item_per_resident_pair(con)


def _resident_pair_sql(item: str) -> str:
    """The two residents an item names (NULL unless two different ones)."""
    l, r = (f"json_extract_string({item}.subject, '$.resident_{s}')" for s in ("l", "r"))
    return f"CASE WHEN {l} <> {r} THEN least({l}, {r}) || '|' || greatest({l}, {r}) END"


def _one_item_per_resident_pair(con: duckdb.DuckDBPyConnection) -> None:
    """The rule across kinds: an item of a deferring kind (ItemKind.defers) is left out where an item of
    another kind already names both of its residents, so the officer decides each pair once."""
    deferring = [k.name for k in ITEM_KINDS if k.defers]
    if not deferring:
        return
    kinds = ", ".join(f"'{k}'" for k in deferring)
    con.execute(f"""
        DELETE FROM _rq_items d WHERE d.kind IN ({kinds}) AND {_resident_pair_sql('d')} IN (
            SELECT {_resident_pair_sql('o')} FROM _rq_items o WHERE o.kind NOT IN ({kinds}))""")


def _status_sql(items: str) -> str:
    """Status of each item of `items` (item_id, evidence_hash): decided while the latest decision on it saw
    the evidence it holds tonight; reopened when that decision saw other evidence."""
    return f"""
        SELECT item_id, CASE WHEN decided THEN 'decided' ELSE 'open' END AS status,
               CASE WHEN decided THEN d_decided_at END AS decided_at, CASE WHEN decided THEN d_decision END AS decision,
               has_decision AND NOT decided AS reopened
        FROM (SELECT i.item_id, d.item_id IS NOT NULL AS has_decision, {decided_sql("d", "i")} AS decided,
                     d.decision AS d_decision, d.decided_at AS d_decided_at
              FROM {items} i LEFT JOIN _rq_latest d USING (item_id))"""


def _publish_queue(con: duckdb.DuckDBPyConnection, extract_date, spliced: bool) -> QueueSummary:
    if table_exists(con, "review_queue"):
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT item_id, kind, status, "
                    "CAST(first_raised_date AS DATE) AS first_raised_date FROM review_queue")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT CAST(NULL AS VARCHAR) AS item_id, "
                    "CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS status, "
                    "CAST(NULL AS DATE) AS first_raised_date LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_latest AS {latest_decisions_sql('_rq_decisions')}")
    rows = f"""
        SELECT i.item_id, i.kind, i.priority::INTEGER AS priority, s.status, i.resident_id, p.street, p.community,
               i.summary, i.subject::JSON AS subject, i.evidence::JSON AS evidence, i.evidence_hash,
               coalesce(prev.first_raised_date, CAST($1 AS DATE)) AS first_raised_date, s.decided_at, s.decision
        FROM _rq_items i JOIN ({_status_sql('_rq_items')}) s USING (item_id)
        LEFT JOIN _rq_place p USING (resident_id) LEFT JOIN _rq_prev prev USING (item_id)"""
    if spliced:  # in place: the queue's text is tens of MB, tonight's edits a few hundred rows
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_rows AS " + rows, [str(extract_date)])
        splice(con, "review_queue", "item_id", "SELECT item_id FROM _rq_stale UNION ALL SELECT item_id FROM _rq_items",
               "SELECT * FROM _rq_rows")
        # every item's status against tonight's decisions: they change with no data change
        con.execute(f"""
            UPDATE review_queue q SET status = s.status, decided_at = s.decided_at, decision = s.decision
            FROM ({_status_sql('review_queue')}) s
            WHERE s.item_id = q.item_id AND (q.status IS DISTINCT FROM s.status OR q.decided_at IS DISTINCT FROM
                  s.decided_at OR q.decision IS DISTINCT FROM s.decision)""")
    else:
        con.execute(f"CREATE OR REPLACE TABLE review_queue AS {rows} ORDER BY status DESC, priority, item_id",
                    [str(extract_date)])
    summary = QueueSummary()
    for kind, n_open, n_decided in con.execute(
            "SELECT kind, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'decided') "
            "FROM review_queue GROUP BY kind").fetchall():
        summary.open[kind], summary.decided[kind] = n_open, n_decided
    summary.raised = dict(con.execute("""
        SELECT q.kind, count(*) FROM review_queue q LEFT JOIN _rq_prev p USING (item_id)
        WHERE q.status = 'open' AND p.status IS DISTINCT FROM 'open' GROUP BY q.kind""").fetchall())
    summary.closed = dict(con.execute("""
        SELECT p.kind, count(*) FROM _rq_prev p LEFT JOIN review_queue q USING (item_id)
        WHERE p.status = 'open' AND q.status IS DISTINCT FROM 'open' GROUP BY p.kind""").fetchall())
    summary.reopened = con.execute(f"SELECT count(*) FROM ({_status_sql('review_queue')}) WHERE reopened"
                                   ).fetchall()[0][0]
    for d in (summary.open, summary.decided, summary.raised, summary.closed):
        for kind in KINDS:
            d.setdefault(kind, 0)
    summary.decisions_orphaned = report_orphaned_decisions(con)
    return summary


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The run's connection serves later stages: free the slices and intermediate tables (all `_rq_`)."""
    drop_temporaries(con, "_rq_")
