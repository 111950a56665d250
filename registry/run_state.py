"""A run's private copy of the working state, promoted only when the run publishes.

The working state (raw snapshots, records, links, residents, issued IDs) is what the next night is
compared against. A run that fails half-way must not leave it half-updated, so every run works on
a copy and the copy replaces the state with one atomic rename after a successful publish.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from registry.home import Home


@dataclass
class RunState:
    home: Home
    run_id: str
    # The run's one connection (see connection()); closed before the copy is promoted or discarded.
    _shared: duckdb.DuckDBPyConnection | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def path(self) -> Path:
        return self.home.run_dir / f"{self.run_id}.duckdb"

    @property
    def work_dir(self) -> Path:
        """Scratch files of the run (e.g. deliveries parsed ahead), beside its copy; removed with it."""
        return self.home.run_dir / f"{self.run_id}.work"

    @property
    def spill_dir(self) -> Path:
        """Where the run's database spills what exceeds its memory limit (registry.settings)."""
        return self.home.run_dir / f"{self.run_id}.spill"

    def open(self, while_copying: Callable[[], None] | None = None) -> "RunState":
        """Create the run's copy of the last good state (or an empty database on the first run).

        `while_copying` runs in this thread while the kernel copies the file in another (which only
        waits on copy_file_range). Idempotent: a second call within the same run keeps its copy.
        """
        self.home.ensure()
        recover_published_run(self.home)
        if not self.path.exists():
            tmp = self.path.with_suffix(".copying")
            if self.home.state_db.exists():
                _copy_while(self.home.state_db, tmp, while_copying)
                while_copying = None
            else:
                duckdb.connect(str(tmp)).close()
            os.replace(tmp, self.path)
        if while_copying is not None:
            while_copying()
        return self

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A new connection of the caller's own (who closes it)."""
        if not self.path.exists():
            raise FileNotFoundError(f"run {self.run_id} has no state copy at {self.path}; open() it first")
        from registry.settings import DatabaseSettings

        return duckdb.connect(str(self.path), read_only=read_only,
                              config=DatabaseSettings.load(self.home).config(self.spill_dir))

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The run's one connection, opened on first use and kept until close(): the stages of a run
        run one after another in one process, and opening a large database costs each of them time."""
        if self._shared is None:
            self._shared = self.connect()
        return self._shared

    def close(self) -> None:
        """Close the run's connection (DuckDB checkpoints it), if open; it reopens on next use."""
        con, self._shared = self._shared, None
        if con is not None:
            con.close()

    def promote(self) -> None:
        """Make this run's state the working state (after its registry was published)."""
        self.close()
        con = self.connect()
        con.execute("CHECKPOINT")
        con.close()
        os.replace(self.path, self.home.state_db)
        shutil.rmtree(self.spill_dir, ignore_errors=True)
        wal = self.path.with_suffix(".duckdb.wal")
        if wal.exists():
            wal.unlink()
        fsync_path(self.home.state_dir)
        keep_state_version(self.home, self.run_id)

    def discard(self) -> None:
        self.close()
        for p in (self.path, self.path.with_suffix(".duckdb.wal"), self.path.with_suffix(".copying")):
            if p.exists():
                p.unlink()
        shutil.rmtree(self.work_dir, ignore_errors=True)
        shutil.rmtree(self.spill_dir, ignore_errors=True)


# The working states kept beside the current one, for `registry rollback` (the current one and the one
# before it: the latest night can be taken back). Each is a hard link made at promotion; the state file
# is never written in place, so the link keeps exactly the state that night left.
KEEP_STATES = 2


def state_version(home: Home, run_id: str) -> Path:
    return home.state_dir / "versions" / f"state-{run_id}.duckdb"


def keep_state_version(home: Home, run_id: str) -> None:
    """Keep the state run `run_id` just promoted (a hard link; a copy where links are refused); the
    newest KEEP_STATES stay. Best effort: the night is published and promoted whatever happens here."""
    version = state_version(home, run_id)
    try:
        version.parent.mkdir(parents=True, exist_ok=True)
        tmp = version.with_suffix(".linking")
        tmp.unlink(missing_ok=True)
        try:
            os.link(home.state_db, tmp)
        except OSError:
            copy_file(home.state_db, tmp)
        os.replace(tmp, version)
        kept = sorted(version.parent.glob("state-*.duckdb"), key=lambda p: (p.stat().st_mtime, p.name))
        for old in kept[:-KEEP_STATES]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _copy_while(src: Path, dst: Path, work: Callable[[], None] | None) -> None:
    if work is None:
        copy_file(src, dst)
        return
    failed: list[BaseException] = []

    def copy() -> None:
        try:
            copy_file(src, dst)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    copier = threading.Thread(target=copy, name="state-copy")
    copier.start()
    try:
        work()
    finally:
        copier.join()
    if failed:
        raise failed[0]


def copy_file(src: Path, dst: Path) -> None:
    """Copy src's bytes to dst inside the kernel (copy_file_range: a fraction of shutil's sendfile
    time for the state's gigabytes on ext4); shutil where the file system or platform refuses."""
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            remaining = os.fstat(fin.fileno()).st_size
            while remaining > 0:
                copied = os.copy_file_range(fin.fileno(), fout.fileno(), min(remaining, 1 << 30))
                if copied == 0:
                    break
                remaining -= copied
            if remaining == 0:
                return
    except (AttributeError, OSError):  # no copy_file_range here (or across these file systems)
        pass
    shutil.copyfile(src, dst)


def fsync_path(path: Path) -> None:
    """Flush a file, or a directory's entries (after a rename), to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def last_published_run(home: Home) -> str | None:
    """The run whose registry departments read now."""
    if not home.published_db.exists():
        return None
    try:
        con = duckdb.connect(str(home.published_db), read_only=True)
    except duckdb.Error:
        return None
    try:
        rows = con.execute("SELECT run_id FROM runs WHERE status = 'published' "
                           "ORDER BY finished_at DESC NULLS LAST LIMIT 1").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    return rows[0][0] if rows else None


def recover_published_run(home: Home) -> str | None:
    """Roll forward a run that published its registry but was stopped before its state was promoted.

    Without this, the next night would start from the state before that run and issue again the
    resident_ids it had published, to other people.
    """
    run_id = last_published_run(home)
    if run_id and (home.run_dir / f"{run_id}.duckdb").exists():
        RunState(home, run_id).promote()
        return run_id
    return None


class RunLock:
    """One nightly run per HOME at a time: two runs would each promote their own state over the other's."""

    def __init__(self, home: Home):
        self.path = home.state_dir / "run.lock"
        self._fh = None

    def acquire(self, run_id: str) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another run"
            fh.close()
            raise RuntimeError(f"another nightly run holds {self.path} ({holder}); "
                               "wait for it to finish, then run again") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"run {run_id}, pid {os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def held_elsewhere(self) -> bool:
        """Whether a run holds the lock now (a glance: it may be taken or freed right after)."""
        try:
            with open(self.path, "a+", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def has_state(home: Home) -> bool:
    return home.state_db.exists()


def stale_run_copies(home: Home, keep: str | None = None) -> list[Path]:
    """Copies left by runs that crashed; safe to remove once no run is going."""
    if not home.run_dir.exists():
        return []
    return [p for p in home.run_dir.glob("*.duckdb") if keep is None or p.stem != keep]
