"""Each irregularity of DEPARTMENTS.md gives the right standardised value in `records`."""

from __future__ import annotations

import pytest

from registry.standardise import standardise
from registry.standardise import id_numbers
from registry.night import incremental_night

from tests.standardise.conftest import load_raw

VALID_ID = "11010519491231002X"          # GB 11643 example: male? order 002 -> even -> female
VALID_ID_MALE = "440304198511200048"     # order 004 -> female as well; see below for a male one
ID_15 = "440304900101123"                # converts to 440304199001011233


def records_of(con, department, rows, **kw):
    load_raw(con, department, rows, **kw)
    standardise(con, incremental_night())
    cur = con.execute("SELECT * FROM records WHERE department = ? ORDER BY record_uid", [department])
    cols = [d[0] for d in cur.description]
    return {r["source_record_id"]: r for r in (dict(zip(cols, row)) for row in cur.fetchall())}


def one(con, department, row):
    (rec,) = records_of(con, department, [row]).values()
    return rec


def notes(con):
    return con.execute("SELECT department, file, line, record_key, field, value, reason FROM quarantine "
                       "ORDER BY line, reason").fetchall()


# ---------------------------------------------------------------- identity numbers

@pytest.mark.parametrize("raw", [
    "11010519491231002X",
    "11010519491231002x",                 # lower-case x
    "１１０１０５１９４９１２３１００２Ｘ",   # full-width digits and X
    "110105 19491231 002X",               # spaces
    "110105-19491231-002x",               # dashes
    " 110105　19491231002X ",             # full-width space
])
def test_identity_number_clean_up(con, raw):
    rec = one(con, "civil_affairs", {"证件号码": raw})
    assert rec["id_number"] == "11010519491231002X"
    assert rec["id_number_form"] == "valid"
    assert rec["id_number_valid"] is True or rec["id_number_valid"] == True  # noqa: E712
    assert str(rec["id_birth_date"])[:10] == "1949-12-31"
    assert rec["id_sex"] == "2"  # order code 002 is even
    assert rec["id_number_raw"] == raw


def test_fifteen_digit_number_is_converted(con):
    rec = one(con, "family_planning", {"身份证号": ID_15, "性别": "男"})
    assert rec["id_number"] == "440304199001011233"
    assert rec["id_number_form"] == "converted15"
    assert rec["id_number_valid"]
    assert rec["id_sex"] == "1"  # order code 123 is odd
    assert rec["sex_disagrees_id"] == False  # noqa: E712


def test_check_computed_in_sql_matches_reference(con):
    bodies = [f"4403041985112{n:04d}" for n in range(0, 2000, 7)]
    load_raw(con, "labour", [{"SFZH": b + "0"} for b in bodies])
    standardise(con, incremental_night())
    got = dict(con.execute("SELECT substr(id_number, 1, 17), id_number FROM records").fetchall())
    for b in bodies:
        assert got[b] == b + id_numbers.check_char(b)[0] or got[b] == b + "0"
    formed = dict(con.execute("SELECT substr(id_number, 1, 17), id_number_form FROM records").fetchall())
    assert all(formed[b] == ("valid" if id_numbers.check_char(b) == "0" else "bad_check") for b in bodies)


@pytest.mark.parametrize("raw", [
    "11010519491231003X",   # one digit wrong
    "11010519491213002X",   # two adjacent digits swapped (31 -> 13)
])
def test_mistyped_number_fails_check_but_is_kept(con, raw):
    rec = one(con, "civil_affairs", {"证件号码": raw})
    assert rec["id_number"] == raw
    assert rec["id_number_form"] == "bad_check"
    assert rec["id_number_valid"] == False  # noqa: E712
    assert ("civil_affairs", "minzheng_20261120.csv", 2, "MZ0000000001", "证件号码", raw,
            "id_number_bad_check") in notes(con)


def test_missing_and_malformed_numbers(con):
    recs = records_of(con, "labour", [{"SFZH": None}, {"SFZH": "12345"}, {"SFZH": "1101051949123100ZX"}])
    assert [r["id_number_form"] for r in recs.values()] == ["missing", "malformed", "malformed"]
    assert all(r["id_number"] is None and r["id_number_valid"] == False for r in recs.values())  # noqa: E712
    reasons = [n[-1] for n in notes(con)]
    assert reasons == ["id_number_malformed", "id_number_malformed"]  # a missing number is not a note


def test_number_with_impossible_birth_date_is_not_valid(con):
    body = "44030419900230123"
    rec = one(con, "labour", {"SFZH": body + id_numbers.check_char(body)})
    assert rec["id_number_form"] == "valid"
    assert rec["id_number_valid"] == False  # noqa: E712
    assert rec["id_birth_date"] is None or str(rec["id_birth_date"]) == "NaT"
    assert [n[-1] for n in notes(con)] == ["id_number_impossible_birth_date"]


def test_disability_certificate_split(con):
    rec = one(con, "civil_affairs", {"证件号码": VALID_ID, "残疾人证号": "11010519491231002x42"})
    assert rec["disability_id_number"] == "11010519491231002X"
    assert rec["disability_category"] == 4 and rec["disability_level"] == 2
    assert rec["disability_cert"] == "11010519491231002x42"


def test_sex_and_birth_disagreement_flags(con):
    recs = records_of(con, "public_security", [
        {"公民身份号码": VALID_ID, "性别": "男", "出生日期": "19491231"},
        {"公民身份号码": VALID_ID, "性别": "女", "出生日期": "19491230"},
    ])
    a, b = recs.values()
    assert (a["sex_disagrees_id"], a["birth_disagrees_id"]) == (True, False)
    assert (b["sex_disagrees_id"], b["birth_disagrees_id"]) == (False, True)


# ---------------------------------------------------------------- names

def _names(con, department, raw_names, column="姓名"):
    recs = records_of(con, department, [{column: n} for n in raw_names])
    return list(recs.values())


def test_traditional_and_spaces(con):
    a, b, c = _names(con, "public_security", ["張偉", "张 伟", "张　伟"])
    assert a["name"] == b["name"] == c["name"] == "张伟"
    assert a["name_raw"] == "張偉"
    assert a["surname"] == "张" and a["given_name"] == "伟"


def test_minority_separators(con):
    recs = _names(con, "civil_affairs", ["买买提·艾力", "买买提•艾力", "买买提.艾力", "买买提・艾力", "买买提艾力"])
    assert {r["name_plain"] for r in recs} == {"买买提艾力"}
    assert {r["name"] for r in recs[:4]} == {"买买提·艾力"}
    assert {r["name_pinyin"] for r in recs} == {"mai mai ti ai li"}


def test_polyphonic_and_compound_surnames(con):
    recs = _names(con, "labour", ["曾小明", "单田芳", "尉迟恭", "欧阳娜娜"], column="XM")
    assert [r["name_pinyin"] for r in recs] == ["zeng xiao ming", "shan tian fang", "yu chi gong", "ou yang na na"]
    assert [r["surname"] for r in recs] == ["曾", "单", "尉迟", "欧阳"]


def test_pinyin_names_compare_with_characters(con):
    recs = _names(con, "labour", ["张伟", "ZHANG Wei", "zhangwei", "王Ye", "张玮"], column="XM")
    zw, latin, run_together, wang, homophone = recs
    assert zw["name_pinyin"] == latin["name_pinyin"] == run_together["name_pinyin"] == "zhang wei"
    assert homophone["name_pinyin"] == "zhang wei"  # a homophone typo keeps the same pinyin
    assert wang["name_pinyin"] == "wang ye" and wang["name_is_pinyin"] and wang["surname"] == "王"
    assert latin["name_is_pinyin"] and not zw["name_is_pinyin"]
    assert latin["name"] == "ZHANG Wei"


def test_former_name_standardised(con):
    rec = one(con, "public_security", {"姓名": "张伟", "曾用名": "張 小偉"})
    assert rec["former_name"] == "张小伟"
    assert rec["former_name_pinyin"] == "zhang xiao wei"


@pytest.mark.parametrize("raw, name, pinyin", [
    ("王徳明", "王德明", "wang de ming"),       # a Japanese form OpenCC's t2s leaves alone (jp2t)
    ("李淸", "李清", "li qing"),                # an old form (the variant table)
    ("髙婷", "高婷", "gao ting"),
    ("王芸", "王芸", "wang yun"),                # 芸 is a Chinese character too: not turned into 艺
    ("张-伟", "张·伟", "zhang wei"),             # a hyphen typed between surname and given name
    ("张\u3000伟", "张伟", "zhang wei"),
    ("ZHANG-Wei", "ZHANG·Wei", "zhang wei"),
    ("LYU Wei", "LYU Wei", "lv wei"),           # 吕 as passports write it since 2012
    ("Lü Wei", "Lv Wei", "lv wei"),
    ("赵𠮷", "赵𠮷", "zhao ?"),                 # a character whose reading is not known keeps its syllable
])
def test_names_on_every_axis(con, raw, name, pinyin):
    [rec] = _names(con, "labour", [raw], column="XM")
    assert (rec["name"], rec["name_pinyin"]) == (name, pinyin)


# ---------------------------------------------------------------- sex and birth dates

def test_sex_codes(con):
    recs = records_of(con, "labour", [{"XB": v} for v in ("1", "2", "0", "9", None)])
    assert [r["sex"] for r in recs.values()] == ["1", "2", None, None, None]
    assert notes(con) == []
    recs = records_of(con, "public_security", [{"性别": "男"}, {"性别": "女"}])
    assert [r["sex"] for r in recs.values()] == ["1", "2"]


@pytest.mark.parametrize("department, column, raw, expected", [
    ("public_security", "出生日期", "19900105", ("1990-01-05", 1990, 1, 5, "day")),
    ("family_planning", "出生年月", "1990-03", (None, 1990, 3, None, "month")),
    ("family_planning", "出生年月", "1990.03", (None, 1990, 3, None, "month")),
    ("civil_affairs", "出生日期", "1990/3/5", ("1990-03-05", 1990, 3, 5, "day")),
    ("civil_affairs", "出生日期", "1990-03-05", ("1990-03-05", 1990, 3, 5, "day")),
    ("labour", "CSRQ", "1990年03月05日", ("1990-03-05", 1990, 3, 5, "day")),
    ("labour", "CSRQ", None, (None, None, None, None, None)),
])
def test_birth_date_formats(con, department, column, raw, expected):
    rec = one(con, department, {column: raw})
    got = (str(rec["birth_date"])[:10] if rec["birth_date"] is not None and str(rec["birth_date"]) != "NaT" else None,
           _int(rec["birth_year"]), _int(rec["birth_month"]), _int(rec["birth_day"]), rec["birth_date_precision"])
    assert got == expected
    assert notes(con) == []


def _int(v):
    return None if v is None or v != v else int(v)


@pytest.mark.parametrize("department, column, raw", [
    ("public_security", "出生日期", "20230230"),
    ("labour", "CSRQ", "2000年2月30日"),
    ("civil_affairs", "出生日期", "1990/2/30"),
    ("family_planning", "出生年月", "1990-13"),
])
def test_impossible_birth_date_is_null_and_noted(con, department, column, raw):
    rec = one(con, department, {column: raw})
    assert rec["birth_date_raw"] == raw
    assert rec["birth_date_precision"] is None and _int(rec["birth_year"]) is None
    (note,) = notes(con)
    assert note[4:] == (column, raw, "impossible_date")
    assert note[2] == 2  # the row's line in the file


def test_other_dates_and_timestamp(con):
    rec = one(con, "labour", {"SYDJRQ": "2024-02-30", "GXSJ": "2024-03-01 08:09:10"})
    assert rec["unemployment_date"] is None or str(rec["unemployment_date"]) == "NaT"
    assert str(rec["record_updated_at"]) == "2024-03-01 08:09:10"
    assert [n[4:] for n in notes(con)] == [("SYDJRQ", "2024-02-30", "unusable_date")]


# ---------------------------------------------------------------- phones

@pytest.mark.parametrize("raw, phone, kind", [
    ("13812345678", "13812345678", "mobile"),
    ("+8613812345678", "13812345678", "mobile"),
    ("86 138 1234 5678", "13812345678", "mobile"),
    ("138-1234-5678", "13812345678", "mobile"),
    ("0755-83451234", "0755-83451234", "landline"),
    ("075583451234", "0755-83451234", "landline"),
    ("010 12345678", "010-12345678", "landline"),
])
def test_phones(con, raw, phone, kind):
    rec = one(con, "family_planning", {"联系电话": raw})
    assert (rec["phone"], rec["phone_kind"], rec["phone_raw"]) == (phone, kind, raw)


def test_unusable_phone_noted(con):
    rec = one(con, "civil_affairs", {"联系电话": "12345"})
    assert rec["phone"] is None
    assert [n[4:] for n in notes(con)] == [("联系电话", "12345", "unusable_phone")]


# ---------------------------------------------------------------- addresses

SAME_PLACE = [
    "广东省深圳市福田区华强北街道华强北社区华强花园3栋2单元1201",
    "深圳市福田区华强北街道华强北社区华强花园3栋2单元1201",       # province left out
    "福田区华强北街道华强北社区华强花园3栋2单元1201",             # province and city left out
    "广东深圳福田区华强北街道华强北社区华强花园3栋2单元1201",      # 广东 / 深圳 short
    "广东省深圳市福田区华强北街道华强北社区华强花园3座2单元1201",   # 座
    "广东省深圳市福田区华强北街道华强北社区华强花园3号楼2单元1201", # 号楼
    "广东省深圳市福田区华强北街道华强北社区华强花园三栋二单元1201",  # Chinese numerals
    "广东省深圳市福田区华强北街道华强北社区华强花园3栋2-1201",      # 单元 left out
    "广东省 深圳市 福田区 华强北街道 华强北社区 华强花园3栋2单元1201室",
]


def test_addresses_written_differently_give_same_components(con):
    recs = records_of(con, "labour", [{"HJDZ": a, "JZDZ": a} for a in SAME_PLACE])
    parts = {(r["hukou_province"], r["hukou_city"], r["hukou_district"], r["hukou_street"], r["hukou_community"],
              r["hukou_rest"], r["hukou_address"]) for r in recs.values()}
    assert parts == {("广东省", "深圳市", "福田区", "华强北街道", "华强北社区", "华强花园3栋2单元1201",
                      "广东省深圳市福田区华强北街道华强北社区华强花园3栋2单元1201")}
    assert {r["current_address"] for r in recs.values()} == {r["hukou_address"] for r in recs.values()}


def test_numerals_tens(con):
    rec = one(con, "labour", {"JZDZ": "深圳市南山区粤海街道科技园社区科苑花园十二栋二十三楼"})
    assert rec["current_rest"] == "科苑花园12栋23楼"


def test_municipality_and_other_province(con):
    recs = records_of(con, "public_security", [{"户籍地址": "北京市朝阳区建国路88号"},
                                               {"户籍地址": "湖南省长沙市岳麓区某某镇某某村3组"}])
    bj, hn = recs.values()
    assert (bj["hukou_province"], bj["hukou_city"], bj["hukou_district"], bj["hukou_rest"]) == \
        ("北京市", "北京市", "朝阳区", "建国路88号")
    assert bj["hukou_address"] == "北京市朝阳区建国路88号"
    assert (hn["hukou_city"], hn["hukou_district"], hn["hukou_street"]) == ("长沙市", "岳麓区", "某某镇")


def test_civil_affairs_street_and_community_fill_current_address(con):
    rec = one(con, "civil_affairs", {"家庭住址": "福田区华强花园3栋2-1201", "所属街道": "华强北街道",
                                     "所属社区": "华强北社区"})
    assert (rec["current_street"], rec["current_community"]) == ("华强北街道", "华强北社区")
    assert rec["current_address"] == "广东省深圳市福田区华强北街道华强北社区华强花园3栋2单元1201"


def test_address_columns_by_department(con):
    ps = one(con, "public_security", {"户籍地址": "福田区A", "现住址": "南山区B"})
    assert (ps["hukou_district"], ps["current_district"]) == ("福田区", "南山区")
    fp = one(con, "family_planning", {"现居住地": "南山区B"})
    assert (fp["hukou_address_raw"], fp["current_district"]) == (None, "南山区")


# ---------------------------------------------------------------- department facts

def test_department_facts(con):
    ps = one(con, "public_security", {"户号": "H001", "与户主关系": "户主", "人口类型": "流动人口",
                                      "人员状态": "迁出", "变动日期": "2025-06-01", "民族": "回族"})
    assert (ps["household_id"], ps["relation_to_head"], ps["population_type"], ps["person_status"],
            str(ps["status_change_date"])[:10], ps["ethnicity"]) == ("H001", "户主", "流动人口", "迁出",
                                                                     "2025-06-01", "回族")
    assert str(ps["record_updated_at"])[:10] == "2025-06-01"
    fp = one(con, "family_planning", {"家庭档案号": "F9", "婚姻状况": "再婚", "家庭角色": "女方", "子女数": "2",
                                      "登记日期": "2020-01-01"})
    assert (fp["household_id"], fp["marital_status"], fp["family_role"], fp["children_count"]) == \
        ("F9", "再婚", "女方", 2)
    ca = one(con, "civil_affairs", {"救助类别": "城市低保", "月保障金额": "1120.00", "审批日期": "2024-05-06",
                                    "状态": "在保"})
    assert (ca["assistance_kind"], float(ca["monthly_amount"]), str(ca["approval_date"])[:10],
            ca["assistance_status"]) == ("城市低保", 1120.0, "2024-05-06", "在保")
    lb = one(con, "labour", {"JYZT": "就业", "DWMC": "某某公司", "CBZT": "参保缴费"})
    assert (lb["employment_status"], lb["employer"], lb["insurance_status"]) == ("就业", "某某公司", "参保缴费")
