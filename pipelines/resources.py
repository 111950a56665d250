"""Resources of the nightly merge: where the registry lives, and what tonight's run is asked to do."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from registry.home import Home
from registry.run_state import RunLock, RunState


class RegistryHome(ConfigurableResource):
    """The registry HOME folder and the landing zone the departments deliver to."""

    # Empty means "from the environment when the run starts" ($REGISTRY_HOME, $REGISTRY_LANDING), so that
    # `dagster dev`, the daemon and `registry run` agree without a second configuration.
    home: str = ""
    landing: str = ""

    @property
    def paths(self) -> Home:
        return Home.at(self.home or None)

    @property
    def landing_path(self) -> Path:
        landing = self.landing or os.environ.get("REGISTRY_LANDING", "")
        return Path(landing).resolve() if landing else self.paths.landing


class Night(ConfigurableResource):
    """What this run is for: one extract date, incremental unless a full rebuild is asked."""

    extract_date: str = ""  # YYYY-MM-DD; empty: the latest night in the landing zone
    full_rebuild: bool = False
    retrain: bool = False
    # A rejected delivery fails the night (the published registry stays) unless the data engineer
    # accepts publishing with that department's previous delivery standing.
    accept_rejected: bool = False


class RunDatabase(ConfigurableResource):
    """The run's private copy of the working state (see registry.run_state)."""

    registry: RegistryHome
    _state: RunState | None = PrivateAttr(default=None)
    _lock: RunLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run_id = context.run_id or "adhoc"
        self._lock = RunLock(self.registry.paths).acquire(run_id)
        self._state = RunState(self.registry.paths, run_id).open()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()

    @property
    def state(self) -> RunState:
        assert self._state is not None, "RunDatabase used outside a run"
        return self._state

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.state.connect()
        try:
            yield con
        finally:
            con.close()
