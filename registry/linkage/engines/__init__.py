"""Where training, prediction and clustering run: DuckDB in the run's database, or Apache Spark.

The run's DuckDB file holds the records before linkage and the links and clusters after it, whatever
the engine; an engine only decides where Splink's heavy SQL runs. The comparisons, blocking rules
and linkage functions are written once (comparisons.py, model.py, functions.py) and give the same
match weights on both engines.

    engine = open_engine(con, EngineSettings(engine="spark"), scratch=work_dir)   # or DuckDBEngine(con)
    predict_links(con, model, engine=engine); cluster_records(con, engine=engine)
    engine.close()

`EngineSettings.load(home)` reads the registry's configuration, `HOME/registry.yaml`:

    linkage:
      engine: spark                     # duckdb (default) or spark; `registry run --engine` overrides it
      spark:
        master: spark://10.0.0.5:7077   # absent: local mode on this machine's cores
        exchange: /mnt/registry-exchange  # with a master: a folder the executors and this machine share
        config: {spark.executor.memory: 16g, spark.sql.shuffle.partitions: 400}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from registry.linkage.engines.base import LinkageEngine
from registry.linkage.engines.on_duckdb import DuckDBEngine
from registry.settings import CONFIG_FILE, ConfigError, config_section

if TYPE_CHECKING:
    from registry.home import Home

ENGINES = ("duckdb", "spark")


class EngineConfigError(ConfigError):
    """The registry's configuration names no engine we have, or is not readable."""


@dataclass(frozen=True)
class EngineSettings:
    engine: str = "duckdb"
    spark_master: str = ""  # empty: local mode, local[*]
    spark_config: dict[str, Any] = field(default_factory=dict)  # further Spark properties
    # where Parquet passes between DuckDB and Spark; with a cluster, a folder both see (empty: the run's scratch)
    spark_exchange: str = ""

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise EngineConfigError(f"linkage engine {self.engine!r}: choose one of {', '.join(ENGINES)}")

    @classmethod
    def load(cls, home: "Home", engine: str = "") -> "EngineSettings":
        """The configuration in HOME/registry.yaml (absent: DuckDB); `engine`, when given, overrides its engine."""
        try:
            section = config_section(home, "linkage")
        except ConfigError as exc:
            raise EngineConfigError(str(exc)) from exc
        path = home.root / CONFIG_FILE
        spark = section.get("spark") or {}
        try:
            return cls(engine=engine or str(section.get("engine") or "duckdb"),
                       spark_master=str(spark.get("master") or ""),
                       spark_config=dict(spark.get("config") or {}),
                       spark_exchange=str(spark.get("exchange") or ""))
        except EngineConfigError as exc:
            raise EngineConfigError(f"{path}: {exc}" if not engine else str(exc)) from exc


def open_engine(con: duckdb.DuckDBPyConnection, settings: EngineSettings, scratch: Path,
                spark_session: Any = None) -> LinkageEngine:
    """The engine the settings name, on the run's connection. Spark: `spark_session`, or one started here
    (local mode unless a master is configured); `scratch` holds what passes between DuckDB and Spark."""
    if settings.engine == "duckdb":
        return DuckDBEngine(con)
    from registry.linkage.engines.on_spark import SparkEngine, start_session

    session = spark_session if spark_session is not None else start_session(settings, scratch)
    return SparkEngine(con, session, Path(settings.spark_exchange) if settings.spark_exchange else scratch)


__all__ = ["ENGINES", "DuckDBEngine", "EngineConfigError", "EngineSettings", "LinkageEngine", "open_engine"]
