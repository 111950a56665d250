"""The generator's vocabularies (shipped in registry/generate/data), loaded once."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from registry.package_files import package_file

DATA = package_file("generate", "data")


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _p(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


@dataclass(frozen=True)
class Vocabulary:
    divisions: dict[str, str]            # GB/T 2260 code -> name
    county_codes: np.ndarray             # county-level codes (object array of str)
    county_province: np.ndarray          # their 2-digit province prefix
    surnames: np.ndarray
    surname_pinyin: dict[str, str]
    surname_p: np.ndarray
    given_popular: dict[str, tuple[np.ndarray, np.ndarray]]   # sex -> (given names, probabilities)
    given_chars: dict[str, tuple[np.ndarray, np.ndarray]]     # sex -> (characters, probabilities)
    rare_chars: dict[str, tuple[str, str]]                     # char -> (pinyin, homophone)
    homophones: dict[str, str]                                 # char -> alternatives
    variant_forms: dict[str, str]                              # char -> old or Japanese form OpenCC misses
    district: dict


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    divisions = {r["code"]: r["name"] for r in _rows("divisions.csv")}
    county = np.array(sorted(c for c in divisions if not c.endswith("00")), dtype=object)
    surname_rows = _rows("surnames.csv")
    popular = _rows("popular_given.csv")
    chars = _rows("given_chars.csv")

    def by_sex(rows, key):
        out = {}
        for sex in ("M", "F"):
            sel = [r for r in rows if r["sex"] in (sex, "U")]
            out[sex] = (np.array([r[key] for r in sel], dtype=object), _p([float(r["weight"]) for r in sel]))
        return out

    return Vocabulary(
        divisions=divisions,
        county_codes=county,
        county_province=np.array([c[:2] for c in county], dtype=object),
        surnames=np.array([r["surname"] for r in surname_rows], dtype=object),
        surname_pinyin={r["surname"]: r["pinyin"] for r in surname_rows},
        surname_p=_p([float(r["weight"]) for r in surname_rows]),
        given_popular=by_sex(popular, "given"),
        given_chars=by_sex(chars, "char"),
        rare_chars={r["char"]: (r["pinyin"], r["homophone"]) for r in _rows("rare_chars.csv")},
        homophones={r["char"]: r["alternatives"] for r in _rows("homophones.csv")},
        variant_forms={r["char"]: r["variant"] for r in _rows("variant_forms.csv")},
        district=json.loads((DATA / "futian.json").read_text(encoding="utf-8")),
    )


def division_name(code: str) -> str:
    """Province + prefecture + county name of a county-level code, as far as the list knows them."""
    d = vocabulary().divisions
    parts = [d.get(code[:2] + "0000", "")]
    pref = d.get(code[:4] + "00", "")
    if pref and pref != parts[0]:
        parts.append(pref)
    parts.append(d.get(code, ""))
    return "".join(dict.fromkeys(p for p in parts if p))
