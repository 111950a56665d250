"""The audit of reads of personal data: HOME/audit/reads-YYYY-MM.jsonl, append-only, one line per read.

Every request the department API answers with a credential, and every page of personal data an officer
opens, writes one line before its answer is sent: who (department and credential, or officer), when,
the endpoint, the stated purpose, the published run read, how many residents and which resident_ids
(an export names no ids: `scope` is `export`, every resident of that run). No line, no answer: if the
line cannot be written the request fails.

The folder is the service's own (mode 0700), outside anything a department can read, and outside the
published registry and the working state: a failed or rolled-back night, or a restart, leaves it as it
is. Lines are appended under an exclusive lock and fsync'ed, many requests' lines in one write and one
fsync (group commit). Each line carries `seq` and `prev`, the SHA-256 of the line before it, so that an
edited, removed or reordered line breaks the chain (`registry audit --verify`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from registry import jsonl
from registry.access.files import private_dir
from registry.home import Home

FIELDS = ("seq", "at", "who", "department", "credential", "officer", "client", "endpoint", "status", "purpose",
          "query", "run_id", "scope", "residents", "resident_ids", "sensitive", "prev")
GENESIS = "0" * 64
_TAIL = 1 << 16


def audit_dir(home: Home) -> Path:
    return private_dir(home.audit_dir)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("reads-*.jsonl"))


def _last_line(folder: Path) -> bytes | None:
    """The last complete line of the newest non-empty file (a torn tail, from a crash mid-write, is skipped)."""
    for path in reversed(_files(folder)):
        size = path.stat().st_size
        if not size:
            continue
        with open(path, "rb") as fh:
            start = max(0, size - _TAIL)
            fh.seek(start)
            chunk = fh.read()
        lines = chunk.split(b"\n")
        complete = [l for l in lines[:-1] if l.strip()]   # lines[-1] is after the last newline
        if complete:
            return complete[-1]
        if start == 0:
            continue
        raise OSError(f"{path}: last line longer than {_TAIL} bytes")
    return None


@dataclass
class _Pending:
    row: dict
    done: threading.Event
    on_done: object = None              # called in the writer's thread once written (or failed)
    error: BaseException | None = None


class AuditLog:
    """Append rows durably. `write(row)` blocks until the line is on disk; `awrite` awaits it."""

    def __init__(self, home: Home):
        self.folder = audit_dir(home)
        self._pending: list[_Pending] = []
        self._tail: tuple | None = None    # ((file, its size after our last write), seq, hash of that line)
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def write(self, row: dict) -> dict:
        p = self._submit(row)
        p.done.wait()
        if p.error is not None:
            raise p.error
        return p.row

    async def awrite(self, row: dict) -> dict:
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def settle(p: _Pending) -> None:
            if not future.done():
                future.set_exception(p.error) if p.error is not None else future.set_result(p.row)

        self._submit(row, lambda p: loop.call_soon_threadsafe(settle, p))
        return await future

    def _submit(self, row: dict, on_done=None) -> _Pending:
        p = _Pending(row={f: row.get(f) for f in FIELDS if f not in ("seq", "prev")}, done=threading.Event(),
                     on_done=on_done)
        p.row["at"] = p.row.get("at") or _now()
        with self._cond:
            if self._closed:
                raise RuntimeError("audit log closed")
            self._pending.append(p)
            self._cond.notify()
        return p

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                batch, self._pending = self._pending, []
                if not batch and self._closed:
                    return
            error = None
            try:
                self._append(batch)
            except BaseException as exc:  # noqa: BLE001 - handed to every waiter: no line, no answer
                error = exc
            for p in batch:
                p.error = error
                p.done.set()
                if p.on_done is not None:
                    p.on_done(p)

    def _append(self, batch: list[_Pending]) -> None:
        lock = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            path = self.folder / f"reads-{batch[0].row['at'][:7]}.jsonl"
            # Where the chain stands: remembered from our last write, unless the file has grown since
            # (another process appended) or the month turned; then read from the file's tail.
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                size = 0
            if self._tail is not None and self._tail[0] == (path, size):
                seq, prev = self._tail[1:]
            else:
                last = _last_line(self.folder)
                seq, prev = (0, GENESIS) if last is None else (json.loads(last)["seq"], _line_hash(last))
            data = bytearray()
            for p in batch:
                seq += 1
                p.row = {"seq": seq, **p.row, "prev": prev}
                line = json.dumps(p.row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                prev = _line_hash(line)
                data += line + b"\n"
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                start = os.fstat(fd).st_size
                try:
                    jsonl.write_all_or_nothing(fd, bytes(data))   # all of the batch or none of it
                except BaseException:
                    self._tail = None
                    raise
                self._tail = ((path, start + len(data)), seq, prev)
            finally:
                os.close(fd)
        finally:
            os.close(lock)


# Reading ---------------------------------------------------------------------------------------

_COLUMNS = {"seq": "BIGINT", "at": "VARCHAR", "who": "VARCHAR", "department": "VARCHAR", "credential": "VARCHAR",
            "officer": "VARCHAR", "client": "VARCHAR", "endpoint": "VARCHAR", "status": "INTEGER",
            "purpose": "VARCHAR", "query": "JSON", "run_id": "VARCHAR", "scope": "VARCHAR", "residents": "BIGINT",
            "resident_ids": "VARCHAR[]", "sensitive": "VARCHAR[]", "prev": "VARCHAR"}


def local_midnight_utc(date: str) -> str:
    """'YYYY-MM-DD' (a date where the service runs) -> the UTC instant it starts, as stored in `at`."""
    day = dt.datetime.combine(dt.date.fromisoformat(date), dt.time()).astimezone()
    return day.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def query(home: Home, *, department: str | None = None, resident: str | None = None, who: str | None = None,
          since: str | None = None, until: str | None = None, limit: int | None = None) -> list[dict]:
    """Rows of the audit, oldest first. resident: reads that named that resident, and whole-view exports
    (which hold every resident). since/until: dates (YYYY-MM-DD, local), until exclusive."""
    files = _files(audit_dir(home))
    if not files:
        return []
    where, params = [], []
    if department:
        where.append("department = ?")
        params.append(department)
    if who:
        where.append("who = ?")
        params.append(who)
    if resident:
        where.append("(list_contains(resident_ids, ?) OR scope = 'export')")
        params.append(resident)
    if since:
        where.append("\"at\" >= ?")
        params.append(local_midnight_utc(since))
    if until:
        where.append("\"at\" < ?")
        params.append(local_midnight_utc(until))
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _COLUMNS.items()) + "}"
    sql = (f"SELECT * FROM read_json(?, format = 'newline_delimited', columns = {columns}) "
           f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY seq")
    if limit:
        sql += f" LIMIT {int(limit)}"
    con = duckdb.connect()
    try:
        cur = con.execute(sql, [[str(f) for f in files], *params])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    for r in rows:
        if isinstance(r.get("query"), str):
            r["query"] = json.loads(r["query"])
    return rows


def verify(home: Home) -> tuple[int, str | None]:
    """(lines checked, the first problem or None): every line follows the one before it."""
    prev, seq, n = GENESIS, 0, 0
    for path in _files(audit_dir(home)):
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, 1):
                if not line.endswith(b"\n"):
                    return n, f"{path.name} line {number}: torn (no end of line)"
                try:
                    row = json.loads(line)
                except ValueError:
                    return n, f"{path.name} line {number}: not JSON"
                if row.get("prev") != prev or row.get("seq") != seq + 1:
                    return n, (f"{path.name} line {number}: does not follow the line before it "
                               "(edited, removed or reordered)")
                prev, seq, n = _line_hash(line), row["seq"], n + 1
    return n, None
