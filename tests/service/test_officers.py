"""Officers' accounts, sessions and the guard around every state-changing request, over real HTTP."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import urllib.error
import urllib.request

from registry.access.users import list_users, remove_user, set_password
from registry.review import item_id_for
from tests.review.server import OFFICER, PASSWORD, REPO, Client, add_officer, serving

CONFLICT_ITEM = item_id_for("conflict", "R1|birth_date")
DISMISS = {"decision": "dismiss", "reason": "nothing to do"}


def test_users_add_reads_the_password_from_standard_input_and_keeps_only_a_scrypt_hash(published_home):
    home = str(published_home.root)
    run = lambda *a, stdin="": subprocess.run([sys.executable, "-m", "registry.cli", *a], input=stdin,  # noqa: E731
                                              capture_output=True, text=True, cwd=REPO)
    done = run("users", "add", "李干事", "--role", "admin", "--home", home, stdin="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    assert run("users", "add", "赵", "--role", "officer", "--home", home, stdin="short\n").returncode == 2
    [user] = list_users(published_home)
    assert (user.name, user.role) == ("李干事", "admin") and user.password.startswith("scrypt$")
    stored = (published_home.root / "access" / "users.json").read_text()
    assert "a long enough secret" not in stored
    assert stat.S_IMODE((published_home.root / "access" / "users.json").stat().st_mode) == 0o600
    assert "李干事" in run("users", "list", "--home", home).stdout


def test_sign_in_sessions_and_the_guard(published_home):
    add_officer(published_home)
    with serving(published_home.root) as url:
        web = Client(url)
        status, body = web.post("/api/session", {"name": OFFICER, "password": "wrong"})
        assert (status, body["detail"]) == (401, "wrong name or password")
        status, body = web.post("/api/session", {"name": "nobody", "password": "wrong"})
        assert (status, body["detail"]) == (401, "wrong name or password")   # unknown names answer alike
        web.sign_in()
        assert web.get("/api/session")[1]["name"] == OFFICER

        # Each layer refuses on its own: Origin, content type, CSRF token, body size, types, Host.
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", DISMISS, headers={"Origin": "http://127.0.0.1:1"})[0] == 403
        assert web.request("POST", f"/api/items/{CONFLICT_ITEM}/decision", raw=json.dumps(DISMISS).encode(),
                           headers={"Content-Type": "text/plain"})[0] == 415
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", DISMISS, headers={"X-CSRF-Token": "forged"})[0] == 403
        big = {"decision": "dismiss", "reason": "x" * (70 * 1024)}
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", big)[0] == 413
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", {"decision": "dismiss", "reason": "x" * 3000})[0] == 422
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", {"decision": "merge", "reason": "x"})[0] == 422
        assert web.post(f"/api/items/{CONFLICT_ITEM}/decision", {"decision": "dismiss", "reason": 7})[0] == 422
        assert web.get("/api/items", headers={"Host": "attacker.example:80"})[0] == 421
        assert not published_home.decisions.exists()

        # A signed-out browser opening the page is sent to sign in.
        req = urllib.request.Request(url + "/", headers={"Accept": "text/html"})
        assert urllib.request.urlopen(req).geturl().endswith("/login")

        # A changed password ends the session; so does removing the account; so does signing out.
        set_password(published_home, OFFICER, "another long password")
        assert web.get("/api/items")[0] == 401
        web.sign_in(password="another long password")
        assert web.request("DELETE", "/api/session", body={})[0] == 200
        assert web.get("/api/items")[0] == 401
        web.sign_in(password="another long password")
        remove_user(published_home, OFFICER)
        assert web.get("/api/items")[0] == 401
        assert web.post("/api/session", {"name": OFFICER, "password": "another long password"})[0] == 401


def test_failed_sign_ins_hold_the_name(published_home):
    add_officer(published_home)
    with serving(published_home.root) as url:
        web = Client(url)
        for _ in range(5):
            assert web.post("/api/session", {"name": OFFICER, "password": "guess"})[0] == 401
        assert web.post("/api/session", {"name": OFFICER, "password": PASSWORD})[0] == 429


def test_officers_reads_are_audited_and_the_audit_survives_a_restart(published_home):
    from registry.access import audit

    add_officer(published_home)
    with serving(published_home.root) as url:
        web = Client(url)
        web.sign_in()
        web.get(f"/api/items/{CONFLICT_ITEM}")
        web.get("/api/items?kind=conflict")
    with serving(published_home.root) as url:      # the service restarted: the audit goes on where it was
        web = Client(url)
        web.sign_in()
        web.get(f"/api/items/{CONFLICT_ITEM}")
    rows = audit.query(published_home, who=f"officer:{OFFICER}")
    assert [(r["seq"], r["endpoint"], r["resident_ids"]) for r in rows] == [
        (1, "GET /api/items/{item_id}", ["R1"]), (2, "GET /api/items", ["R1"]), (3, "GET /api/items/{item_id}", ["R1"])]
    assert audit.verify(published_home) == (3, None)


def test_behind_a_tls_reverse_proxy(published_home):
    """As nginx forwards it: Host is the public name, the page's origin is https://; the cookie is TLS-only."""
    public = "registry.district.example"
    add_officer(published_home)
    with serving(published_home.root, extra_args=("--public-origin", f"https://{public}")) as url:
        def call(method, path, body=None, headers=None):
            h = {"Host": public, "X-Forwarded-Proto": "https", "Origin": f"https://{public}",
                 "Content-Type": "application/json", **(headers or {})}
            req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                         method=method, headers=h)
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, dict(r.headers), json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), json.loads(e.read())

        status, headers, body = call("POST", "/api/session", {"name": OFFICER, "password": PASSWORD})
        cookie = headers["set-cookie"]
        assert status == 200 and cookie.startswith("__Host-registry_session=") and "Secure" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        session = {"Cookie": cookie.split(";")[0], "X-CSRF-Token": body["csrf_token"]}
        assert call("GET", "/api/items", headers=session)[0] == 200
        assert call("POST", f"/api/items/{CONFLICT_ITEM}/decision", DISMISS,
                    headers={**session, "Origin": f"http://{public}"})[0] == 403      # not the TLS origin
        assert call("POST", f"/api/items/{CONFLICT_ITEM}/decision", DISMISS, headers=session)[0] == 200
        assert call("GET", "/api/items", headers={**session, "Host": "other.example"})[0] == 421


def test_administrators_read_the_audit_and_officers_do_not(published_home):
    add_officer(published_home)
    add_officer(published_home, "李主任", "an administrator's password", role="admin")
    with serving(published_home.root) as url:
        officer, chief = Client(url), Client(url)
        officer.sign_in()
        chief.sign_in("李主任", "an administrator's password")
        officer.get(f"/api/items/{CONFLICT_ITEM}")
        assert officer.get("/api/audit")[0] == 403
        status, body = chief.get("/api/audit?resident=R1")
        assert status == 200 and [(r["officer"], r["resident_ids"]) for r in body["reads"]] == [(OFFICER, ["R1"])]
        assert chief.get("/api/audit?since=yesterday")[0] == 422
