"""Fixtures shared by the test packages: Apache Spark in local mode, for the Spark engine's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local-mode SparkSession for the test process (starting one costs seconds). Skipped, saying
    why, where no Java is installed: `make test` installs Debian's default-jre-headless when root."""
    from registry.linkage.engines import EngineSettings
    from registry.linkage.engines.on_spark import SparkUnavailable, check_spark, start_session

    try:
        check_spark()
    except SparkUnavailable as exc:
        pytest.skip(str(exc))
    settings = EngineSettings(engine="spark", spark_master="local[2]",
                              spark_config={"spark.driver.memory": "1g", "spark.sql.shuffle.partitions": "4"})
    session = start_session(settings, tmp_path_factory.mktemp("spark"))
    yield session
    session.stop()
