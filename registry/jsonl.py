"""Append-only JSON Lines files written by several processes at once (officers' decisions, failed runs).

One rule for writing: a line is appended under an exclusive lock, whole or not at all, and reaches the
disk before the writer hears it was kept. One rule for reading: a last line without its newline is
one being written right now, not a line of the file yet.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def append(path: Path, row: dict[str, Any] | Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Append one JSON object as a line. `row` may be a function called under the lock (to number or
    time the row in the order the lines are written). Returns the row written."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)   # personal data: the service's alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            written = row() if callable(row) else dict(row)
            line = json.dumps(written, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
            if _ends_without_newline(fd):
                line = "\n" + line  # a torn last line stays visible (and reported) instead of swallowing ours
            write_all_or_nothing(fd, line.encode("utf-8"))
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return written


def complete_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the file's complete, non-blank lines; [] when there is no file."""
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] != "":
        lines = lines[:-1]  # still being written
    return [(i + 1, line) for i, line in enumerate(lines) if line.strip()]


def last_line_complete(path: Path) -> bool:
    """Whether the file ends with a newline (an empty or missing file does)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return True
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


def write_all_or_nothing(fd: int, data: bytes) -> None:
    """The whole of `data` (one line or several) reaches the disk, or the file is cut back to where it
    was and the caller hears of it: a line is never half-recorded, nor reported recorded when it is not
    (e.g. a full disk)."""
    start = os.fstat(fd).st_size
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.ftruncate(fd, start)
        raise


def _ends_without_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
