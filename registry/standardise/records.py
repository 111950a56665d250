"""The canonical record shape: one SELECT per department mapping its raw columns onto the common input
columns, then one SELECT that standardises every department's rows at once into `records`."""

from __future__ import annotations

from registry import contracts
from registry.departments import CIVIL_AFFAIRS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY, RECORD_KEYS, record_hash_sql
from registry.sql import quote_identifier
from registry.standardise import addresses, dates, id_numbers, phones

# Canonical input column -> the department's own column. Absent means the department does not record it.
SOURCE_FIELDS: dict[str, dict[str, str]] = {
    PUBLIC_SECURITY: {
        "id_number_raw": "公民身份号码", "name_raw": "姓名", "former_name_raw": "曾用名", "sex_raw": "性别",
        "ethnicity": "民族", "birth_date_raw": "出生日期", "hukou_address_raw": "户籍地址",
        "current_address_raw": "现住址", "household_id": "户号", "relation_to_head": "与户主关系",
        "population_type": "人口类型", "person_status": "人员状态", "status_change_date_raw": "变动日期",
        "record_updated_at_raw": "变动日期",
    },
    FAMILY_PLANNING: {
        "household_id": "家庭档案号", "name_raw": "姓名", "id_number_raw": "身份证号", "sex_raw": "性别",
        "birth_date_raw": "出生年月", "marital_status": "婚姻状况", "family_role": "家庭角色",
        "children_count_raw": "子女数", "one_child_cert": "独生子女证号", "phone_raw": "联系电话",
        "current_address_raw": "现居住地", "record_updated_at_raw": "登记日期",
    },
    CIVIL_AFFAIRS: {
        "name_raw": "姓名", "id_number_raw": "证件号码", "sex_raw": "性别", "birth_date_raw": "出生日期",
        "assistance_kind": "救助类别", "disability_cert": "残疾人证号", "monthly_amount_raw": "月保障金额",
        "current_address_raw": "家庭住址", "street_hint": "所属街道", "community_hint": "所属社区",
        "phone_raw": "联系电话", "approval_date_raw": "审批日期", "record_updated_at_raw": "审批日期",
        "assistance_status": "状态",
    },
    LABOUR: {
        "name_raw": "XM", "id_number_raw": "SFZH", "sex_raw": "XB", "birth_date_raw": "CSRQ",
        "phone_raw": "LXDH", "hukou_address_raw": "HJDZ", "current_address_raw": "JZDZ",
        "employment_status": "JYZT", "employer": "DWMC", "unemployment_date_raw": "SYDJRQ",
        "insurance_status": "CBZT", "record_updated_at_raw": "GXSJ",
    },
}

INPUT_COLUMNS: tuple[str, ...] = (
    "id_number_raw", "name_raw", "former_name_raw", "sex_raw", "birth_date_raw", "ethnicity", "phone_raw",
    "hukou_address_raw", "current_address_raw", "street_hint", "community_hint", "household_id",
    "relation_to_head", "family_role", "population_type", "person_status", "status_change_date_raw",
    "marital_status", "children_count_raw", "one_child_cert", "assistance_kind", "assistance_status",
    "monthly_amount_raw", "approval_date_raw", "disability_cert", "employment_status", "employer",
    "unemployment_date_raw", "insurance_status", "record_updated_at_raw",
)

# Columns that are raw values kept verbatim; every other text column is trimmed, '' -> NULL.
_VERBATIM = {"id_number_raw", "name_raw", "sex_raw", "birth_date_raw", "phone_raw", "hukou_address_raw",
             "current_address_raw"}


q = quote_identifier
raw_table = contracts.raw_table


def record_uid_sql(department: str, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"'{department}:' || {prefix}{q(RECORD_KEYS[department])}"


def input_select(department: str, where: str = "true", hash_sql: str | None = None) -> str:
    """The department's raw rows as the common input columns."""
    fields = SOURCE_FIELDS[department]
    cols = [f"'{department}' AS department",
            f"{q(RECORD_KEYS[department])} AS source_record_id",
            f"{record_uid_sql(department)} AS record_uid",
            "_extract_date AS extract_date", "_source_file AS source_file",
            "CAST(_source_line AS BIGINT) AS source_line",
            f"{hash_sql or record_hash_sql(department)} AS record_hash"]
    for c in INPUT_COLUMNS:
        if c not in fields:
            cols.append(f"CAST(NULL AS VARCHAR) AS {c}")
        elif c in _VERBATIM:
            cols.append(f"{q(fields[c])} AS {c}")
        else:
            cols.append(f"nullif(trim({q(fields[c])}), '') AS {c}")
    # Record keys are unique in a raw snapshot: ingestion quarantines duplicate keys (first line kept).
    return f"SELECT {', '.join(cols)} FROM {raw_table(department)} WHERE {where}"


# ---------------------------------------------------------------- the canonical SELECT

def stage_select(source: str) -> str:
    """First pass over the input: cleaned identity numbers, date parts, phone digits."""
    return f"""SELECT i.*,
        {id_numbers.clean_sql('id_number_raw')} AS id_clean,
        {_birth_parts_sql()} AS birth_parts,
        {phones.domestic_sql(phones.digits_sql('phone_raw'))} AS phone_domestic,
        {id_numbers.clean_sql('disability_cert')} AS disability_clean
    FROM {source} i"""


def _birth_parts_sql() -> str:
    """Family planning records year and month only: a full date there (a date cell, 1990-03-01) is read to the month."""
    parts = dates.parts_sql("birth_date_raw")
    return (f"CASE WHEN department = '{FAMILY_PLANNING}' AND len({parts}) = 3 THEN {parts}[1:2] "
            f"ELSE {parts} END")


def stage2_select(source: str) -> str:
    return f"""SELECT s.*,
        {id_numbers.body17_sql('id_clean')} AS id_body17,
        {dates.date_sql('birth_parts')} AS birth_date
    FROM {source} s"""


def stage3_select(source: str) -> str:
    check = id_numbers.check_char_sql("id_body17")
    return f"""SELECT s.*, {check} AS id_check FROM {source} s"""


def stage4_select(source: str) -> str:
    return f"""SELECT s.*,
        {id_numbers.id_number_sql('id_clean', 'id_body17', 'id_check')} AS id_number,
        {id_numbers.form_sql('id_clean', 'id_check')} AS id_number_form,
        {dates.status_sql('birth_parts', 'birth_date', 'CAST(extract_date AS DATE)')} AS birth_status
    FROM {source} s"""


def _address_cols(prefix: str, street_hint: str = "NULL", community_hint: str = "NULL") -> str:
    a = f"{prefix}_a"
    street = f"coalesce({a}.street, {street_hint})"
    community = f"coalesce({a}.community, {community_hint})"
    full = addresses.full_address_sql(f"{a}.province", f"{a}.city", f"{a}.district", street, community,
                                      f"{a}.rest")
    return f"""s.{prefix}_address_raw, {full} AS {prefix}_address, {a}.province AS {prefix}_province,
        {a}.city AS {prefix}_city, {a}.district AS {prefix}_district, {street} AS {prefix}_street,
        {community} AS {prefix}_community, {a}.rest AS {prefix}_rest"""


def records_select(source: str, names: str, address_lookup: str) -> str:
    """The canonical `records` columns, in contract order, from the staged input."""
    id_birth = id_numbers.birth_date_sql("s.id_number")
    status_change = dates.date_sql(dates.parts_sql("s.status_change_date_raw"))
    approval = dates.date_sql(dates.parts_sql("s.approval_date_raw"))
    unemployment = dates.date_sql(dates.parts_sql("s.unemployment_date_raw"))
    phone = phones.phone_sql("s.phone_domestic")
    sex = ("CASE trim(s.sex_raw) WHEN '男' THEN '1' WHEN '女' THEN '2' WHEN '1' THEN '1' WHEN '2' THEN '2' "
           "WHEN '男性' THEN '1' WHEN '女性' THEN '2' END")
    disability_ok = "regexp_full_match(s.disability_clean, '\\d{17}[\\dX][1-7][1-4]')"
    return f"""SELECT
        s.record_uid, s.department, s.source_record_id, CAST(s.extract_date AS DATE) AS extract_date,
        s.source_file, s.source_line, s.record_hash,
        s.id_number_raw, s.id_number,
        {id_numbers.valid_sql('s.id_number_form', 's.id_number', id_birth, 'CAST(s.extract_date AS DATE)')}
            AS id_number_valid,
        s.id_number_form, {id_birth} AS id_birth_date, {id_numbers.sex_sql('s.id_number')} AS id_sex,
        s.name_raw, n.name, n.name_plain, n.name_pinyin, n.name_is_pinyin, n.surname, n.given_name,
        fn.name AS former_name, fn.name_pinyin AS former_name_pinyin,
        s.sex_raw, {sex} AS sex,
        s.birth_date_raw, CASE WHEN s.birth_status = 'day' THEN s.birth_date END AS birth_date,
        CASE WHEN s.birth_status IN ('day', 'month') THEN CAST(s.birth_parts[1] AS INTEGER) END AS birth_year,
        CASE WHEN s.birth_status IN ('day', 'month') THEN CAST(s.birth_parts[2] AS INTEGER) END AS birth_month,
        CASE WHEN s.birth_status = 'day' THEN CAST(s.birth_parts[3] AS INTEGER) END AS birth_day,
        CASE WHEN s.birth_status IN ('day', 'month') THEN s.birth_status END AS birth_date_precision,
        CAST(NULL AS BOOLEAN) AS sex_disagrees_id, CAST(NULL AS BOOLEAN) AS birth_disagrees_id,
        s.ethnicity,
        s.phone_raw, {phone} AS phone, {phones.kind_sql(phone)} AS phone_kind,
        {_address_cols('hukou')},
        {_address_cols('current', 's.street_hint', 's.community_hint')},
        s.household_id, s.relation_to_head, s.family_role,
        s.population_type, s.person_status, {status_change} AS status_change_date,
        s.marital_status, try_cast(s.children_count_raw AS INTEGER) AS children_count, s.one_child_cert,
        s.assistance_kind, s.assistance_status,
        try_cast(replace(replace(s.monthly_amount_raw, ',', ''), '元', '') AS DECIMAL(12,2)) AS monthly_amount,
        {approval} AS approval_date,
        s.disability_cert,
        CASE WHEN {disability_ok} THEN substr(s.disability_clean, 1, 18) END AS disability_id_number,
        CASE WHEN {disability_ok} THEN CAST(substr(s.disability_clean, 19, 1) AS INTEGER) END AS disability_category,
        CASE WHEN {disability_ok} THEN CAST(substr(s.disability_clean, 20, 1) AS INTEGER) END AS disability_level,
        s.employment_status, s.employer, {unemployment} AS unemployment_date, s.insurance_status,
        {dates.timestamp_sql('s.record_updated_at_raw')} AS record_updated_at
    FROM {source} s
    LEFT JOIN {names} n ON n.name_raw = s.name_raw
    LEFT JOIN {names} fn ON fn.name_raw = s.former_name_raw
    LEFT JOIN {address_lookup} hukou_a ON hukou_a.address_raw = s.hukou_address_raw
    LEFT JOIN {address_lookup} current_a ON current_a.address_raw = s.current_address_raw"""


def with_disagreements(select: str) -> str:
    """Stated sex / birth date against those encoded in a valid identity number (NULL when not comparable)."""
    return f"""SELECT * REPLACE (
        CASE WHEN id_number_valid AND sex IS NOT NULL AND id_sex IS NOT NULL THEN sex <> id_sex END
            AS sex_disagrees_id,
        CASE WHEN id_number_valid AND id_birth_date IS NOT NULL THEN
            CASE birth_date_precision
                WHEN 'day' THEN birth_date <> id_birth_date
                WHEN 'month' THEN birth_year <> year(id_birth_date) OR birth_month <> month(id_birth_date)
            END END AS birth_disagrees_id)
    FROM ({select})"""
