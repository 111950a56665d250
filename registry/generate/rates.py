"""Every irregularity rate of the generated deliveries, per department, in one table.

Columns are the departments in the order public_security, family_planning, civil_affairs, labour.
Public security is the cleanest source, civil affairs (typed by hand at community offices) the
messiest. A rate is the share of a department's rows that get the irregularity, unless the
comment says it is a share of an eligible subset.

The table is the middle of the field, not one district: each seed draws its own district, every
irregularity's rate scaled by a factor of its own between SPREAD[0] and SPREAD[1] (`varied(seed)`),
so that a model trained on one seed's nights is measured on districts it has not seen.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

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
    "name_homophone_typo":          (0.001,    0.01,     0.03,     0.012),  # one character, any position
    "name_homophone_two":           (0.0,      0.002,    0.006,    0.003),  # two characters
    "name_variant_form":            (0.0005,   0.004,    0.012,    0.005),  # old/Japanese forms OpenCC misses
    "name_fullwidth_space":         (0.0002,   0.004,    0.01,     0.004),  # 张　伟, or a separator typed
    "former_name":                  (0.03,     0.0,      0.0,      0.0),
    "former_name_used":             (0.0,      0.35,     0.45,     0.30),   # of people with a former name: the old one
    "former_name_typo":             (0.15,     0.0,      0.0,      0.0),    # of 曾用名: written with a homophone
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
    "address_outdated":             (0.0,      0.06,     0.05,     0.06),   # an address the person left
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

# Structural rates of the population (shares of people), varied by seed like the irregularities.
POPULATION: dict[str, float] = {
    "twins": 0.06,                  # of second children: born with the first
    "twins_generation_name": 0.5,   # of twins: given names sharing one character (明轩 / 明哲)
    "namesakes": 0.001,             # unrelated adults with the same name and birth date
    "id_shared_by_two": 0.0004,     # people whose number was issued to someone else too (重号)
}

# Each seed scales every rate by a factor in this range (log-uniform); seed-independent below.
SPREAD = (0.4, 2.5)
FIXED = ("duplicate_key", "invalid_json_line", "manifest_missing", "month_dot_format", "slash_date_format",
         "current_address_missing", "orphan")
_FACTORS: contextvars.ContextVar[dict[str, float] | None] = contextvars.ContextVar("rate_factors", default=None)

# Rows per registered person (DEPARTMENTS.md "Scale").
ROWS_PER_PERSON: dict[str, float] = {PUBLIC_SECURITY: 1.0, FAMILY_PLANNING: 0.5, CIVIL_AFFAIRS: 0.06, LABOUR: 0.55}

IRREGULARITIES: tuple[str, ...] = tuple(_TABLE)


def factors(seed: int) -> dict[str, float]:
    """The seed's factor for every irregularity and population rate (1.0 for the fixed ones)."""
    rng = np.random.default_rng([int(seed), 1511])
    lo, hi = (math.log(x) for x in SPREAD)
    out = {}
    for name in (*_TABLE, *POPULATION):                    # the same order for every seed: reproducible
        f = math.exp(rng.uniform(lo, hi))
        out[name] = 1.0 if name in FIXED else round(f, 3)
    return out


@contextlib.contextmanager
def varied(seed: int):
    """Within the block, rate() and population_rate() are the seed's district."""
    token = _FACTORS.set(factors(seed))
    try:
        yield
    finally:
        _FACTORS.reset(token)


def _factor(name: str) -> float:
    f = _FACTORS.get()
    return 1.0 if f is None else f[name]


def rate(irregularity: str, department: str) -> float:
    """The share of a department's rows that get an irregularity (in the current seed's district)."""
    return min(_TABLE[irregularity][_INDEX[department]] * _factor(irregularity), 0.95)


def population_rate(name: str) -> float:
    return min(POPULATION[name] * _factor(name), 0.95)


def table() -> dict[str, dict[str, float]]:
    """The whole table, irregularity -> department -> rate (in the current seed's district)."""
    return {k: {d: rate(k, d) for d in DEPARTMENTS} for k in _TABLE}
