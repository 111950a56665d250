"""`registry review sample`: draw a stratified random sample of the published night's record pairs into
the review queue as `audit_sample` items.

The frame (frame.py) is read from the working state of the published run: `links` and `crosswalk`.
Allocation is Neyman's: a stratum gets items in proportion to its size times the spread of its match
rate, the rate taken from the model's mean probability there but never trusted closer to 0 or 1 than
S_FLOOR allows (a model sure of 29,000 links still gets some of them checked). Every stratum gets
MIN_PER_STRATUM items first when the sample is large enough. Within a stratum the pairs are taken in
an order fixed by the seed (md5 of seed and pair), so one seed draws one sample.

Officers see an item's two records only: not the model's probability, nor whether the registry put
them in one resident, so that the label is theirs alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from registry.accuracy import frame as frames
from registry.accuracy import samples
from registry.home import Home
from registry.review import ReviewError, item_id_for

# Smallest standard deviation of a stratum's match rate assumed when allocating (rate 0.1% / 99.9%).
S_FLOOR = 0.03
MIN_PER_STRATUM = 2
PRIORITY = 4
# Fields of each record shown to the officer.
CARD_FIELDS = ("record_uid", "department", "source_record_id", "name_raw", "name", "name_pinyin", "former_name",
               "sex", "birth_date", "birth_date_raw", "id_number_raw", "id_number", "phone", "ethnicity",
               "hukou_address", "current_address", "household_id", "relation_to_head", "family_role",
               "person_status", "status_change_date", "marital_status", "assistance_kind", "employment_status",
               "employer")


@dataclass
class DrawResult:
    sample_id: str
    run_id: str
    extract_date: str
    drawn: int
    sample_size: int          # of the run's whole sample, earlier draws included
    frame_pairs: int
    strata: int
    seed: int
    path: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def allocate(strata: pd.DataFrame, size: int) -> pd.Series:
    """Items to draw per stratum (index: stratum) for `size` more items, given `population`,
    `mean_probability` (NULL: unknown) and `drawn` (already drawn) per stratum."""
    s = strata.set_index("stratum")
    room = (s["population"] - s["drawn"]).clip(lower=0).astype(int)
    size = int(min(size, room.sum()))
    total = int(s["drawn"].sum()) + size
    p = s["mean_probability"].fillna(0.5).clip(0, 1)
    spread = np.sqrt(np.maximum(p * (1 - p), S_FLOOR ** 2))
    weight = s["population"] * spread
    k = len(s)
    floor = MIN_PER_STRATUM if total >= 2 * MIN_PER_STRATUM * k else (1 if total >= k else 0)
    target = np.minimum(s["population"], floor).astype(float)
    # Neyman for the rest, strata filled to their population in turn
    left = total - target.sum()
    free = s["population"] > target
    while left > 1e-9 and free.any():
        share = weight.where(free, 0)
        share = share / share.sum() if share.sum() > 0 else free.astype(float) / free.sum()
        add = np.minimum(share * left, s["population"] - target)
        target += add
        left -= add.sum()
        free = s["population"] - target > 1e-9
    need = (target - s["drawn"]).clip(lower=0)
    need = need / need.sum() * size if need.sum() > 0 else need
    base = np.floor(need).astype(int).clip(upper=room)
    # largest remainders, within each stratum's room
    for stratum in (need - base).sort_values(ascending=False).index:
        if base.sum() >= size:
            break
        if base[stratum] < room[stratum]:
            base[stratum] += 1
    while base.sum() < size:  # rounding left items over: any stratum with room
        stratum = (room - base).idxmax()
        base[stratum] += 1
    return base


def _attach_night(home: Home) -> tuple[duckdb.DuckDBPyConnection, str, str]:
    """A connection with the working state attached read-only as `state`; the published run it holds."""
    if not home.published_db.exists() or not home.state_db.exists():
        raise ReviewError(f"no published registry at {home.published_db}: run `registry run --home {home.root}` first")
    con = duckdb.connect()
    for alias, path in (("state", home.state_db), ("pub", home.published_db)):
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {alias} (READ_ONLY)")
    latest = "SELECT run_id, strftime(extract_date, '%Y-%m-%d') FROM {}.runs WHERE status = 'published' " \
             "ORDER BY finished_at DESC NULLS LAST LIMIT 1"
    state_run = con.execute(latest.format("state")).fetchall()
    pub_run = con.execute(latest.format("pub")).fetchall()
    if not state_run or not pub_run or state_run[0][0] != pub_run[0][0]:
        con.close()
        raise ReviewError("the published registry and the working state are of different runs (a run is being "
                          "published right now?): try again in a minute")
    con.execute("USE state")
    return con, state_run[0][0], state_run[0][1]


def _card_sql(alias: str, columns: set[str]) -> str:
    fields = ", ".join(f"{c} := {alias}.{c}" for c in CARD_FIELDS if c in columns)
    return f"struct_pack({fields})"


def draw_sample(home: Home, size: int, seed: int | None = None) -> DrawResult:
    """Draw `size` more pairs of the published night into the review queue; returns what was drawn."""
    if size <= 0:
        raise ReviewError("--size must be positive")
    seed = secrets.randbelow(2 ** 31) if seed is None else int(seed)
    folder = home.audit_samples
    earlier = samples.samples(folder)
    con, run_id, extract_date = _attach_night(home)
    try:
        con.execute(f"CREATE TEMP TABLE audit_frame AS {frames.strata_sql('(' + frames.frame_sql() + ')')}")
        strata = con.execute("""
            SELECT stratum, any_value(same_resident) AS same_resident, any_value(band) AS band,
                   CASE WHEN count(DISTINCT departments) = 1 THEN any_value(departments)
                        ELSE string_agg(DISTINCT departments, ', ' ORDER BY departments) END AS departments,
                   count(*) AS population, avg(match_probability) AS mean_probability
            FROM temp.audit_frame GROUP BY stratum ORDER BY stratum""").df()
        mine = next((s for s in earlier if s.run_id == run_id), None)
        taken = mine.items[["record_l", "record_r", "stratum"]] if mine is not None else \
            pd.DataFrame({"record_l": pd.Series(dtype=str), "record_r": pd.Series(dtype=str),
                          "stratum": pd.Series(dtype=str)})
        drawn_before = taken.groupby("stratum").size()
        strata["drawn"] = strata["stratum"].map(drawn_before).fillna(0).astype(int)
        quota = allocate(strata, size)
        con.register("audit_quota", quota.rename("quota").rename_axis("stratum").reset_index())
        con.register("audit_taken", taken)
        columns = {r[0] for r in con.execute("DESCRIBE records").fetchall()}
        picked = con.execute(f"""
            WITH candidates AS (
                SELECT f.*, row_number() OVER (PARTITION BY f.stratum
                    ORDER BY md5(?::VARCHAR || '|' || f.record_uid_l || '|' || f.record_uid_r)) AS k
                FROM temp.audit_frame f
                ANTI JOIN audit_taken t ON t.record_l = f.record_uid_l AND t.record_r = f.record_uid_r)
            SELECT c.record_uid_l, c.record_uid_r, c.stratum, c.match_probability, c.same_resident,
                   to_json({_card_sql('rl', columns)})::VARCHAR AS card_l,
                   to_json({_card_sql('rr', columns)})::VARCHAR AS card_r, rl.name AS name_l, rr.name AS name_r,
                   md5(concat_ws('|', rl.record_hash, rr.record_hash)) AS evidence_hash
            FROM candidates c JOIN audit_quota q USING (stratum)
            JOIN records rl ON rl.record_uid = c.record_uid_l JOIN records rr ON rr.record_uid = c.record_uid_r
            WHERE c.k <= q.quota ORDER BY c.stratum, c.k""", [str(seed)]).df()
        frame_pairs = int(strata["population"].sum())
    finally:
        con.close()
    now = dt.datetime.now(dt.timezone.utc)
    sample_id = now.strftime("%Y%m%dT%H%M%S") + "-" + hashlib.md5(f"{run_id}|{seed}|{now}".encode()).hexdigest()[:8]
    items = [{
        "item_id": item_id_for("audit_sample", f"{r.record_uid_l}|{r.record_uid_r}"),
        "record_l": r.record_uid_l, "record_r": r.record_uid_r, "stratum": r.stratum,
        "match_probability": None if pd.isna(r.match_probability) else float(r.match_probability),
        "same_resident": bool(r.same_resident), "priority": PRIORITY,
        "summary": f"audit: are {r.name_l or '?'} ({r.record_uid_l}) and {r.name_r or '?'} ({r.record_uid_r}) "
                   "one person?",
        "evidence": {"records": [json.loads(r.card_l), json.loads(r.card_r)],
                     "note": "a randomly drawn pair for estimating the registry's accuracy: decide from the "
                             "records alone"},
        "evidence_hash": r.evidence_hash,
    } for r in picked.itertuples(index=False)]
    strata["drawn"] = strata["drawn"] + strata["stratum"].map(quota).fillna(0).astype(int)
    draw = {"sample_id": sample_id, "run_id": run_id, "extract_date": extract_date,
            "drawn_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "seed": seed, "requested": size,
            "frame": {"pairs": frame_pairs, "covers": frames.COVERS},
            "strata": strata.assign(mean_probability=strata["mean_probability"].astype(object).where(
                strata["mean_probability"].notna(), None)).to_dict(orient="records"),
            "items": items}
    path = samples.write_draw(folder, draw)
    return DrawResult(sample_id, run_id, extract_date, len(items), int(strata["drawn"].sum()), frame_pairs,
                      len(strata), seed, str(path))
