"""The published review queue as officers see it: HOME/published/registry.duckdb joined with the decisions
made since the last run, so `review list`, `review show` and the web page show an item decided at once.

The published file is opened read-only through an in-memory DuckDB (ATTACH ... READ_ONLY): the nightly
run swaps it atomically, and every call opens it afresh, so a reader always sees one whole registry.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from registry.home import Home
from registry.review import KINDS, ReviewError, UnknownItem, journal
from registry.review.items import audit_sample
from registry.review.status import decided_sql, latest_decisions_sql
from registry.sql import quote_literal, table_exists

# Columns of a listed item (the queue without its bulky evidence).
LIST_COLUMNS = ("item_id", "kind", "priority", "status", "resident_id", "street", "community", "summary",
                "first_raised_date::VARCHAR AS first_raised_date", "strftime(decided_at, '%Y-%m-%d %H:%M:%S') AS decided_at",
                "decision", "decided_by")


def connect(home: Home) -> duckdb.DuckDBPyConnection:
    """In-memory connection with the published registry attached read-only as `pub`, and the view `queue`."""
    db = home.published_db
    if not db.exists():
        raise ReviewError(f"no published registry at {db}: no nightly merge has published one for {home.root} yet")
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal(db)} AS pub (READ_ONLY)")
    if not table_exists(con, "review_queue", database="pub"):
        con.close()
        raise ReviewError(f"{db} has no review_queue table: it was not published by a complete run")
    journal.register(con, home.decisions, "_decisions")
    # Audit items drawn since the last run are in the queue already (the next run publishes them).
    audit_sample.register_items(con, home.audit_samples, "_audit_items")
    con.execute("""
        CREATE TEMP VIEW queue_items AS
        SELECT * FROM pub.review_queue
        UNION ALL BY NAME
        SELECT *, 'open' AS status, NULL::VARCHAR AS street, NULL::VARCHAR AS community,
               NULL::TIMESTAMP AS decided_at, NULL::VARCHAR AS decision
        FROM _audit_items WHERE item_id NOT IN (SELECT item_id FROM pub.review_queue)""")
    # Latest decision per item (later line wins); it counts only while the evidence it saw is still the evidence.
    decided = decided_sql("d", "q")
    con.execute(f"""
        CREATE TEMP VIEW queue AS
        WITH latest AS ({latest_decisions_sql('_decisions')})
        SELECT q.* EXCLUDE (status, decided_at, decision),
               CASE WHEN {decided} THEN 'decided' ELSE q.status END AS status,
               CASE WHEN {decided} THEN d.decided_at ELSE CAST(q.decided_at AS TIMESTAMP) END AS decided_at,
               CASE WHEN {decided} THEN d.decision ELSE q.decision END AS decision,
               CASE WHEN {decided} THEN d.decided_by END AS decided_by
        FROM queue_items q LEFT JOIN latest d USING (item_id)""")
    return con


def decision_file_problems(home: Home) -> list[str]:
    """Lines of HOME/review/decisions.jsonl that are no decision: skipped by every reader, shown to officers."""
    return journal.problems(home.decisions) if home.decisions.exists() else []


def list_items(home: Home, *, kind: str | None = None, street: str | None = None, community: str | None = None,
               status: str | None = "open", limit: int | None = None) -> pd.DataFrame:
    """Queue items, most urgent first. status=None lists open and decided items."""
    if kind and kind not in KINDS:
        raise ReviewError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    where, params = [], []
    for column, value in (("kind", kind), ("street", street), ("community", community), ("status", status)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = (f"SELECT {', '.join(LIST_COLUMNS)} FROM queue {'WHERE ' + ' AND '.join(where) if where else ''} "
           "ORDER BY status DESC, priority, first_raised_date, item_id")
    if limit:
        sql += f" LIMIT {int(limit)}"
    con = connect(home)
    try:
        return con.execute(sql, params).df()
    finally:
        con.close()


def get_item(home: Home, item_id: str) -> dict:
    """One item with subject and evidence parsed; ReviewError if the published queue has no such item."""
    con = connect(home)
    try:
        return find_item(con, home, item_id)
    finally:
        con.close()


def find_item(con: duckdb.DuckDBPyConnection, home: Home, item_id: str) -> dict:
    """The item on a connection from connect(); ReviewError naming the item if there is none."""
    cur = con.execute("SELECT * FROM queue WHERE item_id = ?", [item_id])
    rows = cur.fetchall()
    row = rows[0] if rows else None
    if row is None:
        raise UnknownItem(f"unknown review item {item_id!r}: not in the published review queue ({home.published_db})")
    item = dict(zip([d[0] for d in cur.description], row))
    for key in ("subject", "evidence"):
        if isinstance(item.get(key), str):
            item[key] = json.loads(item[key])
    return item


def facets(home: Home) -> dict:
    """Open items per kind, and the streets and communities that have open items (for the page's filters)."""
    con = connect(home)
    try:
        kinds = dict(con.execute("SELECT kind, count(*) FROM queue WHERE status = 'open' GROUP BY kind ORDER BY kind"
                                 ).fetchall())
        places = con.execute("SELECT DISTINCT street, community FROM queue WHERE status = 'open' AND street IS NOT NULL "
                             "ORDER BY street, community").fetchall()
    finally:
        con.close()
    streets: dict[str, list[str]] = {}
    for street, community in places:
        streets.setdefault(street, [])
        if community is not None:
            streets[street].append(community)
    return {"kinds": kinds, "streets": streets}


def missing_records(con: duckdb.DuckDBPyConnection, records: list[str]) -> list[str]:
    """Those of `department:source_record_id` records that the published crosswalk does not hold."""
    rows = con.execute("""
        SELECT r FROM (SELECT unnest($1::VARCHAR[]) AS r) w
        WHERE NOT EXISTS (SELECT 1 FROM pub.crosswalk c WHERE c.department || ':' || c.source_record_id = w.r)
        ORDER BY r""", [records]).fetchall()
    return [r[0] for r in rows]
