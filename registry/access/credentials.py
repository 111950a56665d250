"""Departments' API credentials: issued, listed, rotated and revoked by `registry access`.

A credential is 256 random bits, shown once when issued; HOME/access/credentials.json keeps only its
SHA-256 (a slow password hash buys nothing for a secret nobody chose: it cannot be guessed, only
stolen). Each has a label (unique among the credentials in force), one department, when it was created
and, once revoked or rotated, when. The service reloads the file when it changes, so a revoked
credential stops working on the next request. When each was last used is read from the audit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass

from registry.access import AccessError
from registry.access.store import Watched, access_dir, locked, read_json, write_json
from registry.home import Home

PREFIX = "rr_"
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Credential:
    label: str
    department: str
    digest: str                     # sha256 hex of the secret
    created_at: str
    revoked_at: str | None = None
    revoked_why: str | None = None  # revoked | rotated

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _path(home: Home):
    return access_dir(home) / "credentials.json"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _load(data) -> list[Credential]:
    return [Credential(**c) for c in (data or {}).get("credentials", [])]


def list_credentials(home: Home) -> list[Credential]:
    return _load(read_json(_path(home), None))


def _save(home: Home, creds: list[Credential]) -> None:
    write_json(_path(home), {"credentials": [asdict(c) for c in creds]})


def grant(home: Home, department: str, label: str | None = None, departments=None) -> tuple[Credential, str]:
    """Issue a credential for `department`; returns it and its secret (shown once, never stored)."""
    from registry.access.policy import load_policy

    known = departments if departments is not None else load_policy().departments
    if department not in known:
        raise AccessError(f"unknown department {department!r}: one of {', '.join(known)}")
    with locked(home):
        creds = list_credentials(home)
        if label is None:
            n = 1 + sum(c.department == department for c in creds)
            while any(c.label == f"{department}-{n}" for c in creds):
                n += 1
            label = f"{department}-{n}"
        if not LABEL.fullmatch(label):
            raise AccessError(f"label {label!r}: letters, digits, '.', '_' and '-', at most 64")
        if any(c.label == label and c.active for c in creds):
            raise AccessError(f"a credential labelled {label!r} is in force: rotate or revoke it")
        secret = PREFIX + secrets.token_urlsafe(32)
        cred = Credential(label=label, department=department, digest=digest(secret), created_at=_now())
        _save(home, [*creds, cred])
    return cred, secret


def revoke(home: Home, label: str, why: str = "revoked") -> Credential:
    with locked(home):
        creds = list_credentials(home)
        active = [c for c in creds if c.label == label and c.active]
        if not active:
            raise AccessError(f"no credential labelled {label!r} is in force (`registry access list` shows them)")
        done = Credential(**{**asdict(active[0]), "revoked_at": _now(), "revoked_why": why})
        _save(home, [done if c is active[0] else c for c in creds])
    return done


def rotate(home: Home, label: str) -> tuple[Credential, str]:
    """A new secret under the same label and department; the old one stops working at once."""
    with locked(home):
        creds = list_credentials(home)
        active = [c for c in creds if c.label == label and c.active]
        if not active:
            raise AccessError(f"no credential labelled {label!r} is in force (`registry access list` shows them)")
        old = Credential(**{**asdict(active[0]), "revoked_at": _now(), "revoked_why": "rotated"})
        secret = PREFIX + secrets.token_urlsafe(32)
        new = Credential(label=label, department=old.department, digest=digest(secret), created_at=_now())
        _save(home, [*(old if c is active[0] else c for c in creds), new])
    return new, secret


class Authenticator:
    """Secret -> the credential in force that it belongs to (or None), as of the file's current content."""

    def __init__(self, home: Home):
        self._file = Watched(_path(home), lambda data: {c.digest: c for c in _load(data) if c.active})

    def __call__(self, secret: str | None) -> Credential | None:
        if not secret or not secret.startswith(PREFIX) or len(secret) > 128:
            return None
        d = digest(secret)
        cred = self._file.get().get(d)
        # The dict lookup found it by its digest; compare in constant time all the same.
        return cred if cred is not None and hmac.compare_digest(cred.digest, d) else None
