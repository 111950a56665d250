"""HOME/review/decisions.jsonl: append one decision, read them all back into DuckDB.

The file is append-only and never rewritten (registry.jsonl: locked, whole-line, fsync'ed appends), so
officers deciding at the same moment (several processes, several threads) all keep their decisions,
and the line order is the order the decisions were made: "latest" always means "later line".
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import duckdb

from registry import jsonl
from registry.review import DECISIONS, ReviewError

FIELDS: tuple[str, ...] = (
    "decision_id", "item_id", "kind", "decision", "record_l", "record_r", "resident_id", "attribute", "value",
    "decided_by", "decided_at", "reason", "evidence_hash",
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def append(path: Path, decision: dict) -> dict:
    """Append one decision; decision_id and decided_at are assigned under the lock. Returns the written row."""
    def row() -> dict:
        out = {f: decision.get(f) for f in FIELDS}
        out["decision_id"] = uuid.uuid4().hex
        out["decided_at"] = dt.datetime.now(dt.timezone.utc).strftime(_TIME_FORMAT)
        return out

    return jsonl.append(path, row)


def register(con: duckdb.DuckDBPyConnection, path: Path | str, table: str) -> int:
    """Create TEMP table `table` with every decision in the file (FIELDS + line_no). Returns the row count.

    A missing file gives an empty table. A line that is not a JSON decision raises ReviewError naming it.
    """
    path = Path(path)
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {f}" for f in FIELDS if f != "decided_at")
    if not path.exists() or path.stat().st_size == 0:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, CAST(NULL AS TIMESTAMP) AS decided_at, "
                    "CAST(NULL AS BIGINT) AS line_no LIMIT 0")
        return 0
    literal = str(path).replace("'", "''")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _journal_lines AS
        SELECT line, line_no FROM (
            SELECT unnest(s) AS line, generate_subscripts(s, 1) AS line_no
            FROM (SELECT string_split(content, chr(10)) AS s FROM read_text('{literal}'))
        ) WHERE trim(line) <> ''""")
    # A last line without its newline is a decision being written right now (appends end with one):
    # it is read on the next pass, and must not fail tonight's run.
    if not jsonl.last_line_complete(path):
        con.execute("DELETE FROM _journal_lines WHERE line_no = (SELECT max(line_no) FROM _journal_lines)")
    bad = con.execute("SELECT line_no, left(line, 80) FROM _journal_lines WHERE NOT json_valid(line) "
                      "ORDER BY line_no LIMIT 1").fetchall()
    if not bad:  # separately: DuckDB may evaluate every branch, and json_* raise on malformed text
        bad = con.execute("""
        SELECT line_no, left(line, 80) FROM _journal_lines
        WHERE CASE WHEN json_type(line) <> 'OBJECT' THEN true
                   ELSE json_extract_string(line, '$.decision') IS NULL
                        OR json_extract_string(line, '$.decision') NOT IN (SELECT unnest($1::VARCHAR[]))
                        OR try_strptime(json_extract_string(line, '$.decided_at'), $2) IS NULL END
        ORDER BY line_no LIMIT 1""", [list(DECISIONS), _TIME_FORMAT]).fetchall()
    bad = bad[0] if bad else None
    if bad:
        raise ReviewError(f"{path}: line {bad[0]} is not a valid decision (field decision/decided_at or JSON): {bad[1]!r}")
    fields = ", ".join(f"json_extract_string(line, '$.{f}') AS {f}" for f in FIELDS if f != "decided_at")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT {fields}, strptime(json_extract_string(line, '$.decided_at'), '{_TIME_FORMAT}') AS decided_at, line_no
        FROM _journal_lines ORDER BY line_no""")
    con.execute("DROP TABLE _journal_lines")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
