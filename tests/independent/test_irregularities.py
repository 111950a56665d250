"""Deliveries as another system's author would write them, still within DEPARTMENTS.md: each loads, and each
value comes out standardised (or noted in quarantine with a reason)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from registry.departments.load import load_night
from registry.standardise import standardise
from registry.standardise import phones as phone_rules
from registry.night import full_night, incremental_night
from tests.standardise.conftest import load_raw

DATE = "2026-11-20"
YMD = "20261120"
ID_A = "11010519491231002X"
ID_B = "440304198503071231"  # check char computed below
ID_15 = "440304900101123"    # -> 440304199001011233


def _check(body17: str) -> str:
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * k for d, k in zip(body17, w)) % 11]


ID_B = ID_B[:17] + _check(ID_B[:17])
ID_C = "44030420010615004" + _check("44030420010615004")


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _night(con, landing):
    outcomes = load_night(con, landing, DATE, workdir=landing)
    standardise(con, full_night())
    return outcomes


def _records(con, department):
    cur = con.execute("SELECT * FROM records WHERE department = ? ORDER BY source_line", [department])
    cols = [d[0] for d in cur.description]
    return {r["source_record_id"]: r for r in (dict(zip(cols, row)) for row in cur.fetchall())}


def _notes(con, department):
    return {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT record_key, reason, value FROM quarantine WHERE department = ?", [department]).fetchall()}


def _folder(landing, department):
    f = landing / DATE / department
    f.mkdir(parents=True, exist_ok=True)
    return f


PS_HEADER = ["人员编号", "公民身份号码", "姓名", "曾用名", "性别", "民族", "出生日期", "户籍地址", "现住址", "户号",
             "与户主关系", "人口类型", "人员状态", "变动日期"]


def _ps_csv(landing, rows, newline="\r\n", trailer="\r\n\r\n"):
    def field(v):
        return '"' + v.replace('"', '""') + '"'
    lines = [",".join(field(h) for h in PS_HEADER)] + [",".join(field(v) for v in row) for row in rows]
    (_folder(landing, "public_security") / f"hukou_{YMD}.csv").write_bytes(
        (newline.join(lines) + trailer).encode("gb18030"))


def _ps_row(key, id_number, name, birth="19491231", address="深圳市福田区福田街道岗厦社区金地花园3栋2单元1201",
            status="正常"):
    return [key, id_number, name, "", "女", "汉族", birth, address, "", "4403040001", "户主", "户籍人口", status, ""]


# ---------------------------------------------------------------- public security: CSV as another exporter writes it

def test_public_security_crlf_all_quoted_commas_quotes_and_gb18030_only_names(con, tmp_path):
    _ps_csv(tmp_path, [
        _ps_row("GA0000000001", ID_A, "梁㐀"),
        _ps_row("GA0000000002", f" {ID_B}", "朱杰𠀀 ", birth="19850307",
                address='深圳市福田区福田街道彩虹苑(原"彩虹村"),六栋4单元2505室'),
        _ps_row("GA0000000003", ID_15, "鍾麗華", birth="19900230", status=" 迁出 "),
    ])
    out = _night(con, tmp_path)
    assert (out["public_security"].rows_delivered, out["public_security"].rows_loaded) == (3, 3)
    recs = _records(con, "public_security")
    a, b, c = recs["GA0000000001"], recs["GA0000000002"], recs["GA0000000003"]
    assert [a["source_line"], b["source_line"], c["source_line"]] == [2, 3, 4]
    assert (a["name"], a["id_number"], str(a["birth_date"])) == ("梁㐀", ID_A, "1949-12-31")
    assert (b["name"], b["id_number"], b["id_number_form"]) == ("朱杰𠀀", ID_B, "valid")
    assert b["hukou_address_raw"] == '深圳市福田区福田街道彩虹苑(原"彩虹村"),六栋4单元2505室'
    assert b["hukou_rest"] == '彩虹苑(原"彩虹村"),6栋4单元2505'
    assert (c["name"], c["id_number"], c["id_number_form"]) == ("钟丽华", "440304199001011233", "converted15")
    assert c["birth_date"] is None and c["person_status"] == "迁出"
    assert _notes(con, "public_security") == {("GA0000000003", "impossible_date"): "19900230"}


# ---------------------------------------------------------------- family planning: XLSX from two writers, typed cells

FP_HEADER = ["个案编号", "家庭档案号", "姓名", "身份证号", "性别", "出生年月", "婚姻状况", "家庭角色", "子女数",
             "独生子女证号", "联系电话", "现居住地", "登记日期"]
FP_ROWS = [
    # 15-digit number cell (exact), 出生年月 '1990.1', 子女数 a number, phone a number, 登记日期 a date cell
    ["JS0000000001", "F1", "张伟", int(ID_15), "男", "1990.1", "初婚", "男方", 2, None, 13800138000,
     "广东深圳福田福田街道岗厦社区金地花园3座2单元1201室", dt.date(2020, 3, 4)],
    # an 18-digit number cell: the spreadsheet kept 16 digits, the number is lost (never a made-up valid one)
    ["JS0000000002", "F1", "王芳", int(ID_B), "女", "1985-03", "初婚", "女方", "2", None, "0755 8345 1234",
     "深圳市福田区福田街道", dt.date(2020, 3, 4)],
    # 出生年月 as a date cell, impossible month, id as text with a trailing space
    ["JS0000000003", "F1", "张小明", ID_C + " ", "男", dt.date(2001, 6, 1), "未婚", "子女", None, "DZ001",
     None, "深圳市福田区福田街道金地花园十二栋1201", dt.date(2021, 1, 5)],
    ["JS0000000004", "F2", "李娜", None, "女", "1990-13", "初婚", "女方", 0, None, 75583451234, None,
     dt.date(2021, 1, 5)],
]


def _fp_openpyxl(path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    ws = wb.create_sheet("个案信息")
    ws.append([None] + FP_HEADER + [None])   # an empty first column and a trailing empty one
    ws.append([])                           # an empty row before the data
    for row in FP_ROWS:
        ws.append([None] + row)
    wb.save(path)
    return {"JS0000000001": 3, "JS0000000004": 6}


def _fp_xlsxwriter(path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("汇总")
    ws = wb.add_worksheet("个案信息")
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, FP_HEADER)
    for i, row in enumerate(FP_ROWS, start=1):
        for j, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), fmt)
            elif v is not None:
                ws.write(i, j, v)
    wb.close()
    return {"JS0000000001": 2, "JS0000000004": 5}


@pytest.mark.parametrize("write", [_fp_openpyxl, _fp_xlsxwriter])
def test_family_planning_workbooks_with_typed_cells(con, tmp_path, write):
    lines = write(_folder(tmp_path, "family_planning") / f"jisheng_{YMD}.xlsx")
    out = _night(con, tmp_path)["family_planning"]
    assert (out.rows_delivered, out.rows_loaded) == (4, 4)
    recs = _records(con, "family_planning")
    a, b, c, d = (recs[f"JS000000000{i}"] for i in range(1, 5))
    assert a["source_line"] == lines["JS0000000001"] and d["source_line"] == lines["JS0000000004"]
    assert (a["id_number"], a["id_number_form"]) == ("440304199001011233", "converted15")
    assert (a["birth_year"], a["birth_month"], a["birth_date_precision"]) == (1990, 1, "month")
    assert (a["children_count"], a["phone"], str(a["record_updated_at"])) == (2, "13800138000", "2020-03-04 00:00:00")
    assert (a["current_district"], a["current_street"], a["current_community"]) == ("福田区", "福田街道", "岗厦社区")
    assert a["current_rest"] == "金地花园3栋2单元1201"
    assert b["id_number"] is None and b["id_number_valid"] is False
    assert (b["phone"], b["children_count"]) == ("0755-83451234", 2)
    assert (b["current_street"], b["current_community"], b["current_rest"]) == ("福田街道", None, None)
    assert (c["id_number"], c["id_number_form"]) == (ID_C, "valid")
    assert (c["birth_year"], c["birth_month"], c["birth_day"], c["birth_date_precision"]) == (2001, 6, None, "month")
    assert c["birth_disagrees_id"] is False
    assert c["current_rest"] == "金地花园12栋1201"
    assert d["birth_year"] is None and d["phone"] == "0755-83451234" and d["children_count"] == 0
    notes = _notes(con, "family_planning")
    assert set(notes) == {("JS0000000002", "id_number_lost_digits"), ("JS0000000004", "impossible_date")}
    assert notes[("JS0000000002", "id_number_lost_digits")].startswith("4.40304198503071")


# ---------------------------------------------------------------- civil affairs: typed by hand at a community office

def test_civil_affairs_hand_typed_values(con, tmp_path):
    header = "对象编号,姓名,证件号码,性别,出生日期,救助类别,残疾人证号,月保障金额,家庭住址,所属街道,所属社区,联系电话,审批日期,状态"
    rows = [
        f"MZ0000000001,张 伟,{ID_A[:-1]}×,女,1949/12/31,城市低保,,1120.00,深圳市福田区福田街道,福田街道 ,,"
        f"\"13800138000 / 0755-83451234\",2024-05-06, 在保 ",
        f"MZ0000000002,衞國強,{ID_B[:10]}\u3000{ID_B[10:]},男,1985-03-07,特困供养,{ID_B}21,780.00,"
        f"\"广东深圳福田莲花街道景田社区景田大厦3号楼,308室\",莲花街道,景田社区,(0755)83451234,2024-05-06,停保",
        f"MZ0000000003,ＺＨＡＮＧ Ｗｅｉ,{ID_A[:-1]}Ｘ,女,1949/2/30,临时救助,,560.00,深圳福田街道岗厦社区,,,"
        f"+86 138-0013-8000,2024-05-06,在保",
        f"MZ0000000004,王芳,{ID_B[:14]}{ID_B[15]}{ID_B[14]}{ID_B[16:]},女,1985/3/7,高龄津贴,,300,,,,"
        f"0755-83451234转8001,2024-05-06,在保",
    ]
    text = "\ufeff" + "\r\n".join([header] + rows) + "\r\n"
    (_folder(tmp_path, "civil_affairs") / f"minzheng_{YMD}.csv").write_bytes(text.encode("utf-8"))
    out = _night(con, tmp_path)["civil_affairs"]
    assert (out.rows_delivered, out.rows_loaded) == (4, 4)
    recs = _records(con, "civil_affairs")
    a, b, c, d = (recs[f"MZ000000000{i}"] for i in range(1, 5))
    assert (a["name"], a["id_number"], a["id_number_valid"]) == ("张伟", ID_A, True)
    assert (a["phone"], a["assistance_status"], a["current_street"]) == ("13800138000", "在保", "福田街道")
    assert (b["name"], b["id_number"], b["id_number_valid"]) == ("卫国强", ID_B, True)
    assert (b["disability_id_number"], b["disability_category"], b["disability_level"]) == (ID_B, 2, 1)
    assert (b["current_district"], b["current_street"], b["current_community"]) == ("福田区", "莲花街道", "景田社区")
    assert b["current_rest"] == "景田大厦3栋,308" and b["phone"] == "0755-83451234"
    assert (c["name_pinyin"], c["id_number"], c["birth_date"]) == ("zhang wei", ID_A, None)
    # '深圳福田街道': the street 福田街道, not a district 福田 written short
    assert (c["current_district"], c["current_street"], c["current_community"]) == (None, "福田街道", "岗厦社区")
    assert c["phone"] == "13800138000"
    assert d["id_number_form"] == "bad_check" and d["id_number_valid"] is False
    assert d["phone"] == "0755-83451234"
    notes = _notes(con, "civil_affairs")
    assert set(notes) == {("MZ0000000003", "impossible_date"), ("MZ0000000004", "id_number_bad_check")}


# ---------------------------------------------------------------- labour: JSON Lines from another serializer

def test_labour_json_lines_with_bom_escapes_numbers_and_blank_lines(con, tmp_path):
    objs = [
        {"XB": 2, "GRBH": "LD0000000001", "XM": "王芳", "SFZH": ID_A.lower(), "CSRQ": "1949年12月31日",
         "LXDH": 13800138000, "BZ": "备注", "JYZT": "就业", "GXSJ": "2026-11-19 08:10:00"},
        {"GRBH": "LD0000000002", "XM": "买买提•艾力", "SFZH": int(ID_B), "XB": "1", "CSRQ": "1985年3月7日",
         "LXDH": 75583451234, "HJDZ": "新疆维吾尔自治区乌鲁木齐市天山区人民路3号", "JYZT": " 失业 ",
         "SYDJRQ": "2026-02-30"},
        {"GRBH": "LD0000000003", "XM": "张伟", "SFZH": ID_15, "XB": 1, "CSRQ": None, "LXDH": "+86 138 0013 8000"},
    ]
    lines = [json.dumps(objs[0], ensure_ascii=True), "", json.dumps(objs[1], ensure_ascii=False), "  ",
             json.dumps(objs[2], ensure_ascii=False)]
    assert "\\u738b" in lines[0]
    (_folder(tmp_path, "labour") / f"laodong_{YMD}.jsonl").write_bytes(("\ufeff" + "\n".join(lines)).encode("utf-8"))
    out = _night(con, tmp_path)["labour"]
    assert (out.rows_delivered, out.rows_loaded) == (3, 3)
    recs = _records(con, "labour")
    a, b, c = (recs[f"LD000000000{i}"] for i in range(1, 4))
    assert [a["source_line"], b["source_line"], c["source_line"]] == [1, 3, 5]
    assert (a["name"], a["id_number"], a["sex"], a["phone"], str(a["birth_date"])) == \
        ("王芳", ID_A, "2", "13800138000", "1949-12-31")
    assert (b["name"], b["id_number"], b["sex"], str(b["birth_date"])) == ("买买提·艾力", ID_B, "1", "1985-03-07")
    assert (b["phone"], b["employment_status"], b["hukou_district"]) == ("0755-83451234", "失业", "天山区")
    assert (c["id_number"], c["sex"], c["birth_date"], c["phone"]) == ("440304199001011233", "1", None, "13800138000")
    assert _notes(con, "labour") == {("LD0000000002", "unusable_date"): "2026-02-30"}


# ---------------------------------------------------------------- values, one by one

@pytest.mark.parametrize("raw, phone", [
    ("+86 138-0013-8000", "13800138000"),
    ("(0755)83451234", "0755-83451234"),
    ("0755 8345 1234", "0755-83451234"),
    ("13800138000 / 0755-83451234", "13800138000"),
    ("0755-83451234；13800138000", "0755-83451234"),
    ("0755-83451234转8001", "0755-83451234"),
    ("75583451234", "0755-83451234"),   # a landline kept as a number lost its 0
    ("2083451234", "020-83451234"),
    ("1083451234", "010-83451234"),
    ("１３８００１３８０００", "13800138000"),
])
def test_phone_forms(con, raw, phone):
    load_raw(con, "civil_affairs", [{"联系电话": raw}])
    standardise(con, incremental_night())
    assert con.execute("SELECT phone FROM records").fetchone()[0] == phone
    assert phone_rules.normalise(raw)[0] == phone


@pytest.mark.parametrize("raw, expected", [
    (f"{ID_A[:-1]}×", ID_A), (f"{ID_A[:-1]}Ｘ", ID_A), (f"{ID_A[:-1]}ⅹ", ID_A), (f" {ID_A} ", ID_A),
    (f"{ID_A[:6]}\u3000{ID_A[6:]}", ID_A), (ID_15, "440304199001011233"),
])
def test_identity_number_look_alikes(con, raw, expected):
    load_raw(con, "labour", [{"SFZH": raw}])
    standardise(con, incremental_night())
    assert con.execute("SELECT id_number, id_number_valid FROM records").fetchone() == (expected, True)


@pytest.mark.parametrize("raw, name, pinyin", [
    ("ＺＨＡＮＧ Ｗｅｉ", "ZHANG Wei", "zhang wei"),
    ("张伟  ", "张伟", "zhang wei"),
    ("衞國強", "卫国强", "wei guo qiang"),
    ("淸眞", "清真", "qing zhen"),
    ("阿依古丽・吐尔逊", "阿依古丽·吐尔逊", "a yi gu li tu er xun"),
    ("梁㐀", "梁㐀", "liang qiu"),
])
def test_name_forms(con, raw, name, pinyin):
    load_raw(con, "public_security", [{"姓名": raw}])
    standardise(con, incremental_night())
    assert con.execute("SELECT name, name_pinyin FROM records").fetchone() == (name, pinyin)
