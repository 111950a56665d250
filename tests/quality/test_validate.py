"""registry.quality.validate: runs a stored suite and sorts failures by severity."""

import json

import pandas as pd
import pytest

from registry.quality import validate


@pytest.fixture
def suite_dir(tmp_path):
    suite = {
        "name": "people",
        "expectations": [
            {"type": "expect_column_to_exist", "kwargs": {"column": "key"}, "meta": {"severity": "block"}},
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "key"},
             "meta": {"severity": "block", "description": "record key present"}},
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "sex", "value_set": ["男", "女"]},
             "meta": {"severity": "warn"}},
            # no severity: a warning
            {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "id", "regex": r"^\d{17}[\dX]$",
                                                                     "mostly": 0.5}},
        ],
    }
    (tmp_path / "people.json").write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def test_clean_frame_passes(suite_dir):
    df = pd.DataFrame({"key": ["a", "b"], "sex": ["男", "女"], "id": ["11010119900307663X", "110101199003076638"]})
    out = validate(df, "people", directory=suite_dir)
    assert out.success
    assert out.blocking_failures == [] and out.warnings == []
    assert len(out.results) == 4 and all(r["success"] for r in out.results)
    assert out.statistics["rows"] == 2


def test_failures_are_classified_by_severity(suite_dir):
    df = pd.DataFrame({"key": ["a", None, "c"], "sex": ["男", "M", "女"], "id": ["x", "y", "110101199003076638"]})
    out = validate(df, "people", directory=suite_dir)
    assert not out.success
    assert [f["type"] for f in out.blocking_failures] == ["expect_column_values_to_not_be_null"]
    assert out.blocking_failures[0]["unexpected_count"] == 1
    assert sorted(f["type"] for f in out.warnings) == ["expect_column_values_to_be_in_set",
                                                       "expect_column_values_to_match_regex"]
    in_set = next(f for f in out.warnings if f["type"] == "expect_column_values_to_be_in_set")
    assert in_set["partial_unexpected_list"] == ["M"]


def test_missing_column_blocks(suite_dir):
    df = pd.DataFrame({"sex": ["男"], "id": ["110101199003076638"]})
    out = validate(df, "people", directory=suite_dir)
    assert not out.success
    assert {f["type"] for f in out.blocking_failures} == {"expect_column_to_exist",
                                                          "expect_column_values_to_not_be_null"}


def test_unknown_suite_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nosuch.json"):
        validate(pd.DataFrame({"a": [1]}), "nosuch", directory=tmp_path)


def test_bad_severity_is_refused(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"expectations": [
        {"type": "expect_column_to_exist", "kwargs": {"column": "a"}, "meta": {"severity": "fatal"}}]}))
    with pytest.raises(ValueError, match="fatal"):
        validate(pd.DataFrame({"a": [1]}), "s", directory=tmp_path)


@pytest.mark.parametrize("rows, bad, blocks", [
    (5, 1, False),      # one malformed number among five new rows: a bad value, not a bad delivery
    (25, 4, False),     # 16% of 25: within what chance gives on so few rows
    (50, 50, True),     # every value of a small delivery broken: a bad delivery
    (200, 40, True),    # 20% of 200 rows: the share as written
    (200, 30, False),   # 15% of 200: at the share
])
def test_a_share_never_blocks_on_a_handful_of_rows(tmp_path, rows, bad, blocks):
    (tmp_path / "ids.json").write_text(json.dumps({"expectations": [
        {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "id", "regex": r"^\d{17}[\dX]$",
                                                                 "mostly": 0.85}, "meta": {"severity": "block"}}]}))
    df = pd.DataFrame({"id": ["11010119800101001X"] * (rows - bad) + ["ABC"] * bad})
    out = validate(df, "ids", directory=tmp_path)
    assert out.success is not blocks
    if not blocks and bad / rows > 0.15:  # failed, but on too few rows to block: a warning that says so
        (warning,) = out.warnings
        assert "too few to judge a share by" in warning["description"]
