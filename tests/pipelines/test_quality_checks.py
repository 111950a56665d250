"""Quality checks judge deliveries, not single values: a bad value is noted and the night goes on; a
share never blocks on a handful of rows; a blocking failure says which department, file, expectation,
column and lines; the golden suite is an asset check of the published registry."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from registry.cli import main
from tests.independent.writer import write_night
from tests.pipelines.faults import published, sha256

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-19", "2026-11-20"
REGISTRY = str(Path(sys.executable).parent / "registry")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def night1(tmp_path_factory):
    root = tmp_path_factory.mktemp("quality")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    try:
        write_night(root / "landing", D1, 800, seed=53)
        assert main(["run", "--home", str(root / "home"), "--landing", str(root / "landing"), "--date", D1,
                     "--quiet"]) == 0
        return root
    finally:
        mp.undo()


def _night2_as_night1(root: Path, tmp_path: Path, edit_civil_affairs) -> tuple[Path, Path]:
    """Night 2 = night 1's files under night 2's names, civil affairs' rows edited; a copy of the home."""
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing)
    shutil.copytree(landing / D1, landing / D2)
    for f in (landing / D2).rglob(f"*_{D1.replace('-', '')}.*"):
        f.rename(f.with_name(f.name.replace(D1.replace("-", ""), D2.replace("-", ""))))
    path, = (landing / D2 / "civil_affairs").glob("*.csv")
    text = path.read_bytes().decode("utf-8-sig")
    header, *lines = [line for line in text.split("\r\n")]
    rows = [next(csv.reader(io.StringIO(line))) for line in lines if line.strip()]
    rows = edit_civil_affairs(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(("\ufeff" + header + "\r\n" + out.getvalue()).encode("utf-8"))
    home = tmp_path / "home"
    shutil.copytree(root / "home", home)
    return landing, home


def test_one_malformed_identity_number_among_a_few_new_rows_is_noted_and_the_night_goes_on(night1, tmp_path,
                                                                                           monkeypatch):
    new_keys = [f"MZ99000000{i:02d}" for i in range(5)]

    def five_new(rows):
        extra = [list(r) for r in rows[:5]]
        for key, row in zip(new_keys, extra):
            row[0] = key
        extra[2][2] = "44030X19A0-01-01"  # one malformed identity number among the five new rows
        return rows + extra

    landing, home = _night2_as_night1(night1, tmp_path, five_new)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    before = published(home, "SELECT count(*) FROM crosswalk WHERE department = 'civil_affairs'")[0][0]
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
    # every row loaded and published, the five new ones among them
    delivered, loaded = published(home, "SELECT rows_delivered, rows_loaded FROM deliveries WHERE run_extract_date = ? "
                                        "AND department = 'civil_affairs'", [D2])[0]
    assert delivered == loaded == before + 5
    keys = {k for k, in published(home, "SELECT source_record_id FROM crosswalk WHERE department = 'civil_affairs'")}
    assert set(new_keys) <= keys and len(keys) == before + 5
    # the bad value is noted with its line, field and value
    (line, field, value), = published(home, "SELECT line, field, value FROM quarantine WHERE record_key = ? "
                                            "AND reason = 'id_number_malformed' AND extract_date = ?",
                                      [new_keys[2], D2])
    assert (field, value) == ("证件号码", "44030X19A0-01-01") and line == before + 4
    assert published(home, "SELECT mode, status FROM runs WHERE extract_date = ?", [D2]) == [("incremental", "published")]


def test_a_blocking_failure_names_department_file_expectation_column_and_lines(night1, tmp_path, monkeypatch, capsys):
    def every_number_broken(rows):
        for row in rows:
            row[2] = "ABC" + row[2][3:]
        return rows

    landing, home = _night2_as_night1(night1, tmp_path, every_number_broken)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    registry_file = home / "published" / "registry.duckdb"
    before = sha256(registry_file)
    capsys.readouterr()
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "quality check civil_affairs_delivery_suite blocked the night" in err
    assert "civil_affairs (minzheng_20261120.csv)" in err and "expect_column_values_to_match_regex on 证件号码" in err
    assert "e.g. line 2 'ABC" in err and "line 3 'ABC" in err and "at most 15% may" in err
    assert sha256(registry_file) == before


def test_the_golden_suite_is_an_asset_check_of_the_published_registry(night1, tmp_path):
    suites = tmp_path / "suites"
    shutil.copytree(ROOT / "expectations", suites)
    golden = json.loads((suites / "published_registry.json").read_text(encoding="utf-8"))
    golden["expectations"].append({"type": "expect_table_row_count_to_be_between",
                                   "kwargs": {"min_value": 1, "max_value": 10},
                                   "meta": {"severity": "block", "description": "a district of ten at most"}})
    (suites / "published_registry.json").write_text(json.dumps(golden, ensure_ascii=False), encoding="utf-8")
    home = tmp_path / "home"
    shutil.copytree(night1 / "home", home)
    registry_file = home / "published" / "registry.duckdb"
    before = sha256(registry_file)
    env = {**os.environ, "REGISTRY_EXPECTATIONS": str(suites), "DAGSTER_HOME": str(tmp_path / "dagster")}
    done = subprocess.run([REGISTRY, "run", "--home", str(home), "--landing", str(night1 / "landing"), "--date", D1,
                           "--quiet", "--full-rebuild"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1
    assert "quality check published_registry_suite blocked the night" in done.stderr
    assert "expect_table_row_count_to_be_between" in done.stderr
    assert sha256(registry_file) == before
