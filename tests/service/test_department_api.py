"""The department API over real HTTP, on two nights of the independent writer (see conftest.py).

Each department's credential against every route: exactly the policy's columns, exactly the rows the
published registry holds for it; credentials refused when missing, wrong, revoked or rotated away;
another department's record keys refused exactly as unknown ones; one audit row per read; the change
feed's status events of night 2; reads that never failed nor went back while night 2 published; files
that only the service's user can read, and extracts that hold only the policy's columns.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
import urllib.parse

import pyarrow.parquet as pq
import pytest

from registry.access import audit
from registry.access.policy import load_policy
from registry.sharing.extracts import extract_path
from registry.standardise.id_numbers import classify

from .conftest import DEPARTMENTS, cli, grant

pytestmark = pytest.mark.slow
POLICY = load_policy()


def columns(department: str) -> list[str]:
    return list(POLICY.departments[department].columns)


def golden(world, resident_ids: list[str], department: str) -> dict[str, dict]:
    """The published golden rows, in the department's columns, as JSON would carry them."""
    cols = columns(department)
    rows = world.sql(f"SELECT {', '.join(cols)} FROM residents WHERE list_contains(?, resident_id)", [resident_ids])
    out = {}
    for row in rows:
        out[row[0]] = json.loads(json.dumps(dict(zip(cols, row)), default=lambda v: v.isoformat() if hasattr(v, "isoformat") else float(v)))
    return out


def own_keys(world, department: str, resident_id: str) -> list[str]:
    return sorted(k for k, in world.sql("SELECT source_record_id FROM crosswalk WHERE department = ? AND resident_id = ?",
                                        [department, resident_id]))


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_lookups_answer_exactly_the_policy_columns_and_rows(world, department):
    secret, run_2 = world.secrets[department], world.runs[1]
    keys = world.sql("SELECT source_record_id, resident_id FROM crosswalk WHERE department = ? ORDER BY hash(source_record_id) LIMIT 5",
                     [department])
    assert keys
    for key, resident_id in keys:
        status, body, headers = world.api.get(f"/api/v1/records/{department}/{key}", secret)
        assert status == 200 and body["run_id"] == run_2 and headers["x-registry-run-id"] == run_2
        assert list(body["resident"]) == columns(department)
        assert body["resident"] == golden(world, [resident_id], department)[resident_id]
        assert body["resident_id"] == resident_id
        assert body["source_record_ids"] == own_keys(world, department, resident_id)

        status, body, _ = world.api.get(f"/api/v1/residents/{resident_id}", secret)
        assert status == 200 and body["run_id"] == run_2 and list(body["resident"]) == columns(department)
        assert body["resident"] == golden(world, [resident_id], department)[resident_id]

    # Find by identity number, written as the departments write it: lower-case x, full-width digits, spaces.
    [(id_number,)] = world.sql("SELECT id_number FROM residents WHERE id_number LIKE '%X' OR id_number IS NOT NULL "
                               "ORDER BY id_number LIKE '%X' DESC, resident_id LIMIT 1")
    typed = " ".join([id_number[:6], id_number[6:14], id_number[14:]]).lower().replace("1", "１")
    assert classify(typed)[0] == id_number
    q = urllib.parse.urlencode({"id_number": typed, "purpose": "service counter: prefill the form"})
    status, body, _ = world.api.get(f"/api/v1/residents?{q}", secret)
    holders = [r for r, in world.sql("SELECT resident_id FROM residents WHERE id_number = ? ORDER BY 1", [id_number])]
    assert status == 200 and body["normalised"] == {"id_number": id_number}
    assert [r["resident_id"] for r in body["residents"]] == holders
    assert all(list(r) == columns(department) for r in body["residents"])
    assert body["residents"] == [golden(world, holders, department)[h] for h in holders]
    assert body["source_record_ids"] == {h: own_keys(world, department, h) for h in holders}

    # Without a purpose there is no search.
    status, _, _ = world.api.get(f"/api/v1/residents?id_number={id_number}", secret)
    assert status == 422


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_export_holds_the_whole_view_in_the_policy_columns(world, department):
    status, body, headers = world.api.get("/api/v1/export.parquet", world.secrets[department])
    assert status == 200 and headers["x-registry-run-id"] == world.runs[1]
    table = pq.read_table(io.BytesIO(body))          # pyarrow: not DuckDB, any Parquet reader
    assert table.column_names == columns(department) + ["source_record_ids"]
    assert pq.read_metadata(io.BytesIO(body)).metadata[b"run_id"].decode() == world.runs[1]
    ids = table.column("resident_id").to_pylist()
    assert ids == sorted(r for r, in world.sql("SELECT resident_id FROM residents"))
    keys = {r: sorted(k) for r, k in zip(ids, table.column("source_record_ids").to_pylist()) if k}
    expected: dict[str, list[str]] = {}
    for key, resident_id in world.sql("SELECT source_record_id, resident_id FROM crosswalk WHERE department = ?",
                                      [department]):
        expected.setdefault(resident_id, []).append(key)
    assert keys == {r: sorted(k) for r, k in expected.items()}   # its own keys, and no other department's
    # The extract written at publish is the one served, and only the service's user may open its folder.
    path = extract_path(world.home, department, world.runs[1])
    assert pq.read_table(path).equals(table)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_labour_never_sees_assistance(world):
    secret = world.secrets["labour"]
    assert not {"assistance_kinds", "assistance_amount_total", "marital_status"} & set(columns("labour"))
    [(resident_id, key)] = world.sql("""SELECT x.resident_id, x.source_record_id FROM crosswalk x
        JOIN residents r USING (resident_id) WHERE x.department = 'labour' AND r.assistance_amount_total IS NOT NULL
        ORDER BY 1 LIMIT 1""") or [(None, None)]
    if resident_id is not None:   # a labour client who receives assistance: the amount stays with civil affairs
        _, body, _ = world.api.get(f"/api/v1/records/labour/{key}", secret)
        assert "assistance_amount_total" not in body["resident"] and "assistance_kinds" not in body["resident"]
        _, body, _ = world.api.get(f"/api/v1/residents/{resident_id}", world.secrets["civil_affairs"])
        assert body["resident"]["assistance_amount_total"] is not None
    _, body, _ = world.api.get("/api/v1/export.parquet", secret)
    assert "assistance_amount_total" not in pq.read_table(io.BytesIO(body)).column_names
    # Labour may not search by name (its records carry the identity number).
    q = urllib.parse.urlencode({"name": "张伟", "birth_date": "1980-01-02", "purpose": "job fair registration"})
    status, body, _ = world.api.get(f"/api/v1/residents?{q}", secret)
    assert status == 403 and "name_birth_date" in body["detail"]


def test_find_by_name_and_birth_date_normalises_the_name(world):
    [(resident_id, name, birth)] = world.sql("""SELECT resident_id, name, birth_date FROM residents
        WHERE birth_date IS NOT NULL AND length(name) = 3 AND NOT regexp_matches(name, '[A-Za-z·]')
        ORDER BY resident_id LIMIT 1""")
    spaced = " ".join(name)                                  # 张 伟 伟, as typed at some counters
    q = urllib.parse.urlencode({"name": spaced, "birth_date": f"{birth.year}年{birth.month}月{birth.day}日",
                                "purpose": "assistance application"})
    status, body, _ = world.api.get(f"/api/v1/residents?{q}", world.secrets["civil_affairs"])
    assert status == 200 and body["normalised"] == {"name": name, "birth_date": birth.isoformat()}
    same = [r for r, in world.sql("SELECT resident_id FROM residents WHERE name = ? AND birth_date = ? ORDER BY 1",
                                  [name, birth])]
    assert [r["resident_id"] for r in body["residents"]] == same and resident_id in same


def test_credentials_missing_wrong_revoked_or_rotated_are_refused(world):
    path = "/api/v1/records/labour/" + world.sql("SELECT min(source_record_id) FROM crosswalk WHERE department = 'labour'")[0][0]
    assert world.api.get(path)[0] == 401
    assert world.api.get(path, "rr_" + "x" * 43)[0] == 401
    assert world.api.get(path, headers={"Authorization": "Basic bGFib3VyOmxhYm91cg=="})[0] == 401
    temporary = grant(world.home, "labour", "labour-temporary")
    assert world.api.get(path, temporary)[0] == 200
    assert cli("access", "revoke", "labour-temporary", "--home", str(world.home.root))[0] == 0
    assert world.api.get(path, temporary)[0] == 401            # at once
    rotating = grant(world.home, "labour", "labour-rotating")
    code, out = cli("access", "rotate", "labour-rotating", "--home", str(world.home.root))
    rotated = out.strip().splitlines()[-1]
    assert code == 0 and world.api.get(path, rotating)[0] == 401 and world.api.get(path, rotated)[0] == 200
    code, out = cli("access", "list", "--home", str(world.home.root), "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert {(r["label"], r["revoked_why"]) for r in listed} >= {("labour-temporary", "revoked"),
                                                                  ("labour-rotating", "rotated"), ("labour-rotating", None)}
    assert temporary not in out and rotated not in out and "digest" not in out   # never the secret
    stored = (world.home.root / "access" / "credentials.json").read_text()
    assert temporary not in stored and rotated not in stored                    # only hashes are kept
    assert next(r for r in listed if r["label"] == "labour-1")["last_used"]      # from the audit


def test_another_departments_record_keys_are_refused_as_unknown_ones(world):
    secret = world.secrets["labour"]
    [(ca_key,)] = world.sql("SELECT min(source_record_id) FROM crosswalk WHERE department = 'civil_affairs'")
    [(labour_key,)] = world.sql("SELECT min(source_record_id) FROM crosswalk WHERE department = 'labour'")
    answers = [world.api.get(path, secret)[:2] for path in (
        f"/api/v1/records/civil_affairs/{ca_key}",          # exists, another department's
        "/api/v1/records/civil_affairs/MZ9999999999",       # does not exist
        f"/api/v1/records/labour/{ca_key}",                  # another department's key under one's own name
        "/api/v1/records/labour/LD9999999999")]             # one's own kind of key, unknown
    assert answers == [(404, {"detail": "no such record"})] * 4
    assert world.api.get(f"/api/v1/records/labour/{labour_key}", secret)[0] == 200


def test_one_audit_row_per_read(world):
    secret = world.secrets["civil_affairs"]
    before = len(audit.query(world.home))
    [(resident_id, key)] = world.sql("SELECT resident_id, min(source_record_id) FROM crosswalk "
                                     "WHERE department = 'civil_affairs' GROUP BY ALL ORDER BY 1 LIMIT 1")
    world.api.get(f"/api/v1/records/civil_affairs/{key}", secret)
    world.api.get(f"/api/v1/residents/{resident_id}", secret)
    world.api.get("/api/v1/records/civil_affairs/MZ9999999999", secret)
    [(id_number,)] = world.sql("SELECT id_number FROM residents WHERE resident_id = ?", [resident_id])
    world.api.get(f"/api/v1/residents?id_number={id_number}&purpose=%E4%BD%8E%E4%BF%9D%E5%A4%8D%E6%A0%B8", secret)
    world.api.get("/api/v1/discrepancies?limit=5", secret)
    rows = audit.query(world.home)[before:]
    assert [r["endpoint"] for r in rows] == [
        "GET /api/v1/records/{department}/{source_record_id}", "GET /api/v1/residents/{resident_id}",
        "GET /api/v1/records/{department}/{source_record_id}", "GET /api/v1/residents", "GET /api/v1/discrepancies"]
    assert {(r["department"], r["credential"], r["run_id"]) for r in rows} == {("civil_affairs", "civil_affairs-1",
                                                                                  world.runs[1])}
    assert rows[0]["resident_ids"] == [resident_id] == rows[1]["resident_ids"]
    assert (rows[2]["status"], rows[2]["resident_ids"]) == (404, [])
    assert rows[3]["purpose"] == "低保复核" and resident_id in rows[3]["resident_ids"]
    # "Who read resident R", "what did civil affairs read today": the command answers both.
    code, out = cli("audit", "--home", str(world.home.root), "--resident", resident_id, "--json")
    read_r = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {r["seq"] for r in rows[:2] + rows[3:4]} <= {r["seq"] for r in read_r}
    assert all(resident_id in (r["resident_ids"] or []) or r["scope"] == "export" for r in read_r)
    today = dt.date.today().isoformat()
    code, out = cli("audit", "--home", str(world.home.root), "--department", "civil_affairs", "--since", today, "--json")
    assert code == 0 and {json.loads(line)["department"] for line in out.splitlines()} == {"civil_affairs"}
    assert cli("audit", "--home", str(world.home.root), "--verify")[0] == 0
    # The audit is outside anything a department can read.
    assert stat.S_IMODE((world.home.root / "audit").stat().st_mode) == 0o700


def test_civil_affairs_learns_of_deaths_the_same_night(world):
    secret = world.secrets["civil_affairs"]
    changes, cursor = [], None
    while True:
        status, body, _ = world.api.get("/api/v1/changes?limit=50" + (f"&since={cursor}" if cursor else ""), secret)
        assert status == 200 and body["run_id"] == world.runs[1]
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["more"]:
            break
    status_events = {(c["resident_id"], c["status"], c["reported_by"], c["run_id"]) for c in changes if c["kind"] == "status"}
    expected = {(r, "deceased", "public_security", world.runs[1]) for r in world.deceased} | \
               {(r, "moved_out", "public_security", world.runs[1]) for r in world.moved_out}
    assert expected <= status_events
    held = {r for r, in world.sql("SELECT DISTINCT resident_id FROM crosswalk WHERE department = 'civil_affairs'")}
    assert {c["resident_id"] for c in changes if c["kind"] in ("status", "changed")} <= held
    visible = set(columns("civil_affairs"))
    assert all(set(c["changes"]) <= visible for c in changes if c["kind"] == "changed")
    # Caught up: the same cursor lists nothing more; labour (which holds none of them) hears of no deaths.
    assert world.api.get(f"/api/v1/changes?since={cursor}", secret)[1]["changes"] == []
    labour = world.api.get("/api/v1/changes?limit=10000", world.secrets["labour"])[1]["changes"]
    labour_held = {r for r, in world.sql("SELECT DISTINCT resident_id FROM crosswalk WHERE department = 'labour'")}
    assert {c["resident_id"] for c in labour if c["kind"] == "status"} <= labour_held
    assert world.api.get("/api/v1/changes?since=garbage", secret)[0] == 400


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_discrepancies_are_the_departments_own_records(world, department):
    status, body, _ = world.api.get("/api/v1/discrepancies?limit=10000", world.secrets[department])
    assert status == 200 and body["next"] is None
    rows = body["discrepancies"]
    visible = set(columns(department))
    expected = world.sql("""SELECT source_record_id, attribute, record_value, golden_value, golden_department, golden_rule
                            FROM discrepancies WHERE department = ? AND list_contains(?, attribute)
                            ORDER BY source_record_id, attribute""", [department, sorted(visible)])
    assert [(r["source_record_id"], r["attribute"], r["record_value"], r["golden_value"], r["golden_department"],
             r["golden_rule"]) for r in rows] == expected
    own = {k for k, in world.sql("SELECT source_record_id FROM crosswalk WHERE department = ?", [department])}
    assert {r["source_record_id"] for r in rows} <= own and {r["attribute"] for r in rows} <= visible
    for r in rows[:20]:   # each differs from the golden value the department itself is shown
        golden_now = world.api.get(f"/api/v1/records/{department}/{r['source_record_id']}", world.secrets[department])[1]
        assert str(golden_now["resident"][r["attribute"]]) == r["golden_value"] != r["record_value"] or \
            r["attribute"] == "birth_date"


def test_lookups_kept_answering_while_night_2_published(world):
    reader = world.reader
    assert reader.errors == []
    assert len(reader.seen) > 50
    run_1, run_2 = world.runs
    assert set(reader.seen) == {run_1, run_2}
    switched = reader.seen.index(run_2)
    assert set(reader.seen[switched:]) == {run_2}        # never back to night 1 once night 2 was served


def test_the_registry_state_decisions_and_audit_are_the_services_alone(world):
    root = world.home.root
    for folder in ("published", "published/versions", "state", "review", "audit", "access"):
        assert stat.S_IMODE((root / folder).stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(world.home.published_db.stat().st_mode) == 0o400
    assert stat.S_IMODE(root.stat().st_mode) == 0o711          # passable, not listable
    for path in (root / "access").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    for path in (root / "audit").glob("*.jsonl"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.stat(world.home.published_db).st_uid == os.getuid()


def _feed(world, department: str) -> list[dict]:
    changes, cursor = [], None
    while True:
        status, body, _ = world.api.get("/api/v1/changes?limit=200" + (f"&since={cursor}" if cursor else ""),
                                        world.secrets[department])
        assert status == 200 and body["run_id"] == world.runs[1]
        changes += body["changes"]
        cursor = body["cursor"]
        if not body["more"]:
            return changes


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_each_feed_holds_only_the_departments_columns_and_residents(world, department):
    changes = _feed(world, department)
    held = {r for r, in world.sql("SELECT DISTINCT resident_id FROM crosswalk WHERE department = ?", [department])}
    visible = set(columns(department))
    assert {c["kind"] for c in changes} <= {"merged", "split", "retired", "status", "changed"}
    assert {c["resident_id"] for c in changes if c["kind"] in ("status", "changed")} <= held
    for c in changes:
        if c["kind"] == "changed":
            assert c["changes"] and set(c["changes"]) <= visible
            now = golden(world, [c["resident_id"]], department)[c["resident_id"]]
            assert all(now[col] == v["to"] for col, v in c["changes"].items())
    # Night 2's golden changes in its columns, for the residents it holds, are all there.
    [(date_2,)] = world.sql("SELECT CAST(extract_date AS VARCHAR) FROM runs WHERE run_id = ?", [world.runs[1]])
    cols = [c for c in columns(department) if c != "resident_id"]
    differ = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in cols)
    expected = {r for r, in world.sql(f"""SELECT n.resident_id FROM resident_history n JOIN resident_history o
        ON o.resident_id = n.resident_id AND o.valid_to = n.valid_from
        WHERE n.valid_from = CAST(? AS DATE) AND ({differ})""", [date_2])} & held
    assert {c["resident_id"] for c in changes if c["kind"] == "changed"} == expected


@pytest.mark.parametrize("department", ["public_security", "family_planning", "civil_affairs"])
def test_find_by_name_for_the_departments_allowed_it(world, department):
    [(name, birth)] = world.sql("SELECT name, birth_date FROM residents WHERE birth_date IS NOT NULL ORDER BY resident_id LIMIT 1")
    q = urllib.parse.urlencode({"name": name, "birth_date": birth.strftime("%Y%m%d"), "purpose": "counter service"})
    status, body, _ = world.api.get(f"/api/v1/residents?{q}", world.secrets[department])
    assert status == 200 and body["residents"]
    assert all(list(r) == columns(department) and r["name"] == name for r in body["residents"])
