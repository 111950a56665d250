"""Quality officers' decisions, made through `registry review`, change the next run and hold after it."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from registry.cli import main

pytestmark = pytest.mark.slow

PEOPLE = 1500
NIGHT1, NIGHT2 = "2026-11-19", "2026-11-20"
OFFICER = ["--by", "王科长", "--reason", "checked the paper files at the community office"]


def _q(home: Path, sql: str, params=None):
    con = duckdb.connect(str(home / "published" / "registry.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _resident_of(home: Path, record: str) -> str:
    dept, key = record.split(":")
    return _q(home, "SELECT resident_id FROM crosswalk WHERE department = ? AND source_record_id = ?", [dept, key])[0][0]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("decisions")
    landing, home = root / "landing", root / "home"
    assert main(["generate", "--people", str(PEOPLE), "--date", NIGHT1, "--out", str(landing), "--seed", "23",
                 "--truth", str(root / "truth1.csv")]) == 0
    # A labour clerk typed one person's birth date wrong: the departments now disagree on it.
    labour = next((landing / NIGHT1 / "labour").glob("*.jsonl"))
    lines = labour.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row.get("CSRQ") and row.get("SFZH") and len(str(row["SFZH"]).strip()) == 18:
            row["CSRQ"] = "1901年01月01日"
            lines[i] = json.dumps(row, ensure_ascii=False)
            disputed = f"labour:{row['GRBH']}"
            break
    labour.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (landing / NIGHT1 / "labour" / "manifest.json").unlink(missing_ok=True)
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT1]) == 0
    return root, landing, home, disputed


def test_decisions_change_the_next_run_and_hold_the_night_after(world, capsys):
    root, landing, home, disputed = world
    # A merged pair the officer says are different people.
    a, b = _q(home, """SELECT min(department || ':' || source_record_id), max(department || ':' || source_record_id)
                       FROM crosswalk GROUP BY resident_id HAVING count(*) = 2 ORDER BY resident_id LIMIT 1""")[0]
    # Two residents the officer says are one person.
    c, d = [r[0] for r in _q(home, """SELECT min(department || ':' || source_record_id) FROM crosswalk
                                      GROUP BY resident_id HAVING count(*) = 1 ORDER BY resident_id LIMIT 2""")]
    assert _resident_of(home, a) == _resident_of(home, b) and _resident_of(home, c) != _resident_of(home, d)
    assert main(["review", "link", a, b, "--different", "--home", str(home), *OFFICER]) == 0
    assert main(["review", "link", c, d, "--same", "--home", str(home), *OFFICER]) == 0

    # The departments disagree on a birth date: the officer says which is right.
    resident = _resident_of(home, disputed)
    item = _q(home, "SELECT item_id FROM review_queue WHERE kind = 'conflict' AND resident_id = ? "
                    "AND subject LIKE '%birth_date%'", [resident])
    assert item, "the disputed birth date was not queued as a conflict"
    golden_before = _q(home, "SELECT birth_date::VARCHAR FROM residents WHERE resident_id = ?", [resident])[0][0]
    assert main(["review", "decide", item[0][0], "--value", "1901-01-01", "--home", str(home), *OFFICER]) == 0

    # Rerun the same night: the decisions apply.
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT1]) == 0
    assert _resident_of(home, a) != _resident_of(home, b)
    assert _resident_of(home, c) == _resident_of(home, d)
    assert golden_before != "1901-01-01"
    assert _q(home, "SELECT birth_date::VARCHAR FROM residents WHERE resident_id = ?",
              [_resident_of(home, disputed)])[0][0] == "1901-01-01"
    assert _q(home, "SELECT status FROM review_queue WHERE item_id = ?", [item[0][0]])[0][0] == "decided"

    # And they hold the night after.
    assert main(["generate", "--people", str(PEOPLE), "--date", NIGHT2, "--out", str(landing), "--seed", "23",
                 "--truth", str(root / "truth2.csv"), "--previous", str(landing / NIGHT1)]) == 0
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", NIGHT2]) == 0
    present = {f"{d}:{k}" for d, k in _q(home, "SELECT department, source_record_id FROM crosswalk")}
    assert {a, b, c, d, disputed} <= present  # the seed keeps them all; otherwise this test proves nothing
    assert _resident_of(home, a) != _resident_of(home, b)
    assert _resident_of(home, c) == _resident_of(home, d)
    assert _q(home, "SELECT birth_date::VARCHAR FROM residents WHERE resident_id = ?",
              [_resident_of(home, disputed)])[0][0] == "1901-01-01"


def test_a_torn_line_in_the_decisions_file_is_skipped_and_reported_by_the_run(world, tmp_path, capsys):
    """A partial line followed by a normal decision: the run publishes, applies the good decision and
    says which line it skipped; nobody edits the file by hand."""
    import shutil

    root, landing, home, _ = world
    home_copy = tmp_path / "home"
    shutil.copytree(home, home_copy)
    a, b = _q(home_copy, """SELECT min(department || ':' || source_record_id), max(department || ':' || source_record_id)
                            FROM crosswalk GROUP BY resident_id HAVING count(*) = 2 ORDER BY resident_id DESC LIMIT 1""")[0]
    decisions = home_copy / "review" / "decisions.jsonl"
    before = decisions.read_text(encoding="utf-8").count("\n") if decisions.exists() else 0
    decisions.parent.mkdir(parents=True, exist_ok=True)
    with open(decisions, "a", encoding="utf-8") as f:
        f.write('{"decision_id": "x", "decision": "sa\n')  # torn, then a newline typed after it by hand
    assert main(["review", "link", a, b, "--different", "--home", str(home_copy), *OFFICER]) == 0
    capsys.readouterr()
    latest = _q(home_copy, "SELECT max(extract_date)::VARCHAR FROM runs WHERE status = 'published'")[0][0]
    assert main(["run", "--home", str(home_copy), "--landing", str(landing), "--date", latest, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"decisions: 1 line(s) of the decisions file are no decision and were skipped (line {before + 1})" in out
    assert _resident_of(home_copy, a) != _resident_of(home_copy, b)
