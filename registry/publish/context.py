"""What an artifact written at publish is given (PublishContext), and what it must do (Artifact)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb

from registry.home import Home
from registry.night import NightPlan


@dataclass
class PublishContext:
    """The night, the HOME, the access policy file; `prepared` holds each artifact's prepare() result."""

    home: Home
    night: NightPlan
    access_policy: str | Path | None = None
    prepared: dict = field(default_factory=dict)


class Artifact(Protocol):
    name: str

    def prepare(self, con: duckdb.DuckDBPyConnection, ctx: PublishContext) -> object:
        """Check and compute on the run database, before any file is written; PublishError refuses the night."""

    def write(self, pub: duckdb.DuckDBPyConnection, ctx: PublishContext) -> list[str]:
        """Write into the new registry file through its own connection; return the names written."""
