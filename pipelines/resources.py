"""Resources of the nightly merge: where the registry lives, and what tonight's run is asked to do."""

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import duckdb
from dagster import ConfigurableResource, InitResourceContext, ResourceDependency
from pydantic import PrivateAttr

from registry.home import Home
from registry.run_state import RunState
from registry.runtime import NightRuntime


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


class Clock(ConfigurableResource):
    """The time the triggers go by: the real time, or a fixed moment (ISO 8601 with its offset, e.g.
    2026-11-21T07:00:00+08:00) for tests and for replaying a morning."""

    fixed: str = ""

    def now(self, timezone: str) -> dt.datetime:
        if self.fixed:
            return dt.datetime.fromisoformat(self.fixed).astimezone(ZoneInfo(timezone))
        return dt.datetime.now(ZoneInfo(timezone))


class Night(ConfigurableResource):
    """What this run is for: one extract date, incremental unless a full rebuild is asked."""

    extract_date: str = ""  # YYYY-MM-DD; empty: the latest night in the landing zone
    full_rebuild: bool = False
    retrain: bool = False
    # A rejected delivery fails the night (the published registry stays) unless the data engineer
    # accepts publishing with that department's previous delivery standing.
    accept_rejected: bool = False
    # The shrink guard (registry.shrink): the share of a department's records one delivery may remove,
    # and of the residents one night may retire; beyond it the night stops unless the shrink is accepted.
    max_record_drop: float = 0.05
    max_resident_retire: float = 0.05
    accept_shrink: bool = False


class LinkageEngine(ConfigurableResource):
    """Where training, prediction and clustering run: DuckDB in the run's database, or Apache Spark
    (registry.linkage.engines). One job for both: the engine is this resource's choice.

    `engine` empty means the registry's configuration (HOME/registry.yaml, `linkage.engine`), else
    DuckDB; `registry run --engine` sets it. Spark's session is dagster-pyspark's lazy one: it starts
    when a stage first asks for Spark (never on a DuckDB night) and stops when the run ends.
    """

    registry: RegistryHome
    engine: str = ""
    _settings: object | None = PrivateAttr(default=None)
    _spark: object | None = PrivateAttr(default=None)
    _owns_session: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        from registry.linkage.engines import EngineSettings

        # A misspelt engine, or Spark without pyspark or Java, fails the run before any stage, saying why.
        self._settings = EngineSettings.load(self.registry.paths, self.engine)
        if self._settings.engine == "spark":
            from registry.linkage.engines.on_spark import check_spark

            check_spark()

    @property
    def settings(self):
        if self._settings is None:
            from registry.linkage.engines import EngineSettings

            self._settings = EngineSettings.load(self.registry.paths, self.engine)
        return self._settings

    def open(self, con: duckdb.DuckDBPyConnection, scratch: Path):
        """The engine on the run's connection; the caller closes it (its scratch files go)."""
        from registry.linkage.engines import open_engine

        settings = self.settings
        if settings.engine == "duckdb":
            return open_engine(con, settings, scratch)
        return open_engine(con, settings, scratch, spark_session=self._session(settings, scratch))

    def _session(self, settings, scratch: Path):
        from registry.linkage.engines.on_spark import before_session, quiet, session_config

        if self._spark is None:
            before_session(settings)
            from dagster_pyspark import LazyPySparkResource
            from pyspark.sql import SparkSession

            # A session this process already runs (a test's, say) is reused and left running.
            self._owns_session = SparkSession.getActiveSession() is None
            self._spark = LazyPySparkResource(spark_config=session_config(settings, scratch))
        session = self._spark.spark_session
        quiet(session)
        return session

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        spark, self._spark = self._spark, None
        if spark is not None and self._owns_session:
            spark.spark_session.stop()


class RunDatabase(ConfigurableResource):
    """The run's private copy of the working state (registry.run_state), through one connection, and
    what the run does around its stages (registry.runtime: lock, roll-forward, parse workers, the
    collector, the published file copied ahead).

    The job runs in one process, its steps one after another: every stage gets the same connection
    (`connect()` does not close it); it is closed before the copy is promoted and when the run ends,
    whatever its outcome. `registry run` hands over the runtime it started before importing Dagster
    (`started_ahead`); otherwise the run makes its own. `speedups: false` runs the night without the
    speed-ups (so does REGISTRY_SPEEDUPS=0).
    """

    registry: RegistryHome
    speedups: bool = True
    started_ahead: ResourceDependency[Optional[NightRuntime]] = None
    _runtime: NightRuntime | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run_id = context.run.run_id if context.run is not None else "adhoc"
        runtime = self.started_ahead
        if runtime is None or runtime.run_id != run_id:
            # The night resource's config as the run was launched with it (run_plan reads the same value).
            run_config = (context.run.run_config if context.run is not None else None) or {}
            night = ((run_config.get("resources") or {}).get("night") or {}).get("config") or {}
            runtime = NightRuntime(self.registry.paths, run_id, self.registry.landing_path,
                                   night.get("extract_date") or "")
        if not self.speedups:
            runtime.speedups = False
        self._runtime = runtime
        runtime.start()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._runtime is not None:
            self._runtime.close()

    @property
    def runtime(self) -> NightRuntime:
        assert self._runtime is not None, "RunDatabase used outside a run"
        return self._runtime

    @property
    def state(self) -> RunState:
        return self.runtime.state

    @property
    def parsing(self):
        """Tonight's deliveries being parsed ahead (registry.departments.parsing.DeliveryParsing), or None."""
        return self.runtime.parsing

    def copy_published_ahead(self) -> None:
        self.runtime.copy_published_ahead()

    def take_published_base(self):
        return self.runtime.take_published_base()

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The run's connection; kept open for the next stage (closed at promotion and at the run's end)."""
        yield self.runtime.connection()
