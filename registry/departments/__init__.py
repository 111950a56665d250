"""The four departments and what each delivers (see DEPARTMENTS.md)."""

from __future__ import annotations

PUBLIC_SECURITY = "public_security"
FAMILY_PLANNING = "family_planning"
CIVIL_AFFAIRS = "civil_affairs"
LABOUR = "labour"

DEPARTMENTS: tuple[str, ...] = (PUBLIC_SECURITY, FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR)

# Data file name per department; {ymd} is the extract date as YYYYMMDD.
FILE_PATTERNS: dict[str, str] = {
    PUBLIC_SECURITY: "hukou_{ymd}.csv",
    FAMILY_PLANNING: "jisheng_{ymd}.xlsx",
    CIVIL_AFFAIRS: "minzheng_{ymd}.csv",
    LABOUR: "laodong_{ymd}.jsonl",
}

# The department's own record key column.
RECORD_KEYS: dict[str, str] = {
    PUBLIC_SECURITY: "人员编号",
    FAMILY_PLANNING: "个案编号",
    CIVIL_AFFAIRS: "对象编号",
    LABOUR: "GRBH",
}

# Columns (keys for labour) in the order the departments deliver them.
COLUMNS: dict[str, tuple[str, ...]] = {
    PUBLIC_SECURITY: ("人员编号", "公民身份号码", "姓名", "曾用名", "性别", "民族", "出生日期", "户籍地址",
                      "现住址", "户号", "与户主关系", "人口类型", "人员状态", "变动日期"),
    FAMILY_PLANNING: ("个案编号", "家庭档案号", "姓名", "身份证号", "性别", "出生年月", "婚姻状况", "家庭角色",
                      "子女数", "独生子女证号", "联系电话", "现居住地", "登记日期"),
    CIVIL_AFFAIRS: ("对象编号", "姓名", "证件号码", "性别", "出生日期", "救助类别", "残疾人证号", "月保障金额",
                    "家庭住址", "所属街道", "所属社区", "联系电话", "审批日期", "状态"),
    LABOUR: ("GRBH", "XM", "SFZH", "XB", "CSRQ", "LXDH", "HJDZ", "JZDZ", "JYZT", "DWMC", "SYDJRQ", "CBZT", "GXSJ"),
}

SHEET_NAME_FAMILY_PLANNING = "个案信息"


def data_file_name(department: str, extract_date: str) -> str:
    """File name of a department's delivery for an extract date given as YYYY-MM-DD."""
    return FILE_PATTERNS[department].format(ymd=extract_date.replace("-", ""))


# The raw snapshot's column holding record_hash_sql(), computed as the delivery is loaded.
RECORD_HASH_COLUMN = "_record_hash"


def record_hash_sql(department: str) -> str:
    """md5 of the department's verbatim columns in delivery order (NULL distinct from ''): what change
    detection compares night to night."""
    parts = ", ".join('coalesce("' + c.replace('"', '""') + '", chr(1))' for c in COLUMNS[department])
    return f"md5(concat_ws(chr(31), {parts}))"
