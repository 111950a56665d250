"""Run `registry serve` in a subprocess on a free port, and sign officers in over real HTTP, for the web tests."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from registry.access.users import add_user
from registry.home import Home

REPO = Path(__file__).resolve().parents[2]
# The serve command itself (add_arguments + run), without importing every other sub-command.
LAUNCH = ("import argparse, sys; from registry.commands import serve; p = argparse.ArgumentParser(); "
          "serve.add_arguments(p); sys.exit(serve.run(p.parse_args(sys.argv[1:])))")
OFFICER, PASSWORD = "王科长", "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(home_root: Path, timeout: float = 30.0, extra_args: tuple[str, ...] = ()):
    """Yield the base URL of `registry serve` on HOME; terminate it afterwards."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, "--home", str(home_root), "--port", str(port), *extra_args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=1).read()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"registry serve did not start: {proc.stdout.read().decode(errors='replace')}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def add_officer(home: Home, name: str = OFFICER, password: str = PASSWORD, role: str = "officer") -> None:
    add_user(home, name, role, password)


class Client:
    """An HTTP client with its own cookies, sending JSON bodies with the page's Origin (as a browser does)."""

    def __init__(self, url: str):
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf: str | None = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None, raw: bytes | None = None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Origin": self.url}
        if data is not None:
            h["Content-Type"] = "application/json"
        if self.csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, body, **kw):
        return self.request("POST", path, body, **kw)

    def sign_in(self, name: str = OFFICER, password: str = PASSWORD) -> dict:
        status, body = self.post("/api/session", {"name": name, "password": password})
        assert status == 200, body
        self.csrf = body["csrf_token"]
        return body
