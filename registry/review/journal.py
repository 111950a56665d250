"""HOME/review/decisions.jsonl: append one decision, read them all back into DuckDB.

The file is append-only (registry.jsonl: locked, whole-line, fsync'ed appends; a tail torn by a crash
cut back before the next one), so officers deciding at the same moment (several processes, several
threads) all keep their decisions, and the line order is the order the decisions were made: "latest"
always means "later line". A line that is no decision, wherever it is, is skipped and reported
(`unreadable`, `problems`), never fatal: every good line counts.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import duckdb

from registry import jsonl
from registry.review import DECISIONS

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

    return jsonl.append(path, row, whole=_is_decision)


def _is_decision(line: bytes) -> bool:
    """Whether a line is one whole decision, as register() reads one."""
    try:
        row = json.loads(line)
        return (isinstance(row, dict) and row.get("decision") in DECISIONS
                and dt.datetime.strptime(str(row.get("decided_at")), _TIME_FORMAT) is not None)
    except (ValueError, TypeError):
        return False


def register(con: duckdb.DuckDBPyConnection, path: Path | str, table: str) -> int:
    """Create TEMP table `table` with every decision in the file (FIELDS + line_no). Returns the row count.

    A missing file gives an empty table. A line that is not a JSON decision (not JSON, not an object, no
    known `decision`, no `decided_at` time) is skipped and listed in TEMP table `<table>_unreadable`
    (line_no, problem, text); see unreadable(). So is a last line without its newline that is no whole
    decision: a decision being written right now (read on the next pass) or one a crash tore (cut back
    before the next append); a whole one counts.
    """
    path = Path(path)
    cols = ", ".join(f"CAST(NULL AS VARCHAR) AS {f}" for f in FIELDS if f != "decided_at")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table}_unreadable (line_no BIGINT, problem VARCHAR, text VARCHAR)")
    if not path.exists() or path.stat().st_size == 0:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, CAST(NULL AS TIMESTAMP) AS decided_at, "
                    "CAST(NULL AS BIGINT) AS line_no LIMIT 0")
        return 0
    literal = str(path).replace("'", "''")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _journal_lines AS
        SELECT line, line_no, json_valid(line) AS valid FROM (
            SELECT unnest(s) AS line, generate_subscripts(s, 1) AS line_no
            FROM (SELECT string_split(content, chr(10)) AS s FROM read_text('{literal}'))
        ) WHERE trim(line) <> ''""")
    # Separately: DuckDB may evaluate every branch, and json_* raise on malformed text.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _journal_checked AS
        SELECT line, line_no,
               CASE WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object'
                    WHEN json_extract_string(line, '$.decision') IS NULL
                         OR json_extract_string(line, '$.decision') NOT IN (SELECT unnest($1::VARCHAR[]))
                         THEN 'no known decision (one of ' || array_to_string($1::VARCHAR[], ', ') || ')'
                    WHEN try_strptime(json_extract_string(line, '$.decided_at'), $2) IS NULL
                         THEN 'no decided_at time' END AS problem
        FROM _journal_lines WHERE valid
        UNION ALL
        SELECT line, line_no, 'not JSON' FROM _journal_lines WHERE NOT valid""", [list(DECISIONS), _TIME_FORMAT])
    if not jsonl.last_line_complete(path):
        con.execute("""UPDATE _journal_checked SET problem = 'no newline at the end: a decision being written, '
                           || 'or torn by a crash (' || problem || '); cut back before the next decision'
                       WHERE problem IS NOT NULL AND line_no = (SELECT max(line_no) FROM _journal_checked)""")
    con.execute(f"""INSERT INTO {table}_unreadable SELECT line_no, problem, left(line, 200) FROM _journal_checked
                    WHERE problem IS NOT NULL ORDER BY line_no""")
    fields = ", ".join(f"json_extract_string(line, '$.{f}') AS {f}" for f in FIELDS if f != "decided_at")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT {fields}, strptime(json_extract_string(line, '$.decided_at'), '{_TIME_FORMAT}') AS decided_at, line_no
        FROM _journal_checked WHERE problem IS NULL ORDER BY line_no""")
    con.execute("DROP TABLE _journal_lines")
    con.execute("DROP TABLE _journal_checked")
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def unreadable(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[int, str, str]]:
    """(line number, problem, start of the line) of the lines register() skipped."""
    return con.execute(f"SELECT line_no, problem, text FROM {table}_unreadable ORDER BY line_no").fetchall()


def problems(path: Path | str) -> list[str]:
    """One sentence per line of the decisions file that is no decision (skipped by every reader)."""
    con = duckdb.connect()
    try:
        register(con, path, "_check")
        return [f"{path}: line {n} skipped: {problem}: {text[:80]!r}" for n, problem, text in unreadable(con, "_check")]
    finally:
        con.close()
