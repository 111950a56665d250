"""An officer who knows the truth: decides every open audit_sample item through `registry review`, as an
officer would at a terminal, by the generator's ground truth. The items' two records are read from the
queue in one query (what `registry review show` prints of each, without a command per item: hundreds
of items otherwise cost a test module tens of seconds)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pandas as pd

from registry.cli import main
from registry.home import Home
from registry.review import published


def truth_of(path: Path) -> dict[str, str]:
    """record (department:source_record_id) -> person_id."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    return dict(zip(t["department"] + ":" + t["source_record_id"], t["person_id"]))


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, f"registry {' '.join(argv)} exited {code}: {out.getvalue()}"
    return out.getvalue()


def _records(home: Path) -> dict[str, tuple[str, str]]:
    """item_id -> (record_l, record_r) of every audit_sample item in the queue."""
    con = published.connect(Home.at(home))
    try:
        rows = con.execute("SELECT item_id, subject->>'record_l', subject->>'record_r' FROM queue "
                           "WHERE kind = 'audit_sample'").fetchall()
    finally:
        con.close()
    return {item_id: (left, right) for item_id, left, right in rows}


def decide_audit_items(home: Path, truth: dict[str, str], limit: int | None = None) -> int:
    """Decide the open audit items (all, or the first `limit` in the queue's order); returns how many."""
    items = json.loads(_run(["review", "list", "--home", str(home), "--kind", "audit_sample", "--json"]))
    records = _records(home)
    decided = 0
    for item in items[:limit]:
        left, right = records[item["item_id"]]
        same = truth[left] == truth[right]
        _run(["review", "decide", item["item_id"], "--home", str(home), "--same" if same else "--different",
              "--by", "truth", "--reason", "ground truth of the generated night"])
        decided += 1
    return decided
