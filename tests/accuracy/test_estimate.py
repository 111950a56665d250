"""The estimator and the allocation, on strata whose truth the test knows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from registry.accuracy.estimate import estimate
from registry.accuracy.sampling import MIN_PER_STRATUM, allocate


def _strata(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["stratum", "same_resident", "population", "mean_probability", "drawn"])


def _labels(counts: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """stratum -> (decided, of which same)."""
    rows = [(s, True) for s, (n, x) in counts.items() for _ in range(x)]
    rows += [(s, False) for s, (n, x) in counts.items() for _ in range(n - x)]
    return pd.DataFrame(rows, columns=["stratum", "same"])


def test_no_error_found_still_leaves_room_for_errors():
    strata = _strata([("same top", True, 10_000, 0.9999, 150), ("different low", False, 100, 0.2, 50)])
    e = estimate(strata, _labels({"same top": (150, 150), "different low": (50, 0)}))
    assert e.precision == 1.0 and e.recall == 1.0
    assert e.precision_ci[1] == 1.0 and e.recall_ci[1] == 1.0
    # 150 links all right cannot prove fewer than ~2% false merges (one more error at weight 10000/150)
    assert 0.96 < e.precision_ci[0] < 0.99
    assert e.recall_ci[0] < 1.0


def test_errors_are_weighted_by_their_stratum_share():
    strata = _strata([("same top", True, 9_000, 0.999, 90), ("same low", True, 1_000, 0.9, 10),
                      ("different", False, 500, 0.3, 50)])
    e = estimate(strata, _labels({"same top": (90, 90), "same low": (10, 8), "different": (50, 5)}))
    # 2 of 10 wrong in a stratum of 1000 pairs: 200 false merges of 10000 predicted pairs
    assert e.false_merges == pytest.approx(200)
    assert e.precision == pytest.approx(0.98)
    # 5 of 50 matches among 500 kept apart: 50 missed, recall 9800 / 9850
    assert e.missed_matches == pytest.approx(50)
    assert e.recall == pytest.approx(9800 / 9850)
    assert e.precision_ci[0] < 0.98 < e.precision_ci[1]


def test_a_stratum_decided_in_full_is_known_exactly():
    strata = _strata([("same", True, 40, 0.99, 40), ("different", False, 10, 0.5, 10)])
    e = estimate(strata, _labels({"same": (40, 38), "different": (10, 1)}))
    assert e.precision == pytest.approx(38 / 40) and e.precision_ci == pytest.approx((38 / 40, 38 / 40))
    assert e.recall == pytest.approx(38 / 39) and e.recall_ci == pytest.approx((38 / 39, 38 / 39))


def test_an_undecided_stratum_may_hold_anything():
    strata = _strata([("same top", True, 1_000, 0.999, 20), ("same unscored", True, 100, None, 5)])
    e = estimate(strata, _labels({"same top": (20, 20)}))
    assert e.strata_undecided == ["same unscored"]
    assert e.precision_ci[0] <= 1 - 100 / 1_100  # all 100 pairs could be wrong


def test_nothing_decided_estimates_nothing():
    e = estimate(_strata([("same", True, 10, 0.99, 5)]), _labels({}))
    assert e.precision is None and e.recall is None and e.sample_size == 5 and e.sample_decided == 0


def test_allocation_fills_every_stratum_and_favours_uncertain_ones():
    strata = _strata([("same top", True, 20_000, 0.99999, 0), ("same mid", True, 100, 0.95, 0),
                      ("different mid", False, 100, 0.5, 0), ("tiny", False, 1, 0.3, 0)])
    quota = allocate(strata, 200)
    assert quota.sum() == 200
    assert quota["tiny"] == 1 and quota["same mid"] >= MIN_PER_STRATUM
    assert quota["same top"] > quota["different mid"] > quota["same mid"]  # size times spread
    # a second draw adds to the first and never exceeds a stratum
    again = allocate(strata.assign(drawn=strata["stratum"].map(quota)), 10_000)
    assert (again + quota <= strata.set_index("stratum")["population"]).all()
    assert again.sum() == 10_000


SCENARIOS = {
    # stratum: (same_resident, population, model's mean probability, true match rate)
    "near perfect": {"same top": (True, 25_000, 0.99999, 0.9998), "same 0.99": (True, 80, 0.995, 0.98),
                     "same 0.9": (True, 70, 0.96, 0.95), "same unscored": (True, 5, None, 0.6),
                     "different 0.5": (False, 110, 0.7, 0.12), "different 0.1": (False, 112, 0.25, 0.02),
                     "different 0.01": (False, 125, 0.03, 0.0), "different 0.999": (False, 43, 0.9997, 0.0)},
    "many errors": {"same top": (True, 25_000, 0.99999, 0.996), "same 0.99": (True, 800, 0.995, 0.95),
                    "same 0.9": (True, 700, 0.96, 0.85), "same unscored": (True, 50, None, 0.6),
                    "different 0.5": (False, 1_100, 0.7, 0.35), "different 0.1": (False, 1_120, 0.25, 0.1),
                    "different 0.01": (False, 1_250, 0.03, 0.02), "different 0.9": (False, 470, 0.95, 0.2)},
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("size", [200, 500])
def test_95_percent_intervals_hold_the_truth_over_repeated_samples(scenario, size):
    rng = np.random.default_rng(17)
    spec = SCENARIOS[scenario]
    strata = _strata([(k, same, n, p, 0) for k, (same, n, p, _) in spec.items()])
    matches = {k: int(rng.binomial(n, rate)) for k, (_, n, _, rate) in spec.items()}
    tp = sum(m for k, m in matches.items() if spec[k][0])
    pp = sum(n for same, n, _, _ in spec.values() if same)
    truth_p, truth_r = tp / pp, tp / (tp + sum(m for k, m in matches.items() if not spec[k][0]))
    quota = allocate(strata, size)
    held_p = held_r = 0
    reps = 200
    for _ in range(reps):
        counts = {k: (int(quota[k]), int(rng.hypergeometric(matches[k], spec[k][1] - matches[k], int(quota[k]))))
                  for k in spec if quota[k] > 0}
        e = estimate(strata.assign(drawn=strata["stratum"].map(quota)), _labels(counts))
        held_p += e.precision_ci[0] <= truth_p <= e.precision_ci[1]
        held_r += e.recall_ci[0] <= truth_r <= e.recall_ci[1]
    assert held_p / reps >= 0.95, (scenario, size, held_p / reps)
    assert held_r / reps >= 0.95, (scenario, size, held_r / reps)
