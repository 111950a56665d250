"""The layout of a registry HOME folder: where landing, working state, decisions and the published registry live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "registry_home"


@dataclass(frozen=True)
class Home:
    """Every path the registry reads or writes under one HOME.

    HOME/landing/<date>/<department>/...   departments' deliveries (default landing zone)
    HOME/state/registry_state.duckdb       working state of the last successful run
    HOME/state/runs/<run_id>.duckdb        a run's private copy, promoted to state on success
    HOME/review/decisions.jsonl            quality officers' decisions, append-only
    HOME/published/registry.duckdb         the published registry (atomically replaced)
    HOME/published/versions/               the last several published versions
    HOME/dagster/                          DAGSTER_HOME: run history for `dagster dev`
    """

    root: Path

    @classmethod
    def at(cls, home: str | os.PathLike | None = None) -> "Home":
        return cls(Path(home or os.environ.get("REGISTRY_HOME", DEFAULT_HOME)).resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def state_db(self) -> Path:
        return self.state_dir / "registry_state.duckdb"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def review_dir(self) -> Path:
        return self.root / "review"

    @property
    def decisions(self) -> Path:
        return self.review_dir / "decisions.jsonl"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def published_db(self) -> Path:
        return self.published_dir / "registry.duckdb"

    @property
    def versions_dir(self) -> Path:
        return self.published_dir / "versions"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> "Home":
        for d in (self.root, self.landing, self.state_dir, self.run_dir, self.review_dir,
                  self.published_dir, self.versions_dir, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        return self
