"""Two generated nights through `registry run`, as a data engineer runs them.

The second night runs incrementally and must equal a full rebuild; unchanged people keep their
resident_id; the run history counts the changes; a corrupted delivery leaves the registry in place.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from registry.cli import main

pytestmark = pytest.mark.slow

PEOPLE = 3000
NIGHT1, NIGHT2, NIGHT3 = "2026-11-19", "2026-11-20", "2026-11-21"


def _registry(home: Path, sql: str, params=None):
    """A query of a home's published registry (or of a registry file)."""
    path = home if home.suffix == ".duckdb" else home / "published" / "registry.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _partition(home: Path) -> dict[str, frozenset[str]]:
    rows = _registry(home, "SELECT resident_id, list(department || ':' || source_record_id) FROM crosswalk GROUP BY 1")
    return {rid: frozenset(members) for rid, members in rows}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    landing = root / "landing"
    truth = root / "truth"
    assert main(["generate", "--people", str(PEOPLE), "--date", NIGHT1, "--out", str(landing), "--seed", "11",
                 "--truth", str(truth / f"{NIGHT1}.csv")]) == 0
    assert main(["generate", "--people", str(PEOPLE), "--date", NIGHT2, "--out", str(landing), "--seed", "11",
                 "--truth", str(truth / f"{NIGHT2}.csv"), "--previous", str(landing / NIGHT1)]) == 0
    return root, landing, truth


@pytest.fixture(scope="module")
def incremental_home(nights, tmp_path_factory, monkeypatch_module):
    root, landing, _ = nights
    home = tmp_path_factory.mktemp("home_incremental")
    monkeypatch_module.setenv("DAGSTER_HOME", str(home / "dagster"))
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT1]) == 0
    first = _partition(home)
    # The home as night 1 left it, for the full rebuild of night 2 (rebuilt_home): night 1 runs once.
    shutil.copytree(home, root / "night1-home", ignore=shutil.ignore_patterns("dagster"))
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT2]) == 0
    # The registry as night 2 published it: later tests publish later nights into this home.
    night2 = shutil.copy(home / "published" / "registry.duckdb", root / "night2-incremental.duckdb")
    return home, first, _partition(home), Path(night2)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_second_night_runs_incrementally_and_is_published(incremental_home):
    _, _, _, night2 = incremental_home
    modes = dict(_registry(night2, "SELECT strftime(extract_date, '%Y-%m-%d'), mode FROM runs WHERE status = 'published'"))
    assert modes == {NIGHT1: "full", NIGHT2: "incremental"}


@pytest.fixture(scope="module")
def rebuilt_home(nights, incremental_home, tmp_path_factory):
    """Night 1 (the incremental home's, copied), then night 2 rebuilt from all deliveries (--full-rebuild)."""
    root, landing, _ = nights
    rebuilt = tmp_path_factory.mktemp("home_rebuilt") / "home"
    shutil.copytree(root / "night1-home", rebuilt)
    assert main(["run", "--home", str(rebuilt), "--landing", str(landing), "--date", NIGHT2, "--full-rebuild"]) == 0
    return rebuilt


def test_incremental_night_equals_a_full_rebuild(incremental_home, rebuilt_home):
    _, _, incremental, _ = incremental_home
    full = _partition(rebuilt_home)
    assert set(incremental.values()) == set(full.values())
    # The same people under the same IDs, too.
    assert incremental == full


# Per published table, the columns that legitimately differ between two homes (the run that wrote a row).
_RUN_COLUMNS = {
    "residents": [], "lineage": [], "conflicts": [], "crosswalk": [], "resident_history": [],
    "resident_ids": ["created_run_id", "retired_run_id"],
    "resident_events": ["run_id"],
    "review_queue": [],
    "quarantine": [],
    "discrepancies": [],
}


@pytest.mark.parametrize("table", sorted(_RUN_COLUMNS))
def test_incremental_night_publishes_the_same_tables_as_a_full_rebuild(incremental_home, rebuilt_home, table):
    """Every published table, row for row (run ids aside): what departments and officers read is the same."""
    _, _, _, night2 = incremental_home
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{night2}' AS inc (READ_ONLY)")
        con.execute(f"ATTACH '{rebuilt_home / 'published' / 'registry.duckdb'}' AS reb (READ_ONLY)")
        exclude = f" EXCLUDE ({', '.join(_RUN_COLUMNS[table])})" if _RUN_COLUMNS[table] else ""
        rows = {db: con.execute(f"SELECT count(*) FROM {db}.{table}").fetchall()[0][0] for db in ("inc", "reb")}
        only_inc = con.execute(f"SELECT * {exclude} FROM inc.{table} EXCEPT ALL SELECT * {exclude} FROM reb.{table}"
                               ).fetchall()
        only_reb = con.execute(f"SELECT * {exclude} FROM reb.{table} EXCEPT ALL SELECT * {exclude} FROM inc.{table}"
                               ).fetchall()
    finally:
        con.close()
    assert rows["inc"] == rows["reb"]
    assert rows["inc"] > 0 or table in ("conflicts", "quarantine")  # these may be empty on small data
    assert only_inc == [] and only_reb == [], f"{table}: incremental only {only_inc[:3]}; rebuild only {only_reb[:3]}"


def test_unchanged_people_keep_their_resident_id(incremental_home):
    _, first, second, _ = incremental_home
    by_members = {members: rid for rid, members in second.items()}
    unchanged = [(rid, members) for rid, members in first.items() if members in by_members]
    assert len(unchanged) > PEOPLE * 0.8
    moved = [(rid, by_members[m]) for rid, m in unchanged if by_members[m] != rid]
    assert moved == []


def test_run_history_counts_the_changes(incremental_home):
    _, first, second, night2 = incremental_home
    stats = json.loads(_registry(night2, "SELECT stats FROM runs WHERE extract_date = ?", [NIGHT2])[0][0])
    before = set().union(*first.values())
    after = set().union(*second.values())
    counted = stats["standardised_records"]["changes"]
    new = sum(v for k, v in counted.items() if k.endswith(".new"))
    removed = sum(v for k, v in counted.items() if k.endswith(".removed"))
    assert new == len(after - before)
    assert removed == len(before - after)
    assert {"created", "merged", "split", "retired"} <= set(stats["residents"]["ids"])


@pytest.fixture(scope="module")
def corrupted_night3(nights, incremental_home):
    """Night 3 lands with labour's delivery corrupted (its manifest does not match): the run refuses it.
    What the run said and left is kept here, so that each test below stands on its own."""
    _, landing, _ = nights
    home, _, _, _ = incremental_home
    shutil.copytree(landing / NIGHT2, landing / NIGHT3)
    for folder in (landing / NIGHT3).iterdir():
        for f in folder.iterdir():
            if f.name != "manifest.json":
                f.rename(f.with_name(f.name.replace(NIGHT2.replace("-", ""), NIGHT3.replace("-", ""))))
        manifest = folder / "manifest.json"
        if manifest.exists():
            m = json.loads(manifest.read_text(encoding="utf-8"))
            m["extract_date"], m["file"] = NIGHT3, m["file"].replace(NIGHT2.replace("-", ""), NIGHT3.replace("-", ""))
            manifest.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    labour = landing / NIGHT3 / "labour"
    data = next(p for p in labour.iterdir() if p.suffix == ".jsonl")
    (labour / "manifest.json").write_text(json.dumps({
        "department": "labour", "extract_date": NIGHT3, "file": data.name, "rows": 10 ** 6, "sha256": "0" * 64}),
        encoding="utf-8")
    published = home / "published" / "registry.duckdb"
    before = published.read_bytes()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT3])
    return {"code": code, "err": err.getvalue(), "file": data.name, "unchanged": published.read_bytes() == before,
            "latest": _registry(home, "SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'")[0][0]}


def test_corrupted_delivery_leaves_the_published_registry_in_place(corrupted_night3):
    assert corrupted_night3["code"] != 0
    err = corrupted_night3["err"]
    assert "labour" in err and corrupted_night3["file"] in err
    assert "--accept-rejected" in err   # the command names its own way on
    assert corrupted_night3["unchanged"]
    assert corrupted_night3["latest"] == NIGHT2


@pytest.fixture(scope="module")
def night3_accepted(nights, incremental_home, corrupted_night3):
    """The data engineer accepts night 3 without labour's file (its previous delivery standing)."""
    _, landing, _ = nights
    home, _, _, _ = incremental_home
    labour_before = _registry(home, "SELECT count(*) FROM crosswalk WHERE department = 'labour'")[0][0]
    code = main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT3, "--accept-rejected"])
    return {"code": code, "labour_before": labour_before}


def test_rejected_delivery_can_be_published_with_the_previous_one_standing(incremental_home, night3_accepted):
    home, _, _, _ = incremental_home
    assert night3_accepted["code"] == 0
    status, message = _registry(home, "SELECT status, message FROM runs WHERE extract_date = ? "
                                      "AND status = 'published'", [NIGHT3])[0]
    assert "labour: rejected" in message
    # Labour's records of the night before still stand in the registry.
    assert _registry(home, "SELECT count(*) FROM crosswalk WHERE department = 'labour'")[0][0] == \
        night3_accepted["labour_before"]
    # The failed attempt of the same night is in the ledger too.
    assert _registry(home, "SELECT count(*) FROM runs WHERE extract_date = ? AND status = 'failed'", [NIGHT3])[0][0] == 1


def test_department_missing_a_night_keeps_its_latest_delivery(nights, incremental_home, night3_accepted):
    _, landing, _ = nights
    home, _, _, _ = incremental_home
    night4 = "2026-11-22"
    shutil.copytree(landing / NIGHT2, landing / night4, ignore=shutil.ignore_patterns("civil_affairs"))
    for folder in (landing / night4).iterdir():
        for f in folder.iterdir():
            if f.name == "manifest.json":
                f.unlink()
            else:
                f.rename(f.with_name(f.name.replace(NIGHT2.replace("-", ""), night4.replace("-", ""))))
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", night4]) == 0
    status, delivery_date = _registry(home, "SELECT status, delivery_date::VARCHAR FROM deliveries "
                                            "WHERE run_extract_date = ? AND department = 'civil_affairs'", [night4])[0]
    assert status == "stale" and delivery_date == NIGHT3  # the latest delivery before the missed night
    assert "civil_affairs: stale" in _registry(home, "SELECT message FROM runs WHERE extract_date = ?", [night4])[0][0]
    assert _registry(home, "SELECT count(*) FROM crosswalk WHERE department = 'civil_affairs'")[0][0] > 0
