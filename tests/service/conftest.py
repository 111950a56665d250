"""Two merged nights of the independent writer behind a running `registry serve`, read as departments read it.

Built once per module (slow: two nightly runs). While night 2 runs, a reader looks up records without
pause over real HTTP; the fixture keeps what it saw.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import duckdb
import pytest

from registry.cli import main
from registry.home import Home
from tests.review.server import serving
from tests.service.nights import DATE_1, DATE_2, ca_held_active, mark_status, write_nights

PEOPLE = 1500
DEPARTMENTS = ("public_security", "family_planning", "civil_affairs", "labour")


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


def grant(home: Home, department: str, label: str | None = None) -> str:
    code, out = cli("access", "grant", department, "--home", str(home.root), *(["--label", label] if label else []))
    assert code == 0, out
    return out.strip().splitlines()[-1]


@dataclass
class Api:
    url: str

    def get(self, path: str, secret: str | None = None, headers: dict | None = None) -> tuple[int, dict, dict]:
        h = dict(headers or {})
        if secret is not None:
            h["Authorization"] = f"Bearer {secret}"
        req = urllib.request.Request(self.url + path, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
                return r.status, (json.loads(body) if r.headers.get_content_type() == "application/json" else body), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), dict(e.headers)


@dataclass
class Reader:
    """Looks records up without pause (one department), remembering every answer's run and any error."""
    api: Api
    secret: str
    keys: list[str]
    seen: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            key = self.keys[i % len(self.keys)]
            i += 1
            try:
                status, body, _ = self.api.get(f"/api/v1/records/labour/{key}", self.secret)
                if status != 200:
                    self.errors.append(f"{key}: {status} {body}")
                else:
                    self.seen.append(body["run_id"])
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.errors.append(f"{key}: {exc!r}")
            time.sleep(0.005)


@dataclass
class World:
    home: Home
    api: Api
    secrets: dict[str, str]
    runs: tuple[str, str]
    deceased: list[str]
    moved_out: list[str]
    reader: Reader

    def sql(self, query: str, params=()):
        con = duckdb.connect(str(self.home.published_db), read_only=True)
        try:
            return con.execute(query, list(params)).fetchall()
        finally:
            con.close()


def _latest_run(home: Home) -> str:
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        return con.execute("SELECT run_id FROM runs WHERE status = 'published' ORDER BY finished_at DESC LIMIT 1"
                           ).fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("service")
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    home = Home(root / "home")
    landing = root / "landing"
    # `registry run` sets these for its Dagster definitions; put them back afterwards (tests/conftest.py
    # does so after each test; this module-wide fixture outlives one test).
    mp.setenv("REGISTRY_HOME", str(home.root))
    mp.setenv("REGISTRY_LANDING", str(landing))
    try:
        _, write_night_2 = write_nights(landing, PEOPLE, seed=31)
        code, out = cli("run", "--home", str(home.root), "--landing", str(landing), "--date", DATE_1)
        assert code == 0, out
        run_1 = _latest_run(home)
        secrets = {d: grant(home, d) for d in DEPARTMENTS}
        chosen = ca_held_active(home.published_db, 3)
        assert len(chosen) == 3, "the writer's night should give civil affairs residents with a household record"
        write_night_2()
        mark_status(landing, DATE_2, {chosen[0][1]: "死亡", chosen[1][1]: "死亡", chosen[2][1]: "迁出"})
        labour_keys = [k for k, in duckdb.connect(str(home.published_db), read_only=True).execute(
            "SELECT source_record_id FROM crosswalk WHERE department = 'labour' ORDER BY 1 LIMIT 200").fetchall()]
        with serving(home.root) as url:
            api = Api(url)
            reader = Reader(api, secrets["labour"], labour_keys)
            thread = threading.Thread(target=reader.run, daemon=True)
            thread.start()
            try:
                code, out = cli("run", "--home", str(home.root), "--landing", str(landing), "--date", DATE_2)
                assert code == 0, out
                run_2 = _latest_run(home)
                deadline = time.monotonic() + 30   # the service switches within its poll interval
                while (not reader.seen or reader.seen[-1] != run_2) and time.monotonic() < deadline:
                    time.sleep(0.1)
            finally:
                reader.stop.set()
                thread.join()
            yield World(home, api, secrets, (run_1, run_2), [chosen[0][0], chosen[1][0]], [chosen[2][0]], reader)
    finally:
        mp.undo()


@pytest.fixture
def published_home(tmp_path):
    """A HOME whose published registry holds the review tests' small scenario (tests/review/factory.py)."""
    from tests.review.factory import make_published_home

    return make_published_home(tmp_path)
