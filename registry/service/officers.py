"""Officers sign in: accounts from `registry users`, server-side sessions, CSRF tokens.

POST /api/session {"name", "password"} signs in: a session cookie (random, HttpOnly, SameSite=Strict,
Secure behind TLS) names a session kept in the service's memory, with its own CSRF token; GET
/api/session tells the page who is signed in and the token; DELETE /api/session signs out. A session
ends after 30 idle minutes or 12 hours, when its officer signs out, or when the account is removed or
its password changed. Five failed sign-ins for one name within 15 minutes hold that name for 15 minutes.

Routes for signed-in officers depend on `officer` (any request) or `officer_change` (state-changing
requests: the `X-CSRF-Token` header must carry the session's token; Origin, Host and content type are
checked before, by the guard). Another router joins the officers' pages with the same sign-in by
declaring `dependencies=[Depends(officer)]` (see registry.service.create_app).
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from registry.access.users import Directory, User
from registry.package_files import package_file

STATIC = package_file("service", "static")
COOKIE = "registry_session"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 12 * 3600
FAILURES, FAILURE_WINDOW = 5, 15 * 60


@dataclass
class Session:
    name: str
    role: str
    password: str        # the account's password hash when signed in: a changed password ends the session
    csrf_token: str
    started: float
    seen: float


@dataclass(frozen=True)
class Officer:
    name: str
    role: str
    csrf_token: str


class Sessions:
    def __init__(self, directory: Directory):
        self.directory = directory
        self._sessions: dict[str, Session] = {}
        self._failures: dict[str, collections.deque] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def start(self, user: User) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        session = Session(user.name, user.role, user.password, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._sessions[self._key(token)] = session
            self._sweep(now)
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token or len(token) > 100:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(self._key(token))
            if session is None:
                return None
            if now - session.seen > IDLE_SECONDS or now - session.started > MAX_SECONDS:
                del self._sessions[self._key(token)]
                return None
            session.seen = now
        user = self.directory.get(session.name)
        if user is None or user.password != session.password or user.role != session.role:
            self.end(token)
            return None
        return session

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(self._key(token), None)

    def _sweep(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if now - s.seen > IDLE_SECONDS]:
            del self._sessions[key]

    def held(self, name: str) -> bool:
        with self._lock:
            q = self._failures.get(name)
            now = time.monotonic()
            while q and now - q[0] > FAILURE_WINDOW:
                q.popleft()
            return bool(q) and len(q) >= FAILURES

    def failed(self, name: str) -> None:
        with self._lock:
            self._failures.setdefault(name, collections.deque(maxlen=FAILURES)).append(time.monotonic())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def _sessions(request: Request) -> Sessions:
    return request.app.state.sessions


async def officer(request: Request) -> Officer:
    """The signed-in officer, or 401."""
    session = _sessions(request).get(request.cookies.get(_cookie_name(request)))
    if session is None:
        raise HTTPException(401, "sign in first", headers={"Cache-Control": "no-store"})
    return Officer(session.name, session.role, session.csrf_token)


async def officer_change(request: Request, who: Officer = Depends(officer)) -> Officer:
    """The signed-in officer, for a state-changing request that carries the session's CSRF token."""
    token = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(token.encode(), who.csrf_token.encode()):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page")
    return who


async def admin(who: Officer = Depends(officer)) -> Officer:
    if who.role != "admin":
        raise HTTPException(403, "administrators only")
    return who


def _secure(request: Request) -> bool:
    return request.app.state.secure_cookies


def _cookie_name(request: Request) -> str:
    # __Host- cookies are sent only over TLS, to this host, for every path: no subdomain can plant one.
    return "__Host-" + COOKIE if _secure(request) else COOKIE


def router() -> APIRouter:
    r = APIRouter(tags=["officers"])

    @r.get("/login", include_in_schema=False)
    def login_page() -> FileResponse:
        return FileResponse(STATIC / "login.html")

    @r.get("/api/session", summary="Who is signed in (and the CSRF token for changes)")
    def whoami(who: Officer = Depends(officer)) -> dict:
        return {"name": who.name, "role": who.role, "csrf_token": who.csrf_token}

    @r.post("/api/session", summary="Sign in")
    async def sign_in(body: SignIn, request: Request, response: Response) -> dict:
        sessions = _sessions(request)
        if sessions.held(body.name):
            raise HTTPException(429, "too many failed sign-ins for this name: wait 15 minutes")
        user = await run_in_threadpool(sessions.directory.verify, body.name, body.password)
        if user is None:
            sessions.failed(body.name)
            raise HTTPException(401, "wrong name or password")
        sessions.succeeded(body.name)
        token, session = sessions.start(user)
        response.set_cookie(_cookie_name(request), token, httponly=True, samesite="strict", secure=_secure(request),
                            path="/")
        return {"name": session.name, "role": session.role, "csrf_token": session.csrf_token}

    @r.delete("/api/session", summary="Sign out")
    def sign_out(request: Request, response: Response, who: Officer = Depends(officer_change)) -> dict:
        _sessions(request).end(request.cookies.get(_cookie_name(request)))
        response.delete_cookie(_cookie_name(request), path="/", secure=_secure(request), httponly=True,
                               samesite="strict")
        return {"signed_out": who.name}

    return r
