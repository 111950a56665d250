"""A night written by the independent writer, through `registry run` and scored against its own truth.

(a) every delivered record is standardised or quarantined whole, by department, exactly;
(b) standardised identity numbers equal the true ones wherever the delivered value can give them;
(c) linkage accuracy against the writer's truth.
"""

from __future__ import annotations

import pytest

from registry.cli import main
from tests.independent.scoring import measure
from tests.independent.writer import write_night

pytestmark = pytest.mark.slow

PEOPLE = 2000
DATE = "2026-11-20"


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    root = tmp_path_factory.mktemp("independent")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    try:
        night = write_night(root / "landing", DATE, PEOPLE, seed=23, truth_path=root / "truth.csv")
        assert main(["run", "--home", str(root / "home"), "--landing", str(root / "landing"), "--date", DATE]) == 0
        return measure(root / "home", night)
    finally:
        mp.undo()


def test_every_delivered_record_is_standardised_or_quarantined(figures):
    for department, (written, standardised, quarantined) in figures["accounted"].items():
        assert written > 0, department
        assert standardised + quarantined == written, (department, written, standardised, quarantined)


def test_recoverable_identity_numbers_come_out_right(figures):
    ids = figures["id"]
    assert ids["recoverable"] > 1000
    assert ids["share"] >= 0.99, ids["examples_wrong"]
    assert ids["false_valid"] == 0  # never a valid-looking number that is not the person's


def test_linkage_accuracy(figures):
    linkage = figures["linkage"]
    assert linkage["pairwise_f1"] >= 0.98, linkage
    assert linkage["bcubed_f1"] >= 0.98, linkage
