"""`registry rollback` takes back the latest published night: the registry before it returns byte for byte
with its working state, officers' decisions stay as they are, and no resident_id the night issued is ever
issued again; what cannot be taken back is refused with nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from registry.cli import main
from registry.home import Home
from registry.run_state import RunLock
from tests.independent.writer import write_night
from tests.pipelines.faults import published, query, sha256

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-19", "2026-11-20"
OFFICER = ["--by", "王科长", "--reason", "checked at the community office"]


def _state(home: Path, sql: str, params=None):
    return query(home / "state" / "registry_state.duckdb", sql, params)


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    """A home after night 1 (kept aside) and after night 2, with a decision made after night 2."""
    root = tmp_path_factory.mktemp("rollback")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    try:
        write_night(root / "landing", D1, 700, seed=29)
        # night 2: the same people, and people that night 1 did not have (new resident_ids)
        write_night(root / "landing", D2, 760, seed=29)
        home = root / "home"
        assert main(["run", "--home", str(home), "--landing", str(root / "landing"), "--date", D1, "--quiet"]) == 0
        after_night1 = root / "after_night1"
        shutil.copytree(home, after_night1)
        assert main(["run", "--home", str(home), "--landing", str(root / "landing"), "--date", D2, "--quiet"]) == 0
        a, b = published(home, """SELECT min(department || ':' || source_record_id), max(department || ':' || source_record_id)
                                  FROM crosswalk GROUP BY resident_id HAVING count(*) = 2 ORDER BY 1 LIMIT 1""")[0]
        assert main(["review", "link", a, b, "--different", "--home", str(home), *OFFICER]) == 0
        return root, after_night1, home
    finally:
        mp.undo()


def _copy(two_nights, tmp_path, monkeypatch) -> tuple[Path, Path, Path]:
    root, after_night1, home = two_nights
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    shutil.copytree(home, tmp_path / "home")
    return root / "landing", after_night1, tmp_path / "home"


def test_the_latest_night_is_taken_back(two_nights, tmp_path, monkeypatch, capsys):
    landing, after_night1, home = _copy(two_nights, tmp_path, monkeypatch)
    decisions = (home / "review" / "decisions.jsonl").read_bytes()
    issued_by_night2 = {r[0] for r in _state(home, "SELECT resident_id FROM resident_ids")} - {
        r[0] for r in _state(after_night1, "SELECT resident_id FROM resident_ids")}
    assert len(issued_by_night2) >= 20
    night2_run = published(home, "SELECT run_id FROM runs WHERE extract_date = ?", [D2])[0][0]
    capsys.readouterr()

    assert main(["rollback", "--home", str(home)]) == 0
    assert f"Took back the night of {D2}" in capsys.readouterr().out
    # the registry of night 1, byte for byte, and its working state
    assert sha256(home / "published" / "registry.duckdb") == sha256(after_night1 / "published" / "registry.duckdb")
    for table in ("raw_public_security", "records", "crosswalk", "resident_ids", "residents", "links"):
        assert _state(home, f"SELECT count(*), sum(hash(t)) FROM {table} t") == \
            _state(after_night1, f"SELECT count(*), sum(hash(t)) FROM {table} t"), table
    # officers' decisions untouched
    assert (home / "review" / "decisions.jsonl").read_bytes() == decisions
    # the ledger keeps the night taken back
    assert _state(home, "SELECT status FROM runs WHERE run_id = ?", [night2_run]) == [("rolled_back",)]
    assert {r[0] for r in _state(home, "SELECT resident_id FROM withdrawn_resident_ids")} == issued_by_night2

    # the night merged again: none of the withdrawn resident_ids is issued again, and the decision applies
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
    issued_again = {r[0] for r in _state(home, "SELECT resident_id FROM resident_ids")} - {
        r[0] for r in _state(after_night1, "SELECT resident_id FROM resident_ids")}
    assert issued_again and not issued_again & issued_by_night2
    assert min(issued_again) > max(issued_by_night2)  # numbered on from the withdrawn ones
    assert not {r[0] for r in published(home, "SELECT resident_id FROM residents")} & issued_by_night2
    assert published(home, "SELECT status FROM runs WHERE run_id = ?", [night2_run]) == [("rolled_back",)]


def _fingerprint(home: Path) -> dict[str, str]:
    return {str(p.relative_to(home)): sha256(p) for p in sorted(home.rglob("*"))
            if p.is_file() and "dagster" not in p.parts and p.name != "run.lock"}


def test_what_cannot_be_taken_back_is_refused_with_nothing_changed(two_nights, tmp_path, monkeypatch, capsys):
    landing, after_night1, home = _copy(two_nights, tmp_path, monkeypatch)
    # a run going
    lock = RunLock(Home(home)).acquire("a night being merged")
    try:
        before = _fingerprint(home)
        assert main(["rollback", "--home", str(home)]) == 1
        assert "another nightly run holds" in capsys.readouterr().err
        assert _fingerprint(home) == before
    finally:
        lock.release()
    # taken back once: the night before it has nothing before it
    assert main(["rollback", "--home", str(home)]) == 0
    before = _fingerprint(home)
    assert main(["rollback", "--home", str(home)]) == 1
    err = capsys.readouterr().err
    assert "refused, nothing changed" in err and "first published one" in err
    assert _fingerprint(home) == before
    # no home at all: nothing created
    assert main(["rollback", "--home", str(tmp_path / "typo")]) == 1
    assert not (tmp_path / "typo").exists()


def test_a_rollback_stopped_half_way_is_finished_by_running_it_again(two_nights, tmp_path, monkeypatch):
    import registry.rollback as rb

    landing, after_night1, home = _copy(two_nights, tmp_path, monkeypatch)

    def stopped(*args):
        raise KeyboardInterrupt("stopped between the state and the registry")

    monkeypatch.setattr(rb, "_publish_again", stopped)
    with pytest.raises(KeyboardInterrupt):
        rb.rollback(Home(home))
    monkeypatch.undo()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    assert main(["rollback", "--home", str(home)]) == 0
    assert sha256(home / "published" / "registry.duckdb") == sha256(after_night1 / "published" / "registry.duckdb")
    assert _state(home, "SELECT count(*) FROM resident_ids") == _state(after_night1, "SELECT count(*) FROM resident_ids")
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
