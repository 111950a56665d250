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
    HOME/review/audit_samples/             audit samples drawn for officers to label (one file per draw)
    HOME/published/registry.duckdb         the published registry (atomically replaced)
    HOME/published/versions/               the last several published versions
    HOME/dagster/                          DAGSTER_HOME: run history for `dagster dev`
    HOME/access/                           departments' credentials, officers' accounts (hashes only)
    HOME/audit/                            the audit of reads of personal data, append-only
    HOME/extracts/<department>/            each department's Parquet extract of each published run

    Everything but the landing zone and the extracts is the service's own: folders 0700 (see ensure()).
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
    def audit_samples(self) -> Path:
        return self.review_dir / "audit_samples"

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

    @property
    def access_dir(self) -> Path:
        return self.root / "access"

    @property
    def audit_dir(self) -> Path:
        return self.root / "audit"

    @property
    def extracts_dir(self) -> Path:
        return self.root / "extracts"

    def ensure(self) -> "Home":
        from registry.access.files import PRIVATE_DIR, TRAVERSE_ONLY, private_dir

        # HOME: others may pass through to a department's extract folder, never list or open the rest.
        private_dir(self.root, TRAVERSE_ONLY)
        self.landing.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)  # its owner may have opened it
        for d in (self.state_dir, self.run_dir, self.review_dir, self.published_dir, self.versions_dir,
                  self.dagster_home, self.access_dir, self.audit_dir):
            private_dir(d)
        return self
