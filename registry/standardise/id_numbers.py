"""Citizen identity numbers (GB 11643-1999): clean-up, 15 -> 18 conversion, check character, birth date, sex.

Everything is a DuckDB SQL expression over whole columns; the pure-Python functions are the reference
the tests compare the SQL with.
"""

from __future__ import annotations

import datetime as _dt

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

# First two digits of GB/T 2260 division codes (provinces, plus Taiwan, Hong Kong, Macao).
PROVINCE_CODES: tuple[str, ...] = (
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    "71", "81", "82",
)

# Full-width digits and X, lower-case x, and the look-alikes typed for X by hand at community offices
# (multiplication sign ×, Roman numeral Ⅹ/ⅹ).
_FULLWIDTH_FROM = "０１２３４５６７８９Ｘｘx×Ⅹⅹ"
_FULLWIDTH_TO = "0123456789XXXXXX"

FORMS = ("valid", "converted15", "bad_check", "malformed", "missing")


# ---------------------------------------------------------------- pure-Python reference

def clean(raw: str | None) -> str | None:
    if raw is None:
        return None
    out = raw.translate(str.maketrans(_FULLWIDTH_FROM, _FULLWIDTH_TO))
    out = "".join(ch for ch in out if not ch.isspace() and ch not in "-－—")
    return out or None


def check_char(body17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(body17, WEIGHTS)) % 11]


def convert15(id15: str) -> str:
    body = id15[:6] + "19" + id15[6:15]
    return body + check_char(body)


def classify(raw: str | None) -> tuple[str | None, str]:
    """(normalised 18-character number or None, form) — the reference for the SQL below."""
    c = clean(raw)
    if c is None:
        return None, "missing"
    if len(c) == 15 and c.isdigit():
        return convert15(c), "converted15"
    if len(c) == 18 and c[:17].isdigit() and (c[17].isdigit() or c[17] == "X"):
        return c, "valid" if check_char(c[:17]) == c[17] else "bad_check"
    return None, "malformed"


def birth_date(id18: str) -> _dt.date | None:
    try:
        return _dt.datetime.strptime(id18[6:14], "%Y%m%d").date()
    except ValueError:
        return None


# ---------------------------------------------------------------- SQL expression builders

def clean_sql(raw: str) -> str:
    """Full-width digits/X and lower-case x made plain; spaces (ASCII and full-width) and dashes removed."""
    return (f"nullif(regexp_replace(translate({raw}, '{_FULLWIDTH_FROM}', '{_FULLWIDTH_TO}'), "
            f"'[\\s\\x{{3000}}\\x{{00A0}}\\-－—]', '', 'g'), '')")


def body17_sql(cleaned: str) -> str:
    """The 17 digits the check character is computed from (century inserted for the 15-digit form)."""
    return (f"CASE WHEN regexp_full_match({cleaned}, '\\d{{15}}') "
            f"THEN substr({cleaned}, 1, 6) || '19' || substr({cleaned}, 7, 9) "
            f"WHEN regexp_full_match({cleaned}, '\\d{{17}}[\\dX]') THEN substr({cleaned}, 1, 17) END")


def check_char_sql(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of a 17-digit string, set-based (list_sum over the positions)."""
    weights = "[" + ", ".join(map(str, WEIGHTS)) + "]"
    return (f"substr('{CHECK_CHARS}', CAST(list_sum(list_transform(range(17), "
            f"lambda i: CAST(substr({body17}, i + 1, 1) AS INTEGER) * {weights}[i + 1])) % 11 AS INTEGER) + 1, 1)")


def form_sql(cleaned: str, check: str) -> str:
    return (f"CASE WHEN {cleaned} IS NULL THEN 'missing' "
            f"WHEN regexp_full_match({cleaned}, '\\d{{15}}') THEN 'converted15' "
            f"WHEN regexp_full_match({cleaned}, '\\d{{17}}[\\dX]') THEN "
            f"CASE WHEN substr({cleaned}, 18, 1) = {check} THEN 'valid' ELSE 'bad_check' END "
            f"ELSE 'malformed' END")


def id_number_sql(cleaned: str, body17: str, check: str) -> str:
    """Normalised 18 characters, kept when the check fails; NULL when missing or malformed."""
    return (f"CASE WHEN regexp_full_match({cleaned}, '\\d{{15}}') THEN {body17} || {check} "
            f"WHEN regexp_full_match({cleaned}, '\\d{{17}}[\\dX]') THEN {cleaned} END")


def birth_date_sql(id_number: str) -> str:
    """Birth date encoded in the number; NULL when it is not a real date."""
    return f"CAST(try_strptime(substr({id_number}, 7, 8), '%Y%m%d') AS DATE)"


def sex_sql(id_number: str) -> str:
    """Order code parity: odd male '1', even female '2'."""
    return (f"CASE WHEN {id_number} IS NOT NULL THEN "
            f"CASE WHEN CAST(substr({id_number}, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END END")


def division_plausible_sql(id_number: str) -> str:
    codes = ", ".join(f"'{c}'" for c in PROVINCE_CODES)
    return f"(substr({id_number}, 1, 2) IN ({codes}) AND substr({id_number}, 3, 4) <> '0000')"


def valid_sql(form: str, id_number: str, id_birth: str, extract_date: str) -> str:
    """Check character right (or computed for 15), birth date real and not after the extract, division plausible."""
    return (f"coalesce({form} IN ('valid', 'converted15') AND {id_birth} IS NOT NULL "
            f"AND {id_birth} BETWEEN DATE '1880-01-01' AND {extract_date} "
            f"AND {division_plausible_sql(id_number)}, false)")
