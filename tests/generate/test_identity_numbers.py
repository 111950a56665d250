"""Identity numbers: check characters, legacy conversion, and distortions that must fail the check."""

from __future__ import annotations

import numpy as np

from registry.generate import irregularities as irr
from registry.generate.idnumbers import is_valid, legacy15_to_18, to_legacy15, with_check


def _ids(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    body = np.array([f"440304{y}{m:02d}{d:02d}{o:03d}" for y, m, d, o in
                     zip(rng.integers(1930, 2020, n), rng.integers(1, 13, n), rng.integers(1, 29, n),
                         rng.integers(0, 1000, n))], dtype="U17")
    return with_check(body).astype(object)


def test_known_check_characters():
    assert list(with_check(np.array(["11010519491231002", "44030419900101123"]))) == \
        ["11010519491231002X", "440304199001011233"]
    assert list(is_valid(["11010519491231002X", "11010519491231002x", "440304199001011234", "１１０１０５",
                          None, "", "110105194912310"])) == [True, False, False, False, False, False, False]


def test_legacy_15_digit_round_trip():
    ids = _ids(2000)
    born_1900s = np.array([i[6:8] == "19" for i in ids])
    legacy = to_legacy15(ids[born_1900s])
    assert all(len(x) == 15 and x.isdigit() for x in legacy)
    assert list(legacy15_to_18(legacy)) == list(ids[born_1900s])


def test_mistyped_numbers_always_fail_the_check():
    ids = _ids(5000)
    everything = np.ones(len(ids), dtype=bool)
    rng = np.random.default_rng(2)
    one = irr.id_one_digit_wrong(ids, everything, rng)
    swap = irr.id_adjacent_swap(ids, everything, rng)
    assert is_valid(ids).all()
    assert not is_valid(one).any() and not is_valid(swap).any()
    assert all(sum(a != b for a, b in zip(x, y)) == 1 for x, y in zip(one, ids))
    for x, y in zip(swap, ids):
        diff = [i for i in range(18) if x[i] != y[i]]
        assert len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and diff[1] < 17


def test_distortions_keep_the_digits():
    ids = _ids(500)
    everything = np.ones(len(ids), dtype=bool)
    rng = np.random.default_rng(3)
    full = irr.id_fullwidth(ids, everything, rng)
    assert all(not x.isascii() for x in full)
    spaced = irr.id_spaces_dashes(ids, everything, rng)
    assert all(x.replace(" ", "").replace("-", "") == y and x != y for x, y in zip(spaced, ids))
    masked = irr.id_fullwidth(ids, np.zeros(len(ids), dtype=bool), rng)
    assert list(masked) == list(ids)
