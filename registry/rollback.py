"""`registry rollback`: take back the latest published night.

The registry published before it (HOME/published/versions/registry-<run>.duckdb, byte for byte) is
published again and the working state that night left (HOME/state/versions/state-<run>.duckdb) becomes
the state again, so the next run compares tonight's deliveries with that night. Officers' decisions
(HOME/review/decisions.jsonl) are not touched. The resident_ids the night taken back issued go to the
state's `withdrawn_resident_ids` and are never issued again (registry.residents.stable_ids); its ledger
row stays, with status `rolled_back`.

Crash-safe in this order: the state is replaced first (one rename), then the registry (one rename); a
rollback stopped in between is finished by running it again (the state already says the night was taken
back). It holds the run lock: no night runs meanwhile.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from registry.home import Home
from registry.contracts import WITHDRAWN_RESIDENT_IDS
from registry.errors import RollbackRefused
from registry.run_state import (RunLock, copy_file, fsync_path, recover_published_run, state_version)
from registry.runs import abandon_killed_runs

ROLLED_BACK = "rolled_back"
WITHDRAWN = WITHDRAWN_RESIDENT_IDS.name


@dataclass(frozen=True)
class Rollback:
    run_id: str             # the night taken back
    extract_date: str
    restored_run_id: str    # the night published again
    restored_date: str
    withdrawn: int          # resident_ids the night taken back had issued


def _published_runs(path: Path) -> list[tuple[str, str]]:
    """(run_id, extract date) of the published runs in a registry or state file, latest first."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT run_id, strftime(extract_date, '%Y-%m-%d') FROM runs WHERE status = 'published' "
                           "ORDER BY finished_at DESC NULLS LAST").fetchall()
    finally:
        con.close()


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def rollback(home: Home) -> Rollback:
    """Take back the latest published night (see the module docstring). RollbackRefused: nothing changed."""
    if not home.published_db.exists():
        raise RollbackRefused(f"nothing is published at {home.published_db}: there is no night to take back")
    try:
        lock = RunLock(home).acquire("registry rollback")
    except RuntimeError as exc:
        raise RollbackRefused(str(exc)) from None
    try:
        recover_published_run(home)
        abandon_killed_runs(home, keep="registry rollback")
        return _rollback(home)
    finally:
        lock.release()


def _rollback(home: Home) -> Rollback:
    published = _published_runs(home.published_db)
    if not published:
        raise RollbackRefused(f"{home.published_db} holds no published run: there is no night to take back")
    (current, date), previous = published[0], published[1:]
    if not previous:
        raise RollbackRefused(f"the night of {date} (run {current}) is the first published one: there is no "
                              "earlier registry to return to")
    restored, restored_date = previous[0]
    registry_version = home.versions_dir / f"registry-{restored}.duckdb"
    kept_state = state_version(home, restored)
    state_done = _already_taken_back(home.state_db, current)
    for needed, what in ((registry_version, "registry"), (kept_state, "working state")):
        if not needed.exists() and not (what == "working state" and state_done):
            raise RollbackRefused(f"the {what} of the night of {restored_date} (run {restored}) is no longer kept "
                                  f"({needed} is missing): the latest night can be taken back only once, and only "
                                  "while the night before it is kept")

    withdrawn = _restore_state(home, kept_state, current) if not state_done else _withdrawn_by(home.state_db, current)
    _publish_again(home, registry_version, current)
    # The night taken back is in no registry or state to return to.
    (home.versions_dir / f"registry-{current}.duckdb").unlink(missing_ok=True)
    state_version(home, current).unlink(missing_ok=True)
    return Rollback(current, date, restored, restored_date, withdrawn)


def _publish_again(home: Home, version: Path, current: str) -> None:
    """Exactly the file that night published (its version is a hard link to it), swapped in atomically."""
    swap = home.published_dir / f".rollback-{current}.duckdb"
    swap.unlink(missing_ok=True)
    try:
        os.link(version, swap)
    except OSError:
        copy_file(version, swap)
    os.replace(swap, home.published_db)
    fsync_path(home.published_dir)


def _already_taken_back(state_db: Path, run_id: str) -> bool:
    con = duckdb.connect(str(state_db), read_only=True)
    try:
        return bool(con.execute("SELECT count(*) FROM runs WHERE run_id = ? AND status = ?",
                                [run_id, ROLLED_BACK]).fetchall()[0][0])
    finally:
        con.close()


def _withdrawn_by(state_db: Path, run_id: str) -> int:
    con = duckdb.connect(str(state_db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {WITHDRAWN} WHERE issued_run_id = ?", [run_id]).fetchall()[0][0]
    finally:
        con.close()


def _restore_state(home: Home, kept_state: Path, current: str) -> int:
    """The state of the night before, plus what must outlive the night taken back: the resident_ids it
    issued (withdrawn, with those withdrawn by earlier rollbacks) and the ledger rows since (the night
    itself as rolled_back). Built in a copy, then renamed over the state."""
    building = home.run_dir / f"{current}.rollback"
    building.parent.mkdir(parents=True, exist_ok=True)
    building.unlink(missing_ok=True)
    copy_file(kept_state, building)
    try:
        con = duckdb.connect(str(building))
        try:
            con.execute(f"ATTACH {_quoted(home.state_db)} AS taken_back (READ_ONLY)")
            con.execute(WITHDRAWN_RESIDENT_IDS.ddl())
            now = dt.datetime.now()
            has_withdrawn = con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'taken_back' "
                                        "AND table_name = ?", [WITHDRAWN]).fetchall()[0][0]
            if has_withdrawn:
                con.execute(f"INSERT INTO {WITHDRAWN} SELECT * FROM taken_back.{WITHDRAWN} "
                            f"WHERE resident_id NOT IN (SELECT resident_id FROM {WITHDRAWN})")
            con.execute(f"""INSERT INTO {WITHDRAWN}
                            SELECT resident_id, coalesce(created_run_id, ?), ? FROM taken_back.resident_ids
                            WHERE resident_id NOT IN (SELECT resident_id FROM resident_ids)
                              AND resident_id NOT IN (SELECT resident_id FROM {WITHDRAWN})""", [current, now])
            withdrawn = con.execute(f"SELECT count(*) FROM {WITHDRAWN} WHERE issued_run_id = ?",
                                    [current]).fetchall()[0][0]
            con.execute("""INSERT INTO runs SELECT * FROM taken_back.runs
                           WHERE run_id NOT IN (SELECT run_id FROM runs) AND run_id <> ?""", [current])
            con.execute(f"""INSERT INTO runs SELECT * REPLACE ('{ROLLED_BACK}' AS status,
                                coalesce(message || '; ', '') || 'taken back by registry rollback at ' || ? AS message)
                            FROM taken_back.runs WHERE run_id = ?""", [now.strftime("%Y-%m-%d %H:%M:%S"), current])
            con.execute("DETACH taken_back")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(building, home.state_db)
        fsync_path(home.state_dir)
    except BaseException:
        building.unlink(missing_ok=True)
        raise
    return withdrawn
