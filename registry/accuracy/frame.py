"""The audit sample's frame: every record pair the published night either scored or put in one resident,
and the near pairs it did neither with, each in one stratum (predicted same resident or not,
match-probability band, department pair).

The frame holds all pairs the registry says are one person (so precision is over every predicted pair,
as `registry evaluate` counts it), every pair the model scored at or above the link floor, and the near
pairs: two records with one name (in pinyin) and one phone, birth date or address detail (estate,
building, room: the `*_rest` of either address) that no blocking rule brought together or that scored
below the floor. They are where a missed match hides when a department stops filling the fields the
blocking rules key on (on an independent writer's night with two departments' identity numbers blanked,
169 of the 193 true pairs the model never scored). Recall is estimated over the frame; true matches
outside it can only lower it.
"""

from __future__ import annotations

# What the frame covers, in words (registry quality says it beside the recall).
COVERS = ("pairs the night scored at or above the link floor or put in one resident, and unscored pairs sharing a "
          "name (pinyin) and a phone, birth date or address detail; true matches outside these are not covered and "
          "can only lower recall")
# Lower edges of the match-probability bands (a pair falls in the highest band whose edge it reaches).
BAND_EDGES: tuple[float, ...] = (0.999, 0.99, 0.9, 0.5, 0.1, 0.0)
UNSCORED_BAND = "not scored"
# Department pairs with fewer pairs than this in their (prediction, band) share one stratum there.
MIN_STRATUM_PAIRS = 30
OTHER_PAIRS = "other department pairs"
# A near-pair key shared by more records than this (a placeholder value, a dormitory) makes no pairs.
NEAR_KEY_MAX_RECORDS = 50


def near_keys_sql(records: str = "records") -> str:
    """record_uid, key: one row per near-pair key of a record, its name in pinyin with its phone, its birth
    date, or either address's detail (one tag for both addresses, so a hukou address meets a current one)."""
    parts = [("p", "phone"), ("b", "CAST(birth_date AS VARCHAR)"), ("a", "hukou_rest"), ("a", "current_rest")]
    keyed = " UNION ALL ".join(
        f"SELECT record_uid, name_pinyin || '|{tag}|' || {value} AS key FROM {records} "
        f"WHERE name_pinyin IS NOT NULL AND {value} IS NOT NULL" for tag, value in parts)
    return f"""
    SELECT DISTINCT record_uid, key FROM ({keyed})
    QUALIFY count(*) OVER (PARTITION BY key) <= {NEAR_KEY_MAX_RECORDS}"""


def band_sql(probability: str) -> str:
    """The band of a match probability, named by its lower edge ('0.999', ..., '0'); unscored: 'not scored'."""
    cases = " ".join(f"WHEN {probability} >= {edge} THEN '{edge:g}'" for edge in BAND_EDGES)
    return f"CASE WHEN {probability} IS NULL THEN '{UNSCORED_BAND}' {cases} END"


def frame_sql(links: str = "links", crosswalk: str = "crosswalk", records: str = "records") -> str:
    """Every frame pair: record_uid_l < record_uid_r, match_probability (NULL: not scored), same_resident,
    departments ('a/b', sorted), band. Scored pairs come from `links`; pairs of one resident that no link
    joins directly (held together through others or by an officer) are added unscored, and so are the
    near pairs of two residents that no link joins."""
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
    keys AS ({near_keys_sql(records)}),
    near AS (
        SELECT DISTINCT ka.record_uid AS record_uid_l, kb.record_uid AS record_uid_r
        FROM keys ka JOIN keys kb ON ka.key = kb.key AND ka.record_uid < kb.record_uid),
    unscored_near AS (
        SELECT n.record_uid_l, n.record_uid_r, NULL::DOUBLE AS match_probability, false AS same_resident,
               xa.department AS dl, xb.department AS dr
        FROM near n JOIN x xa ON xa.record_uid = n.record_uid_l JOIN x xb ON xb.record_uid = n.record_uid_r
        ANTI JOIN {links} k ON k.record_uid_l = n.record_uid_l AND k.record_uid_r = n.record_uid_r
        WHERE xa.resident_id <> xb.resident_id),
    pairs AS (SELECT * FROM scored UNION ALL SELECT * FROM unscored UNION ALL SELECT * FROM unscored_near)
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
