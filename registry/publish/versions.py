"""The published file's place: the atomic swap, the kept versions, and the leftovers of crashed publishes.

os.replace() puts the new file over HOME/published/registry.duckdb: a reader opening the registry sees
the old file or the new one, never half of one. Each published file is kept as
HOME/published/versions/registry-<run_id>.duckdb (a hard link: a published file is never written
again), the newest `keep_versions` of them.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from registry.home import Home
from registry.run_state import copy_file, fsync_path

log = logging.getLogger(__name__)

STALE_BUILD_SECONDS = 3600


def building_path(home: Home, run_id: str) -> Path:
    """Where tonight's file is built, beside the published one."""
    return home.published_dir / f".building-{run_id}.duckdb"


def remove_db_file(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def clean_stale_builds(published_dir: Path, run_id: str) -> None:
    """Half-built files of crashed publishes (this run's, or any older than an hour)."""
    now = time.time()
    for p in [*published_dir.glob(".building-*.duckdb"), *published_dir.glob(".base-*.duckdb")]:
        if p.name == f".base-{run_id}.duckdb":
            continue  # this run's copy made ahead (BaseCopy), in use
        if p.name == f".building-{run_id}.duckdb" or now - p.stat().st_mtime > STALE_BUILD_SECONDS:
            log.info("removing half-built registry %s", p)
            remove_db_file(p)


def swap(building: Path, published: Path) -> None:
    os.replace(building, published)
    fsync_path(published.parent)


def keep_version(home: Home, run_id: str, keep_versions: int) -> Path | None:
    if keep_versions <= 0:
        return None
    home.versions_dir.mkdir(parents=True, exist_ok=True)
    version = home.versions_dir / f"registry-{run_id}.duckdb"
    tmp = home.versions_dir / f".copy-{run_id}.duckdb"
    tmp.unlink(missing_ok=True)
    # A published file is never written after its swap (every reader opens it read-only; the next
    # publish replaces it by rename), so the version can be a hard link to it: no multi-GB copy.
    try:
        os.link(home.published_db, tmp)
    except OSError:  # a file system without hard links
        copy_file(home.published_db, tmp)
    os.replace(tmp, version)
    versions = sorted(home.versions_dir.glob("registry-*.duckdb"), key=lambda p: (p.stat().st_mtime, p.name))
    for old in versions[:-keep_versions]:
        old.unlink(missing_ok=True)
    return version
