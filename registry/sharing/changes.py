"""The change feed: what changed for a department, night by night, since a cursor.

From the published registry (`runs`, `resident_events`, `resident_history`, `crosswalk`, `lineage`):
- `merged`, `split`, `retired`: resident IDs that a department must follow (any resident: IDs carry no
  personal data, and a department may hold an ID from an earlier read);
- `status`: a resident the department holds records of became `deceased` or `moved_out` (public
  security's 死亡 / 迁出), with the department that reported it — civil affairs learns the same night
  that a person receiving 低保 died;
- `changed`: golden values changed in the department's columns, for residents it holds records of,
  each column with its value before and after.

Nights are the published runs in order (extract date, then finish time). A night's golden changes are
its `resident_history` versions opened on its date; should a night be rerun, the rerun lists them again
(applying a change twice is harmless). The cursor is opaque to callers: the position of the last change
handed out (night, kind, resident), base64url JSON.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import asdict, dataclass

import duckdb

from registry.access.policy import DepartmentPolicy

KINDS = ("merged", "split", "retired", "status", "changed")
STATUS_EVENTS = ("deceased", "moved_out")
MAX_LIMIT = 10000


class CursorError(ValueError):
    """A cursor that this service did not hand out."""


@dataclass(frozen=True)
class Cursor:
    extract_date: str        # the night's extract date
    finished_at: str         # and finish time (nights of one date are ordered by it)
    run_id: str
    kind: int = len(KINDS)   # position inside the night: after (kind, resident_id); past its end by default
    resident_id: str = ""

    def encode(self) -> str:
        raw = json.dumps(asdict(self), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            cursor = cls(**data)
            dt.date.fromisoformat(cursor.extract_date)
            dt.datetime.fromisoformat(cursor.finished_at)
            if not (isinstance(cursor.kind, int) and isinstance(cursor.resident_id, str)
                    and isinstance(cursor.run_id, str)):
                raise TypeError
        except (ValueError, TypeError, binascii.Error):
            raise CursorError("not a cursor of this service: pass back the `cursor` a previous answer gave") from None
        return cursor


START = Cursor("0001-01-01", "0001-01-01T00:00:00", "", -1, "")


def _quote(c: str) -> str:
    return '"' + c.replace('"', '""') + '"'


def feed(con: duckdb.DuckDBPyConnection, db: str, dept: DepartmentPolicy, since: Cursor | None,
         limit: int = 1000) -> tuple[list[dict], Cursor, bool]:
    """(changes, the cursor to pass next, whether more are waiting) for the nights after `since`."""
    since = since or START
    limit = max(1, min(int(limit), MAX_LIMIT))
    cols = [c for c in dept.columns if c != "resident_id"]
    old = "to_json(struct_pack(" + ", ".join(f"{_quote(c)} := o.{_quote(c)}" for c in cols) + "))"
    new = "to_json(struct_pack(" + ", ".join(f"{_quote(c)} := n.{_quote(c)}" for c in cols) + "))"
    differ = ("struct_pack(" + ", ".join(f"o.{_quote(c)}" for c in cols) + ") IS DISTINCT FROM struct_pack("
              + ", ".join(f"n.{_quote(c)}" for c in cols) + ")")
    k = {kind: i for i, kind in enumerate(KINDS)}
    sql = f"""
        WITH nights AS (
            SELECT run_id, extract_date, CAST(finished_at AS VARCHAR) AS finished,
                   row_number() OVER (PARTITION BY extract_date ORDER BY finished_at DESC) = 1 AS last_of_date
            FROM {db}.runs WHERE status = 'published'
              AND (extract_date, CAST(finished_at AS VARCHAR)) >= (CAST($d AS DATE), $f)),
        held AS (SELECT DISTINCT resident_id FROM {db}.crosswalk WHERE department = $dept),
        pairs AS (
            SELECT t.run_id, t.extract_date, t.finished, n.*, o.status AS old_status, {old} AS old_values,
                   {new} AS new_values, {differ} AS values_differ
            FROM nights t
            JOIN {db}.resident_history n ON n.valid_from = t.extract_date AND t.last_of_date
            JOIN {db}.resident_history o ON o.resident_id = n.resident_id AND o.valid_to = n.valid_from
            SEMI JOIN held h ON h.resident_id = n.resident_id),
        changes AS (
            SELECT t.extract_date, t.finished, t.run_id,
                   CASE e.event WHEN 'merged' THEN {k['merged']} WHEN 'split' THEN {k['split']}
                                ELSE {k['retired']} END AS kind,
                   e.resident_id, e.other_resident_id, NULL AS status, NULL AS old_values, NULL AS new_values
            FROM nights t JOIN {db}.resident_events e USING (run_id)
            WHERE e.event IN ('merged', 'split', 'retired')
            UNION ALL
            SELECT extract_date, finished, run_id, {k['status']}, resident_id, NULL, status, NULL, NULL
            FROM pairs WHERE status IN ({', '.join(f"'{s}'" for s in STATUS_EVENTS)})
              AND old_status IS DISTINCT FROM status
            UNION ALL
            SELECT extract_date, finished, run_id, {k['changed']}, resident_id, NULL, NULL, old_values, new_values
            FROM pairs WHERE values_differ)
        SELECT c.*, l.department AS reported_by FROM changes c
        LEFT JOIN {db}.lineage l ON c.kind = {k['status']} AND l.resident_id = c.resident_id AND l.attribute = 'status'
        WHERE (c.extract_date, c.finished, c.kind, c.resident_id) > (CAST($d AS DATE), $f, $k, $r)
        ORDER BY c.extract_date, c.finished, c.kind, c.resident_id
        LIMIT $limit"""
    cur = con.execute(sql, {"d": since.extract_date, "f": since.finished_at, "k": since.kind, "r": since.resident_id,
                            "dept": dept.department, "limit": limit + 1})
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [_change(r) for r in rows]
    if rows:
        last = rows[-1]
        cursor = Cursor(str(last["extract_date"]), last["finished"], last["run_id"], last["kind"], last["resident_id"])
    else:
        cursor = _latest(con, db) or since
        if (cursor.extract_date, cursor.finished_at) < (since.extract_date, since.finished_at):
            cursor = since   # a night taken back since the caller's cursor: stay where the caller was
    return changes, cursor, more


def _latest(con: duckdb.DuckDBPyConnection, db: str) -> Cursor | None:
    row = con.execute(f"SELECT CAST(extract_date AS VARCHAR), CAST(finished_at AS VARCHAR), run_id FROM {db}.runs "
                      "WHERE status = 'published' ORDER BY extract_date DESC, finished_at DESC LIMIT 1").fetchall()
    return Cursor(*row[0]) if row else None


def _change(r: dict) -> dict:
    kind = KINDS[r["kind"]]
    out = {"kind": kind, "resident_id": r["resident_id"], "run_id": r["run_id"],
           "extract_date": str(r["extract_date"])}
    if kind == "merged":
        out["merged_into"] = r["other_resident_id"]
    elif kind == "split":
        out["split_to"] = r["other_resident_id"]
    elif kind == "status":
        out["status"] = r["status"]
        out["reported_by"] = r["reported_by"]
    elif kind == "changed":
        before, after = json.loads(r["old_values"]), json.loads(r["new_values"])
        out["changes"] = {c: {"from": before.get(c), "to": after.get(c)} for c in after
                          if before.get(c) != after.get(c)}
    return out
