"""Pairwise precision and recall, with 95% intervals, from a labelled stratified audit sample.

Both figures come down to two counts of errors in the frame: false merges FP (pairs the registry put in
one resident that are two people) and missed matches FN (pairs of one person it kept apart). Each is
estimated by weighting every stratum by its share of the frame (stratified, Horvitz-Thompson): a
stratum of N pairs, n of them decided and e of those wrong, stands for N·e/n errors. With PP the
pairs the registry put in one resident (known exactly),

    precision = 1 − FP/PP        recall = (PP − FP) / (PP − FP + FN)

Errors are rare, and a few hundred labels often find none in a stratum: a normal approximation would
then claim certainty (all 200 sampled links right does not make precision exactly 1). The intervals
of FP and FN are therefore the gamma intervals for weighted sums of rare counts (Fay & Feuer 1997,
used for directly standardised rates): they stay honest with zero errors found (the upper limit
allows one more error in the most heavily weighted stratum) and never fall below coverage. Strata
decided in full are exact (finite-population correction). Precision takes FP's 95% interval; recall,
which moves with both counts, takes FP's and FN's 97.5% intervals together (Bonferroni), so its 95%
holds too. A stratum with nothing decided may hold anything from no error to all its pairs: the
intervals say so, and its point estimate is the model's own mean probability, reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2

LEVEL = 0.95


@dataclass
class Estimate:
    precision: float | None
    precision_ci: tuple[float, float] | None
    recall: float | None
    recall_ci: tuple[float, float] | None
    sample_size: int
    sample_decided: int
    predicted_pairs: int
    frame_pairs: int
    strata: int
    strata_undecided: list[str] = field(default_factory=list)
    false_merges: float | None = None
    false_merges_ci: tuple[float, float] | None = None
    missed_matches: float | None = None
    missed_matches_ci: tuple[float, float] | None = None

    def as_dict(self) -> dict:
        def pair(v):
            return list(v) if v is not None else None
        return {"precision": self.precision, "precision_ci": pair(self.precision_ci), "recall": self.recall,
                "recall_ci": pair(self.recall_ci), "sample_size": self.sample_size,
                "sample_decided": self.sample_decided, "predicted_pairs": self.predicted_pairs,
                "frame_pairs": self.frame_pairs, "strata": self.strata, "strata_undecided": self.strata_undecided,
                "false_merges": self.false_merges, "false_merges_ci": pair(self.false_merges_ci),
                "missed_matches": self.missed_matches, "missed_matches_ci": pair(self.missed_matches_ci)}


def gamma_interval(errors: np.ndarray, weights: np.ndarray, fpc: np.ndarray, level: float) -> tuple[float, float]:
    """Fay & Feuer's interval for y = Σ w·e (e: error counts of the strata's samples, w: their weights),
    with variance Σ w²·e·(1 − f); the upper limit adds one error of the largest weight of a stratum not
    decided in full."""
    y = float(np.sum(weights * errors))
    v = float(np.sum(weights ** 2 * errors * fpc))
    open_strata = fpc > 0
    w_max = float(weights[open_strata].max()) if open_strata.any() else 0.0
    a = (1 - level) / 2
    lower = 0.0 if y <= 0 or v <= 0 else v / (2 * y) * chi2.ppf(a, 2 * y * y / v)
    if w_max == 0:
        upper = y
    else:
        vu, yu = v + w_max ** 2, y + w_max
        upper = vu / (2 * yu) * chi2.ppf(1 - a, 2 * yu * yu / vu)
    if v <= 0:
        lower = y  # every error seen was in a stratum decided in full: exactly known
    return float(lower), float(upper)


def estimate(strata: pd.DataFrame, labels: pd.DataFrame) -> Estimate:
    """strata: one row per stratum (stratum, same_resident, population, mean_probability, drawn);
    labels: one row per decided sample item (stratum, same: bool). Items drawn but not decided are
    left out: the decided ones of a stratum stand for it (officers should decide items in any order but
    by their content)."""
    s = strata.set_index("stratum")
    counts = labels.groupby("stratum")["same"].agg(["count", "sum"]) if len(labels) else \
        pd.DataFrame(columns=["count", "sum"])
    n = counts["count"].reindex(s.index).fillna(0).to_numpy(dtype=float)
    matches = counts["sum"].reindex(s.index).fillna(0).to_numpy(dtype=float)
    population = s["population"].to_numpy(dtype=float)
    predicted = s["same_resident"].to_numpy(dtype=bool)
    model_rate = s["mean_probability"].astype(float).fillna(0.5).to_numpy()
    decided = n > 0
    pp = float(population[predicted].sum())
    result = Estimate(None, None, None, None, int(s["drawn"].sum()), int(n.sum()), int(pp), int(population.sum()),
                      len(s), [str(k) for k, d, N in zip(s.index, decided, population) if not d and N > 0])
    if n.sum() == 0:
        return result

    errors = np.where(predicted, n - matches, matches)       # false merges / missed matches seen
    weights = np.where(decided, population / np.maximum(n, 1), 0.0)
    fpc = np.where(decided, 1 - n / np.maximum(population, 1), 0.0)
    # undecided strata: the model's rate as the point, anything from none to all as the interval
    undecided_errors = np.where(predicted, population * (1 - model_rate), population * model_rate)

    def count(side: np.ndarray, level: float) -> tuple[float, tuple[float, float]]:
        d = side & decided
        point = float(np.sum(weights[d] * errors[d]) + undecided_errors[side & ~decided].sum())
        lo, hi = gamma_interval(errors[d], weights[d], fpc[d], level) if d.any() else (0.0, 0.0)
        return point, (lo, hi + float(population[side & ~decided].sum()))

    fp, fp_ci = count(predicted, LEVEL)
    fn, fn_ci = count(~predicted, LEVEL)
    _, fp_wide = count(predicted, 1 - (1 - LEVEL) / 2)
    _, fn_wide = count(~predicted, 1 - (1 - LEVEL) / 2)
    result.false_merges, result.false_merges_ci = fp, fp_ci
    result.missed_matches, result.missed_matches_ci = fn, fn_ci
    if pp > 0:
        result.precision = 1 - fp / pp
        result.precision_ci = (max(0.0, 1 - fp_ci[1] / pp), min(1.0, 1 - fp_ci[0] / pp))

    def recall(fp_: float, fn_: float) -> float:
        tp = max(pp - fp_, 0.0)
        return tp / (tp + fn_) if tp + fn_ > 0 else 1.0

    result.recall = recall(fp, fn)
    result.recall_ci = (recall(min(fp_wide[1], pp), fn_wide[1]), recall(fp_wide[0], fn_wide[0]))
    return result
