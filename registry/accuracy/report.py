"""The accuracy estimates of every audit sample of a HOME, from the officers' decisions on its items."""

from __future__ import annotations

import duckdb
import pandas as pd

from registry.accuracy import samples
from registry.accuracy.estimate import estimate
from registry.home import Home
from registry.review import journal
from registry.review.items.audit_sample import NAME as KIND


def labels(home: Home) -> pd.DataFrame:
    """(item_id, same) of every audit item decided, the latest decision on the item winning."""
    con = duckdb.connect()
    try:
        journal.register(con, home.decisions, "_decisions")
        return con.execute(f"""
            SELECT item_id, arg_max(decision, line_no) = 'same' AS same FROM _decisions
            WHERE kind = '{KIND}' AND decision IN ('same', 'different') GROUP BY item_id""").df()
    finally:
        con.close()


def accuracy(home: Home) -> list[dict]:
    """One entry per audited night, oldest first: the night, its sample and its estimates."""
    decided = labels(home)
    out = []
    for sample in samples.samples(home.audit_samples):
        items = sample.items.merge(decided, on="item_id", how="inner")
        result = estimate(sample.strata, items[["stratum", "same"]])
        out.append({"run_id": sample.run_id, "extract_date": sample.extract_date, "drawn_at": sample.drawn_at,
                    **result.as_dict(), "calibration": calibration(items, sample.strata)})
    return out


def calibration(decided: pd.DataFrame, strata: pd.DataFrame) -> list[dict]:
    """Predicted probability against the share officers found to be one person, per probability band of the
    sample's scored pairs. Strata were sampled at different rates, so each decided pair stands for its
    stratum's N/n pairs; the observed share's 95% (Jeffreys) interval uses Kish's effective sample size."""
    scored = decided.dropna(subset=["match_probability"])
    if scored.empty:
        return []
    from scipy.stats import beta

    n_decided = scored.groupby("stratum").size()
    population = strata.set_index("stratum")["population"]
    scored = scored.assign(weight=scored["stratum"].map(population / n_decided).astype(float))
    edges = [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0000001]
    bands = pd.cut(scored["match_probability"], edges, right=False)
    rows = []
    for band, group in scored.groupby(bands, observed=True):
        w = group["weight"].to_numpy()
        observed = float((w * group["same"].to_numpy()).sum() / w.sum())
        predicted = float((w * group["match_probability"].to_numpy()).sum() / w.sum())
        n_eff = float(w.sum() ** 2 / (w ** 2).sum())
        x = observed * n_eff
        lo = 0.0 if observed == 0 else float(beta.ppf(0.025, x + 0.5, n_eff - x + 0.5))
        hi = 1.0 if observed == 1 else float(beta.ppf(0.975, x + 0.5, n_eff - x + 0.5))
        rows.append({"band": f"{band.left:g}–{min(band.right, 1):g}", "predicted": predicted, "observed": observed,
                     "observed_ci": [lo, hi], "labelled": int(len(group)), "pairs": float(w.sum())})
    return rows
