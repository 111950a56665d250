"""Append-only JSON Lines files written by several processes at once (officers' decisions, failed runs).

One rule for writing: a line is appended under an exclusive lock, whole or not at all, and reaches the
disk before the writer hears it was kept; a last line a crash tore (no newline, under the lock: no
append is under way) is cut back first, its bytes kept in <file>.torn, so that it never ends up
mid-file (a whole object missing only its newline gets it). One rule for reading: a last line without
its newline is one being written right now, not a line of the file yet.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def append(path: Path, row: dict[str, Any] | Callable[[], dict[str, Any]],
           whole: Callable[[bytes], bool] | None = None) -> dict[str, Any]:
    """Append one JSON object as a line. `row` may be a function called under the lock (to number or
    time the row in the order the lines are written). `whole` says whether a torn last line is a whole
    row all the same (default: a JSON object). Returns the row written."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)   # personal data: the service's alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            written = row() if callable(row) else dict(row)
            line = json.dumps(written, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
            _mend_torn_tail(fd, path, whole or _is_object)
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


def _mend_torn_tail(fd: int, path: Path, whole: Callable[[bytes], bool]) -> None:
    """A last line without its newline, found under the lock: a crash tore it. A whole row gets its
    newline; anything else is cut back to the last complete line, its bytes kept in <file>.torn with the
    time and offset they were cut at."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = size
    while start > 0:
        block = os.pread(fd, min(start, 1 << 16), max(0, start - (1 << 16)))
        cut = block.rfind(b"\n")
        if cut >= 0:
            start = start - len(block) + cut + 1
            break
        start -= len(block)
    tail = os.pread(fd, size - start, start)
    if whole(tail):
        write_all_or_nothing(fd, b"\n")
        return
    cut_at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with open(path.with_name(path.name + ".torn"), "a", encoding="utf-8") as kept:
        kept.write(json.dumps({"cut_at": cut_at, "offset": start, "text": tail.decode("utf-8", "replace")},
                              ensure_ascii=False) + "\n")
        kept.flush()
        os.fsync(kept.fileno())
    os.ftruncate(fd, start)
    os.fsync(fd)


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
