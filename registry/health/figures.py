"""Tonight's linkage health figures: small named SQL functions over the run's tables.

Every function returns the SQL of one family of figures, all in one long shape, so that one table holds
every night's figures and a chart or a threshold reads any of them alike:

    figure VARCHAR, department VARCHAR, other VARCHAR, value DOUBLE, numerator BIGINT, denominator BIGINT

`department` and `other` say what the figure is about (a department, a department pair, a resident size,
a match-weight bin, a review kind); either may be NULL. Shares are fractions in [0, 1].
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from registry.departments import DEPARTMENTS

COLUMNS = ("figure", "department", "other", "value", "numerator", "denominator")

# What the model compares, as columns of `records`: a department whose export stops filling one of them
# loses that evidence on every pair (the comparison falls to its null level, weight 0).
COMPLETENESS_FIELDS: dict[str, str] = {
    "id_number": "id_number",
    "name": "name_plain",
    "birth": "birth_year",
    "sex": "sex",
    "phone": "phone",
    "address": "coalesce(hukou_address, current_address)",
    "household": "household_id",
}
# Residents of this many records or more share one bin of the size distribution.
LARGEST_SIZE_BIN = 6
# Width (bits) of the bins of the match-weight distributions, and the range they cover.
WEIGHT_BIN = 2.0
WEIGHT_RANGE = (-20.0, 70.0)
DEATH_STATUS = "死亡"


def _departments_sql(alias: str) -> str:
    return "(VALUES " + ", ".join(f"('{d}')" for d in DEPARTMENTS) + f") AS {alias}(department)"


def _department_of(uid: str) -> str:
    return f"split_part({uid}, ':', 1)"


def link_rates_sql() -> str:
    """For each ordered department pair (A, B): the share of A's records whose resident also holds a
    record of B; for (A, A) the share of A's records whose resident holds another record of A."""
    return f"""
    WITH held AS (SELECT resident_id, department, count(*) AS n FROM crosswalk GROUP BY ALL),
    totals AS (SELECT department, sum(n) AS n FROM held GROUP BY ALL),
    linked AS (
        SELECT a.department, b.department AS other,
               sum(a.n) FILTER (WHERE a.department <> b.department OR a.n >= 2) AS n
        FROM held a JOIN held b USING (resident_id) GROUP BY ALL)
    SELECT 'link_rate' AS figure, a.department, b.department AS other,
           coalesce(l.n, 0) / t.n AS value, coalesce(l.n, 0)::BIGINT AS numerator, t.n::BIGINT AS denominator
    FROM {_departments_sql('a')} CROSS JOIN {_departments_sql('b')}
    JOIN totals t ON t.department = a.department
    LEFT JOIN linked l ON l.department = a.department AND l.other = b.department"""


def unlinked_sql() -> str:
    """Per department: the share of its records that are residents on their own (linked to no record)."""
    return """
    WITH sizes AS (SELECT resident_id, count(*) AS n FROM crosswalk GROUP BY ALL)
    SELECT 'unlinked_share' AS figure, c.department, NULL AS other,
           avg((s.n = 1)::INTEGER) AS value, count(*) FILTER (WHERE s.n = 1) AS numerator, count(*) AS denominator
    FROM crosswalk c JOIN sizes s USING (resident_id) GROUP BY ALL"""


def unlinkable_sql(threshold: float) -> str:
    """Per department: the share of its records that could not be linked even to a copy of themselves at
    the match threshold (Splink's "unlinkables"): too little evidence filled in; and their mean
    self-match weight, which falls with every field a department stops filling."""
    return f"""
    SELECT 'unlinkable_share' AS figure, department, NULL AS other,
           avg((self_match_probability < {float(threshold)})::INTEGER) AS value,
           count(*) FILTER (WHERE self_match_probability < {float(threshold)}) AS numerator, count(*) AS denominator
    FROM record_linkability GROUP BY ALL
    UNION ALL
    SELECT 'mean_self_match_weight', department, NULL, avg(self_match_weight), NULL, count(*)
    FROM record_linkability GROUP BY ALL"""


def completeness_sql() -> str:
    """Per department and compared field: the share of its records with the field filled in."""
    parts = [f"SELECT 'completeness' AS figure, department, '{name}' AS other, avg(({expr} IS NOT NULL)::INTEGER) "
             f"AS value, count({expr}) AS numerator, count(*) AS denominator FROM records GROUP BY ALL"
             for name, expr in COMPLETENESS_FIELDS.items()]
    return "\nUNION ALL\n".join(parts)


def match_weights_sql(threshold: float) -> str:
    """Per department pair (unordered): the mean match weight of its links at or above the threshold, and
    the share of its scored pairs that are uncertain (at or above the floor, below the threshold)."""
    a, b = _department_of("record_uid_l"), _department_of("record_uid_r")
    return f"""
    WITH l AS (SELECT least({a}, {b}) AS department, greatest({a}, {b}) AS other, match_weight, match_probability
               FROM links)
    SELECT 'mean_match_weight' AS figure, department, other, avg(match_weight) AS value, NULL AS numerator,
           count(*) AS denominator
    FROM l WHERE match_probability >= {float(threshold)} GROUP BY ALL
    UNION ALL
    SELECT 'uncertain_share', department, other, avg((match_probability < {float(threshold)})::INTEGER),
           count(*) FILTER (WHERE match_probability < {float(threshold)}), count(*)
    FROM l GROUP BY ALL"""


def _bin_sql(weight: str) -> str:
    lo, hi = WEIGHT_RANGE
    return (f"(floor(least(greatest({weight}, {lo}), {hi - WEIGHT_BIN}) / {WEIGHT_BIN}) * {WEIGHT_BIN})"
            "::DOUBLE")


def match_weight_histogram_sql() -> str:
    """Tonight's scored pairs by match weight (bins of WEIGHT_BIN bits, labelled by their lower edge): the
    share of the night's links in each bin."""
    return f"""
    SELECT 'match_weight_histogram' AS figure, NULL AS department, {_bin_sql('match_weight')}::VARCHAR AS other,
           count(*) / sum(count(*)) OVER () AS value, count(*) AS numerator, sum(count(*)) OVER () AS denominator
    FROM links GROUP BY ALL"""


def resident_sizes_sql() -> str:
    """The distribution of residents by how many department records they hold."""
    return f"""
    WITH sizes AS (SELECT resident_id, count(*) AS n FROM crosswalk GROUP BY ALL)
    SELECT 'residents_by_size' AS figure, NULL AS department,
           CASE WHEN n >= {LARGEST_SIZE_BIN} THEN '{LARGEST_SIZE_BIN}+' ELSE n::VARCHAR END AS other,
           count(*) / sum(count(*)) OVER () AS value, count(*) AS numerator, sum(count(*)) OVER () AS denominator
    FROM sizes GROUP BY ALL
    UNION ALL
    SELECT 'largest_resident', NULL, NULL, max(n), NULL, NULL FROM sizes"""


def impossible_residents_sql() -> str:
    """Residents of a shape no person has: two valid identity numbers, two sexes, or a birth date after
    the death their household register records. Each is a lower bound on wrong merges (or an error in a
    department's data the golden record has to survive)."""
    return f"""
    WITH r AS (
        SELECT x.resident_id,
               count(DISTINCT r.id_number) FILTER (WHERE r.id_number_form = 'valid') AS valid_numbers,
               count(DISTINCT r.sex) AS sexes,
               max(r.birth_date) AS last_birth,
               min(r.status_change_date) FILTER (WHERE r.person_status = '{DEATH_STATUS}') AS death
        FROM crosswalk x JOIN records r USING (record_uid) GROUP BY ALL),
    total AS (SELECT count(*) AS residents FROM r)
    SELECT 'impossible_residents' AS figure, NULL AS department, shape AS other, s.n / total.residents AS value,
           s.n AS numerator, total.residents AS denominator
    FROM (SELECT 'two_valid_identity_numbers' AS shape, count(*) FILTER (WHERE valid_numbers > 1) AS n FROM r
          UNION ALL SELECT 'two_sexes', count(*) FILTER (WHERE sexes > 1) FROM r
          UNION ALL SELECT 'birth_after_death', count(*) FILTER (WHERE last_birth > death) FROM r) s, total"""


def review_queue_sql(extract_date: str) -> str:
    """Open review items by kind, and how long the open ones have waited (days since first raised)."""
    return f"""
    WITH open AS (SELECT kind, date_diff('day', first_raised_date, DATE '{extract_date}') AS age
                  FROM review_queue WHERE status = 'open')
    SELECT 'review_open' AS figure, NULL AS department, kind AS other, count(*) AS value, count(*) AS numerator,
           NULL AS denominator FROM open GROUP BY ALL
    UNION ALL
    SELECT 'review_open', NULL, 'all', count(*), count(*), NULL FROM open
    UNION ALL
    SELECT 'review_open_age_days', NULL, 'median', coalesce(median(age), 0), NULL, count(*) FROM open
    UNION ALL
    SELECT 'review_open_age_days', NULL, 'oldest', coalesce(max(age), 0), NULL, count(*) FROM open"""


def model_weight_distribution(parameters: pd.DataFrame, prior_weight: float) -> pd.DataFrame:
    """The match-weight distribution the model itself expects among pairs of one person, from its m
    probabilities (levels of different comparisons independent, as the model assumes; null levels and
    term-frequency adjustments left out, so tonight's links, which miss fields, sit to its left), binned as
    match_weight_histogram. `parameters` is TrainedModel.parameters()."""
    lo, hi = WEIGHT_RANGE
    step = 0.25  # fine grid for the convolution, summed into WEIGHT_BIN bins at the end
    rows = []
    for series, column in (("model_match_weight", "m_probability"),):
        dist = {round(prior_weight / step): 1.0}
        for _, levels in parameters.groupby("comparison", sort=False):
            p = levels[column].astype(float).to_numpy()
            w = levels["match_weight"].astype(float).to_numpy()
            if not np.isfinite(p).all() or p.sum() <= 0:
                continue
            p = p / p.sum()
            nxt: dict[int, float] = {}
            for k, mass in dist.items():
                for pj, wj in zip(p, w):
                    if pj > 0 and math.isfinite(wj):
                        key = k + round(wj / step)
                        nxt[key] = nxt.get(key, 0.0) + mass * pj
            dist = nxt
        weights = np.clip(np.array(list(dist)) * step, lo, hi - WEIGHT_BIN)
        mass = np.array(list(dist.values()))
        bins = np.floor(weights / WEIGHT_BIN) * WEIGHT_BIN
        frame = pd.DataFrame({"bin": bins, "mass": mass}).groupby("bin", as_index=False)["mass"].sum()
        for b, m in zip(frame["bin"], frame["mass"]):
            rows.append({"figure": series, "department": None, "other": str(float(b)), "value": float(m),
                         "numerator": None, "denominator": None})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def night_figures_sql(extract_date: str, threshold: float, *, with_linkability: bool, with_queue: bool) -> str:
    """Every SQL family above, as one query in the long shape."""
    parts = [link_rates_sql(), unlinked_sql(), completeness_sql(), match_weights_sql(threshold),
             match_weight_histogram_sql(), resident_sizes_sql(), impossible_residents_sql()]
    if with_linkability:
        parts.append(unlinkable_sql(threshold))
    if with_queue:
        parts.append(review_queue_sql(extract_date))
    cast = ("SELECT figure::VARCHAR AS figure, department::VARCHAR AS department, other::VARCHAR AS other, "
            "value::DOUBLE AS value, numerator::BIGINT AS numerator, denominator::BIGINT AS denominator FROM ({})")
    return "\nUNION ALL\n".join(cast.format(p) for p in parts)
