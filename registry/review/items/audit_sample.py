"""Audit samples: randomly drawn record pairs officers label for the accuracy estimate (registry.accuracy).

The machine does not raise them from tonight's data: `registry review sample` draws them into
HOME/review/audit_samples/, they are in the queue from that moment (registry.review.published reads the
files with the published queue), and every night's queue carries all of them with their decisions
(`register_items` loads the files for the night; EVERY_NIGHT builds them whatever the incremental scope).
An item's subject holds record_l and record_r; it is decided --same or --different (no dismiss: every
label counts)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from registry.review.inputs import ITEM_COLUMNS, Inputs
from registry.review.items.kind import ItemKind
from registry.sql import table_exists

NAME = "audit_sample"
LOADED = "audit_sample_items"   # the night's copy of the drawn items (register_items)


def register_items(con: duckdb.DuckDBPyConnection, folder: Path | str, table: str = LOADED) -> int:
    """TEMP table `table` of every drawn item as queue columns (ITEM_COLUMNS and first_raised_date)."""
    from registry.accuracy.samples import queue_items

    con.register("_audit_items_frame", queue_items(Path(folder)))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT item_id::VARCHAR AS item_id, kind::VARCHAR AS kind, priority::INTEGER AS priority,
               resident_id::VARCHAR AS resident_id, summary::VARCHAR AS summary, subject::JSON AS subject,
               evidence::JSON AS evidence, evidence_hash::VARCHAR AS evidence_hash,
               first_raised_date::DATE AS first_raised_date
        FROM _audit_items_frame""")
    con.unregister("_audit_items_frame")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_audit_sample: the drawn items the night loaded (none when it loaded none)."""
    source = f"SELECT {ITEM_COLUMNS} FROM {LOADED}" if table_exists(con, LOADED) else (
        f"SELECT {ITEM_COLUMNS} FROM (SELECT NULL::VARCHAR AS item_id, NULL::VARCHAR AS kind, NULL::INTEGER AS "
        "priority, NULL::VARCHAR AS resident_id, NULL::VARCHAR AS summary, NULL::JSON AS subject, NULL::JSON AS "
        "evidence, NULL::VARCHAR AS evidence_hash) LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_audit_sample AS {source}")
    return "_rq_audit_sample"


KIND = ItemKind(NAME, "au", ("same", "different"), build=build, pair=True, every_night=True)
