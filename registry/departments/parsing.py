"""Parse a night's deliveries in worker processes, ahead of loading them into the run database.

Reading a delivery (decoding, splitting lines, JSON, the XLSX sheet) is the slow part of loading it,
and it needs nothing from the run's state. `DeliveryParsing` starts it at the very beginning of a run,
two worker processes for the four files, while the run copies its state; each worker runs the same
reader (registry.departments.readers) on its own in-memory DuckDB and leaves the result in the run's
work folder:

  <department>.rows.parquet       the loadable rows, with their record hash
  <department>.problems.parquet   the quarantined rows: unparseable, and those the loader's row rules
                                  refuse (registry.departments.row_rules, run here too)
  <department>.notes.parquet      the value notes of those rules

or the whole-file rejection's message. The loader (registry.departments.load) then only stages those
files and does its bookkeeping; for any delivery not parsed ahead (an earlier night falling back, a
file changed since, a worker that died) it reads the file itself, so the outcome never depends on it.
registry.runtime decides when a run parses ahead, and hands the parsing to the run's loaders.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import multiprocessing
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from registry.departments import DEPARTMENTS, RECORD_HASH_COLUMN, record_hash_sql
from registry.departments.landing import DeliveryRejected, sha256_of
from registry.departments.readers import read_delivery
from registry.departments.row_rules import screen_rows
from registry.departments.staging import Staged
from registry.sql import quote_literal as _sql_str

PARSED, REJECTED, UNCHANGED, FAILED = "parsed", "rejected", "unchanged", "failed"

# Two cores: the XLSX sheet keeps one worker busy about as long as the three text files keep the other.
WORKERS = 2
# Submitted in this order so that the small file is ready first and the long XLSX starts at once.
PARSE_ORDER = ("civil_affairs", "family_planning", "labour", "public_security")
# The order the parsed files are ready in (the workbook takes one worker all along): the run loads
# them in this order, so that it loads the text files while the workbook is still being parsed.
READY_ORDER = ("civil_affairs", "labour", "public_security", "family_planning")


@dataclass(frozen=True)
class ParsedDelivery:
    """One file as a worker read it. `size`/`mtime_ns` identify the bytes it read (taken before)."""

    department: str
    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: str  # parsed | rejected | unchanged (same sha256 as the standing delivery) | failed
    rows_delivered: int = 0
    rows_file: str | None = None
    problems_file: str | None = None
    notes_file: str | None = None
    message: str | None = None  # the rejection's message (rejected) or the worker's error (failed)
    seconds: float = 0.0  # the worker's time on it

    def describes(self, path: Path) -> bool:
        """Whether this is the file at `path` as it is now (not replaced or touched since)."""
        try:
            stat = path.stat()
        except OSError:
            return False
        return (str(path) == self.path and stat.st_size == self.size and stat.st_mtime_ns == self.mtime_ns)

    def stage(self, con: duckdb.DuckDBPyConnection, stage: str) -> Staged:
        """The reader's two staging objects, from the worker's files (or its rejection, raised)."""
        if self.status == REJECTED:
            raise DeliveryRejected(self.message)
        assert self.status == PARSED, self.status
        con.execute(f"CREATE OR REPLACE TEMP VIEW {stage} AS SELECT * FROM read_parquet({_sql_str(self.rows_file)})")
        for part, file in (("problems", self.problems_file), ("notes", self.notes_file)):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {stage}_{part} AS SELECT * FROM read_parquet({_sql_str(file)})")
        return Staged(stage, f"{stage}_problems", self.rows_delivered, f"{stage}_notes")

    def discard(self) -> None:
        for f in (self.rows_file, self.problems_file, self.notes_file):
            if f:
                Path(f).unlink(missing_ok=True)


def parse_delivery(department: str, path: str, out_dir: str, standing_sha256: str | None = None,
                   database: dict | None = None) -> ParsedDelivery:
    """Read one delivery file into Parquet files in out_dir (runs in a worker process); `database`: DuckDB's
    configuration (its memory limit, registry.settings)."""
    started = time.perf_counter()
    source, out = Path(path), Path(out_dir)
    stat = source.stat()
    sha = sha256_of(source)
    base = dict(department=department, path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, sha256=sha)
    if standing_sha256 is not None and sha == standing_sha256:
        return ParsedDelivery(**base, status=UNCHANGED)  # a rerun: the loader keeps the standing snapshot
    # One thread: the two workers and the run itself share the two cores; the workbook worker, whose
    # calamine parse is the night's longest, must not be starved by a text file's parallel scan.
    con = duckdb.connect(config={**(database or {}), "temp_directory": str(out / f"{department}.tmp"), "threads": 1})
    # The workbook's row lists would trigger Python's cycle collector over and over; they hold no
    # cycles, and the worker is short-lived.
    collecting = gc.isenabled()
    gc.disable()
    try:
        staged = screen_rows(con, department, read_delivery(con, source, department, "stage", out))
        files = {part: out / f"{department}.{part}.parquet" for part in ("rows", "problems", "notes")}
        # The record hash too: change detection needs it, and here it costs the night no time.
        con.execute(f"""COPY (SELECT *, {record_hash_sql(department)} AS {RECORD_HASH_COLUMN} FROM {staged.table} s
                              WHERE NOT EXISTS (SELECT 1 FROM {staged.problems} q WHERE q.line = s._source_line))
                        TO {_sql_str(str(files["rows"]))} (FORMAT parquet)""")
        con.execute(f"COPY {staged.problems} TO {_sql_str(str(files['problems']))} (FORMAT parquet)")
        con.execute(f"COPY {staged.notes} TO {_sql_str(str(files['notes']))} (FORMAT parquet)")
        return ParsedDelivery(**base, status=PARSED, rows_delivered=staged.rows_delivered,
                              rows_file=str(files["rows"]), problems_file=str(files["problems"]),
                              notes_file=str(files["notes"]), seconds=time.perf_counter() - started)
    except DeliveryRejected as exc:
        return ParsedDelivery(**base, status=REJECTED, message=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - the loader reads the file itself and raises it there
        return ParsedDelivery(**base, status=FAILED, message=f"{type(exc).__name__}: {exc}")
    finally:
        if collecting:
            gc.enable()
        con.close()
        shutil.rmtree(out / f"{department}.tmp", ignore_errors=True)


def end_with_the_run(run_pid: int) -> None:
    """Worker initializer: end this worker as soon as the run that started it is gone.

    A run killed outright (SIGKILL, the OOM killer) cannot shut its pool down: its workers would be
    re-parented to init and live on, and with them multiprocessing's resource tracker, which exits
    only when the last holder of its pipe does. A daemon thread watches the parent's pid instead."""

    def watch() -> None:
        while os.getppid() == run_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-the-run", daemon=True).start()


def standing_sha256(state_db: Path, extract_date: str) -> dict[str, str]:
    """Per department, the checksum of the delivery of `extract_date` already loaded in the working
    state (a rerun of that night): such a file is not parsed again. Empty when there is none."""
    if not Path(state_db).exists():
        return {}
    try:
        con = duckdb.connect(str(state_db), read_only=True)
    except duckdb.Error:
        return {}
    try:
        return dict(con.execute(
            """SELECT department, arg_max(sha256, run_extract_date) FROM deliveries
               WHERE status = 'loaded' AND delivery_date = CAST(? AS DATE) AND sha256 IS NOT NULL
               GROUP BY department""", [extract_date]).fetchall())
    except duckdb.Error:  # no deliveries table yet
        return {}
    finally:
        con.close()


class DeliveryParsing:
    """Tonight's deliveries being parsed in worker processes; `take` one when its loader is ready.

    `deliveries` maps each department to its file for the night (None: nothing landed);
    `standing_sha256` the checksum of the delivery each department already has loaded for that very
    night (a rerun), whose file needs no parsing.
    """

    def __init__(self, deliveries: dict[str, Path | None], out_dir: Path,
                 standing_sha256: dict[str, str] | None = None, workers: int = WORKERS,
                 database: dict | None = None):
        self.deliveries = dict(deliveries)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # 'spawn': never fork a process whose DuckDB and Dagster threads hold locks.
        self._pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=end_with_the_run, initargs=(os.getpid(),))
        self._futures: dict[str, cf.Future] = {}
        order = [d for d in PARSE_ORDER if d in deliveries] + [d for d in deliveries if d not in PARSE_ORDER]
        try:
            for department in order:
                path = deliveries[department]
                if path is not None and department in DEPARTMENTS:
                    self._futures[department] = self._pool.submit(
                        parse_delivery, department, str(path), str(self.out_dir),
                        (standing_sha256 or {}).get(department), database)
        except RuntimeError:  # no worker could start (e.g. a main module without its __main__ guard)
            pass  # what was not submitted is read by its loader

    def take(self, department: str, path: Path) -> ParsedDelivery | None:
        """The worker's reading of `path`, waiting for it; None when the loader must read it itself."""
        future = self._futures.pop(department, None)
        if future is None:
            return None
        try:
            parsed = future.result()
        except Exception:  # noqa: BLE001 - a dead worker: the loader reads the file and reports what is wrong
            return None
        if parsed.status in (PARSED, REJECTED) and parsed.describes(Path(path)):
            return parsed
        parsed.discard()
        return None

    def close(self) -> None:
        """Stop the workers and remove what they wrote (at the end of the run, whatever its outcome)."""
        if any(not f.done() for f in self._futures.values()):
            # Nobody will load them (the run failed or stopped early): end the workers rather than wait.
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()
        shutil.rmtree(self.out_dir, ignore_errors=True)
