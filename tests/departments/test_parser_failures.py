"""Every way a parser can fail on a delivery ends as a rejection or a quarantined row naming the file and
the position, never a crash; every good row of the file is still loaded (counted against the source)."""

from __future__ import annotations

import json
import re

import pytest
from deliveries import deliver, person

from registry.departments.load import load_department
from registry.departments.row_rules import MAX_VALUE_CHARS
from registry.departments.sheet_rows import read_sheet_rows
from tests.independent.writer import write_night
from tests.pipelines.faults import rewrite_member

D1 = "2026-11-19"


def loaded_keys(con, department, key):
    return [r[0] for r in con.execute(f'SELECT "{key}" FROM raw_{department} ORDER BY _source_line').fetchall()]


def quarantined(con, department):
    return con.execute("SELECT line, record_key, split_part(reason, ':', 1), reason FROM quarantine "
                       "WHERE department = ? ORDER BY line", [department]).fetchall()


# ------------------------------------------------------------------ XLSX

def fp_rows(n):
    return [person("family_planning", f"JS{i:010d}", 姓名=f"姓名{i}") for i in range(1, n + 1)]


def test_a_broken_row_in_a_sound_workbook_is_quarantined_and_the_rest_loads(tmp_path, con):
    path = deliver(tmp_path, "family_planning", D1, fp_rows(20), manifest=False)
    # xlsxwriter keeps strings in sharedStrings.xml: break row 8's XML itself (an unclosed tag)
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda x: re.sub(r'(<row r="8"[^>]*>)(<c )', r"\1<c><v>1</c>\2", x, count=1))
    out = load_department(con, tmp_path, "family_planning", D1)
    assert (out.status, out.rows_delivered, out.rows_loaded, out.rows_quarantined) == ("loaded", 20, 19, 1)
    assert loaded_keys(con, "family_planning", "个案编号") == [f"JS{i:010d}" for i in range(1, 21) if i != 7]
    (line, _, code, reason), = quarantined(con, "family_planning")
    assert (line, code) == (8, "unparseable_row")
    assert "sheet '个案信息' row 8" in reason and "XML is broken" in reason
    # the good rows' values are the ones the fast reader gives
    assert con.execute("SELECT 姓名, _source_line FROM raw_family_planning WHERE 个案编号 = 'JS0000000008'"
                       ).fetchall() == [("姓名8", 9)]


def test_a_row_broken_by_an_unescaped_ampersand_names_its_record_key(tmp_path, con):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "个案信息"
    ws.append(list(fp_rows(1)[0].keys()))
    for row in fp_rows(5):
        ws.append(list(row.values()))
    folder = tmp_path / "landing" / D1 / "family_planning"
    folder.mkdir(parents=True)
    wb.save(folder / "jisheng_20261119.xlsx")
    rewrite_member(folder / "jisheng_20261119.xlsx", "xl/worksheets/sheet1.xml",
                   lambda x: x.replace("姓名3<", "姓名3 & 子<", 1))
    out = load_department(con, tmp_path / "landing", "family_planning", D1)
    assert (out.status, out.rows_loaded, out.rows_quarantined) == ("loaded", 4, 1)
    assert [(line, key, code) for line, key, code, _ in quarantined(con, "family_planning")] == [
        (4, "JS0000000003", "unparseable_row")]


def test_broken_shared_strings_reject_the_workbook_naming_the_part_and_position(tmp_path, con):
    path = deliver(tmp_path, "family_planning", D1, fp_rows(5), manifest=False)
    rewrite_member(path, "xl/sharedStrings.xml", lambda x: x.replace("姓名2", "姓名2 <&", 1))
    out = load_department(con, tmp_path, "family_planning", D1)
    assert out.status == "rejected"
    assert "jisheng_20261119.xlsx" in out.reason and "xl/sharedStrings.xml" in out.reason
    assert re.search(r"line \d+, column \d+", out.reason)


def test_a_broken_header_row_rejects_the_workbook(tmp_path, con):
    path = deliver(tmp_path, "family_planning", D1, fp_rows(5), manifest=False)
    rewrite_member(path, "xl/worksheets/sheet1.xml",
                   lambda x: re.sub(r'(<row r="1"[^>]*>)', r"\1<c><v>1</c>", x, count=1))
    out = load_department(con, tmp_path, "family_planning", D1)
    assert out.status == "rejected" and "row 1" in out.reason and "before any header row" in out.reason


@pytest.mark.parametrize("engine", ["openpyxl", "xlsxwriter"])
def test_the_row_by_row_reader_reads_what_calamine_reads(tmp_path, engine):
    """The slow reader is only a fallback; it must give exactly the fast reader's cells (strings, numbers,
    date cells by their format) on workbooks from other writers."""
    from python_calamine import CalamineWorkbook

    write_night(tmp_path, D1, 300, seed=3, xlsx_engine=engine)
    path, = (tmp_path / D1 / "family_planning").glob("*.xlsx")
    book = CalamineWorkbook.from_path(str(path))
    fast = book.get_sheet_by_name("个案信息").to_python(skip_empty_area=False)
    book.close()
    slow = read_sheet_rows(path, "个案信息")
    assert slow.broken == []
    width = max(len(r) for r in fast + slow.rows)
    pad = lambda rows: [list(r) + [""] * (width - len(r)) for r in rows]  # noqa: E731
    assert pad(slow.rows) == pad(fast)
    assert any(not isinstance(v, str) for r in fast for v in r)  # typed cells were compared too


# ------------------------------------------------------------------ CSV

def ca_rows(n):
    return [person("civil_affairs", f"MZ{i:010d}", 姓名=f"名{i}") for i in range(1, n + 1)]


def _csv(tmp_path, rows, edit):
    path = deliver(tmp_path, "civil_affairs", D1, rows, manifest=False)
    lines = path.read_text(encoding="utf-8-sig").split("\n")
    edit(lines)
    path.write_text("\ufeff" + "\n".join(lines), encoding="utf-8")
    return path


@pytest.mark.parametrize("stray", ['"名4', '名"4', '名4"'])
def test_a_stray_quote_is_quarantined_with_its_line_and_the_lines_after_it_load(tmp_path, con, stray):
    _csv(tmp_path, ca_rows(10), lambda lines: lines.__setitem__(4, lines[4].replace("名4", stray, 1)))
    out = load_department(con, tmp_path, "civil_affairs", D1)
    keys = loaded_keys(con, "civil_affairs", "对象编号")
    if stray != '"名4':  # a quote inside an unquoted value is the value's own character
        assert keys == [f"MZ{i:010d}" for i in range(1, 11)]
        assert con.execute("SELECT 姓名 FROM raw_civil_affairs WHERE 对象编号 = 'MZ0000000004'").fetchall() == [
            (stray,)]
        return
    assert (out.status, out.rows_delivered, out.rows_loaded, out.rows_quarantined) == ("loaded", 10, 9, 1)
    assert keys == [f"MZ{i:010d}" for i in range(1, 11) if i != 4]
    (line, key, code, reason), = quarantined(con, "civil_affairs")
    assert (line, key, code) == (5, "MZ0000000004", "unparseable_row") and "unmatched quote" in reason
    # every later row sits on its own physical line
    assert con.execute("SELECT 对象编号, _source_line FROM raw_civil_affairs WHERE _source_line > 5 "
                       "ORDER BY 2").fetchall() == [(f"MZ{i:010d}", i + 1) for i in range(5, 11)]


def test_two_stray_quotes_never_swallow_the_rows_between_them(tmp_path, con):
    def edit(lines):
        lines[3] = lines[3].replace("名3", '"名3', 1)
        lines[7] = lines[7].replace("名7", '名7"', 1)
    _csv(tmp_path, ca_rows(10), edit)
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert (out.rows_loaded, out.rows_quarantined) == (9, 1)  # 名7" is a value's own quote, not an opening
    assert [r[:3] for r in quarantined(con, "civil_affairs")] == [(4, "MZ0000000003", "unparseable_row")]
    assert loaded_keys(con, "civil_affairs", "对象编号") == [f"MZ{i:010d}" for i in range(1, 11) if i != 3]
    assert con.execute("SELECT 姓名 FROM raw_civil_affairs WHERE 对象编号 = 'MZ0000000007'").fetchall() == [('名7"',)]


def test_a_value_s_own_quote_keeps_the_line_numbers_of_the_rows_after_it(tmp_path, con):
    def edit(lines):
        lines[3] = lines[3].replace("名3", '名3"', 1)
        lines.insert(6, "")  # a blank line: line numbers come from the map of the file
    _csv(tmp_path, ca_rows(8), edit)
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert (out.rows_loaded, out.rows_quarantined) == (8, 0)
    assert con.execute("SELECT 对象编号, _source_line FROM raw_civil_affairs ORDER BY 2").fetchall() == [
        (f"MZ{i:010d}", i + 1 + (i >= 6)) for i in range(1, 9)]


def test_a_quoted_value_over_two_lines_is_still_one_record(tmp_path, con):
    rows = ca_rows(4)
    rows[1]["家庭住址"] = "第一行\n第二行"
    deliver(tmp_path, "civil_affairs", D1, rows, manifest=False)
    out = load_department(con, tmp_path, "civil_affairs", D1)
    assert (out.rows_loaded, out.rows_quarantined) == (4, 0)
    assert con.execute("SELECT 家庭住址 FROM raw_civil_affairs WHERE 对象编号 = 'MZ0000000002'").fetchall() == [
        ("第一行\n第二行",)]


def test_a_stray_quote_in_a_gb18030_file_quoting_every_field(tmp_path, con):
    write_night(tmp_path, D1, 200, seed=9)
    path, = (tmp_path / D1 / "public_security").glob("*.csv")
    lines = path.read_bytes().decode("gb18030").split("\r\n")
    key = lines[6].split(",")[0].strip('"')
    fields = lines[6].split('","')
    fields[2] += '"x'  # the name's quote closed too early: "石强泽"x"
    lines[6] = '","'.join(fields)
    path.write_bytes("\r\n".join(lines).encode("gb18030"))
    out = load_department(con, tmp_path, "public_security", D1)
    records = sum(1 for line in lines[1:] if line.strip())
    assert (out.status, out.rows_delivered, out.rows_loaded, out.rows_quarantined) == (
        "loaded", records, records - 1, 1)
    assert [r[:3] for r in quarantined(con, "public_security")] == [(7, key, "unparseable_row")]


# ------------------------------------------------------------------ JSON Lines

def ld_rows(n):
    return [{"GRBH": f"LD{i:010d}", "XM": f"名{i}"} for i in range(1, n + 1)]


@pytest.mark.parametrize("case", ["junk", "valid_but_oversized", "two_long_lines"])
def test_json_lines_of_any_length_are_judged_one_by_one(tmp_path, con, case):
    rows: list = ld_rows(300)
    three_mb = "王" * 1_000_000  # 3 MB of UTF-8
    if case == "junk":
        rows[100] = '{"GRBH": "LD0000000101", "XM": "' + three_mb      # never closed
    elif case == "valid_but_oversized":
        rows[100] = {"GRBH": "LD0000000101", "XM": three_mb}
    else:
        rows[100] = '{"GRBH": "LD0000000101", "XM": "' + three_mb
        rows[200] = "x" * 5_000_000
    deliver(tmp_path, "labour", D1, rows, manifest=False)
    out = load_department(con, tmp_path, "labour", D1)
    bad = {"junk": [101], "valid_but_oversized": [101], "two_long_lines": [101, 201]}[case]
    assert (out.status, out.rows_delivered, out.rows_loaded, out.rows_quarantined) == (
        "loaded", 300, 300 - len(bad), len(bad))
    assert loaded_keys(con, "labour", "GRBH") == [f"LD{i:010d}" for i in range(1, 301) if i not in bad]
    got = quarantined(con, "labour")
    assert [line for line, *_ in got] == bad
    if case == "valid_but_oversized":
        assert got[0][1:3] == ("LD0000000101", "oversized_value")
        assert f"at most {MAX_VALUE_CHARS}" in got[0][3]
    else:
        assert got[0][1:3] == ("LD0000000101", "invalid_json")
    assert con.execute("SELECT max(length(value)) FROM quarantine").fetchall()[0][0] <= 500


# ------------------------------------------------------------------ anything else a reader raises

def test_any_other_reader_error_is_a_rejection_naming_the_file(tmp_path, con):
    path = deliver(tmp_path, "family_planning", D1, fp_rows(3), manifest=False)
    rewrite_member(path, "xl/workbook.xml", lambda x: x.replace("<sheets>", "<sheets", 1))
    out = load_department(con, tmp_path, "family_planning", D1)
    assert out.status == "rejected" and out.reason.startswith("rejected: jisheng_20261119.xlsx: ")
    assert json.dumps(out.reason)  # one plain line for the ledger
