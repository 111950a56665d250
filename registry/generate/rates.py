"""Every irregularity rate of the generated deliveries, per department, in one table.

Columns are the departments in the order public_security, family_planning, civil_affairs, labour.
Public security is the cleanest source, civil affairs (typed by hand at community offices) the
messiest. A rate is the share of a department's rows that get the irregularity, unless the
comment says it is a share of an eligible subset.
"""

from __future__ import annotations

from registry.departments import CIVIL_AFFAIRS, DEPARTMENTS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY

#                                   public_s  family_p  civil_a   labour
_TABLE: dict[str, tuple[float, float, float, float]] = {
    # identity number
    "id_missing":                   (0.0008,   0.03,     0.04,     0.02),
    "id_missing_child":             (0.0,      0.60,     0.30,     0.0),    # of children under 16
    "id_legacy15":                  (0.002,    0.03,     0.04,     0.01),   # of people born 1900-1999
    "id_lowercase_x":               (0.02,     0.30,     0.50,     0.25),   # of numbers ending in X
    "id_fullwidth":                 (0.0002,   0.006,    0.02,     0.006),
    "id_spaces_dashes":             (0.0005,   0.01,     0.03,     0.012),
    "id_one_digit_wrong":           (0.0005,   0.006,    0.02,     0.008),
    "id_adjacent_swap":             (0.0003,   0.004,    0.012,    0.005),
    "id_of_household_head":         (0.0,      0.0,      0.006,    0.0),    # dependant carries the head's number
    # name
    "name_traditional":             (0.0008,   0.01,     0.03,     0.012),
    "name_spaces":                  (0.0008,   0.012,    0.03,     0.015),
    "name_separator_variant":       (0.02,     0.50,     0.70,     0.60),   # of names with a separator
    "name_rare_char_pinyin":        (0.05,     0.20,     0.30,     0.40),   # of names with a rare character
    "name_rare_char_homophone":     (0.05,     0.20,     0.30,     0.20),   # of names with a rare character
    "name_full_pinyin":             (0.0,      0.002,    0.004,    0.008),
    "name_homophone_typo":          (0.001,    0.01,     0.03,     0.012),
    "former_name":                  (0.03,     0.0,      0.0,      0.0),
    # phone (of rows that carry one)
    "phone_missing":                (0.0,      0.08,     0.10,     0.06),
    "phone_plus86":                 (0.0,      0.04,     0.05,     0.06),
    "phone_86":                     (0.0,      0.03,     0.04,     0.04),
    "phone_spaces":                 (0.0,      0.04,     0.06,     0.03),
    "phone_dashes":                 (0.0,      0.04,     0.06,     0.03),
    "phone_landline":               (0.0,      0.06,     0.30,     0.04),
    # address
    "address_no_province":          (0.02,     0.35,     0.40,     0.30),
    "address_no_city":              (0.01,     0.15,     0.25,     0.15),
    "address_short_city":           (0.005,    0.10,     0.15,     0.10),
    "address_zuo":                  (0.05,     0.10,     0.15,     0.10),   # 栋 written 座
    "address_haolou":               (0.05,     0.10,     0.15,     0.10),   # 栋 written 号楼
    "address_chinese_numerals":     (0.01,     0.08,     0.20,     0.05),
    "address_no_unit_word":         (0.02,     0.10,     0.20,     0.10),
    "address_room_suffix":          (0.10,     0.20,     0.30,     0.20),   # 1203室 / 1203房
    "address_comma":                (0.0005,   0.002,    0.006,    0.002),  # a comma typed inside (CSV quoting)
    "current_address_missing":      (0.60,     0.05,     0.0,      0.25),   # of people living at the hukou address
    # dates and codes
    "impossible_date":              (0.0001,   0.0,      0.003,    0.002),
    "birth_date_missing":           (0.0,      0.0,      0.0,      0.04),
    "sex_unknown":                  (0.0,      0.0,      0.0,      0.01),   # XB "0" or "9"
    "month_dot_format":             (0.0,      0.35,     0.0,      0.0),    # 出生年月 YYYY.MM rather than YYYY-MM
    "slash_date_format":            (0.0,      0.0,      0.55,     0.0),    # 出生日期 YYYY/M/D rather than YYYY-MM-DD
    # records
    "duplicate_person":             (0.0003,   0.003,    0.012,    0.006),  # same person again under another key
    "duplicate_key":                (0.0,      0.0003,   0.001,    0.0005), # a row repeated with the same key
    "invalid_json_line":            (0.0,      0.0,      0.0,      0.0006),
    "orphan":                       (0.0,      0.0,      0.05,     0.03),   # not in the household register
    "manifest_missing":             (0.05,     0.10,     0.20,     0.10),   # per delivery
}

_INDEX = {d: i for i, d in enumerate(DEPARTMENTS)}
assert tuple(_INDEX) == (PUBLIC_SECURITY, FAMILY_PLANNING, CIVIL_AFFAIRS, LABOUR)

# Rows per registered person (DEPARTMENTS.md "Scale").
ROWS_PER_PERSON: dict[str, float] = {PUBLIC_SECURITY: 1.0, FAMILY_PLANNING: 0.5, CIVIL_AFFAIRS: 0.06, LABOUR: 0.55}

IRREGULARITIES: tuple[str, ...] = tuple(_TABLE)


def rate(irregularity: str, department: str) -> float:
    """The share of a department's rows that get an irregularity."""
    return _TABLE[irregularity][_INDEX[department]]


def table() -> dict[str, dict[str, float]]:
    """The whole table, irregularity -> department -> rate."""
    return {k: dict(zip(DEPARTMENTS, v)) for k, v in _TABLE.items()}
