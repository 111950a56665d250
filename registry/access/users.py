"""Officers' and administrators' accounts (`registry users`): HOME/access/users.json.

Passwords are hashed with scrypt from the standard library (a memory-hard key derivation function,
RFC 7914), each with its own random salt; the parameters are stored with the hash so that they can be
raised later without invalidating older accounts.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass

from registry.access import AccessError
from registry.access.store import Watched, access_dir, locked, read_json, write_json
from registry.home import Home

ROLES = ("officer", "admin")
NAME = re.compile(r"[^\s:/\\]{1,64}")      # any script (officers have Chinese names), no spaces
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
# scrypt cost: N=2^15, r=8 (32 MiB of memory per hash), p=1.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password: str                   # scrypt$N$r$p$salt$hash (base64)
    created_at: str
    disabled_at: str | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32)
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(key)}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        expected = base64.b64decode(key)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=n, r=r, p=p,
                             maxmem=256 * n * r, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return scheme == "scrypt" and hmac.compare_digest(got, expected)


@functools.lru_cache(maxsize=1)
def _dummy() -> str:
    """Checked against when the name is unknown, so that a wrong name costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def _path(home: Home):
    return access_dir(home) / "users.json"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(data) -> dict[str, User]:
    return {u["name"]: User(**u) for u in (data or {}).get("users", [])}


def list_users(home: Home) -> list[User]:
    return list(_load(read_json(_path(home), None)).values())


def _save(home: Home, users: dict[str, User]) -> None:
    write_json(_path(home), {"users": [asdict(u) for u in users.values()]})


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccessError(f"the password must be at least {MIN_PASSWORD} characters long")
    if len(password) > MAX_PASSWORD:
        raise AccessError(f"the password must be at most {MAX_PASSWORD} characters long")


def add_user(home: Home, name: str, role: str, password: str) -> User:
    if not NAME.fullmatch(name or ""):
        raise AccessError(f"user name {name!r}: 1 to 64 characters, no spaces, ':' or slashes")
    if role not in ROLES:
        raise AccessError(f"role {role!r}: one of {', '.join(ROLES)}")
    check_new_password(password)
    with locked(home):
        users = _load(read_json(_path(home), None))
        if name in users and users[name].active:
            raise AccessError(f"user {name!r} exists (use `registry users passwd` or `registry users remove`)")
        users[name] = User(name=name, role=role, password=hash_password(password), created_at=_now())
        _save(home, users)
    return users[name]


def set_password(home: Home, name: str, password: str) -> User:
    check_new_password(password)
    with locked(home):
        users = _load(read_json(_path(home), None))
        if name not in users or not users[name].active:
            raise AccessError(f"no user {name!r}")
        users[name] = User(**{**asdict(users[name]), "password": hash_password(password)})
        _save(home, users)
    return users[name]


def remove_user(home: Home, name: str) -> User:
    """Disable the account (kept, so that its decisions and reads still name someone known)."""
    with locked(home):
        users = _load(read_json(_path(home), None))
        if name not in users or not users[name].active:
            raise AccessError(f"no user {name!r}")
        users[name] = User(**{**asdict(users[name]), "disabled_at": _now()})
        _save(home, users)
    return users[name]


class Directory:
    """The accounts as of the file's current content (the service re-reads it when it changes)."""

    def __init__(self, home: Home):
        self._file = Watched(_path(home), _load)

    def get(self, name: str) -> User | None:
        user = self._file.get().get(name)
        return user if user is not None and user.active else None

    def verify(self, name: str, password: str) -> User | None:
        user = self.get(name) if isinstance(name, str) else None
        ok = check_password(password, user.password if user else _dummy())
        return user if ok and user is not None else None
