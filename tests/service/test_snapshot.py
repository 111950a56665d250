"""The service's read model: one whole published night per request, switched when publish swaps the file."""

from __future__ import annotations

import os
import shutil
import time

import duckdb
import pyarrow as pa

from registry.access.policy import load_policy
from registry.service.snapshot import PublishedRegistry, Snapshot, _bytes
from tests.review.factory import make_published_home


def _stamp(path, run_id: str, name: str) -> None:
    """Give the registry file a `runs` row and change resident R1's name (another night)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE IF NOT EXISTS runs (run_id VARCHAR, extract_date DATE, mode VARCHAR, status VARCHAR, "
                    "started_at TIMESTAMP, finished_at TIMESTAMP, message VARCHAR, stats JSON)")
        con.execute("INSERT INTO runs VALUES (?, DATE '2026-11-20', 'full', 'published', now(), now(), NULL, NULL)",
                    [run_id])
        con.execute("UPDATE residents SET name = ? WHERE resident_id = 'R1'", [name])
    finally:
        con.close()


def _publish(home, run_id: str, name: str) -> None:
    """As publish does: build beside, then os.replace over the published name."""
    building = home.published_dir / f".building-{run_id}.duckdb"
    shutil.copy(home.published_db, building)
    _stamp(building, run_id, name)
    os.replace(building, home.published_db)


def test_byte_keys_sort_and_compare_as_duckdb_orders_them():
    words = ["LD0000000002", "LD0000000001", "张伟", "", "K7", "a", "Ab"]
    got = _bytes(pa.array(sorted(words)))
    assert [b.decode() for b in got] == sorted(words) and list(got) == sorted(got)


def test_lookups_on_a_snapshot(tmp_path):
    home = make_published_home(tmp_path)
    _stamp(home.published_db, "night-1", "张伟")
    snap = Snapshot.open(home.published_db, load_policy())
    labour = load_policy().departments["labour"]
    row = snap.record_row("labour", "LD0000000001")
    assert snap.rows([row], labour.columns)[0]["resident_id"] == "R1"
    assert snap.keys_of("labour", row) == ["LD0000000001"]
    assert snap.record_row("labour", "GA0000000001") is None           # public security's key, not labour's
    assert snap.record_row("civil_affairs", "LD0000000001") is None
    assert [snap.rows([r], ("resident_id",))[0]["resident_id"] for r in snap.id_number_rows("440304199005050022")] == ["R3", "R4"]
    assert snap.resident_row("R9") is None and snap.run_id == "night-1"
    snap.retire()


def test_a_request_keeps_its_night_and_the_next_one_gets_the_new_night(tmp_path):
    home = make_published_home(tmp_path)
    _stamp(home.published_db, "night-1", "张伟")
    registry = PublishedRegistry(home, load_policy(), poll_seconds=0.05).start()
    try:
        held = registry.acquire()                     # a request in flight across the swap
        assert held.run_id == "night-1"
        _publish(home, "night-2", "张维")
        deadline = time.monotonic() + 10
        while registry.run_id != "night-2" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert registry.run_id == "night-2"
        # The held snapshot still reads its own night, from the file the rename replaced.
        row = held.resident_row("R1")
        assert held.rows([row], ("name",)) == [{"name": "张伟"}]
        assert held.cursor().execute("SELECT name FROM pub.residents WHERE resident_id = 'R1'").fetchall() == [("张伟",)]
        held.release()                                 # the old file closes with its last request
        fresh = registry.acquire()
        assert fresh.run_id == "night-2" and fresh.rows([fresh.resident_row("R1")], ("name",)) == [{"name": "张维"}]
        fresh.release()
        assert registry.switches == 2
    finally:
        registry.stop()
