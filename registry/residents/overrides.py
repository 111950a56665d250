"""Officers' value decisions on golden records: the latest per resident and attribute, a resident
retired by a merge followed to its survivor, applied above every survivorship rule (with its lineage)."""

from __future__ import annotations

import logging

import duckdb

from registry.sql import column_types, table_exists
from registry.sql import quote_literal as _q

log = logging.getLogger(__name__)

OFFICER_RULE = "officer_decision"


def resolve_overrides(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `_overrides`: the latest value decision per resident and attribute, a resident
    retired by a merge followed to its survivor."""
    con.execute("DROP TABLE IF EXISTS _overrides")
    if not table_exists(con, "value_overrides"):
        return
    follow = ("SELECT resident_id, merged_into FROM resident_ids WHERE merged_into IS NOT NULL"
              if table_exists(con, "resident_ids") else
              "SELECT NULL::VARCHAR AS resident_id, NULL::VARCHAR AS merged_into WHERE FALSE")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _overrides AS
        WITH RECURSIVE m AS ({follow}),
        chain(start_id, resident_id, depth) AS (
            SELECT resident_id, resident_id, 0 FROM (SELECT DISTINCT resident_id FROM value_overrides)
            UNION ALL
            SELECT c.start_id, m.merged_into, c.depth + 1
            FROM chain c JOIN m ON m.resident_id = c.resident_id WHERE c.depth < 100),
        final AS (SELECT start_id, arg_max(resident_id, depth) AS resident_id FROM chain GROUP BY start_id)
        SELECT f.resident_id, o.attribute, o.value, o.decision_id, o.decided_by, o.decided_at
        FROM value_overrides o JOIN final f ON f.start_id = o.resident_id
        QUALIFY row_number() OVER (PARTITION BY f.resident_id, o.attribute
                                   ORDER BY o.decided_at DESC, o.decision_id DESC) = 1""")


def apply_overrides(con: duckdb.DuckDBPyConnection, attrs: dict) -> tuple[int, int, int]:
    """Officers' value decisions (`_overrides`) replace the golden value."""
    if not table_exists(con, "_overrides"):
        return 0, 0, 0
    types = dict(column_types(con, "residents"))
    total = con.execute("SELECT count(*) FROM _overrides").fetchone()[0]
    applied = rejected = 0
    # One UPDATE per distinct attribute: a handful of names, never a loop over residents.
    for (attribute,) in con.execute("SELECT DISTINCT attribute FROM _overrides ORDER BY 1").fetchall():
        if attribute == "resident_id" or attribute not in types or types[attribute].endswith("[]"):
            log.warning("value_overrides: attribute %r is not a golden column; ignored", attribute)
            continue
        typ = types[attribute]
        cond = (f"o.attribute = {_q(attribute)} AND o.resident_id = residents.resident_id "
                f"AND TRY_CAST(o.value AS {typ}) IS NOT NULL")
        n_ok, n_bad = con.execute(f"""
            SELECT count(*) FILTER (WHERE TRY_CAST(o.value AS {typ}) IS NOT NULL),
                   count(*) FILTER (WHERE TRY_CAST(o.value AS {typ}) IS NULL)
            FROM _overrides o JOIN residents r USING (resident_id) WHERE o.attribute = ?""",
                                  [attribute]).fetchone()
        rejected += n_bad
        if not n_ok:
            continue
        extra = ""
        if attribute == "birth_date":  # a decided date is a full date
            extra = (", birth_year = year(TRY_CAST(o.value AS DATE)), birth_month = month(TRY_CAST(o.value AS DATE)),"
                     " birth_date_precision = 'day'")
        con.execute(f"UPDATE residents SET {attribute} = TRY_CAST(o.value AS {typ}){extra} "
                    f"FROM _overrides o WHERE {cond}")
        con.execute(f"""DELETE FROM lineage WHERE attribute = ? AND resident_id IN
                        (SELECT resident_id FROM _overrides o WHERE o.attribute = ?
                         AND TRY_CAST(o.value AS {typ}) IS NOT NULL)""", [attribute, attribute])
        con.execute(f"""INSERT INTO lineage
                        SELECT o.resident_id, o.attribute, CAST(TRY_CAST(o.value AS {typ}) AS VARCHAR), NULL, NULL,
                               '{OFFICER_RULE}', o.decision_id
                        FROM _overrides o JOIN residents r USING (resident_id)
                        WHERE o.attribute = ? AND TRY_CAST(o.value AS {typ}) IS NOT NULL""", [attribute])
        applied += n_ok
    return applied, total - applied - rejected, rejected
