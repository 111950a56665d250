"""The audit sample's frame: every record pair the published night either scored or put in one resident,
each in one stratum (predicted same resident or not, match-probability band, department pair).

The frame holds all pairs the registry says are one person (so precision is over every predicted pair,
as `registry evaluate` counts it) and every pair the model scored at or above the link floor. Pairs
the model never scored (no blocking rule brought them together, or they scored below the floor) are
outside it: recall is estimated over the frame, and true matches outside it can only lower it.
"""

from __future__ import annotations

# What the frame covers, in words (registry quality says it beside the recall).
COVERS = ("pairs the night scored at or above the link floor, or put in one resident; true matches the model "
          "never scored (outside every blocking rule) are not covered and can only lower recall")
# Lower edges of the match-probability bands (a pair falls in the highest band whose edge it reaches).
BAND_EDGES: tuple[float, ...] = (0.999, 0.99, 0.9, 0.5, 0.1, 0.0)
UNSCORED_BAND = "not scored"
# Department pairs with fewer pairs than this in their (prediction, band) share one stratum there.
MIN_STRATUM_PAIRS = 30
OTHER_PAIRS = "other department pairs"


def band_sql(probability: str) -> str:
    """The band of a match probability, named by its lower edge ('0.999', ..., '0'); unscored: 'not scored'."""
    cases = " ".join(f"WHEN {probability} >= {edge} THEN '{edge:g}'" for edge in BAND_EDGES)
    return f"CASE WHEN {probability} IS NULL THEN '{UNSCORED_BAND}' {cases} END"


def frame_sql(links: str = "links", crosswalk: str = "crosswalk") -> str:
    """Every frame pair: record_uid_l < record_uid_r, match_probability (NULL: not scored), same_resident,
    departments ('a/b', sorted), band. Scored pairs come from `links`; pairs of one resident that no link
    joins directly (held together through others or by an officer) are added unscored."""
    return f"""
    WITH x AS (SELECT record_uid, resident_id, department FROM {crosswalk}),
    scored AS (
        SELECT l.record_uid_l, l.record_uid_r, l.match_probability, xa.resident_id = xb.resident_id AS same_resident,
               xa.department AS dl, xb.department AS dr
        FROM {links} l JOIN x xa ON xa.record_uid = l.record_uid_l JOIN x xb ON xb.record_uid = l.record_uid_r),
    unscored AS (
        SELECT a.record_uid AS record_uid_l, b.record_uid AS record_uid_r, NULL::DOUBLE AS match_probability,
               true AS same_resident, a.department AS dl, b.department AS dr
        FROM x a JOIN x b ON a.resident_id = b.resident_id AND a.record_uid < b.record_uid
        ANTI JOIN {links} k ON k.record_uid_l = a.record_uid AND k.record_uid_r = b.record_uid),
    pairs AS (SELECT * FROM scored UNION ALL SELECT * FROM unscored)
    SELECT record_uid_l, record_uid_r, match_probability, same_resident,
           least(dl, dr) || '/' || greatest(dl, dr) AS departments, {band_sql('match_probability')} AS band
    FROM pairs"""


def strata_sql(frame: str) -> str:
    """`frame` with its stratum: (same_resident, band, department pair), department pairs with fewer than
    MIN_STRATUM_PAIRS pairs in their (same_resident, band) pooled as OTHER_PAIRS."""
    return f"""
    WITH sized AS (
        SELECT *, count(*) OVER (PARTITION BY same_resident, band, departments) AS cell FROM {frame})
    SELECT record_uid_l, record_uid_r, match_probability, same_resident, band, departments,
           (CASE WHEN same_resident THEN 'same' ELSE 'different' END) || ' | ' || band || ' | ' ||
           (CASE WHEN cell >= {MIN_STRATUM_PAIRS} THEN departments ELSE '{OTHER_PAIRS}' END) AS stratum
    FROM sized"""
