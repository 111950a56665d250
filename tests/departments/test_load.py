"""load_department on real small files in each department's format and each kind of bad delivery."""

from __future__ import annotations

import json

import pytest
from deliveries import csv_bytes, deliver, person

from registry.departments.load import available_dates, deliveries_for, load_department

D1, D2, D3 = "2026-11-19", "2026-11-20", "2026-11-21"


def keys(con, department):
    key = {"public_security": "人员编号", "family_planning": "个案编号", "civil_affairs": "对象编号",
           "labour": "GRBH"}[department]
    return [r[0] for r in con.execute(f'SELECT "{key}" FROM raw_{department} ORDER BY _source_line').fetchall()]


def quarantined(con, department):
    return con.execute("SELECT line, record_key, split_part(reason, ':', 1) FROM quarantine "
                       "WHERE department = ? ORDER BY line", [department]).fetchall()


def ps_rows(n, start=1):
    return [person("public_security", f"GA{i:010d}") for i in range(start, start + n)]


# ------------------------------------------------------------------ each format loads verbatim

def test_public_security_gb18030_csv_loads_verbatim(tmp_path, con):
    rows = [person("public_security", "GA0000000001", 姓名="张 伟", 现住址="", 户籍地址='广东省深圳市,"南山区"'),
            person("public_security", "GA0000000002", 姓名="買買提·艾力", 公民身份号码="１１０１０１１９９００３０７６６３ｘ")]
    deliver(tmp_path, "public_security", D1, rows)
    out = load_department(con, tmp_path, "public_security", D1)
    assert (out.status, out.rows_delivered, out.rows_loaded, out.rows_quarantined) == ("loaded", 2, 2, 0)
    got = con.execute('SELECT 姓名, 现住址, 户籍地址, 公民身份号码, _source_file, _source_line, _extract_date::VARCHAR '
                      'FROM raw_public_security ORDER BY _source_line').fetchall()
    assert got == [("张 伟", None, '广东省深圳市,"南山区"', "公民身份号码值", "hukou_20261119.csv", 2, D1),
                   ("買買提·艾力", "现住址值", "户籍地址值", "１１０１０１１９９００３０７６６３ｘ", "hukou_20261119.csv", 3, D1)]
    types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                             "WHERE table_name = 'raw_public_security'").fetchall())
    assert types["姓名"] == "VARCHAR" and types["_source_line"] == "BIGINT" and types["_extract_date"] == "DATE"
    assert con.execute("SELECT status, rows_loaded, file FROM deliveries").fetchall() == [
        ("loaded", 2, "hukou_20261119.csv")]


def test_civil_affairs_utf8_bom_csv(tmp_path, con):
    deliver(tmp_path, "civil_affairs", D1, [person("civil_affairs", "MZ0000000001", 姓名="李娜", 月保障金额="1120.00")])
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert out.status == "loaded"
    assert con.execute("SELECT 对象编号, 姓名, 月保障金额 FROM raw_civil_affairs").fetchall() == [
        ("MZ0000000001", "李娜", "1120.00")]


def test_family_planning_xlsx_sheet_and_typed_cells(tmp_path, con):
    rows = [person("family_planning", "JS0000000001", 子女数=2, 出生年月="1990.10"),
            person("family_planning", "JS0000000002", 子女数="", 身份证号="")]
    deliver(tmp_path, "family_planning", D1, rows)
    out = load_department(con, tmp_path, "family_planning", D1)
    assert (out.status, out.rows_loaded) == ("loaded", 2)
    assert con.execute("SELECT 个案编号, 子女数, 出生年月, 身份证号, _source_line FROM raw_family_planning "
                       "ORDER BY 1").fetchall() == [("JS0000000001", "2", "1990.10", "身份证号值", 2),
                                                   ("JS0000000002", None, "出生年月值", None, 3)]


def test_every_kind_of_workbook_cell_reads_as_the_sheet_shows_it_in_a_typed_column():
    import datetime as dt

    import numpy as np

    from registry.departments.workbook import _column_array

    cells = ["JS1", "", None, True, 2.0, -0.0, 13800138000.0, 440304900101123.0, 4.403041985030712e+17, 1.5,
             float("nan"), 9007199254740992.0, dt.date(2020, 3, 4), dt.date(999, 1, 2), dt.datetime(2020, 3, 4),
             dt.datetime(2020, 3, 4, 10, 11, 12, 500000), dt.time(10, 11), 7, -3.0, "中文"]
    shown = ["JS1", "", "", "TRUE", "2", "0", "13800138000", "440304900101123",
             "4.403041985030712e+17",  # an 18-digit number cell lost digits: never shown as a made-up id
             "1.5", "nan", "9007199254740992.0", "2020-03-04", "0999-01-02", "2020-03-04",
             "2020-03-04 10:11:12.500000", "10:11:00", "7", "-3", "中文"]
    assert _column_array(np.array(cells, dtype=object)).to_pylist() == shown
    assert _column_array(np.array(["a", "b"], dtype=object)).to_pylist() == ["a", "b"]


def test_labour_jsonl_missing_null_and_empty_all_mean_unknown(tmp_path, con):
    lines = [{"GRBH": "LD0000000001", "XM": "王芳", "XB": "2", "CSRQ": None, "DWMC": ""},
             {"GRBH": "LD0000000002", "XM": "刘洋", "XB": 1, "JYZT": "就业"}]
    deliver(tmp_path, "labour", D1, lines)
    assert load_department(con, tmp_path, "labour", D1).status == "loaded"
    assert con.execute("SELECT GRBH, XM, XB, CSRQ, DWMC, JYZT, _source_line FROM raw_labour ORDER BY 1").fetchall() == [
        ("LD0000000001", "王芳", "2", None, None, None, 1), ("LD0000000002", "刘洋", "1", None, None, "就业", 2)]


# ------------------------------------------------------------------ row-level quarantine

def test_jsonl_that_only_a_lenient_parser_accepts_is_quarantined(tmp_path, con):
    # DuckDB's reader would take these; they are not JSON, so DEPARTMENTS.md has them quarantined.
    lines = ['{"GRBH":"LD0000000001","XM":"王芳",}', '{"GRBH":"LD0000000002","XM":"刘洋","CSRQ":NaN}',
             '{"GRBH":"LD0000000003","XM":"陈静","HJDZ":"幸福路1号,}"}']
    deliver(tmp_path, "labour", D1, manifest=False, data=("\n".join(lines) + "\n").encode())
    out = load_department(con, tmp_path, "labour", D1)
    assert keys(con, "labour") == ["LD0000000003"]  # a comma before } inside a value is fine
    assert quarantined(con, "labour") == [(1, "LD0000000001", "invalid_json"), (2, "LD0000000002", "invalid_json")]
    assert (out.rows_delivered, out.rows_loaded, out.rows_quarantined) == (3, 1, 2)


def test_jsonl_line_not_json_is_quarantined_rest_loads(tmp_path, con):
    lines = [{"GRBH": "LD0000000001"}, '{"GRBH": "LD0000000002", "XM": ', "", {"GRBH": "LD0000000003"}, "[1, 2]",
             {"XM": "无编号"}]
    deliver(tmp_path, "labour", D1, manifest=False, data=("\n".join(
        x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n").encode())
    out = load_department(con, tmp_path, "labour", D1)
    assert out.status == "loaded"
    assert keys(con, "labour") == ["LD0000000001", "LD0000000003"]
    assert con.execute("SELECT _source_line FROM raw_labour ORDER BY 1").fetchall() == [(1,), (4,)]
    assert quarantined(con, "labour") == [(2, "LD0000000002", "invalid_json"), (5, None, "not_a_json_object"),
                                          (6, None, "missing_record_key")]
    assert (out.rows_delivered, out.rows_loaded, out.rows_quarantined) == (5, 2, 3)
    assert out.quarantined_by_reason == {"invalid_json": 1, "not_a_json_object": 1, "missing_record_key": 1}


def test_duplicate_keys_first_loaded_later_quarantined(tmp_path, con):
    rows = [person("civil_affairs", "MZ0000000001", 救助类别="城市低保"),
            person("civil_affairs", "MZ0000000002"),
            person("civil_affairs", "MZ0000000001", 救助类别="临时救助"),
            person("civil_affairs", "MZ0000000001", 救助类别="高龄津贴")]
    deliver(tmp_path, "civil_affairs", D1, rows)
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert out.status == "loaded" and out.quarantined_by_reason == {"duplicate_record_key": 2}
    assert con.execute("SELECT 对象编号, 救助类别 FROM raw_civil_affairs ORDER BY _source_line").fetchall() == [
        ("MZ0000000001", "城市低保"), ("MZ0000000002", "救助类别值")]
    assert quarantined(con, "civil_affairs") == [(4, "MZ0000000001", "duplicate_record_key"),
                                                 (5, "MZ0000000001", "duplicate_record_key")]


def test_csv_wrong_field_count_and_missing_key_quarantined_with_lines(tmp_path, con):
    rows = [person("public_security", "GA0000000001"),
            ["GA0000000002", "too", "few"],
            person("public_security", "", 姓名="无编号"),
            person("public_security", "GA0000000004", 户籍地址="多行\n地址"),
            list(person("public_security", "GA0000000005").values()) + ["extra"],
            person("public_security", "GA0000000006")]
    deliver(tmp_path, "public_security", D1, rows)
    out = load_department(con, tmp_path, "public_security", D1)
    assert out.status == "loaded"
    assert keys(con, "public_security") == ["GA0000000001", "GA0000000004", "GA0000000006"]
    # lines 5-6 are one row with a newline inside a quoted value; physical lines are reported
    assert con.execute("SELECT _source_line FROM raw_public_security ORDER BY 1").fetchall() == [(2,), (5,), (8,)]
    assert quarantined(con, "public_security") == [(3, "GA0000000002", "wrong_field_count"),
                                                   (4, None, "missing_record_key"),
                                                   (7, "GA0000000005", "wrong_field_count")]
    assert (out.rows_delivered, out.rows_loaded, out.rows_quarantined) == (6, 3, 3)


def test_record_key_off_pattern_is_loaded_and_noted(tmp_path, con):
    deliver(tmp_path, "labour", D1, [{"GRBH": "LD0000000001"}, {"GRBH": "LD12"}])
    out = load_department(con, tmp_path, "labour", D1)
    assert keys(con, "labour") == ["LD0000000001", "LD12"]
    assert out.rows_quarantined == 0 and out.quarantined_by_reason == {"record_key_format": 1}
    assert quarantined(con, "labour") == [(2, "LD12", "record_key_format")]


# ------------------------------------------------------------------ whole-delivery rejection

@pytest.mark.parametrize("case", ["truncated", "checksum", "department"])
def test_manifest_mismatch_rejects_whole(tmp_path, con, case):
    path = deliver(tmp_path, "public_security", D1, ps_rows(5),
                   manifest={"truncated": {"rows": 6}, "checksum": {"sha256": "0" * 64},
                             "department": {"department": "labour"}}[case])
    out = load_department(con, tmp_path, "public_security", D1)
    assert out.status == "rejected" and out.delivery_date is None
    assert path.name in out.reason and "manifest" in out.reason
    assert out.rows_loaded == 0 and keys(con, "public_security") == []


def test_truncated_file_against_manifest(tmp_path, con):
    path = deliver(tmp_path, "labour", D1, [{"GRBH": f"LD{i:010d}"} for i in range(1, 5)])
    data = path.read_bytes()
    path.write_bytes(data[: data.rfind(b"\n", 0, len(data) - 1) + 1])  # last line lost in transfer
    out = load_department(con, tmp_path, "labour", D1)
    assert out.status == "rejected"
    assert "laodong_20261119.jsonl" in out.reason and "sha256" in out.reason


@pytest.mark.parametrize("department,data,expected", [
    ("public_security", csv_bytes("public_security", ps_rows(2), encoding="utf-8"), "encoded UTF-8"),
    ("civil_affairs", csv_bytes("civil_affairs", [person("civil_affairs", "MZ0000000001")], encoding="gb18030"),
     "not valid UTF-8"),
    ("labour", b'{"GRBH": "LD0000000001"}\n{"GRBH": "LD0000000002", "XM": "\xd5\xc5"}\n', "line 2"),
    ("public_security", b"", "empty file"),
    ("public_security", csv_bytes("public_security", []), "no data rows"),
    ("labour", b"\n\n", "empty file"),
    ("public_security", csv_bytes("public_security", ps_rows(1), header=[c for c in
                                  ("人员编号", "姓名", "性别")]), "required column(s) missing: 公民身份号码"),
])
def test_bad_file_rejected_whole_naming_file(tmp_path, con, department, data, expected):
    path = deliver(tmp_path, department, D1, data=data, manifest=False)
    out = load_department(con, tmp_path, department, D1)
    assert out.status == "rejected", out
    assert path.name in out.reason and expected in out.reason
    assert out.rows_loaded == 0


def test_xlsx_missing_sheet_or_column(tmp_path, con):
    deliver(tmp_path, "family_planning", D1, [person("family_planning", "JS0000000001")], sheet="Sheet1")
    out = load_department(con, tmp_path, "family_planning", D1)
    assert out.status == "rejected" and "sheet '个案信息' missing" in out.reason and "jisheng_20261119.xlsx" in out.reason
    deliver(tmp_path, "family_planning", D2, [person("family_planning", "JS0000000001")],
            header=["个案编号", "姓名"])
    out = load_department(con, tmp_path, "family_planning", D2)
    assert out.status == "rejected" and "required column(s) missing: 家庭档案号" in out.reason


# ------------------------------------------------------------------ nights: stale, rejected, missing

def test_missing_night_previous_delivery_stands_without_reload(tmp_path, con):
    deliver(tmp_path, "public_security", D1, ps_rows(3))
    assert load_department(con, tmp_path, "public_security", D1).status == "loaded"
    (tmp_path / D2).mkdir()  # other departments delivered that night, public security did not
    out = load_department(con, tmp_path, "public_security", D2)
    assert (out.status, out.delivery_date, out.file, out.rows_loaded, out.rows_delivered) == (
        "stale", D1, "hukou_20261119.csv", 3, 0)
    assert keys(con, "public_security") == ["GA0000000001", "GA0000000002", "GA0000000003"]
    assert con.execute("SELECT run_extract_date::VARCHAR, status, delivery_date::VARCHAR FROM deliveries "
                       "ORDER BY 1").fetchall() == [(D1, "loaded", D1), (D2, "stale", D1)]


def test_missing_night_on_empty_state_loads_the_latest_earlier(tmp_path, con):
    deliver(tmp_path, "public_security", D1, ps_rows(2))
    deliver(tmp_path, "public_security", D2, ps_rows(4))
    (tmp_path / D3).mkdir()
    out = load_department(con, tmp_path, "public_security", D3)
    assert (out.status, out.delivery_date, out.rows_loaded, out.rows_delivered) == ("stale", D2, 4, 4)
    assert con.execute("SELECT DISTINCT _extract_date::VARCHAR FROM raw_public_security").fetchall() == [(D2,)]


def test_rejected_night_previous_snapshot_stands(tmp_path, con):
    deliver(tmp_path, "labour", D1, [{"GRBH": "LD0000000001"}, {"GRBH": "LD0000000002"}])
    load_department(con, tmp_path, "labour", D1)
    deliver(tmp_path, "labour", D2, [{"GRBH": "LD0000000003"}], manifest={"rows": 50})
    out = load_department(con, tmp_path, "labour", D2)
    assert (out.status, out.delivery_date, out.file, out.rows_loaded) == ("rejected", D1, "laodong_20261120.jsonl", 2)
    assert "50" in out.reason and f"delivery of {D1}" in out.reason
    assert keys(con, "labour") == ["LD0000000001", "LD0000000002"]


def test_rejected_night_on_empty_state_falls_back_to_earlier_clean_delivery(tmp_path, con):
    deliver(tmp_path, "labour", D1, [{"GRBH": "LD0000000001"}])
    deliver(tmp_path, "labour", D2, [{"GRBH": "LD0000000002"}], manifest={"sha256": "f" * 64})
    deliver(tmp_path, "labour", D3, [{"GRBH": "LD0000000003"}], manifest={"rows": 7})
    out = load_department(con, tmp_path, "labour", D3)
    assert (out.status, out.delivery_date, out.rows_loaded) == ("rejected", D1, 1)
    assert "laodong_20261121.jsonl" in out.reason and "laodong_20261120.jsonl" in out.reason
    assert keys(con, "labour") == ["LD0000000001"]


def test_no_delivery_at_all_is_missing_with_empty_raw_table(tmp_path, con):
    (tmp_path / D1).mkdir()
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert (out.status, out.delivery_date, out.file, out.rows_loaded) == ("missing", None, None, 0)
    assert keys(con, "civil_affairs") == []


def test_reloading_same_delivery_does_not_duplicate_quarantine(tmp_path, con):
    deliver(tmp_path, "labour", D1, [{"GRBH": "LD0000000001"}, {"GRBH": "LD0000000001"}])
    load_department(con, tmp_path, "labour", D1)
    con.execute("DROP TABLE raw_labour")  # a rebuild from the same landing
    load_department(con, tmp_path, "labour", D1)
    assert quarantined(con, "labour") == [(2, "LD0000000001", "duplicate_record_key")]
    assert con.execute("SELECT count(*) FROM deliveries").fetchall() == [(1,)]


def test_landing_listing(tmp_path):
    deliver(tmp_path, "labour", D1, [{"GRBH": "LD0000000001"}])
    deliver(tmp_path, "public_security", D2, ps_rows(1))
    (tmp_path / "notes").mkdir()
    assert available_dates(tmp_path) == [D1, D2]
    night = deliveries_for(tmp_path, D2)
    assert night["public_security"].name == "hukou_20261120.csv"
    assert night["labour"] is None and night["civil_affairs"] is None and night["family_planning"] is None


def test_csv_bad_rows_without_multiline_values_keep_exact_lines(tmp_path, con):
    rows = [person("civil_affairs", "MZ0000000001"), ["MZ0000000002", "短"], person("civil_affairs", "MZ0000000003"),
            ["MZ0000000004"], person("civil_affairs", "MZ0000000005")]
    deliver(tmp_path, "civil_affairs", D1, rows)
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert con.execute("SELECT 对象编号, _source_line FROM raw_civil_affairs ORDER BY 2").fetchall() == [
        ("MZ0000000001", 2), ("MZ0000000003", 4), ("MZ0000000005", 6)]
    assert quarantined(con, "civil_affairs") == [(3, "MZ0000000002", "wrong_field_count"),
                                                 (5, "MZ0000000004", "wrong_field_count")]
    assert (out.rows_delivered, out.rows_quarantined) == (5, 2)
