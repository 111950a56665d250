"""Phone numbers: mobiles to 11 digits, landlines to 'area code-number' (0755-83451234)."""

from __future__ import annotations

import re

_FULLWIDTH_FROM = "０１２３４５６７８９＋"
_FULLWIDTH_TO = "0123456789+"


# ---------------------------------------------------------------- pure-Python reference

def normalise(raw: str | None) -> tuple[str | None, str | None]:
    """(phone, kind) — the reference for the SQL below."""
    if raw is None:
        return None, None
    d = re.sub(r"[^0-9]", "", raw.translate(str.maketrans(_FULLWIDTH_FROM, _FULLWIDTH_TO)))
    if not d:
        return None, None
    m = re.fullmatch(r"(?:0086|86)?(1[3-9]\d{9})", d)
    if m:
        return m.group(1), "mobile"
    m = re.fullmatch(r"(?:0086|86)([1-9]\d{8,10})", d)
    if m:
        d = "0" + m.group(1)
    if re.fullmatch(r"0\d{9,11}", d):
        area = 3 if re.match(r"0(10|2\d)", d) else 4
        if 7 <= len(d) - area <= 8:
            return d[:area] + "-" + d[area:], "landline"
        return None, None
    if re.fullmatch(r"[2-9]\d{6,7}", d):
        return d, "landline"
    return None, None


# ---------------------------------------------------------------- SQL expression builders

def digits_sql(raw: str) -> str:
    """Only the digits (after full-width clean-up): strips +, spaces, dashes, brackets."""
    return (f"nullif(regexp_replace(translate({raw}, '{_FULLWIDTH_FROM}', '{_FULLWIDTH_TO}'), "
            f"'[^0-9]', '', 'g'), '')")


def domestic_sql(digits: str) -> str:
    """Country code 86 / 0086 removed; a landline written +86 755 ... gets its trunk 0 back."""
    return (f"CASE WHEN regexp_full_match({digits}, '(0086|86)?1[3-9]\\d{{9}}') THEN right({digits}, 11) "
            f"WHEN regexp_full_match({digits}, '(0086|86)[1-9]\\d{{8,10}}') "
            f"THEN '0' || regexp_replace({digits}, '^(0086|86)', '') "
            f"ELSE {digits} END")


def phone_sql(domestic: str) -> str:
    area = f"CASE WHEN regexp_matches({domestic}, '^0(10|2\\d)') THEN 3 ELSE 4 END"
    return (f"CASE WHEN regexp_full_match({domestic}, '1[3-9]\\d{{9}}') THEN {domestic} "
            f"WHEN regexp_full_match({domestic}, '0\\d{{9,11}}') AND length({domestic}) - {area} BETWEEN 7 AND 8 "
            f"THEN substr({domestic}, 1, {area}) || '-' || substr({domestic}, {area} + 1) "
            f"WHEN regexp_full_match({domestic}, '[2-9]\\d{{6,7}}') THEN {domestic} END")


def kind_sql(phone: str) -> str:
    return (f"CASE WHEN {phone} IS NULL THEN NULL WHEN regexp_full_match({phone}, '1\\d{{10}}') THEN 'mobile' "
            f"ELSE 'landline' END")
