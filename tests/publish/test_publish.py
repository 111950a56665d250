"""Publishing: checked, atomic, department views, versions; a failed or killed publish changes nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from registry.home import Home
from registry.publish import PublishError, blocking_checks, publish
from registry.residents import build_residents
from registry.night import incremental_night, night_of
from tests.residents.factory import load_clusters, load_links, load_records, record, uid

PS, FP, CA, LB = "public_security", "family_planning", "civil_affairs", "labour"
ROOT = Path(__file__).resolve().parents[2]


def make_run_db(path, name="张伟", run_id="run1", date="2026-11-20"):
    con = duckdb.connect(str(path))
    load_records(con, [
        record(PS, 1, name=name, sex="1", birth="1980-05-03", id_number="11010119800503001X", person_status="正常"),
        record(LB, 1, name=name, employment_status="就业", employer="某公司", insurance_status="参保缴费"),
        record(CA, 1, name=name, assistance_kind="城市低保", assistance_status="在保", monthly_amount=1120),
        record(FP, 2, name="王芳", birth="1985-03", marital_status="初婚"),
    ])
    load_clusters(con, [[uid(PS, 1), uid(LB, 1), uid(CA, 1)], [uid(FP, 2)]])
    load_links(con, [(uid(PS, 1), uid(LB, 1), 0.99), (uid(PS, 1), uid(CA, 1), 0.95)])
    con.execute("""CREATE TABLE runs (run_id VARCHAR, extract_date DATE, mode VARCHAR, status VARCHAR,
                   started_at TIMESTAMP, finished_at TIMESTAMP, message VARCHAR, stats JSON)""")
    con.execute("INSERT INTO runs VALUES (?, ?, 'full', 'running', now(), NULL, NULL, NULL)", [run_id, date])
    build_residents(con, incremental_night(date, run_id))
    return con


def planned(con, run_id):
    """The night of a run database made by make_run_db (a full night, opened in its ledger)."""
    return night_of(con, run_id, "2026-11-20", "full")


def published_names(home):
    with duckdb.connect(str(home.published_db), read_only=True) as ro:
        return sorted(n for n, in ro.execute("SELECT name FROM residents").fetchall())


@pytest.fixture
def home(tmp_path):
    return Home.at(tmp_path / "home").ensure()


@pytest.fixture
def first_published(home, tmp_path):
    con = make_run_db(tmp_path / "run1.duckdb")
    publish(con, home, planned(con, "run1"))
    con.close()
    return home


def test_publish_writes_a_readable_registry_with_department_views(home, tmp_path):
    con = make_run_db(tmp_path / "run1.duckdb")
    result = publish(con, home, planned(con, "run1"))
    assert result.tables["residents"] == 2 and result.tables["crosswalk"] == 4
    assert result.version_path == home.versions_dir / "registry-run1.duckdb" and result.version_path.exists()
    assert not list(home.published_dir.glob(".building-*"))
    with duckdb.connect(str(home.published_db), read_only=True) as ro:
        tables = {n for n, in ro.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"residents", "crosswalk", "review_queue", "runs", "lineage", "conflicts", "resident_events",
                "resident_history", "quarantine", "deliveries", "labour_residents", "civil_affairs_residents",
                "public_security_residents", "family_planning_residents", "labour_crosswalk"} <= tables
        cols = lambda v: {c for c, in ro.execute(f"SELECT column_name FROM information_schema.columns "
                                                  f"WHERE table_name = '{v}'").fetchall()}
        assert "employer" not in cols("civil_affairs_residents") and "assistance_kinds" in cols("civil_affairs_residents")
        assert "assistance_amount_total" not in cols("labour_residents") and "employer" in cols("labour_residents")
        assert ro.execute("SELECT employer FROM labour_residents WHERE employer IS NOT NULL").fetchall() == [("某公司",)]
        assert ro.execute("SELECT DISTINCT department FROM labour_crosswalk").fetchall() == [(LB,)]
        assert ro.execute("SELECT status FROM runs WHERE run_id = 'run1'").fetchone() == ("published",)


def test_blocking_check_failure_leaves_previous_registry_intact(first_published, tmp_path):
    home = first_published
    before = home.published_db.read_bytes()
    con = make_run_db(tmp_path / "run2.duckdb", name="李四", run_id="run2")
    con.execute("DELETE FROM crosswalk WHERE record_uid = ?", [uid(CA, 1)])           # a record lost
    con.execute("UPDATE residents SET id_number = '1101011980050300' WHERE name = '李四'")  # bad format
    with pytest.raises(PublishError, match="missing from it.*1 failing|identity number format"):
        publish(con, home, planned(con, "run2"))
    assert home.published_db.read_bytes() == before
    assert published_names(home) == ["张伟", "王芳"]
    assert not (home.versions_dir / "registry-run2.duckdb").exists()


def test_sql_checks_name_what_failed(tmp_path):
    con = make_run_db(tmp_path / "run.duckdb")
    con.execute("INSERT INTO crosswalk SELECT * FROM crosswalk LIMIT 1")
    con.execute("INSERT INTO crosswalk VALUES ('labour', 'LD9', 'labour:LD9', 'R9999999999', 1.0)")
    failed = {c.name: c.failing for c in blocking_checks(con) if not c.passed}
    assert failed == {"every record in the crosswalk only once (duplicated rows)": 1,
                      "crosswalk only holds standardised records (unknown records)": 1,
                      "crosswalk rows point at a published resident (dangling rows)": 1}


def test_failure_after_build_before_swap_leaves_previous_registry(first_published, tmp_path, monkeypatch):
    home = first_published
    before = home.published_db.read_bytes()
    con = make_run_db(tmp_path / "run2.duckdb", name="李四", run_id="run2")

    def crash(building, published):
        assert building.exists()
        raise OSError("disk pulled out")
    monkeypatch.setattr("registry.publish.versions.swap", crash)
    with pytest.raises(OSError, match="disk pulled out"):
        publish(con, home, planned(con, "run2"))
    assert home.published_db.read_bytes() == before
    assert published_names(home) == ["张伟", "王芳"]
    assert not list(home.published_dir.glob(".building-*"))


@pytest.mark.slow
def test_publish_killed_mid_build_leaves_previous_registry_and_next_publish_cleans_up(first_published, tmp_path):
    home = first_published
    before = home.published_db.read_bytes()
    make_run_db(tmp_path / "run2.duckdb", name="李四", run_id="run2").close()
    marker = tmp_path / "built"
    script = textwrap.dedent(f"""
        import time, duckdb, registry.publish as p, registry.publish.versions as v
        from pathlib import Path
        from registry.home import Home
        from registry.night import night_of
        def hang(building, published):
            Path({str(marker)!r}).write_text("built")
            time.sleep(60)
        v.swap = hang
        con = duckdb.connect({str(tmp_path / 'run2.duckdb')!r})
        p.publish(con, Home.at({str(home.root)!r}), night_of(con, "run2", "2026-11-20", "full"))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "publisher died before building"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert list(home.published_dir.glob(".building-run2.duckdb"))   # the half-built file is left behind...
    assert home.published_db.read_bytes() == before                  # ...but the registry is the old one
    assert published_names(home) == ["张伟", "王芳"]
    con = duckdb.connect(str(tmp_path / "run2.duckdb"))
    publish(con, home, planned(con, "run2"))                                        # the rerun publishes and cleans up
    assert published_names(home) == ["李四", "王芳"]
    assert not list(home.published_dir.glob(".building-*"))


def test_reader_holding_the_old_registry_is_not_disturbed_and_versions_are_pruned(first_published, tmp_path):
    home = first_published
    reader = duckdb.connect(str(home.published_db), read_only=True)
    for i in range(2, 5):
        con = make_run_db(tmp_path / f"run{i}.duckdb", name=f"人{i}", run_id=f"run{i}")
        publish(con, home, planned(con, f"run{i}"), keep_versions=2)
        con.close()
        time.sleep(0.01)
    assert sorted(reader.execute("SELECT name FROM residents").fetchall()) == [("张伟",), ("王芳",)]
    reader.close()
    assert published_names(home) == ["人4", "王芳"]
    assert sorted(p.name for p in home.versions_dir.glob("*.duckdb")) == ["registry-run3.duckdb",
                                                                         "registry-run4.duckdb"]


def test_access_policy_naming_an_unknown_column_fails_clearly(home, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("departments:\n  labour:\n    residents_columns: [resident_id, salary]\n", encoding="utf-8")
    con = make_run_db(tmp_path / "run1.duckdb")
    with pytest.raises(PublishError, match="labour.*salary"):
        publish(con, home, planned(con, "run1"), access_policy=policy)
    assert not home.published_db.exists()


def test_great_expectations_blocking_failure_stops_the_publish(first_published, tmp_path):
    home = first_published
    before = home.published_db.read_bytes()
    con = make_run_db(tmp_path / "run2.duckdb", name="李四", run_id="run2")
    con.execute("UPDATE residents SET status = NULL")   # only the GX suite checks this
    with pytest.raises(PublishError, match="GX expect_column_values_to_not_be_null status"):
        publish(con, home, planned(con, "run2"))
    assert home.published_db.read_bytes() == before
