"""Decisions whose records (or resident) are gone: reported in `review_decisions_orphaned`, never
deleted from decisions.jsonl (a record may come back)."""

from __future__ import annotations

import duckdb

from registry.review.inputs import in_sql
from registry.sql import table_exists


def report_orphaned_decisions(con: duckdb.DuckDBPyConnection) -> int:
    """Report decisions whose records, or whose resident (for a value), no longer exist. Nothing is deleted."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_named AS
                   SELECT DISTINCT r AS record_uid FROM (SELECT unnest([record_l, record_r]) AS r FROM _rq_decisions)
                   WHERE r IS NOT NULL""")
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_named_residents AS SELECT DISTINCT resident_id FROM _rq_decisions "
                "WHERE decision = 'value' AND resident_id IS NOT NULL")
    records = in_sql(con, "record_uid", "_rq_named", "record_uid")
    residents = in_sql(con, "resident_id", "_rq_named_residents", "resident_id")
    known_residents = f"SELECT resident_id FROM residents WHERE {residents}"
    if table_exists(con, "resident_ids"):
        known_residents += f" UNION ALL SELECT resident_id FROM resident_ids WHERE merged_into IS NOT NULL AND {residents}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_present AS SELECT record_uid FROM records WHERE {records}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_known AS {known_residents}")
    con.execute("""
        CREATE OR REPLACE TABLE review_decisions_orphaned AS
        WITH d AS (
            SELECT d.*,
                   list_filter([CASE WHEN d.record_l IS NOT NULL AND rl.record_uid IS NULL THEN d.record_l END,
                                CASE WHEN d.record_r IS NOT NULL AND rr.record_uid IS NULL THEN d.record_r END],
                               lambda r: r IS NOT NULL) AS missing_records,
                   d.decision = 'value' AND NOT EXISTS (SELECT 1 FROM _rq_known k
                                                         WHERE k.resident_id = d.resident_id) AS resident_missing
            FROM _rq_decisions d
            LEFT JOIN _rq_present rl ON rl.record_uid = d.record_l
            LEFT JOIN _rq_present rr ON rr.record_uid = d.record_r)
        SELECT decision_id, item_id, kind, decision, record_l, record_r, resident_id, attribute, value, decided_by,
               decided_at, reason,
               concat_ws('; ', CASE WHEN len(missing_records) > 0
                                    THEN 'records gone: ' || array_to_string(missing_records, ', ') END,
                         CASE WHEN resident_missing THEN 'resident gone: ' || resident_id END) AS missing
        FROM d WHERE len(missing_records) > 0 OR resident_missing
        ORDER BY decided_at, decision_id""")
    return con.execute("SELECT count(*) FROM review_decisions_orphaned").fetchall()[0][0]
