"""Phone numbers: mobiles to 11 digits, landlines to 'area code-number' (0755-83451234)."""

from __future__ import annotations

import re

_FULLWIDTH_FROM = "０１２３４５６７８９＋"
_FULLWIDTH_TO = "0123456789+"
# Two numbers in one field ('13800138000 / 0755-83451234'): the first is taken. An extension
# ('0755-83451234转8001') is not part of the number.
_SEPARATOR = "[/,;，；、|]|或"
_EXTENSION = "(转|分机|ext\\.?|x).*$"


# ---------------------------------------------------------------- pure-Python reference

def normalise(raw: str | None) -> tuple[str | None, str | None]:
    """(phone, kind) — the reference for the SQL below."""
    if raw is None:
        return None, None
    first = next((p for p in re.split(_SEPARATOR, raw) if p.strip()), "")
    first = re.sub(_EXTENSION, "", first, flags=re.I)
    d = re.sub(r"[^0-9]", "", first.translate(str.maketrans(_FULLWIDTH_FROM, _FULLWIDTH_TO)))
    if not d:
        return None, None
    m = re.fullmatch(r"(?:0086|86)?(1[3-9]\d{9})", d)
    if m:
        return m.group(1), "mobile"
    m = re.fullmatch(r"(?:0086|86)([1-9]\d{8,10})", d)
    if m:
        d = "0" + m.group(1)
    elif re.fullmatch(r"(10|[2-9]\d)\d{8,9}", d):
        d = "0" + d  # a landline kept as a number lost its trunk 0: 75583451234
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
    """Only the digits of the field's first number (after full-width clean-up, extension cut off):
    strips +, spaces, dashes, brackets."""
    first = (f"regexp_replace(list_filter(regexp_split_to_array({raw}, '{_SEPARATOR}'), "
             f"lambda p: trim(p) <> '')[1], '{_EXTENSION}', '', 'i')")
    return (f"nullif(regexp_replace(translate({first}, '{_FULLWIDTH_FROM}', '{_FULLWIDTH_TO}'), "
            f"'[^0-9]', '', 'g'), '')")


def domestic_sql(digits: str) -> str:
    """Country code 86 / 0086 removed; a landline written +86 755 ... gets its trunk 0 back."""
    return (f"CASE WHEN regexp_full_match({digits}, '(0086|86)?1[3-9]\\d{{9}}') THEN right({digits}, 11) "
            f"WHEN regexp_full_match({digits}, '(0086|86)[1-9]\\d{{8,10}}') "
            f"THEN '0' || regexp_replace({digits}, '^(0086|86)', '') "
            f"WHEN regexp_full_match({digits}, '(10|[2-9]\\d)\\d{{8,9}}') THEN '0' || {digits} "
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
