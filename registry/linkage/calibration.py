"""The uncertain band, chosen from measured calibration on districts the model never saw.

`model/calibration.json` is written by `benchmarks/linkage_benchmark.py --calibration-out`: for each
writer (the project's generator and the independently written one), over its held-out seeds, the links
per bin of predicted match probability and how many of them the writer's truth says are one person.
From it:

- the band's **top** is the lowest bin edge from which, in every bin above it and for every writer,
  at least TOP_PRECISION of the links are one person: above the top the machine joins without asking;
- the band's **bottom** is the lowest bin edge from which, in every bin up to the top and for at least
  one writer, at least BOTTOM_SHARE of the links are one person: below it the machine keeps apart
  without asking, because asking would mostly show an officer strangers.

The band always holds the match threshold (bottom <= MATCH_THRESHOLD < top). A bin with fewer than
MIN_PAIRS links (summed over a writer's seeds) says too little about that writer; a bin too small in
every writer is asked about (it adds few items): the top stops above it, the bottom goes below it.
"""

from __future__ import annotations

import json
from pathlib import Path

from registry.linkage.model import MATCH_THRESHOLD
from registry.package_files import package_file

CALIBRATION_PATH = package_file("linkage", "model", "calibration.json")
# Links joined without asking must be one person this often, bin by bin, for every writer.
TOP_PRECISION = 0.999
# Links asked about must be one person at least this often (in some writer), bin by bin.
BOTTOM_SHARE = 0.1
MIN_PAIRS = 20
# Used when no calibration file ships (a model retrained and not yet measured).
DEFAULT_BAND = (0.5, 0.99)


def pooled(rows: list[dict]) -> dict[tuple[float, float], dict]:
    """Bins of one writer's seeds summed: (from, to) -> {pairs, one_person}."""
    out: dict[tuple[float, float], dict] = {}
    for r in rows:
        b = out.setdefault((float(r["from"]), float(r["to"])), {"pairs": 0, "one_person": 0})
        b["pairs"] += int(r["pairs"])
        b["one_person"] += int(r["one_person"])
    return out


def choose_band(writers: dict[str, list[dict]], top_precision: float = TOP_PRECISION,
                bottom_share: float = BOTTOM_SHARE, min_pairs: int = MIN_PAIRS) -> tuple[float, float]:
    """(bottom, top) from each writer's calibration rows (from, to, pairs, one_person): see the module doc."""
    bins = [pooled(rows) for rows in writers.values() if rows]
    if not bins:
        return DEFAULT_BAND
    edges = sorted({edge for b in bins for edge in b})

    def share(b: dict) -> float | None:
        return b["one_person"] / b["pairs"] if b["pairs"] >= min_pairs else None

    top = 1.0
    for lo, hi in reversed(edges):  # down from 1 while every writer's bin is one person often enough
        shares = [s for s in (share(b[(lo, hi)]) for b in bins if (lo, hi) in b) if s is not None]
        if lo <= MATCH_THRESHOLD or not shares or min(shares) < top_precision:
            break
        top = lo
    bottom = MATCH_THRESHOLD
    for lo, hi in reversed(edges):  # down from the threshold while some writer's bin is worth asking about
        if lo >= MATCH_THRESHOLD:
            continue
        shares = [s for s in (share(b[(lo, hi)]) for b in bins if (lo, hi) in b) if s is not None]
        if shares and max(shares) < bottom_share:
            break
        bottom = lo
    return bottom, top


def read(path: Path | str = CALIBRATION_PATH) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def uncertain_band(path: Path | str = CALIBRATION_PATH) -> tuple[float, float]:
    """The band the committed calibration chooses (DEFAULT_BAND without one)."""
    if not Path(path).exists():
        return DEFAULT_BAND
    return choose_band(read(path)["writers"])


UNCERTAIN_BAND = uncertain_band()
