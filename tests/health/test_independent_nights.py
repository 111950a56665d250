"""Issue 17's check, on nights of the independent writer (tests/independent/writer.py), through the README's
commands: an ordinary night, a night with half of civil affairs' identity numbers blanked, another ordinary
night; the spoiled night must warn naming the department and the figure, the ordinary nights after the first
must stay silent (the last one judged against a baseline that holds the spoiled night). Then a sample of 300
is drawn on the last night with `registry review sample` and decided from the writer's truth through
`registry review`; the intervals `registry quality` gives must hold the figures `registry evaluate` finds.

The writer draws every night afresh: with one seed its people are the same each night, but outside public
security a record key may belong to another person the next night (keys are numbered as rows are written).
So the sample is drawn on the last night: decisions stick to record keys, and a key that changes person
would carry an officer's decision to someone else (the health check then reports residents with two valid
identity numbers, as it should).
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from registry.cli import main
from tests.accuracy.truth_officer import decide_audit_items, truth_of
from tests.health.spoil import blank_identity_numbers
from tests.health.test_spoiled_delivery import _warnings
from tests.independent.writer import write_night

pytestmark = pytest.mark.slow

PEOPLE, SEED, SAMPLE = 3000, 17, 300
NIGHTS = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
SPOILED = "2026-11-20"
ORDINARY = [NIGHTS[1], NIGHTS[3]]  # the first night has no baseline to be judged against


def _json(argv: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0, argv
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("independent_health")
    home, landing = root / "home", root / "landing"
    warnings, blanked = {}, 0
    for date in NIGHTS:
        write_night(landing, date, PEOPLE, seed=SEED, truth_path=root / "truth" / f"{date}.csv")
        if date == SPOILED:
            blanked = blank_identity_numbers(landing / date, "civil_affairs")
        assert main(["run", "--home", str(home), "--landing", str(landing), "--date", date, "--quiet"]) == 0
        warnings[date] = _warnings(home, date)
    truth_file = root / "truth" / f"{NIGHTS[-1]}.csv"
    drawn = _json(["review", "sample", "--home", str(home), "--size", str(SAMPLE), "--seed", "1", "--json"])
    decided = decide_audit_items(home, truth_of(truth_file))
    audit = {"drawn": drawn, "decided": decided,
             "quality": _json(["quality", "--home", str(home), "--json"]),
             "truth": _json(["evaluate", "--home", str(home), "--truth", str(truth_file)])}
    return warnings, audit, blanked


def test_the_sample_of_300_holds_the_true_precision_and_recall(nights):
    _, audit, _ = nights
    quality, truth = audit["quality"], audit["truth"]
    print("independent writer audit:", json.dumps({k: quality[k] for k in (
        "precision", "precision_ci", "recall", "recall_ci", "sample_decided")}),
        "truth:", truth["pairwise_precision"], truth["pairwise_recall"])
    assert audit["drawn"]["drawn"] == SAMPLE and audit["decided"] == SAMPLE == quality["sample_decided"]
    lo, hi = quality["precision_ci"]
    assert lo <= truth["pairwise_precision"] <= hi, (quality, truth)
    lo, hi = quality["recall_ci"]
    assert lo <= truth["pairwise_recall"] <= hi, (quality, truth)


def test_ordinary_nights_are_silent(nights):
    warnings, _, _ = nights
    assert {date: warnings[date] for date in ORDINARY} == {date: [] for date in ORDINARY}


def test_the_spoiled_delivery_warns_naming_the_department_and_the_figure(nights):
    warnings, _, blanked = nights
    spoiled = warnings[SPOILED]
    print(f"independent writer, {blanked} civil_affairs identity numbers blanked:", spoiled)
    assert blanked > 50
    assert any("civil_affairs records with id_number filled in fell by" in w for w in spoiled), spoiled
    assert all("civil_affairs" in w for w in spoiled), spoiled
