"""Dates written the way each department writes them, vectorised over numpy datetime64 arrays."""

from __future__ import annotations

import numpy as np


def impossible_dates(years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Month and day of dates that cannot exist: 2月30日, 2月31日, 4月31日, 6月31日."""
    k = np.arange(len(years)) % 4
    return np.array([2, 2, 4, 6])[k], np.array([30, 31, 31, 31])[k]


def date_parts(d: np.ndarray):
    d = np.asarray(d, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (y.astype(np.int64) + 1970, (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
            (d - m.astype("datetime64[D]")).astype(np.int64) + 1)


# lookup tables: a date is written by indexing small vocabularies, not by formatting each value
_YEARS = np.array([str(y) for y in range(0, 3000)], dtype=object)
_TWO = np.array([f"{i:02d}" for i in range(100)], dtype=object)
_ONE = np.array([str(i) for i in range(100)], dtype=object)


def format_dates(d: np.ndarray, style: str, impossible: np.ndarray | None = None) -> np.ndarray:
    """Dates as a department writes them (object array); NaT -> None.
    `impossible` rows get 2月30日 and the like."""
    d = np.asarray(d, dtype="datetime64[D]")
    missing = np.isnat(d)
    y, m, dd = date_parts(np.where(missing, np.datetime64("2000-01-01"), d))
    if impossible is not None and impossible.any():
        im, idd = impossible_dates(y[impossible])
        m = m.copy()
        dd = dd.copy()
        m[impossible], dd[impossible] = im, idd
    ys = _YEARS[y]
    if style == "ymd":
        out = ys + _TWO[m] + _TWO[dd]
    elif style == "iso":
        out = ys + "-" + _TWO[m] + "-" + _TWO[dd]
    elif style == "slash":
        out = ys + "/" + _ONE[m] + "/" + _ONE[dd]
    elif style == "ym":
        out = ys + "-" + _TWO[m]
    elif style == "ym_dot":
        out = ys + "." + _TWO[m]
    elif style == "cn":
        out = ys + "年" + _TWO[m] + "月" + _TWO[dd] + "日"
    else:
        raise ValueError(f"unknown date style {style!r}")
    out[missing] = None
    return out


def format_times(d: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """YYYY-MM-DD HH:MM:SS from days and seconds of the day."""
    seconds = np.asarray(seconds, dtype=np.int64)
    return (format_dates(d, "iso") + " " + _TWO[seconds // 3600] + ":" + _TWO[seconds // 60 % 60] + ":"
            + _TWO[seconds % 60])
