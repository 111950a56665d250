"""Dates in the departments' formats: YYYYMMDD, YYYY-MM-DD, YYYY/M/D, YYYY年MM月DD日, and the partial YYYY-MM / YYYY.MM.

One parser for all formats: the separators are unified to '-', then year, month and day are split out.
An impossible date (2月30日) is well-formed but gives NULL, never an error; the caller notes it in quarantine.
"""

from __future__ import annotations

import datetime as _dt
import re

_SEPARATORS = r"[年月/.\s]+|-"


# ---------------------------------------------------------------- pure-Python reference

def parse(raw: str | None) -> tuple[int | None, int | None, int | None, str | None]:
    """(year, month, day, status) with status 'day', 'month', 'impossible', 'unparseable' or None (empty)."""
    if raw is None or not raw.strip():
        return None, None, None, None
    s = raw.strip()
    if re.fullmatch(r"\d{8}", s):
        parts = [s[:4], s[4:6], s[6:]]
    elif re.fullmatch(r"\d{6}", s):
        parts = [s[:4], s[4:]]
    else:
        parts = re.split(_SEPARATORS, re.sub(r"日$", "", s))
    if not (2 <= len(parts) <= 3 and re.fullmatch(r"\d{4}", parts[0])
            and all(re.fullmatch(r"\d{1,2}", p) for p in parts[1:])):
        return None, None, None, "unparseable"
    y, m = int(parts[0]), int(parts[1])
    if len(parts) == 2:
        return (y, m, None, "month") if 1 <= m <= 12 else (None, None, None, "impossible")
    try:
        _dt.date(y, m, int(parts[2]))
    except ValueError:
        return None, None, None, "impossible"
    return y, m, int(parts[2]), "day"


# ---------------------------------------------------------------- SQL expression builders

def parts_sql(raw: str) -> str:
    """LIST of the date's parts as strings: [year, month] or [year, month, day] (or something malformed)."""
    s = f"trim({raw})"
    return (f"CASE WHEN {raw} IS NULL OR {s} = '' THEN NULL "
            f"WHEN regexp_full_match({s}, '\\d{{8}}') THEN [substr({s}, 1, 4), substr({s}, 5, 2), substr({s}, 7, 2)] "
            f"WHEN regexp_full_match({s}, '\\d{{6}}') THEN [substr({s}, 1, 4), substr({s}, 5, 2)] "
            f"ELSE regexp_split_to_array(regexp_replace({s}, '日$', ''), '{_SEPARATORS}') END")


def well_formed_sql(parts: str) -> str:
    return (f"(len({parts}) BETWEEN 2 AND 3 AND regexp_full_match({parts}[1], '\\d{{4}}') "
            f"AND list_bool_and(list_transform({parts}[2:], lambda p: regexp_full_match(p, '\\d{{1,2}}'))))")


def date_sql(parts: str) -> str:
    """DATE when the parts are a real full date, else NULL."""
    return (f"CASE WHEN {well_formed_sql(parts)} AND len({parts}) = 3 THEN "
            f"try_cast({parts}[1] || '-' || lpad({parts}[2], 2, '0') || '-' || lpad({parts}[3], 2, '0') AS DATE) END")


# Birth dates before this are no living resident's: a typo or a placeholder (1800-01-01).
EARLIEST_BIRTH_YEAR = 1900


def status_sql(parts: str, date: str, latest: str | None = None) -> str:
    """'day' | 'month' | 'impossible' | 'unparseable' | 'implausible' | NULL (no value).

    latest (a DATE expression, the extract date): a real date (or month) before EARLIEST_BIRTH_YEAR or
    after it is 'implausible' — a birth date nobody alive tonight can have."""
    status = (f"CASE WHEN {parts} IS NULL THEN NULL "
              f"WHEN NOT coalesce({well_formed_sql(parts)}, false) THEN 'unparseable' "
              f"WHEN len({parts}) = 2 THEN CASE WHEN CAST({parts}[2] AS INTEGER) BETWEEN 1 AND 12 "
              f"THEN 'month' ELSE 'impossible' END "
              f"WHEN {date} IS NULL THEN 'impossible' ELSE 'day' END")
    if latest is None:
        return status
    year, month = f"CAST({parts}[1] AS INTEGER)", f"CAST({parts}[2] AS INTEGER)"
    too_late = (f"CASE WHEN len({parts}) = 3 THEN {date} > {latest} "
                f"ELSE {year} * 12 + {month} > year({latest}) * 12 + month({latest}) END")
    return (f"CASE WHEN ({status}) IN ('day', 'month') AND ({year} < {EARLIEST_BIRTH_YEAR} OR {too_late}) "
            f"THEN 'implausible' ELSE ({status}) END")


def timestamp_sql(raw: str) -> str:
    """TIMESTAMP from 'YYYY-MM-DD HH:MM:SS' (or a bare date); NULL when impossible."""
    return (f"CAST(try_strptime(trim({raw}), ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d', "
            f"'%Y/%m/%d %H:%M:%S', '%Y%m%d%H%M%S', '%Y%m%d']) AS TIMESTAMP)")
