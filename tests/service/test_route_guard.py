"""Every route of `registry serve`, enumerated from the application itself (so a route added later is
checked too), over real HTTP: without credentials each is refused, and each state-changing one is refused
with valid credentials but no CSRF token or another site's Origin. The service listens on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.routing import Mount

from registry.service import create_app
from registry.service.guard import UNSAFE_METHODS
from tests.review.server import OFFICER, PASSWORD, add_officer, serving
from tests.service.conftest import grant

# What a signed-out caller may reach, each for a reason; everything else must be refused.
OPEN = {
    ("GET", "/login"): "the sign-in page itself",
    ("POST", "/api/session"): "signing in: the name and password in the body are the credentials",
    ("MOUNT", "/service-static"): "the sign-in page's script and style (code, the same for everyone)",
    ("MOUNT", "/static"): "the shared style sheet, which the sign-in page uses too (no data)",
    # The API's documentation (docs/INTERFACES.md): routes and schemas, never a resident's data.
    ("GET", "/docs"): "the API's documentation page",
    ("MOUNT", "/docs/assets"): "the documentation page's Swagger UI files",
    ("GET", "/openapi.json"): "the API's OpenAPI description",
    ("HEAD", "/openapi.json"): "the API's OpenAPI description",
}
# State-changing routes that cannot carry a CSRF token; the Origin check still applies to them.
NO_CSRF_TOKEN = {("POST", "/api/session"): "signing in: before it there is no session, hence no token"}
ELSEWHERE = "http://attacker.example"


def routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, included routers walked (FastAPI's _IncludedRouter has no
    path of its own); a mounted app appears as ("MOUNT", its path)."""
    def walk(entries, prefix: str):
        for route in entries:
            if isinstance(route, Mount):
                yield "MOUNT", prefix + route.path
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            else:
                yield from ((method, prefix + route.path) for method in sorted(route.methods))
    return sorted(set(walk(app.routes, "")))


def request(url: str, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One request, redirects not followed; a mount is asked for a file in it, a path parameter is 'x'."""
    target = re.sub(r"\{[^}]+\}", "x", path + "/x" if method == "MOUNT" else path)
    method = "GET" if method == "MOUNT" else method
    headers = {"Accept": "text/html", **(headers or {})}
    body = None
    if method in UNSAFE_METHODS:
        body = b"{}"
        headers.setdefault("Content-Type", "application/json")
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        con.request(method, target, body=body, headers=headers)
        answer = con.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        con.close()


def refused_signed_out(status: int, headers: dict) -> bool:
    return status in (401, 403) or (status in (302, 303, 307) and headers.get("location") == "/login")


def sign_in(url: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a new session of the admin officer."""
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        con.request("POST", "/api/session", body=json.dumps({"name": OFFICER, "password": PASSWORD}),
                    headers={"Origin": url, "Content-Type": "application/json"})
        answer = con.getresponse()
        body = json.loads(answer.read())
        assert answer.status == 200, body
        return answer.getheader("set-cookie").split(";")[0], body["csrf_token"]
    finally:
        con.close()


def test_every_route_refuses_callers_without_credentials_and_changes_from_elsewhere(published_home):
    table = routes(create_app(published_home))
    assert set(OPEN) <= set(table), "an open route named here no longer exists: keep the list exact"
    changes = [(m, p) for m, p in table if m in UNSAFE_METHODS]
    assert changes, "the service has state-changing routes (sign-in, decisions): the enumeration missed them"
    add_officer(published_home, role="admin")
    secret = grant(published_home, "civil_affairs")
    with serving(published_home.root) as url:
        signed_out = {(m, p): request(url, m, p, {"Origin": url})[:2] for m, p in table if (m, p) not in OPEN}
        assert {route: status for route, (status, headers) in signed_out.items()
                if not refused_signed_out(status, headers)} == {}

        for method, path in changes:
            cookie, token = sign_in(url)  # afresh: the allowed request below may sign out (DELETE /api/session)
            credentials = {"Cookie": cookie, "Authorization": f"Bearer {secret}"}
            if (method, path) not in NO_CSRF_TOKEN:
                assert request(url, method, path, {**credentials, "Origin": url})[0] == 403, (method, path)
                assert request(url, method, path, {**credentials, "Origin": url, "X-CSRF-Token": "forged"})[0] == 403
            proper = {**credentials, "X-CSRF-Token": token}
            assert request(url, method, path, {**proper, "Origin": ELSEWHERE})[0] == 403, (method, path)
            assert request(url, method, path, {**proper, "Referer": ELSEWHERE + "/page"})[0] == 403, (method, path)
            assert request(url, method, path, proper)[0] == 403, (method, path)  # neither Origin nor Referer
            # The refusals above were for the token and the Origin alone: with both, the credentials pass.
            assert request(url, method, path, {**proper, "Origin": url})[0] not in (401, 403), (method, path)


def test_the_service_listens_on_the_loopback_address_only_by_default(published_home):
    with serving(published_home.root) as url:
        port = urlsplit(url).port
        listening = {}
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, local_port = local.rsplit(":", 1)
                if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                    listening[table] = address
        assert listening == {"tcp": "0100007F"}  # 127.0.0.1, little-endian hex; nothing on IPv6 or 0.0.0.0
