"""`registry run --retrain` on a generated night with officers' decisions: the night is still linked with the
committed model; a candidate trained with the decisions as labels is written beside a report of what it
would change, and no decided pair is clustered against its decision."""

from __future__ import annotations

import json

import duckdb
import pytest

from registry.cli import main
from registry.linkage.training import load_model
from tests.accuracy.truth_officer import decide_audit_items, truth_of

pytestmark = pytest.mark.slow

PEOPLE = 2500
DATE = "2026-11-20"


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrain")
    home, landing = root / "home", root / "landing"
    assert main(["generate", "--people", str(PEOPLE), "--date", DATE, "--out", str(landing), "--seed", "21",
                 "--truth", str(root / "truth.csv")]) == 0
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", DATE]) == 0
    assert main(["review", "sample", "--home", str(home), "--size", "120", "--seed", "2"]) == 0
    decided = decide_audit_items(home, truth_of(root / "truth.csv"))
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", DATE, "--retrain"]) == 0
    reports = list((home / "models").glob("model-*.report.json"))
    yield home, decided, json.loads(reports[0].read_text(encoding="utf-8")) if reports else None


def test_the_night_stays_on_the_committed_model(retrained):
    home, _, _ = retrained
    con = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    try:
        version = con.execute("SELECT value FROM state_meta WHERE key = 'model_version'").fetchall()[0][0]
        modes = [r[0] for r in con.execute(
            "SELECT mode FROM runs WHERE status = 'published' ORDER BY finished_at").fetchall()]
    finally:
        con.close()
    assert version == load_model().version
    assert modes == ["full", "incremental"]  # retraining no longer rebuilds the night


def test_the_candidate_learns_from_the_decisions_and_says_what_it_changes(retrained):
    home, decided, report = retrained
    assert report is not None
    assert report["labels"]["same"] + report["labels"]["different"] == decided
    assert report["labels"]["same"] > 0
    candidate = json.loads((home / "models" / report["model_path"].split("/")[-1]).read_text(encoding="utf-8"))
    assert candidate["registry_model"]["labelled_pairs"] == report["labels"]["same"]
    assert report["candidate_version"] != report["committed_version"]
    levels = {(p["comparison"], p["level"]) for p in report["parameters"]}
    assert ("id_number", "exact, valid") in levels
    assert all({"match_weight_committed", "match_weight_without_labels", "match_weight_candidate"} <= set(p)
               for p in report["parameters"])
    assert {"gained", "lost", "by_department_pair", "committed", "candidate"} <= set(report["links"])
    assert report["links"]["committed"] > 0 and report["links"]["candidate"] > 0
    assert {"pairs_gained", "pairs_lost", "residents_merged", "residents_split"} <= set(report["residents"])
    assert (home / "models" / report["report_path"].split("/")[-1]).read_text(encoding="utf-8").startswith(
        "# Candidate linkage model")


def test_no_decided_pair_is_clustered_against_its_decision(retrained):
    _, decided, report = retrained
    assert report["decided_pairs"]["decided"] == decided
    assert report["decided_pairs"]["clustered_against"] == 0
