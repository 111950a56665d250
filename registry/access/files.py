"""File modes: what the registry keeps under HOME is readable by the service's own user only.

DuckDB has no users or roles, so the separation between the service and the departments is the file
system's: the published registry, the working state, the decisions, the audit and the credentials sit
in folders of mode 0700, their files 0600 (0400 once published). Departments read through the service,
or the Parquet extracts written for them (registry.sharing.extracts), which may be shared with one
department's Unix group.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# HOME itself: others may pass through (to a department's extract folder) but not list it.
TRAVERSE_ONLY = 0o711


def private_dir(path: Path, mode: int = PRIVATE_DIR) -> Path:
    """Create `path` (and parents) if needed and give it `mode`, whatever it had."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


def write_private(path: Path, data: bytes, mode: int = PRIVATE_FILE) -> None:
    """Replace `path` atomically with `data` (a reader sees the old file or the new one), mode `mode`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def readable_by_others(path: Path) -> list[Path]:
    """Paths at or under `path` that a user other than the owner could open (for checks and tests)."""
    found = []
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            p = Path(root) / name
            if p.is_symlink():
                continue
            if p.stat().st_mode & 0o077 and not _unreachable(p, path):
                found.append(p)
    return found


def _unreachable(p: Path, top: Path) -> bool:
    """A path inside a folder others cannot enter cannot be opened by them, whatever its own mode."""
    for parent in p.parents:
        if parent == top.parent:
            break
        if parent != p and not parent.stat().st_mode & 0o011:
            return True
    return False
