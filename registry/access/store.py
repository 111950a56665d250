"""HOME/access: small JSON files (credentials, accounts) changed under one lock, replaced atomically.

Readers (the running service) never see a half-written file, and re-read a file only when its
identity (inode, size, modification time) changed, so a revocation takes effect on the next request.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from registry.access.files import private_dir, write_private
from registry.home import Home


def access_dir(home: Home) -> Path:
    return private_dir(home.access_dir)


@contextlib.contextmanager
def locked(home: Home):
    """Exclusive lock over every change to HOME/access (commands run by several people at once)."""
    path = access_dir(home) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_json(path: Path, default):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default


def write_json(path: Path, data) -> None:
    write_private(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


class Watched:
    """A JSON file's parsed content, re-read only when the file changed since the last read."""

    def __init__(self, path: Path, parse):
        self.path = path
        self._parse = parse
        self._identity = None
        self._value = parse(None)

    def get(self):
        try:
            st = os.stat(self.path)
            identity = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            identity = None
        if identity != self._identity:
            self._value = self._parse(read_json(self.path, None) if identity else None)
            self._identity = identity
        return self._value
