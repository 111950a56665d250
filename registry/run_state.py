"""A run's private copy of the working state, promoted only when the run publishes.

The working state (raw snapshots, records, links, residents, issued IDs) is what the next night is
compared against. A run that fails half-way must not leave it half-updated, so every run works on
a copy and the copy replaces the state with one atomic rename after a successful publish.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from registry.home import Home


@dataclass(frozen=True)
class RunState:
    home: Home
    run_id: str

    @property
    def path(self) -> Path:
        return self.home.run_dir / f"{self.run_id}.duckdb"

    def open(self) -> "RunState":
        """Create the run's copy of the last good state (or an empty database on the first run).

        Idempotent: a second call within the same run keeps the copy it already has.
        """
        self.home.ensure()
        if not self.path.exists():
            tmp = self.path.with_suffix(".copying")
            if self.home.state_db.exists():
                shutil.copyfile(self.home.state_db, tmp)
            else:
                duckdb.connect(str(tmp)).close()
            os.replace(tmp, self.path)
        return self

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if not self.path.exists():
            raise FileNotFoundError(f"run {self.run_id} has no state copy at {self.path}; open() it first")
        con = duckdb.connect(str(self.path), read_only=read_only)
        con.execute("SET preserve_insertion_order = false")
        return con

    def promote(self) -> None:
        """Make this run's state the working state (after its registry was published)."""
        con = duckdb.connect(str(self.path))
        con.execute("CHECKPOINT")
        con.close()
        os.replace(self.path, self.home.state_db)
        wal = self.path.with_suffix(".duckdb.wal")
        if wal.exists():
            wal.unlink()

    def discard(self) -> None:
        for p in (self.path, self.path.with_suffix(".duckdb.wal"), self.path.with_suffix(".copying")):
            if p.exists():
                p.unlink()


def has_state(home: Home) -> bool:
    return home.state_db.exists()


def stale_run_copies(home: Home, keep: str | None = None) -> list[Path]:
    """Copies left by runs that crashed; safe to remove once no run is going."""
    if not home.run_dir.exists():
        return []
    return [p for p in home.run_dir.glob("*.duckdb") if keep is None or p.stem != keep]
