"""Citizen identity numbers (GB 11643-1999), vectorised over numpy arrays."""

from __future__ import annotations

import numpy as np

from registry.standardise import id_numbers

# The check-character rule of registry.standardise.id_numbers, as arrays.
WEIGHTS = np.array(id_numbers.WEIGHTS, dtype=np.int64)
CHECK_CHARS = np.frombuffer(id_numbers.CHECK_CHARS.encode("ascii"), dtype=np.uint8)


def digits17(bodies: np.ndarray) -> np.ndarray:
    """(n, 17) int array of the first 17 digits of ASCII strings (numpy 'S' array of length >= 17)."""
    b = np.ascontiguousarray(bodies.astype("S17"))
    return (np.frombuffer(b.tobytes(), dtype=np.uint8).reshape(len(b), 17) - ord("0")).astype(np.int64)


def check_characters(bodies: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check character (numpy 'S1') of 17-digit bodies."""
    if len(bodies) == 0:
        return np.array([], dtype="S1")
    s = digits17(bodies) @ WEIGHTS
    return CHECK_CHARS[s % 11].view("S1")


def with_check(bodies: np.ndarray) -> np.ndarray:
    """18-character identity numbers (numpy 'U18') from 17-digit bodies."""
    b = bodies.astype("S17")
    return np.char.add(b, check_characters(b)).astype("U18")


def is_valid(ids) -> np.ndarray:
    """True where a value is an 18-character number (17 digits + check) whose check character is right."""
    s = np.asarray([x if isinstance(x, str) else "" for x in ids], dtype="U")
    out = np.zeros(len(s), dtype=bool)
    if len(s) == 0:
        return out
    shape_ok = (np.char.str_len(s) == 18) & np.char.isdigit(s.astype("U17")) & (np.char.str_len(s.astype("U17")) == 17)
    shape_ok &= np.char.str_len(np.char.encode(s, "utf-8")) == 18          # ASCII only (no full-width digits)
    if shape_ok.any():
        sel = s[shape_ok].astype("S18")
        last = np.frombuffer(sel.tobytes(), dtype=np.uint8).reshape(len(sel), 18)[:, 17]
        out[shape_ok] = check_characters(sel).view(np.uint8) == last
    return out


def legacy15_to_18(ids15) -> np.ndarray:
    """Convert legacy 15-digit numbers by inserting the century 19 and computing the check."""
    s = np.asarray(ids15, dtype="U15")
    return with_check(_insert_century(s))


def to_legacy15(ids18) -> np.ndarray:
    """The legacy 15-digit form of 18-character numbers of people born 1900-1999."""
    s = np.asarray(ids18, dtype="U18")
    b = np.frombuffer(np.ascontiguousarray(s.astype("S18")).tobytes(), dtype=np.uint8).reshape(len(s), 18)
    out = np.concatenate([b[:, :6], b[:, 8:17]], axis=1)
    return np.ascontiguousarray(out).view("S15").ravel().astype("U15")


def _insert_century(s: np.ndarray) -> np.ndarray:
    b = np.frombuffer(np.ascontiguousarray(s.astype("S15")).tobytes(), dtype=np.uint8).reshape(len(s), 15)
    out = np.empty((len(s), 17), dtype=np.uint8)
    out[:, :6] = b[:, :6]
    out[:, 6] = ord("1")
    out[:, 7] = ord("9")
    out[:, 8:] = b[:, 6:]
    return out.view("S17").ravel()


def zfill(a: np.ndarray, width: int) -> np.ndarray:
    """np.char.zfill that also takes an empty array."""
    a = np.asarray(a)
    if a.size == 0:
        return np.array([], dtype=f"U{width}")
    return np.char.zfill(a.astype("U"), width)
