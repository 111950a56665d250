"""Change detection across two snapshots: only new and changed records are standardised again."""

from __future__ import annotations

from registry.standardise import standardise
from registry.night import full_night, incremental_night

from tests.standardise.conftest import load_raw


def test_new_changed_removed_across_two_nights(con):
    night1 = [{"人员编号": "GA0000000001", "姓名": "张伟"},
              {"人员编号": "GA0000000002", "姓名": "王芳"},
              {"人员编号": "GA0000000003", "姓名": "李娜"}]
    load_raw(con, "public_security", night1, extract_date="2026-11-20")
    load_raw(con, "labour", [{"GRBH": "LD0000000001", "XM": "赵六"}], extract_date="2026-11-20")
    first = standardise(con, incremental_night())
    assert first.full and first.departments["public_security"].new == 3
    assert con.execute("SELECT count(*) FROM record_changes WHERE change = 'new'").fetchone()[0] == 4

    night2 = [{"人员编号": "GA0000000002", "姓名": "王芳"},                       # unchanged, moved to line 2
              {"人员编号": "GA0000000003", "姓名": "李 娜", "出生日期": "19900101"},  # changed
              {"人员编号": "GA0000000004", "姓名": "張三"}]                       # new; 0001 removed
    load_raw(con, "public_security", night2, extract_date="2026-11-21")
    con.execute("DROP TABLE raw_labour")  # a department without a raw table is left alone
    second = standardise(con, incremental_night())
    changes = sorted(con.execute("SELECT record_uid, department, change FROM record_changes").fetchall())
    assert changes == [("public_security:GA0000000001", "public_security", "removed"),
                       ("public_security:GA0000000003", "public_security", "changed"),
                       ("public_security:GA0000000004", "public_security", "new")]
    ps = second.departments["public_security"]
    assert (ps.new, ps.changed, ps.removed, ps.standardised) == (1, 1, 1, 2)
    assert "labour" in second.skipped and "public_security" not in second.skipped
    rows = dict(con.execute("SELECT record_uid, name FROM records").fetchall())
    assert rows == {"public_security:GA0000000002": "王芳", "public_security:GA0000000003": "李娜",
                    "public_security:GA0000000004": "张三", "labour:LD0000000001": "赵六"}
    # the unchanged record points at the latest delivery
    assert con.execute("SELECT extract_date::VARCHAR, source_line FROM records "
                       "WHERE record_uid = 'public_security:GA0000000002'").fetchone() == ("2026-11-21", 2)
    assert con.execute("SELECT birth_date::VARCHAR FROM records "
                       "WHERE record_uid = 'public_security:GA0000000003'").fetchone() == ("1990-01-01",)


def test_full_rebuild_marks_everything_new(con):
    load_raw(con, "civil_affairs", [{"姓名": "张伟"}, {"姓名": "王芳"}])
    standardise(con, incremental_night())
    summary = standardise(con, full_night())
    assert summary.departments["civil_affairs"].new == 2
    assert con.execute("SELECT count(*) FROM records").fetchone()[0] == 2
    assert con.execute("SELECT count(DISTINCT change) FROM record_changes").fetchone()[0] == 1


def test_unchanged_night_changes_nothing(con):
    load_raw(con, "family_planning", [{"姓名": "张伟", "出生年月": "1990.02"}])
    standardise(con, incremental_night())
    summary = standardise(con, incremental_night())
    assert summary.departments["family_planning"].standardised == 0
    assert con.execute("SELECT count(*) FROM record_changes").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM records").fetchone()[0] == 1


def test_quarantine_created_with_contract_columns(con):
    load_raw(con, "labour", [{"CSRQ": "2000年2月30日"}])
    standardise(con, incremental_night())
    cols = [r[0] for r in con.execute("DESCRIBE quarantine").fetchall()]
    assert cols == ["extract_date", "department", "file", "line", "record_key", "field", "value", "reason"]


def _notes(con):
    return sorted(con.execute("SELECT extract_date::VARCHAR, file, line, record_key, reason FROM quarantine "
                              "WHERE reason = 'impossible_date'").fetchall())


def test_unchanged_records_keep_their_value_notes_in_tonights_delivery(con):
    """An incremental night notes what a rebuild would: the unusable value is still in tonight's file."""
    night1 = [{"人员编号": "GA0000000001", "姓名": "张伟", "出生日期": "20000230"},
              {"人员编号": "GA0000000002", "姓名": "王芳"}]
    load_raw(con, "public_security", night1, extract_date="2026-11-20")
    standardise(con, incremental_night())
    # night 2: a record inserted before the unchanged one moves it to line 3
    night2 = [{"人员编号": "GA0000000003", "姓名": "李娜"}] + night1
    load_raw(con, "public_security", night2, extract_date="2026-11-21")
    standardise(con, incremental_night())
    incremental = _notes(con)
    assert incremental == [("2026-11-20", "hukou_20261120.csv", 2, "GA0000000001", "impossible_date"),
                           ("2026-11-21", "hukou_20261121.csv", 3, "GA0000000001", "impossible_date")]
    # a rebuild of the same night, and a rerun, write the same notes, once
    standardise(con, full_night())
    assert _notes(con) == incremental
    standardise(con, incremental_night())
    assert _notes(con) == incremental
