"""A run stopped after its swap rolls forward; two runs never work on one HOME at once."""

from __future__ import annotations

import duckdb
import pytest

from registry.cli import main
from registry.home import Home
from registry.run_state import RunLock, RunState

pytestmark = pytest.mark.slow

NIGHT1, NIGHT2, NIGHT3 = "2026-11-19", "2026-11-20", "2026-11-21"


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("safety")
    land = root / "landing"
    previous = None
    for night in (NIGHT1, NIGHT2, NIGHT3):
        args = ["generate", "--people", "800", "--date", night, "--out", str(land), "--seed", "31",
                "--truth", str(root / f"{night}.csv")]
        assert main(args + (["--previous", str(land / previous)] if previous else [])) == 0
        previous = night
    return land


def _ids(path, table_sql):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(table_sql).fetchall()
    finally:
        con.close()


def test_a_run_stopped_between_publish_and_promotion_rolls_forward(landing, tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    assert main(["run", "--home", str(home.root), "--landing", str(landing), "--date", NIGHT1]) == 0
    real_promote = RunState.promote

    def stopped_once(self):
        monkeypatch.setattr(RunState, "promote", real_promote)
        raise OSError("killed between the registry swap and the state promotion")

    monkeypatch.setattr(RunState, "promote", stopped_once)
    assert main(["run", "--home", str(home.root), "--landing", str(landing), "--date", NIGHT2]) == 0
    published = dict(_ids(home.published_db, "SELECT resident_id, name FROM residents"))
    # The state caught up with what departments read: every published resident_id is known to it ...
    issued = {r[0] for r in _ids(home.state_db, "SELECT resident_id FROM resident_ids")}
    assert set(published) <= issued
    # ... so the next night issues none of them again to someone else.
    assert main(["run", "--home", str(home.root), "--landing", str(landing), "--date", NIGHT3]) == 0
    created = _ids(home.published_db, "SELECT resident_id FROM resident_events WHERE event = 'created' "
                                      f"AND extract_date = DATE '{NIGHT3}'")
    assert not {r[0] for r in created} & set(published)


def test_a_second_run_on_the_same_home_waits_its_turn(landing, tmp_path, capsys):
    home = Home(tmp_path / "home").ensure()
    lock = RunLock(home).acquire("a run already going")
    try:
        assert RunLock(home).held_elsewhere()  # so `registry run` parses nothing ahead: it will stop here
        assert main(["run", "--home", str(home.root), "--landing", str(landing), "--date", NIGHT1]) != 0
    finally:
        lock.release()
    assert "another nightly run" in capsys.readouterr().err
    assert not home.published_db.exists()
    assert not RunLock(home).held_elsewhere()
    assert main(["run", "--home", str(home.root), "--landing", str(landing), "--date", NIGHT1]) == 0


def test_the_registry_command_ends_with_its_output_whole_and_its_exit_status(landing, tmp_path):
    """The installed `registry` command ends its process without Python's teardown after a run
    (registry.cli.console): the summary must still be printed whole, the status be the run's, and the
    run leave nothing of its own behind (parsed files, run copies, copies made ahead)."""
    import subprocess
    import sys
    from pathlib import Path

    registry = str(Path(sys.executable).parent / "registry")
    home = tmp_path / "home"
    base = [registry, "run", "--home", str(home), "--landing", str(landing)]
    ok = subprocess.run(base + ["--date", NIGHT1], capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"Nightly merge {NIGHT1} (full) published") and "published: " in ok.stdout
    assert ok.stdout.rstrip().endswith(str(home / "published" / "registry.duckdb"))
    assert not [p.name for p in (home / "state" / "runs").iterdir()]
    assert not list((home / "published").glob(".*"))
    # A night nobody delivered for is refused before it starts (behaviour changed: it used to fail in the
    # run); the refusal is whole on stderr, with its exit status.
    failed = subprocess.run(base + ["--date", "2026-11-18"], capture_output=True, text=True, timeout=600)
    assert failed.returncode == 1
    assert failed.stderr.startswith("registry run: refused, nothing changed: no department delivered for 2026-11-18")
    assert failed.stderr.endswith("\n") and failed.stdout == ""
