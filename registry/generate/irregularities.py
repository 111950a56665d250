"""The ways department staff and systems distort values (DEPARTMENTS.md), as vectorised functions.

Each function takes an object array of values, a boolean mask of the rows to distort and the
random generator, and returns a new array; rows outside the mask, and missing values, are kept.
Work happens on the masked subset only, with pandas string methods and numpy byte arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from registry.generate.idnumbers import to_legacy15
from registry.generate.vocab import vocabulary

FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SEPARATORS = np.array(["•", ".", "・", ""], dtype=object)
# What a Han name gets between its characters when typed into a form: a full-width space, two spaces,
# a middle dot or a hyphen after the surname, a tab pasted from a spreadsheet.
HAN_SEPARATORS = np.array(["\u3000", "  ", "·", "-", "\t"], dtype=object)


class Tags:
    """The irregularities each row received, for the ground truth (`irregularities` column): the linkage
    benchmark reports recall by irregularity from them."""

    def __init__(self, n: int):
        self._masks: dict[str, np.ndarray] = {}
        self.n = n

    def add(self, name: str, mask) -> None:
        m = np.asarray(mask, dtype=bool)
        self._masks[name] = self._masks.get(name, np.zeros(self.n, dtype=bool)) | m

    def joined(self) -> np.ndarray:
        out = np.full(self.n, "", dtype=object)
        for name in sorted(self._masks):
            m = self._masks[name]
            out[m] = np.where(out[m] == "", name, out[m] + ";" + name)
        return out


def without_tags(joined: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Joined tag strings with some tags taken out (a value put right on a later night)."""
    drop = set(names)
    return np.array([";".join(t for t in str(x or "").split(";") if t and t not in drop) for x in joined],
                    dtype=object)


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Rows whose value an irregularity actually changed."""
    b = pd.Series(before, dtype=object)
    a = pd.Series(after, dtype=object)
    return (b.fillna("\0") != a.fillna("\0")).to_numpy()


def _subset(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    present = pd.notna(values) & (values != "") if values.dtype == object else np.ones(len(values), bool)
    return np.flatnonzero(mask & present)


def _strings(values: np.ndarray, idx: np.ndarray) -> pd.Series:
    return pd.Series(values[idx], dtype=object).astype(str)


def apply(values: np.ndarray, mask: np.ndarray, rng, fn) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    idx = _subset(out, np.asarray(mask, dtype=bool))
    if len(idx):
        out[idx] = np.asarray(fn(_strings(out, idx), rng), dtype=object)
    return out


def _is_clean18(s: pd.Series) -> np.ndarray:
    return (s.str.len() == 18).to_numpy() & s.str[:17].str.isdigit().to_numpy() & s.map(str.isascii).to_numpy()


# ---------------------------------------------------------------- identity numbers

def id_legacy15(values, mask, rng):
    """The legacy 15-digit form (no century, no check) for people born 1900-1999."""
    def f(s, rng):
        ok = _is_clean18(s) & (s.str[6:8] == "19").to_numpy()
        out = s.to_numpy(dtype=object).copy()
        out[ok] = to_legacy15(out[ok].astype("U18")).astype(object)
        return out
    return apply(values, mask, rng, f)


def id_lowercase_x(values, mask, rng):
    return apply(values, mask, rng, lambda s, rng: s.str.replace("X", "x", regex=False))


def id_fullwidth(values, mask, rng):
    return apply(values, mask, rng, lambda s, rng: s.str.translate(FULLWIDTH))


def id_spaces_dashes(values, mask, rng):
    """6-8-4 groups separated by spaces or dashes, or one stray space."""
    def f(s, rng):
        kind = rng.integers(0, 4, len(s))
        grouped_sp = s.str[:6] + " " + s.str[6:14] + " " + s.str[14:]
        grouped_da = s.str[:6] + "-" + s.str[6:14] + "-" + s.str[14:]
        pos = rng.integers(1, 17, len(s))
        stray = s.copy()
        for p in np.unique(pos):           # loop over at most 16 positions
            sel = pos == p
            stray[sel] = s[sel].str[:p] + " " + s[sel].str[p:]
        return np.where(kind == 0, grouped_sp, np.where(kind == 1, grouped_da,
                        np.where(kind == 2, stray, " " + s + " ")))
    return apply(values, mask, rng, f)


def _digit_matrix(s: pd.Series):
    b = np.frombuffer(np.ascontiguousarray(s.to_numpy(dtype="U18").astype("S18")).tobytes(), dtype=np.uint8)
    return b.reshape(len(s), 18).copy()


def id_one_digit_wrong(values, mask, rng):
    """One of the first 17 digits replaced by another digit: the check character then fails."""
    def f(s, rng):
        ok = _is_clean18(s)
        out = s.to_numpy(dtype=object).copy()
        if ok.any():
            m = _digit_matrix(s[ok])
            rows = np.arange(len(m))
            pos = rng.integers(0, 17, len(m))
            old = m[rows, pos] - 48
            m[rows, pos] = (old + rng.integers(1, 10, len(m))) % 10 + 48
            out[ok] = m.view("S18").ravel().astype("U18").astype(object)
        return out
    return apply(values, mask, rng, f)


def id_adjacent_swap(values, mask, rng):
    """Two adjacent, different digits among the first 17 swapped: the check character then fails."""
    def f(s, rng):
        ok = _is_clean18(s)
        out = s.to_numpy(dtype=object).copy()
        if ok.any():
            m = _digit_matrix(s[ok])
            differ = m[:, :16] != m[:, 1:17]
            score = np.where(differ, rng.random(differ.shape), -1.0)
            pos = score.argmax(axis=1)
            rows = np.arange(len(m))[differ.any(axis=1)]
            pos = pos[rows]
            a = m[rows, pos].copy()
            m[rows, pos] = m[rows, pos + 1]
            m[rows, pos + 1] = a
            out[ok] = m.view("S18").ravel().astype("U18").astype(object)
        return out
    return apply(values, mask, rng, f)


# ---------------------------------------------------------------- names

@lru_cache(maxsize=1)
def _traditional_table() -> dict[int, str]:
    import opencc
    v = vocabulary()
    chars = set("".join(v.surnames)) | set("".join(v.given_popular["M"][0]) + "".join(v.given_popular["F"][0]))
    chars |= set("".join(v.given_chars["M"][0]) + "".join(v.given_chars["F"][0])) | set(v.rare_chars)
    chars |= set("".join(v.homophones.values()))
    conv = opencc.OpenCC("s2t")
    table = {}
    for c in sorted(chars):                # loop over the distinct characters of the vocabulary
        t = conv.convert(c)
        if t != c and len(t) == 1:
            table[ord(c)] = t
    return table


def name_traditional(values, mask, rng):
    table = _traditional_table()
    return apply(values, mask, rng, lambda s, rng: s.str.translate(table))


def name_spaces(values, mask, rng):
    """Spaces between all characters (张 伟 明) or after the surname only (张 伟明)."""
    def f(s, rng):
        every = s.str.join(" ")
        after_surname = s.str[:1] + " " + s.str[1:]
        return np.where(rng.random(len(s)) < 0.6, every, after_surname)
    return apply(values, mask, rng, f)


def name_separator_variant(values, mask, rng):
    """Minority names' separator · written •, ., ・ or left out."""
    def f(s, rng):
        sep = SEPARATORS[rng.integers(0, len(SEPARATORS), len(s))]
        out = s.to_numpy(dtype=object).copy()
        for x in SEPARATORS:
            sel = sep == x
            out[sel] = s[sel].str.replace("·", x, regex=False).to_numpy(dtype=object)
        return out
    return apply(values, mask, rng, f)


def name_rare_char_pinyin(values, mask, rng):
    """A rare character the system cannot type written in pinyin: 王晔 -> 王Ye."""
    table = {ord(c): py.capitalize() for c, (py, _) in vocabulary().rare_chars.items()}
    return apply(values, mask, rng, lambda s, rng: s.str.translate(table))


def name_rare_char_homophone(values, mask, rng):
    """A rare character replaced by a common homophone: 张喆 -> 张哲."""
    table = {ord(c): h for c, (_, h) in vocabulary().rare_chars.items()}
    return apply(values, mask, rng, lambda s, rng: s.str.translate(table))


def has_rare_char(values: np.ndarray) -> np.ndarray:
    rare = "".join(vocabulary().rare_chars)
    return pd.Series(values, dtype=object).fillna("").astype(str).str.contains(f"[{rare}]", regex=True).to_numpy()


def name_full_pinyin(surname: np.ndarray, given: np.ndarray, mask: np.ndarray, rng) -> np.ndarray:
    """Whole name in pinyin: ZHANG Wei, Zhang Wei, ZHANG WEI or zhangwei (surname table for 曾 单 ...)."""
    from pypinyin import Style, lazy_pinyin
    v = vocabulary()
    idx = np.flatnonzero(mask & pd.notna(surname) & (surname != ""))
    out = np.full(len(surname), None, dtype=object)
    if not len(idx):
        return out
    sur = pd.Series(surname[idx], dtype=object)
    giv = pd.Series(given[idx], dtype=object)
    giv_py = giv.map({g: "".join(lazy_pinyin(g, style=Style.NORMAL)) for g in giv.unique()})   # distinct names
    sur_py = sur.map(v.surname_pinyin).fillna(sur.map({x: "".join(lazy_pinyin(x)) for x in sur.unique()}))
    kind = rng.integers(0, 4, len(idx))
    res = np.where(kind == 0, sur_py.str.upper() + " " + giv_py.str.capitalize(),
                   np.where(kind == 1, sur_py.str.capitalize() + " " + giv_py.str.capitalize(),
                            np.where(kind == 2, sur_py.str.upper() + " " + giv_py.str.upper(), sur_py + giv_py)))
    out[idx] = res
    return out


def name_homophone_typo(values, mask, rng):
    """One character mistyped by a homophone (张伟 -> 张玮, 李明华 -> 李鸣华), at any position that has one."""
    table = vocabulary().homophones

    def f(s, rng):
        out = s.to_numpy(dtype=object).copy()
        n = len(s)
        width = int(s.str.len().max()) if n else 0
        best = np.full(n, -1, dtype=np.int64)
        score = np.full(n, -1.0)
        for i in range(width):                       # the position: random among those with a homophone
            ch = s.str[i].to_numpy(dtype=object)
            ok = pd.Series(ch).isin(table.keys()).to_numpy()
            u = rng.random(n)
            take = ok & (u > score)
            best[take], score[take] = i, u[take]
        for i in np.unique(best[best >= 0]):
            rows = np.flatnonzero(best == i)
            ch = s.iloc[rows].str[i].to_numpy(dtype=object)
            repl = np.empty(len(rows), dtype=object)
            for c in pd.unique(ch):                  # loop over distinct characters
                sel = ch == c
                alts = np.array(list(table[c]), dtype=object)
                repl[sel] = alts[rng.integers(0, len(alts), sel.sum())]
            t = s.iloc[rows]
            out[rows] = (t.str[:int(i)] + pd.Series(repl, index=t.index) + t.str[int(i) + 1:]).to_numpy(dtype=object)
        return out
    return apply(values, mask, rng, f)


def name_variant_form(values, mask, rng):
    """Characters written in an old or Japanese form that OpenCC's tables do not map back (德 -> 徳, 清 -> 淸)."""
    table = str.maketrans(vocabulary().variant_forms)
    return apply(values, mask, rng, lambda s, rng: s.str.translate(table))


def name_han_separator(values, mask, rng):
    """A Han name typed with a full-width space, two spaces, a dot or a hyphen after the surname (张\u3000伟)."""
    def f(s, rng):
        sep = HAN_SEPARATORS[rng.integers(0, len(HAN_SEPARATORS), len(s))]
        return (s.str[:1] + pd.Series(sep, index=s.index) + s.str[1:]).to_numpy(dtype=object)
    return apply(values, mask, rng, f)


# ---------------------------------------------------------------- phones

def phone_formats(values, department_rates: dict[str, float], rng) -> np.ndarray:
    """Mobile numbers written with +86, 86, spaces or dashes at the department's rates."""
    out = np.asarray(values, dtype=object).copy()
    u = rng.random(len(out))
    cuts = np.cumsum([department_rates[k] for k in ("phone_plus86", "phone_86", "phone_spaces", "phone_dashes")])
    mobile = pd.notna(out) & (pd.Series(out, dtype=object).fillna("").astype(str).str.len().to_numpy() == 11)
    for i, fn in enumerate((lambda s: "+86" + np.where(np.arange(len(s)) % 2 == 0, " ", "") + s,
                            lambda s: "86" + s,
                            lambda s: s.str[:3] + " " + s.str[3:7] + " " + s.str[7:],
                            lambda s: s.str[:3] + "-" + s.str[3:7] + "-" + s.str[7:])):
        lo = 0.0 if i == 0 else cuts[i - 1]
        sel = np.flatnonzero(mobile & (u >= lo) & (u < cuts[i]))
        if len(sel):
            out[sel] = np.asarray(fn(pd.Series(out[sel], dtype=object).astype(str)), dtype=object)
    return out


def landline_formats(values, rng) -> np.ndarray:
    """Landlines 0755-83451234, mostly; sometimes 075583451234, (0755)83451234 or 83451234."""
    def f(s, rng):
        local = s.str[5:]
        kind = rng.choice(4, len(s), p=[0.7, 0.1, 0.1, 0.1])
        return np.where(kind == 0, s, np.where(kind == 1, "0755" + local, np.where(kind == 2, "(0755)" + local, local)))
    return apply(values, np.ones(len(values), dtype=bool), rng, f)
