"""Incremental publish: yesterday's published file plus tonight's deltas equals a full build, night after night."""

import dataclasses
import random
import shutil

import duckdb
import pytest

from registry import runs
from registry.home import Home
from registry.publish import STAGE, BaseCopy, publish
from registry.residents import assign_resident_ids, build_golden_records, record_history
from registry.night import night_of
from tests.residents.factory import load_clusters, load_links, load_records, uid
from tests.residents.test_incremental import _person_records

PS, FP, CA, LB = "public_security", "family_planning", "civil_affairs", "labour"
DEPTS = (PS, FP, CA, LB)
PUBLISHED = ("residents", "crosswalk", "lineage", "conflicts", "resident_events", "resident_history",
             "resident_ids", "review_queue", "runs", "quarantine", "deliveries", "discrepancies")


def _records(label: str, recs, version: str) -> list[dict]:
    """The records of one person, their values a function of (label, version)."""
    return _person_records(random.Random(f"{label}{version}"), label, recs, version)


class World:
    """One working state carried from night to night, as the nightly merge carries it; each night is
    published incrementally into `home` and, for comparison, in full into `full_home`."""

    def __init__(self, tmp_path):
        self.con = duckdb.connect(str(tmp_path / "state.duckdb"))
        self.home = Home.at(tmp_path / "home").ensure()
        self.full_home = Home.at(tmp_path / "full").ensure()
        self.con.execute("""CREATE TABLE link_decisions (record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN,
                            decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)""")
        self.con.execute("""CREATE TABLE value_overrides (resident_id VARCHAR, attribute VARCHAR, value VARCHAR,
                            decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)""")
        self.con.execute("""CREATE TABLE quarantine (extract_date DATE, department VARCHAR, file VARCHAR, line BIGINT,
                            record_key VARCHAR, field VARCHAR, value VARCHAR, reason VARCHAR)""")
        self.con.execute("""CREATE TABLE deliveries (run_extract_date DATE, department VARCHAR, delivery_date DATE,
                            file VARCHAR, status VARCHAR, reason VARCHAR, rows_delivered BIGINT, rows_loaded BIGINT,
                            rows_quarantined BIGINT, sha256 VARCHAR)""")
        self.night_no = 0

    def resident_of(self, department, key):
        return self.con.execute("SELECT resident_id FROM crosswalk WHERE record_uid = ?",
                                [uid(department, key)]).fetchone()[0]

    def night(self, date, people, *, versions=None, links=None, mode="incremental", run_id=None, ahead=False):
        """people: {label: [(department, key), ...]} (one cluster each); versions: {label: tag} changes their
        values; links: {(uid, uid): probability} besides the 0.9 chain within each person.
        ahead: copy the published file while the night is computed, as the nightly merge does."""
        con, versions = self.con, versions or {}
        self.night_no += 1
        run_id = run_id or f"run{self.night_no}"
        base_copy = BaseCopy(self.home, run_id) if ahead else None
        runs.begin_run(con, self.home, run_id, date, mode)
        plan = night_of(con, run_id, date, mode)
        had = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'records'").fetchone()[0]
        con.execute("CREATE OR REPLACE TEMP TABLE _before AS " + (
            "SELECT record_uid, department, record_hash FROM records" if had and mode == "incremental" else
            "SELECT NULL::VARCHAR AS record_uid, NULL::VARCHAR AS department, NULL::VARCHAR AS record_hash WHERE FALSE"))
        rows = []
        for label, recs in people.items():
            rows += _records(label, recs, versions.get(label, ""))
        load_records(con, rows)
        con.execute("""CREATE OR REPLACE TABLE record_changes AS
                       SELECT record_uid, department, CASE WHEN b.record_uid IS NULL THEN 'new' ELSE 'changed' END AS change
                       FROM records r LEFT JOIN _before b USING (record_uid, department)
                       WHERE b.record_hash IS DISTINCT FROM r.record_hash
                       UNION ALL
                       SELECT record_uid, department, 'removed' FROM _before ANTI JOIN records USING (record_uid)""")
        load_clusters(con, [[uid(d, k) for d, k in recs] for recs in people.values() if recs])
        chain = {}
        for recs in people.values():
            for (d1, k1), (d2, k2) in zip(recs, recs[1:]):
                chain[(uid(d1, k1), uid(d2, k2))] = 0.9
        load_links(con, [(a, b, p) for (a, b), p in {**chain, **(links or {})}.items()])
        assign_resident_ids(con, run_id, date)
        build_golden_records(con, plan)
        record_history(con, date)
        con.execute(f"""CREATE OR REPLACE TABLE review_queue AS
                        SELECT 'item-' || resident_id AS item_id, 'conflict' AS kind, 1 AS priority, 'open' AS status,
                               resident_id, NULL::VARCHAR AS street, NULL::VARCHAR AS community,
                               attribute AS summary, NULL::JSON AS subject, "values" AS evidence,
                               md5("values"::VARCHAR) AS evidence_hash, DATE '{date}' AS first_raised_date,
                               NULL::TIMESTAMP AS decided_at, NULL::VARCHAR AS decision
                        FROM conflicts""")
        con.execute("INSERT INTO quarantine VALUES (?, 'labour', 'f.jsonl', ?, 'LD1', 'CSRQ', 'x', 'bad date')",
                    [date, self.night_no])
        con.execute("INSERT INTO deliveries SELECT ?, d, ?, 'f', 'loaded', NULL, 1, 1, 0, 'h' "
                    "FROM (VALUES ('labour'), ('civil_affairs')) v(d)", [date, date])
        runs.finish_run(con, run_id, "published", "")
        con.execute("CHECKPOINT")
        result = publish(con, self.home, plan, base_copy=base_copy)
        full = publish(con, self.full_home, dataclasses.replace(plan, mode="full"))
        assert full.build == "full"
        runs.record_stage(con, run_id, STAGE, result.seconds, result.as_dict())
        runs.finish_run(con, run_id, "published", "")
        return result


def assert_same_registry(a_path, b_path):
    """Every published table, every column and row (EXCEPT ALL both ways), and the same views."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a_path}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b_path}' AS b (READ_ONLY)")
    try:
        shape = ("SELECT table_name, column_name, data_type, column_index FROM duckdb_columns() "
                 "WHERE database_name = ? ORDER BY ALL")
        assert con.execute(shape, ["a"]).fetchall() == con.execute(shape, ["b"]).fetchall()
        views = "SELECT view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal ORDER BY ALL"
        assert con.execute(views, ["a"]).fetchall() == con.execute(views, ["b"]).fetchall()
        for t in PUBLISHED:
            for x, y in (("a", "b"), ("b", "a")):
                extra = con.execute(f"SELECT * FROM {x}.{t} EXCEPT ALL SELECT * FROM {y}.{t}").fetchall()
                assert extra == [], f"{t}: rows in {x} only: {extra[:3]}"
            assert con.execute(f"SELECT count(*) FROM a.{t}").fetchone() == con.execute(
                f"SELECT count(*) FROM b.{t}").fetchone()
    finally:
        con.close()


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.con.close()


def _people(n=300, seed=7):
    rng = random.Random(seed)
    people, key = {}, 0
    for p in range(n):
        recs = []
        for d in rng.sample(DEPTS, rng.randint(1, 4)):
            key += 1
            recs.append((d, key))
        people[f"p{p}"] = recs
    return people


def _two_records(people, start):
    return next(label for label in list(people)[start:] if len(people[label]) >= 2)


@pytest.mark.slow
def test_incremental_publish_equals_a_full_publish_over_a_sequence_of_nights(world):
    people = _people()
    first = world.night("2026-11-19", people, mode="full")
    assert first.build == "full" and first.build_reason == "not an incremental night"
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    # Night 2: removal, merge, split, changed values, a newcomer, an officer's value override, and an
    # officer's 'same' on two records the links already put together (only match_probability moves).
    tonight = {k: list(v) for k, v in people.items()}
    del tonight["p0"]                                            # retired: all records gone
    tonight["p1"] = tonight["p1"] + tonight.pop("p2")            # merged
    split = _two_records(tonight, 3)
    tonight[split], tonight["split-off"] = tonight[split][:1], tonight[split][1:]   # split
    tonight["new"] = [(LB, 99999), (PS, 99998)]                  # created
    together = _two_records(tonight, 20)
    (d1, k1), (d2, k2) = tonight[together][:2]
    world.con.execute("INSERT INTO link_decisions VALUES (?, ?, TRUE, 'd1', '王科长', TIMESTAMP '2026-11-20 09:00')",
                      sorted([uid(d1, k1), uid(d2, k2)]))
    overridden = world.resident_of(*people["p10"][0])
    world.con.execute("INSERT INTO value_overrides VALUES (?, 'name', '王改', 'd2', '王科长', "
                      "TIMESTAMP '2026-11-20 09:00')", [overridden])
    before = world.con.execute("SELECT match_probability FROM crosswalk WHERE record_uid = ?",
                               [uid(d1, k1)]).fetchone()[0]
    second = world.night("2026-11-20", tonight, versions={"p4": "改", "p5": "改", "p6": "改"})
    assert second.build == "incremental", second.build_reason
    assert not [w for w in second.warnings if "incremental publish" in w]   # tonight's keys were complete
    assert any(c.name.endswith("(recomputed residents)") for c in second.checks)
    assert before == 0.9 and world.con.execute("SELECT match_probability FROM crosswalk WHERE record_uid = ?",
                                               [uid(d1, k1)]).fetchone()[0] == 1.0
    assert world.con.execute("SELECT count(*) FROM residents_recomputed").fetchone()[0] < 30
    events = dict(world.con.execute("SELECT event, count(*) FROM resident_events WHERE run_id = 'run2' "
                                    "GROUP BY ALL").fetchall())
    assert {"created", "merged", "split", "retired"} <= set(events)
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    # Night 3: the officer takes the 'same' back (the records stay together through their link), a link
    # rescored for a changed record, another merge, the override's resident merged away.
    world.con.execute("INSERT INTO link_decisions VALUES (?, ?, FALSE, 'd3', '李', TIMESTAMP '2026-11-21 09:00')",
                      sorted([uid(d1, k1), uid(d2, k2)]))
    world.con.execute("""DELETE FROM link_decisions WHERE decision_id = 'd1'""")
    tonight3 = {k: list(v) for k, v in tonight.items()}
    tonight3["p11"] = tonight3["p11"] + tonight3.pop("p10")
    tonight3["p30"] = tonight3["p30"] + tonight3.pop("p31")
    rescored = _two_records(tonight3, 40)
    (e1, j1), (e2, j2) = tonight3[rescored][:2]
    third = world.night("2026-11-21", tonight3, versions={rescored: "新"},
                        links={(uid(e1, j1), uid(e2, j2)): 0.97})
    assert third.build == "incremental", third.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    # Night 4 rebuilt in full, night 5 incremental again from it; a rerun of night 5 replaces its events.
    fourth = world.night("2026-11-22", tonight3, mode="full")
    assert fourth.build == "full"
    assert_same_registry(world.home.published_db, world.full_home.published_db)
    tonight5 = {k: list(v) for k, v in tonight3.items()}
    tonight5["p50"] = tonight5["p50"] + [(CA, 88888)]
    del tonight5["p60"]
    fifth = world.night("2026-11-23", tonight5, versions={"p7": "五"})
    assert fifth.build == "incremental", fifth.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)
    rerun = world.night("2026-11-23", tonight5, versions={"p7": "五", "p8": "再"}, run_id="run5b")
    assert rerun.build == "incremental", rerun.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)
    # Every version stays what it was when published: the incremental file is a copy, not a link.
    with duckdb.connect(str(world.home.versions_dir / "registry-run2.duckdb"), read_only=True) as v2:
        assert v2.execute("SELECT max(run_id) FROM runs WHERE status = 'published'").fetchone()[0] == "run2"


def test_the_published_file_copied_ahead_is_what_an_incremental_night_starts_from(world, monkeypatch):
    import registry.publish.base_copy as base_copy
    import registry.publish.deltas as deltas

    copied_to = []

    def spy(src, dst):
        copied_to.append(dst.name)
        return real(src, dst)

    real = deltas.copy_file
    monkeypatch.setattr(base_copy, "copy_file", spy)
    monkeypatch.setattr(deltas, "copy_file", spy)
    people = _people(120, seed=5)
    world.night("2026-11-19", people, mode="full", ahead=True)   # nothing published yet: nothing to copy
    second = world.night("2026-11-20", people, versions={"p1": "改"}, ahead=True)
    assert second.build == "incremental", second.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)
    # The full night and the full comparison homes build from scratch; the incremental one used the copy
    # made ahead and copied nothing on its own.
    assert copied_to == [".base-run2.duckdb"]
    # A full night removes its copy unused; nothing is left beside the registry either way.
    third = world.night("2026-11-21", people, mode="full", ahead=True)
    assert third.build == "full"
    assert not list(world.home.published_dir.glob(".base-*")) and not list(world.home.published_dir.glob(".building-*"))


def test_a_copy_made_ahead_of_a_published_file_replaced_since_is_not_used(world):
    world.night("2026-11-19", _people(60, seed=6), mode="full")
    ahead = BaseCopy(world.home, "run-x")
    # The same bytes, but another file (a restore, a hand copy): the copy made ahead may be older.
    published = world.home.published_db
    shutil.copyfile(published, published.with_name("restored.duckdb"))
    published.with_name("restored.duckdb").replace(published)
    assert ahead.take() is None
    assert not ahead.path.exists()
    unchanged = BaseCopy(world.home, "run-y")
    path = unchanged.take()
    assert path is not None and path.read_bytes() == published.read_bytes()
    unchanged.discard()
    assert not path.exists()


@pytest.mark.slow
def test_a_published_file_that_is_not_the_expected_base_is_built_in_full(world):
    people = _people(120, seed=3)
    world.night("2026-11-19", people, mode="full")
    world.night("2026-11-20", people, versions={"p1": "改"})
    # An older registry put back in place of the published one (e.g. restored by hand).
    published = world.home.published_db
    published.unlink()
    shutil.copyfile(world.home.versions_dir / "registry-run1.duckdb", published)
    third = world.night("2026-11-21", people, versions={"p1": "改", "p2": "改"})
    assert third.build == "full" and "published file is run run1, this run starts from run2" in third.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    # The right run, but not the rows it published.
    tampered = world.home.published_dir / "tampered.duckdb"
    shutil.copyfile(published, tampered)
    with duckdb.connect(str(tampered)) as t:
        t.execute("DELETE FROM lineage WHERE rowid IN (SELECT min(rowid) FROM lineage)")
    published.unlink()
    tampered.rename(published)
    fourth = world.night("2026-11-22", people, versions={"p3": "改"})
    assert fourth.build == "full" and "row counts" in fourth.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    # A golden column added tonight: the table changed shape.
    fifth_people = dict(people)
    world.con.execute("ALTER TABLE residents ADD COLUMN hobby VARCHAR")
    world.con.execute("ALTER TABLE resident_history ADD COLUMN hobby VARCHAR")
    fifth = world.night("2026-11-23", fifth_people, versions={"p4": "改"})
    assert fifth.build == "full" and "changed shape" in fifth.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)

    sixth = world.night("2026-11-24", fifth_people, versions={"p5": "改"})
    assert sixth.build == "incremental", sixth.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)


def test_a_crosswalk_change_the_delta_keys_miss_is_caught_by_the_checksum(world, monkeypatch):
    import registry.publish.deltas as publishing

    people = _people(120, seed=4)
    world.night("2026-11-19", people, mode="full")
    together = _two_records(people, 5)
    (d1, k1), (d2, k2) = people[together][:2]
    world.con.execute("INSERT INTO link_decisions VALUES (?, ?, TRUE, 'd1', '王科长', now())",
                      sorted([uid(d1, k1), uid(d2, k2)]))
    keys = publishing.delta_keys
    # as if the officers' decisions were not among tonight's keys
    monkeypatch.setattr(publishing, "delta_keys", lambda con, table, night: keys(con, table, night).split(
        " UNION ALL SELECT record_uid_l FROM main.link_decisions")[0])
    second = world.night("2026-11-20", people, versions={"p1": "改"})
    assert second.build == "incremental"
    assert "incremental publish: crosswalk: tonight's keys missed a changed row; diffed in full" in second.warnings
    assert_same_registry(world.home.published_db, world.full_home.published_db)


def test_a_file_with_too_many_free_blocks_is_compacted_by_a_full_build(world, monkeypatch):
    people = _people(120, seed=5)
    world.night("2026-11-19", people, mode="full")
    monkeypatch.setattr("registry.publish.deltas.COMPACT_FREE_SHARE", -1.0)
    monkeypatch.setattr("registry.publish.deltas.COMPACT_MIN_FREE_BYTES", 0)
    second = world.night("2026-11-20", people, versions={"p1": "改"})
    assert second.build == "full" and second.build_reason.startswith("compacting")
    assert "free blocks" in second.build_reason
    monkeypatch.undo()
    third = world.night("2026-11-21", people, versions={"p2": "改"})
    assert third.build == "incremental" and third.file["full_build_blocks_per_row"] > 0
    # rows deleted but still in their row groups: the file grew more than its rows did
    monkeypatch.setattr("registry.publish.deltas.COMPACT_GROWTH", -0.5)
    monkeypatch.setattr("registry.publish.deltas.COMPACT_MIN_FREE_BYTES", 0)
    monkeypatch.setattr("registry.publish.deltas.COMPACT_FREE_SHARE", 1.0)
    fourth = world.night("2026-11-22", people, versions={"p3": "改"})
    assert fourth.build == "full" and "more blocks per row than its last full build" in fourth.build_reason
    assert_same_registry(world.home.published_db, world.full_home.published_db)


def test_gx_on_an_incremental_night_stops_a_recomputed_resident_and_counts_shares_over_the_whole_table(world):
    from registry.publish import PublishError

    people = _people(120, seed=9)
    world.night("2026-11-19", people, mode="full")
    changed = world.resident_of(*people["p1"][0])
    # Two residents not recomputed tonight lose their names: GX does not see their rows, the whole-table
    # share of names does (warn: 118 in 120 is under the 'mostly' 0.99 bound).
    world.con.execute("UPDATE residents SET name = NULL WHERE resident_id IN (?, ?)",
                      [world.resident_of(*people["p8"][0]), world.resident_of(*people["p9"][0])])
    result = world.night("2026-11-20", people, versions={"p1": "改"})
    assert result.build == "incremental"
    assert any("expect_column_values_to_not_be_null name" in w and "(whole table)" in w for w in result.warnings)

    world.con.execute("UPDATE residents SET status = NULL WHERE resident_id = ?", [changed])
    runs.begin_run(world.con, world.home, "run3", "2026-11-21", "incremental")
    with pytest.raises(PublishError, match="GX expect_column_values_to_not_be_null status"):
        publish(world.con, world.home, night_of(world.con, "run3", "2026-11-21", "incremental"))
