"""The published file copied ahead of the publish stage, for an incremental publish to start from.

The copy runs in a thread that only waits on the kernel (registry.run_state.copy_file) while the night
is computed; registry.runtime starts it. `take()` hands it over only if the published file is still
the very file it copied (same inode, size and modification time); otherwise publish copies itself.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from registry.home import Home
from registry.publish.versions import remove_db_file
from registry.run_state import copy_file

log = logging.getLogger(__name__)


def file_identity(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


class BaseCopy:
    """HOME/published/.base-<run_id>.duckdb, being copied from the published file."""

    def __init__(self, home: Home, run_id: str):
        self.source = home.published_db
        self.path = home.published_dir / f".base-{run_id}.duckdb"
        self._failed: BaseException | None = None
        self._thread: threading.Thread | None = None
        try:
            self._identity = file_identity(self.source)
        except OSError:  # nothing published yet
            self._identity = None
            return
        self._thread = threading.Thread(target=self._copy, name="published-base-copy", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
            copy_file(self.source, self.path)
        except BaseException as exc:  # noqa: BLE001 - take() reports no copy; publish copies itself
            self._failed = exc

    def take(self) -> Path | None:
        """The finished copy, now the caller's (None: no usable copy; publish copies itself)."""
        if self._thread is None:
            return None
        self._thread.join()
        try:
            same = self._failed is None and file_identity(self.source) == self._identity
        except OSError:
            same = False
        if not same:
            if self._failed is not None:
                log.warning("published file not copied ahead: %s", self._failed)
            self.discard()
            return None
        self._thread = None
        return self.path

    def discard(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        remove_db_file(self.path)
