"""One night of deliveries: draw (or carry forward) the population, build each department's records,
assign record keys, write the landing zone, the ground truth and the generator's own state."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from registry.contracts import DEPARTMENT_SPECS
from registry.generate.idnumbers import zfill

from registry.departments import (CIVIL_AFFAIRS, COLUMNS, DEPARTMENTS, FAMILY_PLANNING, LABOUR, PUBLIC_SECURITY,
                                  RECORD_KEYS)
from registry.generate import departments as dep
from registry.generate.population import make_people
from registry.generate import rates
from registry.generate.rates import ROWS_PER_PERSON, rate
from registry.generate.writers import write_delivery

KEY_PREFIX = {d.name: d.key_prefix for d in DEPARTMENT_SPECS.values()}
STATE_DIR = "generator_state"


@dataclass
class NightSummary:
    extract_date: str
    landing: Path
    truth_path: Path
    state_dir: Path
    people: int                                   # registered people (public security rows' persons)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    manifests: dict[str, bool] = field(default_factory=dict)
    changes: dict[str, int] = field(default_factory=dict)


def _rng(seed: int, extract_date: str, purpose: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(extract_date.replace("-", "")), purpose])


def assign_keys(records: pd.DataFrame, department: str, start: int) -> tuple[pd.DataFrame, int]:
    """Give rows without a key the next keys of the department (prefix + 10 digits)."""
    key = RECORD_KEYS[department]
    new = records[key].isna().to_numpy()
    k = int(new.sum())
    if not k:
        return records, start
    nums = zfill((start + np.arange(k)).astype("U10"), 10)
    records.loc[new, key] = np.char.add(KEY_PREFIX[department], nums).astype(object)
    return records, start + k


def add_duplicate_keys(records: pd.DataFrame, department: str, rng) -> pd.DataFrame:
    """A few rows repeated verbatim under the same key (an export glitch DEPARTMENTS.md allows)."""
    records = records[~records["_dup_key"]]
    share = rate("duplicate_key", department)
    # at least one where the department has the habit, so that small nights show it too
    k = max(int(round(len(records) * share)), 1 if share and len(records) >= 200 else 0)
    if not k:
        return records
    copies = records.iloc[rng.choice(len(records), k, replace=False)].copy()
    copies["_dup_key"] = True
    out = pd.concat([records, copies])
    return out.sort_values(RECORD_KEYS[department], kind="stable").reset_index(drop=True)


def build_first_night(people: pd.DataFrame, extract_date: str, seed: int):
    """Yield (department, records) one department at a time, so that only one is in memory."""
    n = int(people["registered"].sum())
    r = _rng(seed, extract_date, 11)
    ps = people[people["registered"].to_numpy()]
    dup = ps.sample(frac=rate("duplicate_person", PUBLIC_SECURITY), random_state=r.integers(2**31))
    yield PUBLIC_SECURITY, dep.public_security(pd.concat([ps, dup]).sort_index(kind="stable"), extract_date, r)
    del ps, dup
    r = _rng(seed, extract_date, 12)
    fp = dep.family_planning_members(people, extract_date, int(n * ROWS_PER_PERSON[FAMILY_PLANNING]), r)
    dup = fp.sample(frac=rate("duplicate_person", FAMILY_PLANNING), random_state=r.integers(2**31))
    yield FAMILY_PLANNING, dep.family_planning(pd.concat([fp, dup]).sort_index(kind="stable"), extract_date, r)
    del fp, dup
    r = _rng(seed, extract_date, 13)
    ca = dep.civil_affairs_members(people, extract_date, int(n * ROWS_PER_PERSON[CIVIL_AFFAIRS]), r)
    yield CIVIL_AFFAIRS, dep.civil_affairs(ca, extract_date, r)
    del ca
    r = _rng(seed, extract_date, 14)
    lb = dep.labour_members(people, extract_date, int(n * ROWS_PER_PERSON[LABOUR]), r)
    yield LABOUR, dep.labour(lb, extract_date, r)


def state_dir_for(landing: Path, extract_date: str) -> Path:
    return Path(landing).resolve().parent / STATE_DIR / extract_date


def generate_night(landing, date: str, people: int, seed: int = 0, truth_path=None, previous=None) -> NightSummary:
    """Write one night's four deliveries under landing/<date>/, the ground truth to truth_path
    (default: landing's parent/truth/<date>.csv; never inside landing) and the generator's state
    (landing's parent/generator_state/<date>/). With previous = landing/<earlier date>, the night
    follows that one: same people and record keys, plus births, deaths, moves and corrections.

    The seed draws the district as well as its people: every irregularity rate is the table's times a
    factor of the seed's (rates.varied). The truth's `irregularities` column lists, per record, what it
    received (';'-separated), for accuracy by irregularity."""
    if previous is not None:
        prev_state = state_dir_for(Path(previous).resolve().parent, Path(previous).resolve().name)
        if (prev_state / "meta.json").exists():
            seed = json.loads((prev_state / "meta.json").read_text(encoding="utf-8"))["seed"]
    with rates.varied(seed):
        return _generate_night(landing, date, people, seed, truth_path, previous)


def _generate_night(landing, date: str, people: int, seed: int, truth_path, previous) -> NightSummary:
    landing = Path(landing).resolve()
    truth_path = Path(truth_path).resolve() if truth_path else landing.parent / "truth" / f"{date}.csv"
    if truth_path == landing or landing in truth_path.parents:
        raise ValueError(f"the ground truth must not be written inside the landing zone: {truth_path}")
    changes: dict[str, int] = {}
    if previous is None:
        pop = make_people(_rng(seed, date, 1), people, date, unregistered=_unregistered(people))
        records = build_first_night(pop, date, seed)          # lazily, one department at a time
        counters = {d: 1 for d in DEPARTMENTS}
        meta = {"seed": int(seed), "people": int(people), "next_person": len(pop) + 1,
                "next_household": int(pop["household_index"].max()) + 1}
    else:
        from registry.generate.next_night import follow
        prev = Path(previous).resolve()
        prev_state = state_dir_for(prev.parent, prev.name)
        if not (prev_state / "meta.json").exists():
            raise FileNotFoundError(f"no generator state for {prev} (expected {prev_state}); "
                                    "the previous night must be one this generator wrote")
        meta = json.loads((prev_state / "meta.json").read_text(encoding="utf-8"))
        seed = meta["seed"] if seed is None else seed
        counters = meta["next_key"]
        # no names bound here to the loaded frames: follow() holds the only references and frees what it replaces
        pop, records, meta, changes = follow(pd.read_parquet(prev_state / "people.parquet"),
                                             {d: pd.read_parquet(prev_state / f"{d}.parquet") for d in DEPARTMENTS},
                                             meta, date, _rng(seed, date, 2))
        records = iter(records.items())
    night = landing / date
    summary = NightSummary(date, landing, truth_path, state_dir_for(landing, date),
                           int(pop["registered"].sum()), changes=changes)
    truth = []
    folder = summary.state_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)        # the state is whole again only when meta.json is back
    for i, (d, rec) in enumerate(records):
        rec, counters[d] = assign_keys(rec, d, counters[d])
        rec = add_duplicate_keys(rec, d, _rng(seed, date, 20 + i))
        r = _rng(seed, date, 30 + i)
        manifest = r.random() >= rate("manifest_missing", d)
        path, rows = write_delivery(rec, d, date, night / d, r, manifest=manifest)
        summary.rows[d], summary.files[d], summary.manifests[d] = rows, path, manifest
        ok = ~rec["_dup_key"].to_numpy() & ~rec["_invalid_json"].to_numpy()
        truth.append(pd.DataFrame({"department": d, "source_record_id": rec[RECORD_KEYS[d]].to_numpy()[ok],
                                   "person_id": rec["_person_id"].to_numpy()[ok],
                                   "irregularities": rec["_tags"].to_numpy(dtype=object)[ok]}))
        keep = [c for c in rec.columns if c in COLUMNS[d] or c.startswith("_")]
        rec[keep].to_parquet(folder / f"{d}.parquet", index=False)
        del rec
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(truth).to_csv(truth_path, index=False, encoding="utf-8")
    meta.update({"date": date, "next_key": counters, "seed": int(seed)})
    _save_state(folder, pop, meta)
    return summary


def _unregistered(n: int) -> int:
    """People known to civil affairs or labour but absent from the household register."""
    return int(np.ceil(n * (ROWS_PER_PERSON[CIVIL_AFFAIRS] * rate("orphan", CIVIL_AFFAIRS)
                            + ROWS_PER_PERSON[LABOUR] * rate("orphan", LABOUR)) * 1.1)) + 2


def _save_state(folder: Path, pop: pd.DataFrame, meta: dict) -> None:
    """People (records were saved as they were written); meta.json last, as the mark of a whole state."""
    pop.to_parquet(folder / "people.parquet", index=False)
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")
