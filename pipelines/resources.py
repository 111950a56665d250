"""Resources of the nightly merge: where the registry lives, and what tonight's run is asked to do."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from registry.home import Home
from registry.run_state import RunLock, RunState, recover_published_run


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
    """The run's private copy of the working state (see registry.run_state), through one connection.

    The job runs in one process, its steps one after another: every stage gets the same connection
    (`connect()` does not close it); it is closed before the copy is promoted and when the run ends,
    whatever its outcome. At the start the night's deliveries begin to be parsed in worker processes
    (registry.departments.parsing), while the state is being copied.
    """

    registry: RegistryHome
    _state: RunState | None = PrivateAttr(default=None)
    _lock: RunLock | None = PrivateAttr(default=None)
    _parsing: object | None = PrivateAttr(default=None)
    _published_base: object | None = PrivateAttr(default=None)
    _gc_threshold: tuple[int, int, int] | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run_id = context.run_id or "adhoc"
        home = self.registry.paths
        self._lock = RunLock(home).acquire(run_id)
        self._quiet_collector()
        try:
            # First the roll-forward of a run stopped after its swap: the parsing compares with that state.
            recover_published_run(home)
            state = RunState(home, run_id)
            self._parsing = _start_parsing(context, self.registry, state)
            # Great Expectations takes seconds to import: in this thread while the kernel copies the state.
            from registry import quality

            self._state = state.open(while_copying=quality.warm_up)
            gc.freeze()  # what the run imported so far lives as long as the process
        except BaseException:
            self._release()
            raise

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._release()

    def _quiet_collector(self) -> None:
        """Python's cycle collector walked the hundreds of thousands of objects of Dagster's and Great
        Expectations' modules again and again, a second of CPU while the workers need both cores:
        those objects are set aside (gc.freeze) and collections made rarer until the run ends."""
        self._gc_threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)

    def _restore_collector(self) -> None:
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()  # frozen objects are never freed, and DuckDB's bindings report them at exit
            self._gc_threshold = None

    def _release(self) -> None:
        self._restore_collector()
        try:
            base, self._published_base = self._published_base, None
            if base is not None:
                base.discard()
            if self._parsing is not None:
                self._parsing.close()
                self._parsing = None
            if self._state is not None:
                self._state.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    @property
    def state(self) -> RunState:
        assert self._state is not None, "RunDatabase used outside a run"
        return self._state

    @property
    def parsing(self):
        """Tonight's deliveries being parsed ahead (registry.departments.parsing.DeliveryParsing), or None."""
        return self._parsing

    def copy_published_ahead(self) -> None:
        """Start copying the published file for an incremental publish (registry.publish.BaseCopy): once
        the deliveries are parsed the run leaves a core idle half the time, and the copy fills it."""
        from registry.publish.base_copy import BaseCopy

        if self._published_base is None:
            self._published_base = BaseCopy(self.registry.paths, self.state.run_id)

    def take_published_base(self):
        """The copy started by copy_published_ahead() (now the caller's: publish uses or removes it), or None."""
        base, self._published_base = self._published_base, None
        return base

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's connection; kept open for the next stage (closed at promotion and at the run's end)."""
        yield self.state.connection()


def _start_parsing(context: InitResourceContext, registry: RegistryHome, state: RunState):
    """Start parsing the night's deliveries in worker processes, or take the parsing the launcher
    started for this run (`registry run` does, while Dagster is still being imported); None when the
    night is not known yet (no landing zone, say): each delivery asset then reads its file itself."""
    from registry.departments.parsing import parse_night

    # Scratch files of crashed runs: no other run is going (the lock is held).
    for stale in state.home.run_dir.glob("*.work") if state.home.run_dir.exists() else ():
        if stale != state.work_dir:
            shutil.rmtree(stale, ignore_errors=True)
    # The night resource's config as the run was launched with it (run_plan reads the same value).
    run_config = (context.run.run_config if context.run is not None else None) or {}
    night = ((run_config.get("resources") or {}).get("night") or {}).get("config") or {}
    return parse_night(registry.landing_path, night.get("extract_date") or "", state.home, state.run_id)
