"""The audit sample as officers use it, on a generated night whose truth is known: `registry review sample`
draws pairs into the queue, an officer decides them through `registry review`, `registry quality`
estimates precision and recall whose 95% intervals hold the figures `registry evaluate` finds; the next
night carries the items and their decisions on."""

from __future__ import annotations

import contextlib
import io
import json

import duckdb
import pytest

from registry.cli import main
from tests.accuracy.truth_officer import decide_audit_items, truth_of

pytestmark = pytest.mark.slow

PEOPLE = 3000
NIGHT1, NIGHT2 = "2026-11-19", "2026-11-20"


def _json(argv: list[str]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0, argv
    text = out.getvalue()
    return json.loads(text.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    home, landing = root / "home", root / "landing"
    for date, previous in ((NIGHT1, None), (NIGHT2, NIGHT1)):
        argv = ["generate", "--people", str(PEOPLE), "--date", date, "--out", str(landing), "--seed", "13",
                "--truth", str(root / "truth" / f"{date}.csv")]
        assert main(argv + (["--previous", str(landing / previous)] if previous else [])) == 0
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT1]) == 0
    yield root, home, landing


@pytest.fixture(scope="module")
def audited(night):
    """A sample of 300 drawn (250, then 50 more), every item decided from the truth through `registry review`."""
    root, home, _ = night
    first = _json(["review", "sample", "--home", str(home), "--size", "250", "--seed", "3", "--json"])
    more = _json(["review", "sample", "--home", str(home), "--size", "50", "--seed", "4", "--json"])
    listed = _json(["review", "list", "--home", str(home), "--kind", "audit_sample", "--json"])
    truth = truth_of(root / "truth" / f"{NIGHT1}.csv")
    # a machine-raised item decided first: it must not count as part of the random sample
    uncertain = _json(["review", "list", "--home", str(home), "--kind", "uncertain_link", "--json"])
    assert main(["review", "decide", uncertain[0]["item_id"], "--home", str(home), "--dismiss", "--by", "officer",
                 "--reason", "looked at it"]) == 0
    decided = decide_audit_items(home, truth)
    quality = _json(["quality", "--home", str(home), "--json"])
    evaluated = _json(["evaluate", "--home", str(home), "--truth", str(root / "truth" / f"{NIGHT1}.csv")])
    return first, more, listed, decided, quality, evaluated


def test_the_sample_enters_the_queue_as_its_own_kind(audited):
    first, more, listed, _, _, _ = audited
    assert first["drawn"] == 250 and more["drawn"] == 50 and more["sample_size"] == 300
    assert len(listed) == 300 and len({i["item_id"] for i in listed}) == 300  # the second draw took new pairs
    assert all(i["kind"] == "audit_sample" and i["status"] == "open" for i in listed)


def test_an_item_shows_the_two_records_and_not_the_machines_opinion(night, audited):
    _, home, _ = night
    item_id = audited[2][0]["item_id"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["review", "show", item_id, "--home", str(home), "--json"]) == 0
    item = json.loads(out.getvalue())
    assert set(item["subject"]) >= {"record_l", "record_r"}
    assert [r["record_uid"] for r in item["evidence"]["records"]] == [item["subject"]["record_l"],
                                                                     item["subject"]["record_r"]]
    assert "match_probability" not in item["evidence"] and "same_resident" not in item["evidence"]


def test_estimates_hold_the_true_figures(audited):
    _, _, _, decided, quality, evaluated = audited
    assert decided == 300 and quality["sample_decided"] == 300 and quality["sample_size"] == 300
    lo, hi = quality["precision_ci"]
    assert lo <= evaluated["pairwise_precision"] <= hi, (quality, evaluated)
    lo, hi = quality["recall_ci"]
    assert lo <= evaluated["pairwise_recall"] <= hi, (quality, evaluated)
    assert hi - lo < 0.05  # an interval that says something


def test_decisions_on_the_sample_hold_in_the_next_night(night, audited):
    _, home, landing = night
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT2]) == 0
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        queue = con.execute("SELECT status, count(*) FROM review_queue WHERE kind = 'audit_sample' "
                            "GROUP BY 1").fetchall()
        resident = dict(con.execute("SELECT department || ':' || source_record_id, resident_id "
                                    "FROM crosswalk").fetchall())
    finally:
        con.close()
    assert queue == [("decided", 300)]
    decisions = [json.loads(line) for line in (home / "review" / "decisions.jsonl").read_text().splitlines()]
    for d in decisions:
        if d["kind"] == "audit_sample" and d["record_l"] in resident and d["record_r"] in resident:
            same = resident[d["record_l"]] == resident[d["record_r"]]
            assert same == (d["decision"] == "same"), d
