"""The stored department and records suites on small tables: what blocks and what only warns."""

import duckdb
import pandas as pd
import pytest

from registry.departments import COLUMNS
from registry.quality.suites import validate_department, validate_records
from registry.night import full_night, incremental_night


def _raw(con, department, rows):
    df = pd.DataFrame([{c: r.get(c) for c in COLUMNS[department]} for r in rows], columns=list(COLUMNS[department]))
    con.execute(f"CREATE OR REPLACE TABLE raw_{department} AS SELECT * FROM df")


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def test_clean_labour_snapshot_passes(con):
    _raw(con, "labour", [{"GRBH": f"LD{i:010d}", "SFZH": "11010119900307663x", "XB": "1", "JYZT": "就业",
                          "CSRQ": "1990年03月07日", "CBZT": "参保缴费", "GXSJ": "2026-11-20 08:00:00"}
                         for i in range(20)])
    out = validate_department(con, "labour")
    assert out.success and out.warnings == []


def test_sex_outside_vocabulary_only_warns(con):
    _raw(con, "labour", [{"GRBH": "LD0000000001", "SFZH": "110101199003076638", "XB": "M"}])
    out = validate_department(con, "labour")
    assert out.success
    assert [(w["column"], w["partial_unexpected_list"]) for w in out.warnings] == [("XB", ["M"])]


def test_identity_numbers_mostly_unusable_blocks(con):
    rows = [{"人员编号": f"GA{i:010d}", "公民身份号码": "１１０１０１ １９９００３０７-６６３Ｘ" if i < 2 else "unknown"}
            for i in range(10)]
    _raw(con, "public_security", rows)
    out = validate_department(con, "public_security")
    assert not out.success
    assert [f["column"] for f in out.blocking_failures] == ["_id_number_normalised"]
    assert out.blocking_failures[0]["unexpected_count"] == 8


def test_missing_column_and_duplicate_key_block(con):
    con.execute('CREATE TABLE raw_civil_affairs AS SELECT * FROM (VALUES (\'MZ0000000001\', \'李娜\'), '
                '(\'MZ0000000001\', \'王芳\')) t("对象编号", "姓名")')
    out = validate_department(con, "civil_affairs")
    assert not out.success
    failed = {(f["type"], f["column"]) for f in out.blocking_failures}
    assert ("expect_column_to_exist", "证件号码") in failed
    assert ("expect_column_values_to_be_unique", "对象编号") in failed


def test_records_suite_blocks_duplicate_uid_and_bad_sex(con):
    con.execute("""CREATE TABLE records AS SELECT * FROM (VALUES
        ('labour:LD0000000001', 'labour', 'LD0000000001', DATE '2026-11-20', 'h1', '11010119900307663X', true, 'valid',
         '王芳', 'wang fang', '2', DATE '1990-03-07', 1990, 'day', '13800138000', 'mobile', NULL, NULL, NULL),
        ('labour:LD0000000001', 'labour', 'LD0000000001', DATE '2026-11-20', 'h1', NULL, false, 'missing',
         '王芳', 'wang fang', 'F', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))
        t(record_uid, department, source_record_id, extract_date, record_hash, id_number, id_number_valid,
          id_number_form, name, name_pinyin, sex, birth_date, birth_year, birth_date_precision, phone, phone_kind,
          hukou_address, current_address, household_id)""")
    out = validate_records(con)
    assert not out.success
    assert {(f["type"], f["column"]) for f in out.blocking_failures} == {
        ("expect_column_values_to_be_unique", "record_uid"), ("expect_column_values_to_be_in_set", "sex")}


def _standardise_previous_night(con, department, rows):
    from registry.standardise import standardise

    _raw(con, department, rows)
    con.execute(f"ALTER TABLE raw_{department} ADD COLUMN _source_file VARCHAR DEFAULT 'f.jsonl'")
    con.execute(f"ALTER TABLE raw_{department} ADD COLUMN _source_line BIGINT DEFAULT 2")
    con.execute(f"ALTER TABLE raw_{department} ADD COLUMN _extract_date DATE DEFAULT DATE '2026-11-19'")
    standardise(con, full_night())


def test_incremental_night_validates_tonights_rows_and_the_whole_table(con):
    good = [{"GRBH": f"LD{i:010d}", "SFZH": "110101199003076638", "XB": "1"} for i in range(100)]
    _standardise_previous_night(con, "labour", good)
    # Tonight: five rows changed, and every one of them carries an unusable identity number.
    tonight = [dict(r, SFZH="garbage") if i < 5 else r for i, r in enumerate(good)]
    _raw(con, "labour", tonight)
    whole = validate_department(con, "labour")
    assert whole.success  # 5% unusable is within labour's normal share over the whole delivery
    scoped = validate_department(con, "labour", incremental_night())
    assert scoped.statistics["rows"] == 5
    assert not scoped.success  # but all of tonight's rows are unusable: the delivery is broken
    assert [f["column"] for f in scoped.blocking_failures] == ["_id_number_normalised"]


def test_incremental_night_still_counts_keys_over_the_whole_table(con):
    good = [{"GRBH": f"LD{i:010d}", "SFZH": "110101199003076638", "XB": "1"} for i in range(5)]
    _standardise_previous_night(con, "labour", good)
    _raw(con, "labour", good + [good[0]])  # nothing new tonight, but a key twice
    scoped = validate_department(con, "labour", incremental_night())
    assert scoped.statistics["rows"] == 0
    assert not scoped.success
    assert [f["type"] for f in scoped.blocking_failures] == ["expect_column_values_to_be_unique"]


def test_a_large_table_is_validated_in_chunks_with_the_same_verdicts(con, monkeypatch):
    import registry.quality.scoped as scoped

    # 5,000 labour rows: one sex outside the vocabulary in the last chunk, a duplicate key across chunks,
    # and 4% unusable identity numbers spread over all of them (a share within labour's limit).
    rows = [{"GRBH": f"LD{i:010d}", "SFZH": "garbage" if i % 25 == 0 else "110101199003076638",
             "XB": "M" if i == 4_990 else "1"} for i in range(5_000)]
    rows[4_999]["GRBH"] = rows[3]["GRBH"]
    _raw(con, "labour", rows)
    whole = validate_department(con, "labour")
    monkeypatch.setattr(scoped, "CHUNK_ROWS", 2_048)
    chunked = validate_department(con, "labour")
    assert chunked.statistics["chunks"] == 3 and chunked.statistics["rows"] == 5_000
    assert not chunked.success and not whole.success
    verdicts = lambda out: {(f["type"], f["column"], f["severity"], f["unexpected_count"])  # noqa: E731
                            for f in out.blocking_failures + out.warnings}
    assert verdicts(chunked) == verdicts(whole) == {
        ("expect_column_values_to_be_unique", "GRBH", "block", 2),
        ("expect_column_values_to_be_in_set", "XB", "warn", 1)}
    assert [w["partial_unexpected_list"] for w in chunked.warnings] == [["M"]]
