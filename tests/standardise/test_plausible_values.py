"""Values that are well-formed but cannot be true: birth dates before 1900 or after the extract date, and
control characters in names and addresses. Delivered in real files, loaded and standardised; the record is
kept (nothing good lost), the value noted with file, line and field."""

from __future__ import annotations

import duckdb
import pytest

from registry.departments.load import load_department
from registry.night import full_night
from registry.standardise import standardise
from tests.departments.deliveries import deliver, person

DATE = "2026-11-20"  # the extract date


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _standardised(con, tmp_path, department, rows):
    deliver(tmp_path, department, DATE, rows)
    out = load_department(con, tmp_path, department, DATE)
    assert out.rows_loaded == len(rows)
    standardise(con, full_night(DATE))
    assert con.execute("SELECT count(*) FROM records").fetchall()[0][0] == len(rows)  # every record kept


def _notes(con, reason):
    return con.execute("SELECT file, line, record_key, field, value FROM quarantine WHERE reason = ? ORDER BY line",
                       [reason]).fetchall()


@pytest.mark.parametrize("department, column, raw, plausible", [
    ("public_security", "出生日期", "18000101", False),
    ("public_security", "出生日期", "20990101", False),
    ("public_security", "出生日期", "18991231", False),
    ("public_security", "出生日期", "19000101", True),
    ("public_security", "出生日期", "20261120", True),    # born on the extract date
    ("public_security", "出生日期", "20261121", False),   # the day after it
    ("civil_affairs", "出生日期", "2099/1/1", False),
    ("labour", "CSRQ", "1800年01月01日", False),
    ("family_planning", "出生年月", "1899-12", False),
    ("family_planning", "出生年月", "2026-11", True),     # the extract month
    ("family_planning", "出生年月", "2026.12", False),
])
def test_birth_dates_before_1900_or_after_the_extract_date_are_noted(con, tmp_path, department, column, raw,
                                                                      plausible):
    key = {"public_security": "GA", "civil_affairs": "MZ", "labour": "LD", "family_planning": "JS"}[department]
    rows = [person(department, f"{key}0000000001", **{column: raw}),
            person(department, f"{key}0000000002", **{column: "19800105" if department == "public_security" else
                                                           {"civil_affairs": "1980/1/5", "labour": "1980年01月05日",
                                                            "family_planning": "1980-01"}[department]})]
    _standardised(con, tmp_path, department, rows)
    got = con.execute("SELECT source_record_id, birth_date_raw, birth_date IS NOT NULL OR birth_year IS NOT NULL "
                      "FROM records ORDER BY source_record_id").fetchall()
    assert got == [(f"{key}0000000001", raw, plausible), (f"{key}0000000002", rows[1][column], True)]
    noted = _notes(con, "implausible_birth_date")
    if plausible:
        assert noted == []
    else:
        (file, line, record_key, field, value), = noted
        first_line = 1 if department == "labour" else 2  # JSON Lines have no header line
        assert (line, record_key, field, value) == (first_line, f"{key}0000000001", column, raw)
        assert DATE.replace("-", "") in file


def test_control_characters_are_removed_from_names_and_addresses_and_noted(con, tmp_path):
    rows = [person("public_security", "GA0000000001", 姓名="张\x07伟", 曾用名="张\x1b[31m小伟",
                   户籍地址="广东省深圳市福田区\x00福田街道岗厦社区金地花园1栋2单元301", 现住址="福田区沙头街道\x9b天安社区"),
            person("public_security", "GA0000000002", 姓名="李 娜", 户籍地址="广东省深圳市福田区福田街道", 现住址="")]
    _standardised(con, tmp_path, "public_security", rows)
    rec = dict(zip(("name", "name_raw", "former_name", "hukou_address", "current_address"), con.execute(
        "SELECT name, name_raw, former_name, hukou_address, current_address FROM records "
        "WHERE source_record_id = 'GA0000000001'").fetchall()[0]))
    assert rec["name"] == "张伟" and rec["name_raw"] == "张\x07伟"  # the raw value stays verbatim
    assert rec["former_name"] == "张[31m小伟"
    for column in ("name", "former_name", "hukou_address", "current_address"):
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in rec[column]), column
    assert "福田街道" in rec["hukou_address"] and "岗厦社区" in rec["hukou_address"]
    noted = _notes(con, "control_characters_removed")
    assert sorted((line, key, field) for _, line, key, field, _ in noted) == [
        (2, "GA0000000001", "姓名"), (2, "GA0000000001", "户籍地址"), (2, "GA0000000001", "曾用名"),
        (2, "GA0000000001", "现住址")]
    assert "张\x07伟" in {v for *_, v in noted}
    assert con.execute("SELECT name FROM records WHERE source_record_id = 'GA0000000002'").fetchall() == [("李娜",)]
