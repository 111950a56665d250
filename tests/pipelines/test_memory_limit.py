"""A night's databases stay within the memory HOME/registry.yaml gives them, spill beside the run's copy,
and publish the same registry as a night with memory to spare."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from registry.cli import main
from registry.home import Home
from registry.run_state import RunState
from registry.settings import MEMORY_SHARE, ConfigError, DatabaseSettings, machine_memory

DATE = "2026-11-20"
RESIDENT_TABLES = ("crosswalk", "residents", "review_queue", "lineage", "conflicts", "resident_events",
                   "resident_history")


def _megabytes(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"KiB": 2 ** -10, "MiB": 1, "GiB": 2 ** 10}[unit]


def test_the_run_database_takes_its_limits_from_the_registry_configuration(tmp_path):
    home = Home.at(tmp_path / "home").ensure()
    state = RunState(home, "r1").open()
    con = state.connect()
    try:  # nothing configured: a share of this machine's memory, every core
        assert _megabytes(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]) == pytest.approx(
            machine_memory() * MEMORY_SHARE / 2 ** 20, rel=0.05)  # DuckDB shows it to one decimal
        assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0] is False
    finally:
        con.close()
    (home.root / "registry.yaml").write_text("database:\n  memory_limit: 300MB\n  threads: 1\n"
                                             f"  temp_directory: {tmp_path / 'spill'}\n", encoding="utf-8")
    con = state.connect()
    try:
        limit, threads, spill = con.execute("SELECT current_setting('memory_limit'), current_setting('threads'), "
                                            "current_setting('temp_directory')").fetchall()[0]
    finally:
        con.close()
    assert _megabytes(limit) == pytest.approx(300 * 1000 ** 2 / 2 ** 20, rel=0.01) and threads == 1  # MB: 1000²
    assert Path(spill) == tmp_path / "spill" / state.spill_dir.name  # one folder per run under the configured one
    state.discard()
    assert not state.spill_dir.exists()


@pytest.mark.parametrize("text, problem", [("database:\n  memory_limit: lots\n", "memory_limit 'lots'"),
                                           ("database:\n  threads: two\n", "threads"),
                                           ("database: [1, 2]\n", "'database' must be a mapping")])
def test_a_configuration_the_registry_cannot_use_is_refused_by_name(tmp_path, text, problem):
    (tmp_path / "registry.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="registry.yaml") as refused:
        DatabaseSettings.load(Home.at(tmp_path))
    assert problem in str(refused.value)


def test_a_night_within_a_small_memory_limit_publishes_what_a_night_with_memory_to_spare_does(tmp_path):
    landing = tmp_path / "landing"
    assert main(["generate", "--people", "2000", "--date", DATE, "--out", str(landing), "--seed", "23",
                 "--truth", str(tmp_path / "truth.csv")]) == 0
    spare, small = tmp_path / "home_spare", tmp_path / "home_small"
    small.mkdir()
    (small / "registry.yaml").write_text("database:\n  memory_limit: 256MB\n  threads: 1\n", encoding="utf-8")
    for home in (spare, small):
        assert main(["run", "--home", str(home), "--landing", str(landing), "--date", DATE]) == 0
    assert not list((small / "state" / "runs").glob("*.spill"))  # the spill folder goes with the run
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{spare / 'published' / 'registry.duckdb'}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{small / 'published' / 'registry.duckdb'}' AS b (READ_ONLY)")
        assert con.execute("SELECT count(*) FROM a.crosswalk").fetchall()[0][0] > 3000
        for table in RESIDENT_TABLES:
            cols = ", ".join(f'"{c}"' for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_catalog = 'a' AND table_name = ? "
                "AND column_name NOT IN ('run_id', 'first_raised_date', 'decided_at')", [table]).fetchall())
            for x, y in (("a", "b"), ("b", "a")):
                assert con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {x}.{table} EXCEPT ALL "
                                   f"SELECT {cols} FROM {y}.{table})").fetchall()[0][0] == 0, table
    finally:
        con.close()
