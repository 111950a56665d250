"""The linkage on Apache Spark (Splink's SparkAPI): local mode on this machine, or a cluster's master.

Tables travel between the run's DuckDB file and Spark as Parquet in an exchange folder: DuckDB writes
the linkage input (after the DuckDB-only SQL of backend.py has run), Spark reads it, and DuckDB reads
Spark's results back. With a cluster the folder must be one that the executors and this machine both
see (`spark.exchange` in HOME/registry.yaml: a shared mount); in local mode it is the run's scratch.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from splink.internals.splink_dataframe import SplinkDataFrame

from registry.linkage.engines.base import LinkageEngine
from registry.linkage.functions import FUNCTIONS
from registry.package_files import package_file
from registry.third_party import silence_pyspark_pandas_warning

LOG_CONFIG = package_file("linkage", "engines", "log4j2.properties")
# What the registry sets on a session unless the configuration says otherwise. Local mode: every core of
# this machine, few shuffle partitions (Spark's default of 200 costs seconds per stage on a small night),
# the driver on the loopback address only, and no web UI.
LOCAL_DEFAULTS = {
    "spark.driver.memory": "4g",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}


class SparkUnavailable(RuntimeError):
    """Spark cannot start here (no Java, say): the message says what to install."""


def session_config(settings: Any, scratch: Path) -> dict[str, str]:
    """The Spark properties of the registry's session (flat, as `SparkSession.builder.config` takes them)."""
    from splink.backends.spark import similarity_jar_location

    local = _is_local(settings)
    cores = os.cpu_count() or 2
    conf = {
        "spark.master": settings.spark_master or f"local[{cores}]",
        "spark.app.name": "resident-registry-linkage",
        # Splink's own similarity functions (unused by the registry's comparisons, but Splink registers them)
        "spark.jars": similarity_jar_location(),
        "spark.sql.shuffle.partitions": str(4 * cores if local else 400),
        "spark.sql.session.timeZone": "UTC",
        "spark.local.dir": str(scratch / "spark-local"),
        # a nightly batch: no progress bars in the run's output, Spark's log at errors only
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
        **(LOCAL_DEFAULTS if local else {}),
    }
    conf.update({str(k): str(v) for k, v in (settings.spark_config or {}).items()})
    return conf


def check_spark() -> None:
    """Spark needs pyspark (the package's `spark` extra) and a Java virtual machine: say which is missing and
    how to get it, rather than fail deep inside pyspark."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("splink.backends.spark") is None:
        raise SparkUnavailable("the Spark engine needs pyspark: pip install 'resident-registry[spark]' "
                               "(make install does)")
    java_home = os.environ.get("JAVA_HOME")
    if (java_home and (Path(java_home) / "bin" / "java").exists()) or shutil.which("java"):
        return
    raise SparkUnavailable("the Spark engine needs Java 17 or later and none was found: `make java` installs "
                           "Debian's default-jre-headless (as root), or set JAVA_HOME")


def _is_local(settings: Any) -> bool:
    return not settings.spark_master or settings.spark_master.startswith("local")


def before_session(settings: Any) -> None:
    """What must hold before pyspark starts its JVM: pyspark and Java present, and in local mode the driver's address
    is the loopback one (else Spark warns that the host name resolves to it, and picks another)."""
    check_spark()
    if _is_local(settings):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    silence_pyspark_pandas_warning()


def start_session(settings: Any, scratch: Path):
    """A SparkSession for the registry (the one already running in this process, if any)."""
    before_session(settings)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in session_config(settings, scratch).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    quiet(session)
    return session


def quiet(session) -> None:
    """Spark logs every fallback of its code generator as a warning; the run reports failures itself."""
    session.sparkContext.setLogLevel("ERROR")


def register_functions(session) -> None:
    """The linkage functions as Spark SQL functions of the session (idempotent)."""
    for function in FUNCTIONS:
        session.sql(function.spark_sql())


class SparkEngine(LinkageEngine):
    name = "spark"

    def __init__(self, con, session, exchange: Path) -> None:
        super().__init__(con)
        self.session = session
        self.exchange = Path(exchange) / f"spark-{uuid.uuid4().hex[:8]}"
        self.exchange.mkdir(parents=True, exist_ok=True)
        register_functions(session)
        # Splink breaks the lineage of its larger intermediate tables by writing them as Parquet here.
        session.sparkContext.setCheckpointDir(str(self.exchange / "checkpoints"))
        self._fetched: dict[str, tuple[str, Path]] = {}
        self._views: set[str] = set()

    def api(self):
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=self.session, break_lineage_method="parquet")

    def _to_spark(self, table: str, name: str = ""):
        """Write a table (or a parenthesised query) of `con` as Parquet and read it in Spark."""
        path = self.exchange / f"{name or table}-{uuid.uuid4().hex[:8]}.parquet"
        self.con.execute(f"COPY (SELECT * FROM {table}) TO '{path}' (FORMAT parquet)")
        return self.session.read.parquet(str(path))

    def _named(self, name: str) -> str:
        """A view name of the session for this engine's input (the session outlives the engine: a view left
        by an earlier stage or run of the same name goes first)."""
        self.session.catalog.dropTempView(name)
        self._views.add(name)
        return name

    def register(self, db, table: str) -> SplinkDataFrame:
        return db.register(self._to_spark(table), dataset_display_name=self._named(table))

    def register_frame(self, db, frame: pd.DataFrame, name: str) -> SplinkDataFrame:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        return db.register(self.session.createDataFrame(table), dataset_display_name=self._named(name))

    def fetch(self, result: SplinkDataFrame, columns: list[str]) -> str:
        frame = result.as_spark_dataframe().select(*[f"`{c}`" for c in columns])
        path = self.exchange / f"{result.physical_name}-{uuid.uuid4().hex[:8]}"
        frame.write.parquet(str(path))
        view = f"spark_{result.templated_name.strip('_')}_{uuid.uuid4().hex[:8]}"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM read_parquet('{path}/*.parquet')")
        self._fetched[result.physical_name] = (view, path)
        return view

    def release(self, result: SplinkDataFrame) -> None:
        view, path = self._fetched.pop(result.physical_name, (None, None))
        if view is not None:
            self.con.execute(f"DROP VIEW IF EXISTS {view}")
            shutil.rmtree(path, ignore_errors=True)
        result.drop_table_from_database_and_remove_from_cache()

    def connected_components(self, nodes: str, edges: str, out: str, max_rounds: int = 100) -> None:
        """Splink's solver on Spark over the nodes that have an edge; every other node is its own component."""
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        solved = "cl_spark_label"
        if self.con.execute(f"SELECT count(*) FROM {edges}").fetchall()[0][0] == 0:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {solved} (node INTEGER, label INTEGER)")
        else:
            frame = self._to_spark(f"(SELECT a, b FROM {edges})", "cl_edges")
            linked = frame.selectExpr("a AS node").union(frame.selectExpr("b AS node")).distinct()
            db = self.api()
            components = cluster_pairwise_predictions_at_threshold(
                db.register(linked, dataset_display_name=self._named("cl_spark_nodes")),
                db.register(frame, dataset_display_name=self._named("cl_spark_edges")),
                db_api=db, node_id_column_name="node", edge_id_column_name_left="a", edge_id_column_name_right="b")
            fetched = self.fetch(components, ["node", "cluster_id"])
            self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {solved} AS
                SELECT CAST(node AS INTEGER) AS node,
                       CAST(min(node) OVER (PARTITION BY cluster_id) AS INTEGER) AS label FROM {fetched}""")
            self.release(components)
        self.con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
            SELECT n.node, coalesce(s.label, n.node) AS label FROM {nodes} n LEFT JOIN {solved} s USING (node)""")
        self.con.execute(f"DROP TABLE IF EXISTS {solved}")

    def describe(self) -> dict[str, str]:
        return {"engine": self.name, "spark_master": self.session.sparkContext.master,
                "spark_version": self.session.version}

    def close(self) -> None:
        """Drop this engine's views in DuckDB and in the session (Splink's intermediate tables too: they
        read Parquet about to be removed), then its exchange folder."""
        for view, _path in self._fetched.values():
            self.con.execute(f"DROP VIEW IF EXISTS {view}")
        self._fetched.clear()
        for table in self.session.catalog.listTables():
            if table.isTemporary and (table.name in self._views or table.name.startswith("__splink__")):
                self.session.catalog.dropTempView(table.name)
        self._views.clear()
        shutil.rmtree(self.exchange, ignore_errors=True)
