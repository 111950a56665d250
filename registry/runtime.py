"""What a nightly run does around its stages to stay safe and to start fast, in one place.

Safety, always on:
  - the run lock: one nightly run per HOME (HOME/state/run.lock);
  - the roll-forward of a run stopped between its publish swap and its state promotion;
  - what runs killed mid-run left behind (working copies, scratch files, half-built published files)
    removed, each such run kept in the ledger as failed (registry.runs.abandon_killed_runs).
Speed-ups, switched off together by `speedups=False` (REGISTRY_SPEEDUPS=0 in the environment, or the
run_db resource's `speedups: false`); a night gives the same result without them, only slower:
  - parse workers: the night's deliveries parsed in two worker processes from the very start
    (registry.departments.parsing), by `parse_ahead()` before Dagster is even imported, or by
    `start()`, which takes over a parsing started ahead for the same files;
  - the cycle collector kept off the modules imported for the run (`importing()`, gc.freeze and
    rarer collections while the run lasts): it would walk their objects again and again while the
    workers need both cores;
  - Great Expectations imported while the state is being copied;
  - the published file copied ahead for an incremental publish (`copy_published_ahead()`).

`registry run` makes the runtime, calls parse_ahead() and hands the runtime to the Dagster job
(pipelines.resources.RunDatabase); the schedule, the sensor and `dagster dev` get one made by the
resource. Whoever made it closes it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from registry import progress
from registry.home import Home
from registry.run_state import RunLock, RunState, recover_published_run
from registry.runs import abandon_killed_runs

SPEEDUPS_ENV = "REGISTRY_SPEEDUPS"


def speedups_enabled() -> bool:
    """The off switch in the environment: REGISTRY_SPEEDUPS=0 (or off, false, no) turns them off."""
    return os.environ.get(SPEEDUPS_ENV, "1").strip().lower() not in ("0", "off", "false", "no")


class NightRuntime:
    """One run's lock, state copy, parse workers, collector settings and published copy made ahead."""

    def __init__(self, home: Home, run_id: str, landing: Path, extract_date: str = "", *,
                 speedups: bool | None = None):
        self.home, self.run_id = home, run_id
        self.landing, self.extract_date = Path(landing), extract_date
        self.speedups = speedups_enabled() if speedups is None else speedups
        self._lock: RunLock | None = None
        self._state: RunState | None = None
        self._parsing = None
        self._published_base = None
        self._gc_threshold: tuple[int, int, int] | None = None

    # ------------------------------------------------------------------ before the run's resources

    def parse_ahead(self) -> None:
        """Start parsing the night's deliveries now, on the core that importing Dagster leaves idle.
        Nothing when the speed-ups are off, or when another run holds the lock (this run will stop
        there: leave the cores to that one)."""
        if self.speedups and self._parsing is None and not RunLock(self.home).held_elsewhere():
            self._parsing = self._new_parsing()

    @contextlib.contextmanager
    def importing(self) -> Iterator[None]:
        """Import the run's heavy modules (Dagster, the definitions) without the cycle collector
        walking the objects they make, which hold no garbage."""
        if not self.speedups:
            yield
            return
        gc.disable()
        try:
            yield
        finally:
            gc.enable()

    # ------------------------------------------------------------------ the run

    def start(self) -> RunState:
        """Take the lock, roll a stopped run forward, start (or take over) the parsing, and open the
        run's copy of the state. Idempotent within a run."""
        if self._state is not None:
            return self._state
        self._lock = RunLock(self.home).acquire(self.run_id)
        started = time.perf_counter()
        progress.stage_started("preparation (copy of the working state; deliveries parsed in workers)")
        try:
            self._quiet_collector()
            # First the roll-forward of a run stopped after its swap: the parsing compares with that state.
            recover_published_run(self.home)
            state = RunState(self.home, self.run_id)
            # Then what runs killed mid-run left behind (no other run is going: the lock is held).
            for killed in abandon_killed_runs(self.home, keep=self.run_id):
                progress.note(f"run {killed} was killed before it finished: its working copy is removed, "
                              "its row kept in the run ledger as failed")
            self._parsing = self._parsing_for_tonight()
            warm_up = None
            if self.speedups:
                from registry import quality  # its import takes seconds: done while the kernel copies the state

                warm_up = quality.warm_up
            self._state = state.open(while_copying=warm_up)
            if self.speedups:
                gc.freeze()  # what the run imported so far lives as long as the process
            progress.stage_finished("preparation", time.perf_counter() - started)
            return self._state
        except BaseException:
            self.close()
            raise

    @property
    def state(self) -> RunState:
        assert self._state is not None, "the run has not started (NightRuntime.start)"
        return self._state

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The run's one connection (kept open for the next stage; closed at promotion and at the end)."""
        return self.state.connection()

    @property
    def parsing(self):
        """Tonight's deliveries being parsed (registry.departments.parsing.DeliveryParsing), or None:
        each delivery is then read by its loader."""
        return self._parsing

    def copy_published_ahead(self) -> None:
        """Start copying the published file for an incremental publish (registry.publish.base_copy):
        once the deliveries are parsed the run leaves a core idle half the time, and the copy fills it."""
        if self.speedups and self._published_base is None:
            from registry.publish.base_copy import BaseCopy

            self._published_base = BaseCopy(self.home, self.run_id)

    def take_published_base(self):
        """The copy started by copy_published_ahead() (now the caller's: publish uses or removes it), or None."""
        base, self._published_base = self._published_base, None
        return base

    def close(self) -> None:
        """Stop what is still going and release the lock (at the end of the run, whatever its outcome;
        also when it never started). Idempotent."""
        self._restore_collector()
        try:
            base, self._published_base = self._published_base, None
            if base is not None:
                base.discard()
            parsing, self._parsing = self._parsing, None
            if parsing is not None:
                parsing.close()
            if self._state is not None:
                self._state.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    # ------------------------------------------------------------------ parts

    def _new_parsing(self):
        """A parsing of the night's deliveries into this run's work folder; None when the landing zone
        has no delivery for the night (or no night at all): each delivery asset then reads its file."""
        from registry.departments.landing import deliveries_for, night_date
        from registry.departments.parsing import WORKERS, DeliveryParsing, standing_sha256

        date = night_date(self.extract_date, self.landing)
        deliveries = deliveries_for(self.landing, date) if date else {}
        if not any(deliveries.values()):
            return None
        from registry.settings import DatabaseSettings

        work_dir = RunState(self.home, self.run_id).work_dir
        # Each worker's database beside the run's own: a share of the memory limit each.
        database = DatabaseSettings.load(self.home).config(work_dir, share=1 / (2 * WORKERS))
        return DeliveryParsing(deliveries, work_dir, standing_sha256=standing_sha256(self.home.state_db, date),
                               database=database)

    def _parsing_for_tonight(self):
        """The parsing started ahead if it parses exactly tonight's files, else a new one (or none)."""
        from registry.departments.landing import deliveries_for, night_date

        ahead, self._parsing = self._parsing, None
        if ahead is not None:
            date = night_date(self.extract_date, self.landing)
            if ahead.deliveries == (deliveries_for(self.landing, date) if date else {}):
                return ahead
            ahead.close()
        return self._new_parsing() if self.speedups else None

    def _quiet_collector(self) -> None:
        """The objects of the modules imported so far set aside (gc.freeze), collections made rarer,
        until the run ends."""
        if not self.speedups or self._gc_threshold is not None:
            return
        self._gc_threshold = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)

    def _restore_collector(self) -> None:
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
            gc.unfreeze()  # frozen objects are never freed, and DuckDB's bindings report them at exit
            self._gc_threshold = None
