"""The published registry as the service reads it: one whole night at a time, switched when publish swaps.

A `Snapshot` is one published file, opened read-only (an in-memory DuckDB with the file attached, so
that the file's inode stays open after publish renames a new file over its name), with the lookups a
department makes held in memory: the golden records of every resident in the columns some department
may see (Arrow, sorted by resident_id) and sorted key arrays for resident_id, each department's record
keys and identity numbers. A lookup is a binary search and one row; the bulk reads (change feed,
discrepancies, search by name) are DuckDB queries on the same attached file.

`PublishedRegistry` watches HOME/published/registry.duckdb. When publish swaps a new file in, it opens
and indexes the new file in a background thread while the old snapshot keeps answering, then switches:
a request holds the snapshot it started with to its end, so it never mixes two nights, and no request
waits for the switch. The old file closes when its last request finishes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from registry.access.policy import Policy
from registry.home import Home
from registry.sql import table_exists

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


class NotPublished(RuntimeError):
    """No published registry to read (yet)."""


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _bytes(strings: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Arrow strings as a fixed-width byte array (numpy 'S', compared bytewise as DuckDB orders VARCHAR),
    built with array operations only: a million keys in milliseconds, without holding the interpreter
    (requests go on being answered while a new night is indexed)."""
    arr = pa.concat_arrays(strings.chunks) if isinstance(strings, pa.ChunkedArray) else strings
    arr = arr.cast(pa.large_binary())
    n = len(arr)
    if n == 0:
        return np.array([], dtype="S1")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    width = max(int(lengths.max()), 1)
    starts = offsets[:-1]
    if int(lengths.min()) == width:   # keys of one length (the usual case): the buffer already is the array
        return data[starts[0]:starts[0] + n * width].copy().view(f"S{width}")
    out = np.zeros((n, width), dtype=np.uint8)
    for length in np.unique(lengths):   # a handful of distinct lengths: one gather each
        if length == 0:
            continue
        which = np.flatnonzero(lengths == length)
        out[which, :length] = data[starts[which][:, None] + np.arange(length)]
    return out.view(f"S{width}").ravel()


@dataclass
class _KeyIndex:
    """Sorted keys and the resident row each points to; a key may point to several rows."""
    keys: np.ndarray
    rows: np.ndarray

    def find(self, key: str) -> np.ndarray:
        k = _key(key, self.keys)
        if k is None:
            return self.rows[:0]
        lo = self.keys.searchsorted(k, "left")
        hi = self.keys.searchsorted(k, "right")
        return self.rows[lo:hi]


def _key(key: str, keys: np.ndarray) -> np.ndarray | None:
    """`key` as a scalar of the keys' own dtype (None: longer than any key, so in none). A key of another
    dtype would make numpy convert the whole array on every search."""
    k = key.encode("utf-8")
    if len(k) > keys.dtype.itemsize or k.endswith(b"\0"):
        return None
    return np.array(k, dtype=keys.dtype)


@dataclass
class Snapshot:
    path: Path
    identity: tuple
    run_id: str
    extract_date: str | None
    con: duckdb.DuckDBPyConnection                     # the file attached as `pub`
    residents: pa.Table                                # visible columns, sorted by resident_id
    resident_ids: np.ndarray                           # sorted, bytes
    records: dict[str, _KeyIndex]                      # department -> its record keys
    own_keys: dict[str, tuple[np.ndarray, np.ndarray]]  # department -> (resident rows sorted, keys)
    id_numbers: _KeyIndex
    retired: dict[str, str | None]                     # retired resident_id -> merged_into
    _users: int = 0
    _closing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    _tables: dict = field(default_factory=dict)        # columns -> those columns of `residents`

    @classmethod
    def open(cls, path: Path, policy: Policy) -> "Snapshot":
        """Open and index the file now at `path` (the very file: its identity is checked around the open)."""
        for _ in range(5):
            before = _identity(path)
            if before is None:
                raise NotPublished(f"no published registry at {path}")
            con = duckdb.connect(config={"threads": 2, "memory_limit": "2GB"})
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS pub (READ_ONLY)")
            if _identity(path) == before:
                break
            con.close()   # swapped while opening: open the new one
        else:
            raise RuntimeError(f"{path} keeps changing while being opened")
        try:
            return cls._index(path, before, con, policy)
        except BaseException:
            con.close()
            raise

    @classmethod
    def _index(cls, path: Path, identity: tuple, con: duckdb.DuckDBPyConnection, policy: Policy) -> "Snapshot":
        run = []
        if table_exists(con, "runs", "pub"):
            run = con.execute("SELECT run_id, CAST(extract_date AS VARCHAR) FROM pub.runs WHERE status = 'published' "
                              "ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchall()
        run_id, extract_date = run[0] if run else (None, None)
        have = {c for c, in con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = 'pub' "
                                        "AND table_name = 'residents'").fetchall()}
        cols = [c for c in policy.visible_columns if c in have]
        if "resident_id" not in cols:
            cols.insert(0, "resident_id")
        residents = con.sql("SELECT " + ", ".join(f'"{c}"' for c in cols)
                            + " FROM pub.residents ORDER BY resident_id").to_arrow_table()
        resident_ids = _bytes(residents.column("resident_id"))
        con.execute("""CREATE TEMP TABLE _row AS
                       SELECT resident_id, CAST(row_number() OVER (ORDER BY resident_id) - 1 AS INTEGER) AS row
                       FROM pub.residents""").fetchall()
        records, own_keys = {}, {}
        if not table_exists(con, "crosswalk", "pub"):
            con.execute("CREATE TEMP TABLE _empty_crosswalk (department VARCHAR, source_record_id VARCHAR, "
                        "resident_id VARCHAR)").fetchall()
        crosswalk = "pub.crosswalk" if table_exists(con, "crosswalk", "pub") else "_empty_crosswalk"
        for dept in policy.departments:
            t = con.sql(f"""SELECT x.source_record_id AS k, r.row FROM {crosswalk} x JOIN _row r USING (resident_id)
                            WHERE x.department = '{dept}' ORDER BY x.source_record_id""").to_arrow_table()
            records[dept] = _KeyIndex(_bytes(t.column("k")), t.column("row").to_numpy().astype(np.int32))
            order = np.argsort(records[dept].rows, kind="stable")
            own_keys[dept] = (records[dept].rows[order], records[dept].keys[order])
        id_number = "p.id_number" if "id_number" in have else "NULL::VARCHAR"
        t = con.sql(f"""SELECT {id_number} AS k, r.row FROM pub.residents p JOIN _row r USING (resident_id)
                        WHERE {id_number} IS NOT NULL ORDER BY 1""").to_arrow_table()
        id_numbers = _KeyIndex(_bytes(t.column("k")), t.column("row").to_numpy().astype(np.int32))
        retired = dict(con.execute("SELECT resident_id, merged_into FROM pub.resident_ids WHERE status = 'retired'"
                                   ).fetchall()) if table_exists(con, "resident_ids", "pub") else {}
        con.execute("DROP TABLE _row")
        return cls(path=path, identity=identity, run_id=run_id, extract_date=extract_date, con=con,
                   residents=residents, resident_ids=resident_ids, records=records, own_keys=own_keys,
                   id_numbers=id_numbers, retired=retired)

    # Lookups -------------------------------------------------------------------------------------

    def resident_row(self, resident_id: str) -> int | None:
        k = _key(resident_id, self.resident_ids)
        if k is None:
            return None
        i = int(self.resident_ids.searchsorted(k))
        return i if i < len(self.resident_ids) and self.resident_ids[i] == k else None

    def record_row(self, department: str, source_record_id: str) -> int | None:
        index = self.records.get(department)
        rows = index.find(source_record_id) if index is not None else ()
        return int(rows[0]) if len(rows) else None

    def id_number_rows(self, id_number: str) -> list[int]:
        return sorted(int(r) for r in self.id_numbers.find(id_number))

    def keys_of(self, department: str, row: int) -> list[str]:
        rows, keys = self.own_keys[department]
        at = np.int32(row)   # the array's own dtype: no conversion of the array per search
        lo, hi = rows.searchsorted(at, "left"), rows.searchsorted(at, "right")
        return sorted(k.decode("utf-8") for k in keys[lo:hi])

    def rows(self, rows: list[int], columns: tuple[str, ...]) -> list[dict]:
        if not rows:
            return []
        table = self._tables.get(columns)
        if table is None:
            table = self._tables[columns] = self.residents.select(
                [c for c in columns if c in self.residents.column_names])
        if len(rows) == 1:
            return table.slice(rows[0], 1).to_pylist()
        return table.take(pa.array(rows, type=pa.int32())).to_pylist()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor on this snapshot for the calling thread (queries of one thread run in turn)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self.con.cursor()
        return cur

    # Life cycle ----------------------------------------------------------------------------------

    def acquire(self) -> bool:
        with self._lock:
            if self._closing:
                return False
            self._users += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._closing and self._users == 0
        if close:
            self._close()

    def retire(self) -> None:
        """Close once the requests using it are done (at once if none is)."""
        with self._lock:
            self._closing = True
            close = self._users == 0
        if close:
            self._close()

    def _close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:  # pragma: no cover - closing twice
            pass


class PublishedRegistry:
    """The current snapshot of HOME/published/registry.duckdb, switched when a new file is swapped in."""

    def __init__(self, home: Home, policy: Policy, poll_seconds: float = POLL_SECONDS):
        self.home, self.policy, self.poll_seconds = home, policy, poll_seconds
        self._current: Snapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: tuple | None = None
        self.switches = 0

    def start(self) -> "PublishedRegistry":
        try:
            self._refresh()
        except NotPublished:
            log.warning("no published registry at %s yet: department reads answer 503 until a run publishes",
                        self.home.published_db)
        except Exception:  # noqa: BLE001 - the officers' pages serve on; department reads answer 503
            log.exception("the published registry at %s could not be opened for the department API",
                          self.home.published_db)
        self._thread = threading.Thread(target=self._watch, name="published-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.retire()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self._refresh()
            except NotPublished:
                pass
            except Exception:  # noqa: BLE001 - keep serving the snapshot we have; try again next poll
                log.exception("could not open the newly published registry; still serving the previous one")

    def _refresh(self) -> None:
        current = self._current
        identity = _identity(self.home.published_db)
        if (current is not None and identity == current.identity) or identity == self._failed:
            return
        started = time.monotonic()
        try:
            fresh = Snapshot.open(self.home.published_db, self.policy)
        except NotPublished:
            raise
        except Exception:
            self._failed = identity   # tried once: again only when another file is published
            raise
        with self._lock:
            old, self._current = self._current, fresh
            self.switches += 1
        if old is not None:
            old.retire()
        log.info("serving run %s (%s) from %s, opened in %.1f s", fresh.run_id, fresh.extract_date,
                 self.home.published_db, time.monotonic() - started)

    @property
    def run_id(self) -> str | None:
        current = self._current
        return current.run_id if current is not None else None

    def acquire(self) -> Snapshot:
        """The current snapshot, held until release(); NotPublished if there is none."""
        while True:
            snap = self._current
            if snap is None:
                raise NotPublished(f"no published registry at {self.home.published_db}")
            if snap.acquire():
                return snap
            # retired between reading and acquiring: the next one is already current
