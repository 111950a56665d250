"""Audit samples on disk: HOME/review/audit_samples/<sample_id>.json, one file per draw, written whole
(temp file and rename, owner-only like the decisions) and never changed. Decisions on their items live
with every other decision in HOME/review/decisions.jsonl.

A file holds the night it was drawn from (run_id, extract_date), its frame's strata with their
populations, and its items: the record pair, its stratum, and what the registry said of it that night
(probability, same resident or not; never shown to the officer deciding it). Every draw on one run
samples the same frame, so the draws of a run together are one stratified sample: within each stratum
a later draw takes pairs no earlier draw took, and simple random samples taken one after another
without replacement are one simple random sample.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from registry.access.files import private_dir, write_private

AUDIT_KIND = "audit_sample"  # registry.review.items.audit_sample


@dataclass
class Sample:
    """All draws on one run: the frame's strata and the items drawn so far."""

    run_id: str
    extract_date: str
    strata: pd.DataFrame     # stratum, same_resident, band, departments, population, mean_probability, drawn
    items: pd.DataFrame      # item_id, record_l, record_r, stratum, match_probability, same_resident, sample_id
    drawn_at: str            # of the latest draw


def write_draw(folder: Path, draw: dict) -> Path:
    """Write one draw whole (a reader sees it all or not at all), readable by the registry's user only: it
    holds the records of its pairs. Returns its path."""
    private_dir(folder)
    path = folder / f"{draw['sample_id']}.json"
    write_private(path, json.dumps(draw, ensure_ascii=False, default=str).encode("utf-8"))
    return path


def read_draws(folder: Path) -> list[dict]:
    """Every draw in the folder, oldest first."""
    if not folder.exists():
        return []
    draws = []
    for path in folder.glob("*.json"):
        try:
            draws.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a readable audit sample ({exc})") from exc
    return sorted(draws, key=lambda d: (d["drawn_at"], d["sample_id"]))


def samples(folder: Path) -> list[Sample]:
    """The draws grouped by the run they sampled, oldest run first."""
    by_run: dict[str, list[dict]] = {}
    for draw in read_draws(folder):
        by_run.setdefault(draw["run_id"], []).append(draw)
    out = []
    for run_id, draws in by_run.items():
        items = pd.DataFrame([{**item, "sample_id": d["sample_id"]} for d in draws for item in d["items"]],
                             columns=["item_id", "record_l", "record_r", "stratum", "match_probability",
                                      "same_resident", "sample_id"])
        strata = pd.DataFrame(draws[-1]["strata"]).drop(columns=["drawn"], errors="ignore")
        drawn = items.groupby("stratum").size()
        strata["drawn"] = strata["stratum"].map(drawn).fillna(0).astype(int)
        out.append(Sample(run_id, draws[0]["extract_date"], strata, items, draws[-1]["drawn_at"]))
    return sorted(out, key=lambda s: (s.extract_date, s.drawn_at))


def queue_items(folder: Path) -> pd.DataFrame:
    """Every drawn item as a review queue row (item_id, kind, priority, resident_id, summary, subject,
    evidence, evidence_hash, first_raised_date), without what the registry said of the pair."""
    rows = []
    for draw in read_draws(folder):
        for item in draw["items"]:
            rows.append({"item_id": item["item_id"], "kind": AUDIT_KIND, "priority": item.get("priority", 4),
                         "resident_id": None, "summary": item["summary"],
                         "subject": json.dumps({"record_l": item["record_l"], "record_r": item["record_r"],
                                                "sample_id": draw["sample_id"]}, ensure_ascii=False),
                         "evidence": json.dumps(item["evidence"], ensure_ascii=False, default=str),
                         "evidence_hash": item["evidence_hash"], "first_raised_date": draw["drawn_at"][:10]})
    frame = pd.DataFrame(rows, columns=["item_id", "kind", "priority", "resident_id", "summary", "subject",
                                        "evidence", "evidence_hash", "first_raised_date"])
    # a pair drawn again on a later night is one item: its first draw stands
    return frame.drop_duplicates("item_id", keep="first")
