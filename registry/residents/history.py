"""Resident history: every version of every golden record, valid over [valid_from, valid_to).

`record_history` closes the open version of each resident whose golden record changed tonight or
who is no longer in `residents` (retired, merged away), and opens a new version for changed and new
residents. When survivorship ran incrementally (`residents_recomputed` present), only the residents it
recomputed are compared: the others' golden rows are tonight exactly what they were. `as_of` answers "what did the registry say on date D".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import pandas as pd

from registry import contracts
from registry.incremental import recomputed
from registry.sql import column_types, quote_identifier, table_exists


@dataclass(frozen=True)
class HistorySummary:
    opened: int   # new versions (new or changed residents)
    closed: int   # versions closed (changed or gone residents)

    def as_dict(self) -> dict:
        return asdict(self)


def _hash_sql(cols: list[str], alias: str) -> str:
    return ("md5(to_json(struct_pack(" + ", ".join(f"{quote_identifier(c)} := {alias}.{quote_identifier(c)}" for c in cols)
            + "))::VARCHAR)")


def record_history(con: duckdb.DuckDBPyConnection, extract_date: str) -> HistorySummary:
    """Bring `resident_history` up to date with tonight's `residents` (as of extract_date)."""
    res_cols = column_types(con, "residents")
    names = [c for c, _ in res_cols]
    starting = not table_exists(con, "resident_history")
    if starting:
        defs = ", ".join(f'"{c}" {t}' for c, t in res_cols)
        con.execute(f"CREATE TABLE resident_history ({defs}, valid_from DATE, valid_to DATE)")
        compared = names
    else:
        # A golden column added since the history began is added (NULL in older versions) but not
        # compared tonight: a new column alone is not a change of the person's record.
        have = {c for c, _ in column_types(con, "resident_history")}
        compared = [c for c in names if c in have]
        for c, t in res_cols:
            if c not in have:
                con.execute(f'ALTER TABLE resident_history ADD COLUMN "{c}" {t}')
    # After an incremental survivorship only the recomputed residents can differ from their open version.
    # Every other resident kept its golden row and has its open version since an earlier night.
    spliced = recomputed(con, contracts.RESIDENTS_RECOMPUTED) if not starting else None
    scope = f"AND h.resident_id IN ({spliced})" if spliced else ""
    current = f"(SELECT * FROM residents WHERE resident_id IN ({spliced}))" if spliced else "residents"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _stale AS
        SELECT h.resident_id, h.valid_from
        FROM resident_history h LEFT JOIN {current} t USING (resident_id)
        WHERE h.valid_to IS NULL {scope}
          AND (t.resident_id IS NULL OR {_hash_sql(compared, 't')} <> {_hash_sql(compared, 'h')})""")
    # A version opened on this very date and superseded the same date is replaced, not closed
    # (no empty intervals when a night is re-run).
    closed = con.execute("SELECT count(*) FROM _stale").fetchone()[0]
    con.execute("""DELETE FROM resident_history h USING _stale s
                   WHERE h.resident_id = s.resident_id AND h.valid_to IS NULL AND h.valid_from >= CAST(? AS DATE)""",
                [extract_date])
    con.execute("""UPDATE resident_history SET valid_to = CAST(? AS DATE)
                   FROM _stale s WHERE resident_history.resident_id = s.resident_id
                     AND resident_history.valid_to IS NULL""", [extract_date])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _opening AS
        SELECT t.*, CAST(? AS DATE) AS valid_from, NULL::DATE AS valid_to FROM {current} t
        WHERE NOT EXISTS (SELECT 1 FROM resident_history h
                          WHERE h.resident_id = t.resident_id AND h.valid_to IS NULL)""", [extract_date])
    opened = con.execute("SELECT count(*) FROM _opening").fetchone()[0]
    con.execute("INSERT INTO resident_history BY NAME SELECT * FROM _opening")
    con.execute("DROP TABLE IF EXISTS _opening")
    con.execute("DROP TABLE IF EXISTS _stale")
    return HistorySummary(opened=int(opened), closed=int(closed))


AS_OF_SQL = """
SELECT * FROM resident_history
WHERE valid_from <= CAST($as_of AS DATE) AND (valid_to IS NULL OR valid_to > CAST($as_of AS DATE))
"""


def as_of(con: duckdb.DuckDBPyConnection, date: str, resident_id: str | None = None) -> pd.DataFrame:
    """The golden records as the registry stated them on `date` (optionally of one resident)."""
    sql = AS_OF_SQL + (" AND resident_id = $rid" if resident_id else "") + " ORDER BY resident_id"
    params = {"as_of": date} | ({"rid": resident_id} if resident_id else {})
    return con.execute(sql, params).df()
