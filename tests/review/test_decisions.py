"""Decisions: append-only journal, concurrent officers, validation, and the constraint tables for the run."""

from __future__ import annotations

import json
import multiprocessing
import threading

import duckdb
import pytest

from registry.home import Home
from registry.review import ReviewError, item_id_for, journal
from registry.review.decisions import load_decisions, read_decisions, record_decision

UL_PAIR = ("family_planning:JS0000000001", "public_security:GA0000000001")
UL_ITEM = item_id_for("uncertain_link", "|".join(UL_PAIR))
CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")


def _lines(home: Home) -> list[dict]:
    return [json.loads(line) for line in home.decisions.read_text(encoding="utf-8").splitlines()]


def test_second_decision_appends_and_latest_wins(published_home):
    home = published_home
    first = record_decision(home, item_id=UL_ITEM, decision="same", decided_by="王科长", reason="same phone")
    second = record_decision(home, item_id=UL_ITEM, decision="different", decided_by="李干事", reason="twins")

    lines = _lines(home)
    assert [l["decision_id"] for l in lines] == [first["decision_id"], second["decision_id"]]
    assert [l["decision"] for l in lines] == ["same", "different"]
    assert lines[0]["record_l"], lines[0]["record_r"] == UL_PAIR
    assert lines[0]["evidence_hash"] and lines[0]["kind"] == "uncertain_link"
    assert list(read_decisions(home)["decided_by"]) == ["王科长", "李干事"]

    con = duckdb.connect()
    assert load_decisions(con, home.decisions) == {"link_decisions": 1, "value_overrides": 0, "unreadable_lines": 0,
                                                   "unreadable_line_numbers": []}
    assert con.execute("SELECT record_uid_l, record_uid_r, same, decision_id, decided_by FROM link_decisions").fetchall() \
        == [(*UL_PAIR, False, second["decision_id"], "李干事")]


def _decide_many(home_root: str, officer: str, n: int) -> None:
    home = Home.at(home_root)
    for i in range(n):
        record_decision(home, item_id=UL_ITEM if i % 2 else CONFLICT_ITEM, decision="dismiss" if i % 2 else "value",
                        value=f"1980-01-{i % 28 + 1:02d}", decided_by=officer, reason=f"{officer} #{i}")


def test_officers_deciding_at_once_keep_every_decision(published_home):
    n = 10
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_decide_many, args=(str(published_home.root), f"officer-{k}", n)) for k in range(2)]
    threads = [threading.Thread(target=_decide_many, args=(str(published_home.root), f"clerk-{k}", n)) for k in range(2)]
    for w in procs + threads:
        w.start()
    for w in procs + threads:
        w.join(120)
    assert all(p.exitcode == 0 for p in procs)

    lines = _lines(published_home)  # every line parses: no torn or interleaved writes
    assert len(lines) == 4 * n
    assert len({l["decision_id"] for l in lines}) == 4 * n
    for who in ("officer-0", "officer-1", "clerk-0", "clerk-1"):
        assert sorted(l["reason"] for l in lines if l["decided_by"] == who) == sorted(f"{who} #{i}" for i in range(n))
    # Line order is decision order.
    assert [l["decided_at"] for l in lines] == sorted(l["decided_at"] for l in lines)


def test_load_decisions_builds_constraint_tables(published_home):
    home = published_home
    record_decision(home, decision="same", record_l="public_security:GA0000000007", record_r="civil_affairs:MZ0000000007",
                    decided_by="王科长", reason="same disability certificate")
    record_decision(home, item_id=CONFLICT_ITEM, decision="value", value="1980-01-02", decided_by="王科长",
                    reason="birth certificate seen")
    record_decision(home, item_id=UL_ITEM, decision="same", decided_by="王科长", reason="same phone")
    record_decision(home, item_id=UL_ITEM, decision="dismiss", decided_by="王科长", reason="not sure after all")

    con = duckdb.connect()
    load_decisions(con, home.decisions)
    # Pair ordered l < r whatever the order typed; the dismissed pair carries no constraint any more.
    assert con.execute("SELECT record_uid_l, record_uid_r, same, decided_by FROM link_decisions").fetchall() == [
        ("civil_affairs:MZ0000000007", "public_security:GA0000000007", True, "王科长")]
    assert con.execute("SELECT resident_id, attribute, value FROM value_overrides").fetchall() == [
        ("R1", "birth_date", "1980-01-02")]
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'link_decisions'").fetchall())
    assert types["same"] == "BOOLEAN" and types["decided_at"] == "TIMESTAMP"


def test_no_decisions_file_gives_empty_tables(tmp_path):
    con = duckdb.connect()
    assert load_decisions(con, tmp_path / "none.jsonl") == {"link_decisions": 0, "value_overrides": 0,
                                                            "unreadable_lines": 0, "unreadable_line_numbers": []}
    cols = [r[0] for r in con.execute("DESCRIBE value_overrides").fetchall()]
    assert cols == ["resident_id", "attribute", "value", "decision_id", "decided_by", "decided_at"]


# The library speaks of decisions, never of a command's flags or a page's fields: `field` names what is
# wrong, and the command line and the web page put it in their own words (test_review_cli, test_review_web).
@pytest.mark.parametrize("kwargs, message, field", [
    (dict(item_id=UL_ITEM, decision="same", decided_by="", reason="x"), "the officer deciding is required", "decided_by"),
    (dict(item_id=UL_ITEM, decision="same", decided_by="王", reason="  "), "the reason is required", "reason"),
    (dict(item_id="ul-0000000000000000", decision="same", decided_by="王", reason="x"),
     "unknown review item 'ul-0000000000000000'", None),
    (dict(item_id=CONFLICT_ITEM, decision="same", decided_by="王", reason="x"),
     "a conflict item takes value / dismiss, not same", "decision"),
    (dict(item_id=CONFLICT_ITEM, decision="value", value=" ", decided_by="王", reason="x"), "the value is required",
     "value"),
    (dict(decision="same", record_l="labour:LD0000000001", record_r="labour:LD9999999999", decided_by="王", reason="x"),
     "not in the published crosswalk: labour:LD9999999999", None),
    (dict(decision="same", record_l="LD0000000001", record_r="labour:LD0000000006", decided_by="王", reason="x"),
     "not written department:source_record_id", None),
])
def test_invalid_decisions_are_refused_with_a_clear_message(published_home, kwargs, message, field):
    with pytest.raises(ReviewError, match=message.replace("(", r"\(").replace("/", "/")) as refused:
        record_decision(published_home, **kwargs)
    assert refused.value.field == field
    assert "--" not in str(refused.value)   # no command-line flag in the library's words
    assert not published_home.decisions.exists()


def test_no_published_registry_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewError, match="no published registry"):
        record_decision(Home(tmp_path), item_id=UL_ITEM, decision="same", decided_by="王", reason="x")


def test_a_last_line_still_being_written_is_read_next_time(published_home):
    record_decision(published_home, item_id=UL_ITEM, decision="same", decided_by="王", reason="x")
    with open(published_home.decisions, "a", encoding="utf-8") as f:
        f.write('{"decision": "same", "decided_by": "half-wri')  # an append in progress: no newline yet
    assert len(read_decisions(published_home)) == 1


def test_a_bad_line_anywhere_is_reported_and_skipped_and_no_good_decision_is_lost(published_home):
    """Behaviour changed (issue 13): a line that is no decision used to make every reader refuse the file
    until someone edited it by hand; now it is skipped and reported with its number, never fatal."""
    first = record_decision(published_home, item_id=UL_ITEM, decision="same", decided_by="王", reason="x")
    with open(published_home.decisions, "a", encoding="utf-8") as f:
        f.write('{"decision": "same", "decided_by": "torn\n')  # a complete line that is no decision
        f.write('[1, 2]\n{"decision": "maybe", "decided_at": "2026-11-20T01:02:03.000000Z"}\n')
    second = record_decision(published_home, item_id=UL_ITEM, decision="different", decided_by="王", reason="y")
    assert list(read_decisions(published_home)["decision_id"]) == [first["decision_id"], second["decision_id"]]
    problems = journal.problems(published_home.decisions)
    assert [p.split(": ")[1] for p in problems] == ["line 2 skipped", "line 3 skipped", "line 4 skipped"]
    assert "not JSON" in problems[0] and "not a JSON object" in problems[1] and "no known decision" in problems[2]
    con = duckdb.connect()
    counts = load_decisions(con, published_home.decisions)
    assert (counts["link_decisions"], counts["unreadable_lines"], counts["unreadable_line_numbers"]) == (1, 3, [2, 3, 4])
    assert con.execute("SELECT same, decision_id FROM link_decisions").fetchall() == [(False, second["decision_id"])]


def test_a_torn_tail_is_cut_back_before_the_next_append(published_home):
    """A crash tore the last write: the next decision does not leave the torn bytes mid-file."""
    first = record_decision(published_home, item_id=UL_ITEM, decision="same", decided_by="王", reason="x")
    good = published_home.decisions.read_bytes()
    torn = '{"decision_id": "abc", "item_id": "' + UL_ITEM + '", "decision": "diff'
    with open(published_home.decisions, "a", encoding="utf-8") as f:
        f.write(torn)
    assert len(read_decisions(published_home)) == 1  # read meanwhile: the torn tail is skipped, and said so
    assert "no newline at the end" in journal.problems(published_home.decisions)[0]

    second = record_decision(published_home, item_id=UL_ITEM, decision="different", decided_by="王", reason="y")
    text = published_home.decisions.read_bytes()
    assert text.startswith(good) and text.count(b"\n") == 2 and b"diff\"" not in text.replace(b'"different"', b"")
    assert [l["decision_id"] for l in _lines(published_home)] == [first["decision_id"], second["decision_id"]]
    assert journal.problems(published_home.decisions) == []
    kept = [json.loads(l) for l in (published_home.review_dir / "decisions.jsonl.torn").read_text(encoding="utf-8").splitlines()]
    assert [k["text"] for k in kept] == [torn] and kept[0]["offset"] == len(good)


def test_a_whole_decision_missing_only_its_newline_is_kept(published_home):
    first = record_decision(published_home, item_id=UL_ITEM, decision="same", decided_by="王", reason="x")
    text = published_home.decisions.read_text(encoding="utf-8")
    published_home.decisions.write_text(text.rstrip("\n"), encoding="utf-8")  # torn right before the newline
    assert list(read_decisions(published_home)["decision_id"]) == [first["decision_id"]]
    second = record_decision(published_home, item_id=UL_ITEM, decision="different", decided_by="王", reason="y")
    assert [l["decision_id"] for l in _lines(published_home)] == [first["decision_id"], second["decision_id"]]
    assert not (published_home.review_dir / "decisions.jsonl.torn").exists()
