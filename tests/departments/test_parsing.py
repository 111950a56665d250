"""Deliveries parsed ahead in worker processes load exactly as when the loader reads them itself."""

from __future__ import annotations

import os

import duckdb
import pytest
from deliveries import csv_bytes, deliver, person

from registry.departments import DEPARTMENTS
from registry.departments import load as load_module
from registry.departments.landing import deliveries_for
from registry.departments.load import load_department
from registry.departments.parsing import DeliveryParsing, standing_sha256
from registry.departments.readers import _STRICT_JSON

D0, D1 = "2026-11-18", "2026-11-19"
TABLES = ("deliveries", "quarantine") + tuple(f"raw_{d}" for d in DEPARTMENTS)


def _night_with_every_kind_of_row(landing, date):
    ps = [person("public_security", f"GA{i:010d}") for i in range(1, 6)]
    ps += [["GA0000000090", "too", "few"], person("public_security", "", 姓名="无编号"),
           person("public_security", "GA0000000091", 户籍地址="多行\n地址"), ps[0]]
    deliver(landing, "public_security", date, ps)
    deliver(landing, "civil_affairs", date, [person("civil_affairs", f"MZ{i:010d}") for i in range(1, 4)]
            + [person("civil_affairs", "MZ12")])
    deliver(landing, "family_planning", date,
            [person("family_planning", "JS0000000001", 子女数=2.0, 联系电话=13800138000.0),
             person("family_planning", "JS0000000002"), person("family_planning", "JS0000000001")])
    deliver(landing, "labour", date, [{"GRBH": "LD0000000001", "XM": "张三"}, '{"GRBH": "LD0000000002",}',
                                      '[1, 2]', '{"GRBH": "LD0000000003", "XM": "http://x, }"}', "",
                                      {"GRBH": "LD0000000004", "XM": None}], manifest=False)


def _load(landing, date, parsing=None):
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as the run's connection is
    outcomes = {d: load_department(con, landing, d, date, parsing=parsing) for d in DEPARTMENTS}
    tables = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    # Each snapshot is stored in line order, however it was read (later stages scan it in that order).
    for d in DEPARTMENTS:
        lines = [r[0] for r in con.execute(f"SELECT _source_line FROM raw_{d} ORDER BY rowid").fetchall()]
        assert lines == sorted(lines), d
    con.close()
    return outcomes, tables


def test_a_night_parsed_ahead_loads_identically(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    _night_with_every_kind_of_row(landing, D1)
    itself = _load(landing, D1)

    def no_read(*args, **kwargs):
        raise AssertionError("the loader read a file the workers had parsed")
    monkeypatch.setattr(load_module, "read_delivery", no_read)
    parsing = DeliveryParsing(deliveries_for(landing, D1), tmp_path / "work")
    try:
        ahead = _load(landing, D1, parsing)
    finally:
        parsing.close()
    assert ahead == itself
    outcomes, tables = ahead
    assert {d: o.status for d, o in outcomes.items()} == dict.fromkeys(DEPARTMENTS, "loaded")
    assert len(tables["quarantine"]) >= 6
    assert not (tmp_path / "work").exists()  # the parsed files go with the run


@pytest.mark.parametrize("department,data,expected", [
    ("public_security", csv_bytes("public_security", [person("public_security", "GA0000000001")],
                                  encoding="utf-8"), "encoded UTF-8"),
    ("civil_affairs", csv_bytes("civil_affairs", [person("civil_affairs", "MZ0000000001")], encoding="gb18030"),
     "not valid UTF-8"),
    ("labour", b'{"GRBH": "LD0000000001"}\n{"GRBH": "LD0000000002", "XM": "\xd5\xc5"}\n', "line 2"),
    ("family_planning", b"not a workbook", "not a readable XLSX workbook"),
    ("public_security", csv_bytes("public_security", [], ), "no data rows"),
])
def test_a_rejection_found_by_a_worker_reads_the_same_and_the_earlier_delivery_stands(
        tmp_path, department, data, expected):
    landing = tmp_path / "landing"
    _night_with_every_kind_of_row(landing, D0)
    path = deliver(landing, department, D1, data=data, manifest=False)
    parsing = DeliveryParsing({department: path}, tmp_path / "work")
    try:
        con = duckdb.connect()
        ahead = load_department(con, landing, department, D1, parsing=parsing)
        raw_ahead = con.execute(f"SELECT * FROM raw_{department} ORDER BY ALL").fetchall()
    finally:
        parsing.close()
    con = duckdb.connect()
    itself = load_department(con, landing, department, D1)
    assert ahead == itself
    assert ahead.status == "rejected" and path.name in ahead.reason and expected in ahead.reason
    assert raw_ahead == con.execute(f"SELECT * FROM raw_{department} ORDER BY ALL").fetchall()
    assert raw_ahead and {str(r[-2]) for r in raw_ahead} == {D0}  # _extract_date: the fallback was read by the loader


def test_a_manifest_mismatch_still_rejects_a_file_parsed_ahead(tmp_path):
    landing = tmp_path / "landing"
    path = deliver(landing, "labour", D1, [{"GRBH": "LD0000000001"}], manifest={"rows": 2})
    parsing = DeliveryParsing({"labour": path}, tmp_path / "work")
    try:
        out = load_department(duckdb.connect(), landing, "labour", D1, parsing=parsing)
    finally:
        parsing.close()
    assert out.status == "rejected" and "1 data rows, manifest says 2" in out.reason


def test_a_file_replaced_after_it_was_parsed_is_read_again(tmp_path):
    landing = tmp_path / "landing"
    path = deliver(landing, "labour", D1, [{"GRBH": "LD0000000001"}], manifest=False)
    parsing = DeliveryParsing({"labour": path}, tmp_path / "work")
    try:
        parsing._futures["labour"].result()  # the worker has read the first version
        deliver(landing, "labour", D1, [{"GRBH": "LD0000000001"}, {"GRBH": "LD0000000002"}], manifest=False)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        con = duckdb.connect()
        out = load_department(con, landing, "labour", D1, parsing=parsing)
    finally:
        parsing.close()
    assert out.rows_loaded == 2
    assert con.execute("SELECT count(*) FROM raw_labour").fetchone()[0] == 2


def test_a_rerun_does_not_parse_the_standing_delivery_again(tmp_path):
    landing = tmp_path / "landing"
    _night_with_every_kind_of_row(landing, D1)
    state = tmp_path / "state.duckdb"
    con = duckdb.connect(str(state))
    first = {d: load_department(con, landing, d, D1) for d in DEPARTMENTS}
    con.close()
    shas = standing_sha256(state, D1)
    assert shas == {d: o.sha256 for d, o in first.items()}
    parsing = DeliveryParsing(deliveries_for(landing, D1), tmp_path / "work", standing_sha256=shas)
    try:
        assert {f.result().status for f in parsing._futures.values()} == {"unchanged"}
        con = duckdb.connect(str(state))
        again = {d: load_department(con, landing, d, D1, parsing=parsing) for d in DEPARTMENTS}
    finally:
        parsing.close()
    assert {d: (o.status, o.rows_delivered, o.rows_quarantined, o.sha256) for d, o in again.items()} == \
        {d: (o.status, o.rows_delivered, o.rows_quarantined, o.sha256) for d, o in first.items()}


def test_a_parsing_started_ahead_is_taken_over_by_its_own_run_only(tmp_path, monkeypatch):
    """registry.runtime hands a parsing started before the run (by `registry run`) to that run's loaders,
    explicitly: the runtime object carries it, no process-wide global does."""
    from registry.home import Home
    from registry.runtime import NightRuntime

    landing, home = tmp_path / "landing", Home.at(str(tmp_path / "home")).ensure()
    _night_with_every_kind_of_row(landing, D1)
    runtime = NightRuntime(home, "run-a", landing, "", speedups=True)  # "": the latest night, as `registry run`
    runtime.parse_ahead()
    ahead = runtime.parsing
    assert ahead is not None and ahead.out_dir == home.run_dir / "run-a.work"
    try:
        runtime.start()
        assert runtime.parsing is ahead  # the same files, the same run: taken over, not parsed again
        def no_read(*args, **kwargs):
            raise AssertionError("the loader read a file the workers had parsed ahead")
        monkeypatch.setattr(load_module, "read_delivery", no_read)
        outcome = load_department(duckdb.connect(), landing, "labour", D1, parsing=runtime.parsing)
        assert outcome.status == "loaded" and outcome.rows_loaded > 0  # from the worker's files
    finally:
        runtime.close()
    assert runtime.parsing is None and not (home.run_dir / "run-a.work").exists()
    monkeypatch.undo()
    # Started for files that changed before the run began (a delivery landed since): stopped, its files
    # removed, and the run parses tonight's own.
    other = NightRuntime(home, "run-b", landing, D1, speedups=True)
    other.parse_ahead()
    stale = other.parsing
    (landing / D1 / "labour" / "laodong_20261119.jsonl").unlink()
    try:
        other.start()
        own = other.parsing
        assert own is not stale and not stale._futures and own.out_dir == home.run_dir / "run-b.work"
        assert "labour" not in own._futures
    finally:
        other.close()
    # Started ahead, but the run never started: closing the runtime stops it and removes its files.
    never = NightRuntime(home, "run-d", landing, D1, speedups=True)
    never.parse_ahead()
    never.close()
    assert never.parsing is None and not (home.run_dir / "run-d.work").exists()


def test_without_speedups_nothing_is_parsed_ahead_and_the_run_reads_its_files(tmp_path):
    from registry.home import Home
    from registry.runtime import NightRuntime

    landing, home = tmp_path / "landing", Home.at(str(tmp_path / "home")).ensure()
    _night_with_every_kind_of_row(landing, D1)
    runtime = NightRuntime(home, "run-e", landing, D1, speedups=False)
    runtime.parse_ahead()
    try:
        runtime.start()
        assert runtime.parsing is None and not (home.run_dir / "run-e.work").exists()
        runtime.copy_published_ahead()
        assert runtime.take_published_base() is None
    finally:
        runtime.close()


# The strict JSON test as it was before the cheap pre-test was put in front of it.
_STRICT_JSON_REFERENCE = (r"""json_valid(line) AND NOT regexp_matches("""
                          r"""regexp_replace(line, '"(?:[^"\\]|\\.)*"', '""', 'g'), """
                          r"""',\s*[}\]]|\b(?:NaN|Infinity)\b|//|/\*')""")


def test_the_quick_json_pre_test_gives_the_same_verdicts():
    lines = ['{"a": 1}', '{"a": 1,}', '{"a": [1, 2 ,]}', '{"a": NaN}', '{"a": "NaN"}', '{"a": Infinity}',
             '{"a": "x, }"}', '{"a": "http://x"}', '{"a": 1} // c', '{"a": /* c */ 1}', '{"a": "/* no */"}',
             '{"a": "\\", }"}', '{"NaNa": 1}', '{"a": -Infinity}', '[1, 2]', '"s"', '{"a": 1,\t}',
             '{"a": "q\\"//"}', '{"a": "ok"} ', 'not json', '{"a": "中文, ]"}', '{"a":1,"b":[{},]}']
    con = duckdb.connect()
    con.execute("CREATE TABLE t (line VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[x] for x in lines])
    rows = con.execute(f"SELECT line, {_STRICT_JSON}, {_STRICT_JSON_REFERENCE} FROM t").fetchall()
    assert [(line, new) for line, new, _ in rows] == [(line, ref) for line, _, ref in rows]
    assert sum(ok for _, ok, _ in rows) >= 6 and sum(not ok for _, ok, _ in rows) >= 10
