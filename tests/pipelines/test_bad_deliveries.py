"""A night with one broken delivery file, written by the independent writer, through `registry run`:
the bad row is quarantined with its file and position, every good row is loaded (counted against a
clean run of the same night), and the night is published; a delivery that cannot be read at all is
refused with the registry left byte for byte as it was, until --accept-rejected lets the previous
delivery stand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from registry.cli import main
from tests.independent.writer import write_night
from tests.pipelines.faults import break_sheet_row, published, replace_line, rewrite_member, sha256

pytestmark = pytest.mark.slow

D1, D2 = "2026-11-19", "2026-11-20"
PEOPLE = 700
KEY = {"public_security": "人员编号", "family_planning": "个案编号", "civil_affairs": "对象编号", "labour": "GRBH"}


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_deliveries")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    try:
        for date in (D1, D2):
            write_night(root / "landing", date, PEOPLE, seed=71, xlsx_engine="xlsxwriter")
        base = root / "base"
        assert main(["run", "--home", str(base), "--landing", str(root / "landing"), "--date", D1, "--quiet"]) == 0
        clean = root / "clean"
        shutil.copytree(base, clean)
        assert main(["run", "--home", str(clean), "--landing", str(root / "landing"), "--date", D2, "--quiet"]) == 0
        return root, base, clean
    finally:
        mp.undo()


def _deliveries(home: Path) -> dict[str, tuple]:
    rows = published(home, "SELECT department, status, rows_delivered, rows_loaded, rows_quarantined FROM deliveries "
                           "WHERE run_extract_date = ?", [D2])
    return {d: tuple(r) for d, *r in rows}


def _crosswalk(home: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for department, key in published(home, "SELECT department, source_record_id FROM crosswalk"):
        out.setdefault(department, set()).add(key)
    return out


def _night_with(nights, tmp_path, monkeypatch, department: str, fault) -> tuple[Path, Path, str]:
    root, base, _ = nights
    landing = tmp_path / "landing"
    shutil.copytree(root / "landing", landing)
    home = tmp_path / "home"
    shutil.copytree(base, home)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    path, = (landing / D2 / department).glob(f"*_{D2.replace('-', '')}.*")
    return landing, home, fault(path)


def _line_with_key(path: Path, key: str, encoding: str) -> int:
    lines = path.read_bytes().decode(encoding).replace("\r\n", "\n").split("\n")
    return next(i for i, line in enumerate(lines, start=1) if key in line)


CASES = {
    # family planning: a sound zip, row 12 of the sheet is broken XML
    "broken_sheet_row": ("family_planning", 12),
    # labour: a 3 MB line that never closes its JSON object
    "three_mb_json_line": ("labour", 40),
    # civil affairs: a stray quote opening the name field, never closed
    "stray_quote": ("civil_affairs", 9),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_bad_row_is_quarantined_and_the_night_is_published_with_every_good_row(nights, tmp_path, monkeypatch,
                                                                                   case):
    department, line = CASES[case]
    _, _, clean = nights

    def fault(path: Path) -> str:
        if case == "broken_sheet_row":
            from python_calamine import CalamineWorkbook
            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("个案信息").to_python()
            return break_sheet_row(path, line, rows[line - 1][rows[0].index("个案编号")])
        if case == "three_mb_json_line":
            old = json.loads(replace_line(path, line, "x"))
            replace_line(path, line, '{"GRBH": "%s", "XM": "%s' % (old["GRBH"], "王" * 1_000_000))
            return old["GRBH"]
        old = replace_line(path, line, "x", encoding="utf-8")
        fields = old.split(",")
        fields[1] = '"' + fields[1]
        replace_line(path, line, ",".join(fields), encoding="utf-8")
        return fields[0].lstrip("\ufeff")

    landing, home, bad_key = _night_with(nights, tmp_path, monkeypatch, department, fault)
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0

    status, delivered, loaded, quarantined = _deliveries(home)[department]
    c_status, c_delivered, c_loaded, c_quarantined = _deliveries(clean)[department]
    assert (status, delivered, loaded, quarantined) == ("loaded", c_delivered, c_loaded - 1, c_quarantined + 1)
    (q_line, q_key, q_reason), = published(
        home, "SELECT line, record_key, reason FROM quarantine WHERE department = ? AND extract_date = ? "
              "AND reason LIKE 'unparseable_row%' OR (reason LIKE 'invalid_json%' AND department = ? "
              "AND record_key = ?)", [department, D2, department, bad_key])
    assert (q_line, q_key) == (line, bad_key)
    # nothing good was lost: every department's records are the clean night's, less the one broken row
    got, want = _crosswalk(home), _crosswalk(clean)
    assert got[department] == want[department] - {bad_key}
    assert all(got[d] == want[d] for d in want if d != department)
    assert published(home, "SELECT status FROM runs WHERE extract_date = ?", [D2]) == [("published",)]


def test_a_delivery_that_cannot_be_parsed_is_refused_until_accepted(nights, tmp_path, monkeypatch):
    """Broken shared strings: every string cell of the workbook is unreadable, so the delivery is
    rejected whole (a parser failure, not a crash); the registry stays byte for byte; --accept-rejected
    publishes with the department's previous delivery standing."""
    root, base, clean = nights

    def fault(path: Path) -> str:
        rewrite_member(path, "xl/sharedStrings.xml", lambda x: x.replace("<si>", "<si><&", 1))
        return ""

    landing, home, _ = _night_with(nights, tmp_path, monkeypatch, "family_planning", fault)
    before = {p.name: sha256(p) for p in (home / "published" / "registry.duckdb", home / "state" / "registry_state.duckdb")}
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 1
    after = {p.name: sha256(p) for p in (home / "published" / "registry.duckdb", home / "state" / "registry_state.duckdb")}
    assert after == before
    assert not list((home / "state" / "runs").iterdir())

    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet",
                 "--accept-rejected"]) == 0
    status, *_ = _deliveries(home)["family_planning"]
    assert status == "rejected"
    reason, = published(home, "SELECT reason FROM deliveries WHERE run_extract_date = ? AND department = ?",
                        [D2, "family_planning"])[0]
    assert "xl/sharedStrings.xml" in reason and f"the delivery of {D1}" in reason
    # family planning's records are the previous night's; the other departments' are tonight's
    got, tonight, previous = _crosswalk(home), _crosswalk(clean), _crosswalk(base)
    assert got["family_planning"] == previous["family_planning"]
    assert all(got[d] == tonight[d] for d in tonight if d != "family_planning")


def test_implausible_birth_dates_and_control_characters_are_noted_not_published(nights, tmp_path, monkeypatch):
    """A birth date of 1800-01-01 and a BEL in a name: the record is kept, the values noted with file and
    line, and neither reaches the golden record."""
    import csv
    import io

    _, _, clean = nights
    changed = {}

    def fault(path: Path) -> str:
        for line, (birth, name_suffix) in ((5, ("18000101", "\x07")), (6, ("20990101", "\x1b[2J"))):
            row = next(csv.reader(io.StringIO(replace_line(path, line, "x", encoding="gb18030"))))
            row[6], row[2] = birth, row[2] + name_suffix
            changed[row[0]] = (line, birth, row[2])
            replace_line(path, line, ",".join('"' + v.replace('"', '""') + '"' for v in row), encoding="gb18030")
        return ""

    landing, home, _ = _night_with(nights, tmp_path, monkeypatch, "public_security", fault)
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
    assert _crosswalk(home) == _crosswalk(clean)  # every record published
    for key, (line, birth, name) in changed.items():
        notes = published(home, "SELECT line, field, value, reason FROM quarantine WHERE department = "
                                "'public_security' AND record_key = ? AND extract_date = ? ORDER BY reason", [key, D2])
        assert notes == [(line, "姓名", name, "control_characters_removed"),
                         (line, "出生日期", birth, "implausible_birth_date")]
        golden = published(home, "SELECT r.name, r.birth_date::VARCHAR FROM residents r JOIN crosswalk x "
                                 "USING (resident_id) WHERE x.department = 'public_security' AND x.source_record_id = ?",
                           [key])[0]
        assert not any(ord(c) < 32 for c in golden[0]) and golden[0].startswith(name[:2])
        assert golden[1] not in ("1800-01-01", "2099-01-01")

    # Where a valid identity number says otherwise, the resident gets a birth-date conflict item; the
    # officer's value becomes the golden birth date from the next run on.
    import duckdb

    state = duckdb.connect(str(home / "state" / "registry_state.duckdb"), read_only=True)
    valid = dict(state.execute("SELECT source_record_id, strftime(id_birth_date, '%Y-%m-%d') FROM records "
                               "WHERE department = 'public_security' AND id_number_valid AND source_record_id IN "
                               f"({', '.join(repr(k) for k in changed)})").fetchall())
    state.close()
    assert valid, "the writer gave none of the changed records a valid identity number: this proves nothing"
    for key in changed:
        resident = published(home, "SELECT resident_id FROM crosswalk WHERE department = 'public_security' "
                                   "AND source_record_id = ?", [key])[0][0]
        items = published(home, "SELECT item_id, summary, evidence FROM review_queue WHERE kind = "
                                "'birth_date_conflict' AND resident_id = ? AND status = 'open'", [resident])
        if key not in valid:
            assert items == []  # no identity number to contradict
            continue
        (item_id, summary, evidence), = items
        assert changed[key][1] in summary and valid[key] in summary
        assert valid[key] in json.loads(evidence)["candidates"]
        assert main(["review", "decide", item_id, "--value", valid[key], "--by", "王科长", "--reason", "户口簿",
                     "--home", str(home)]) == 0
    assert main(["run", "--home", str(home), "--landing", str(landing), "--date", D2, "--quiet"]) == 0
    for key, birth in valid.items():
        assert published(home, "SELECT r.birth_date::VARCHAR FROM residents r JOIN crosswalk x USING (resident_id) "
                               "WHERE x.department = 'public_security' AND x.source_record_id = ?", [key]) == [(birth,)]
