"""Fixtures shared by the test packages: the registry's environment kept per test, and Apache Spark
in local mode for the Spark engine's tests."""

from __future__ import annotations

import os

import pytest


_REGISTRY_ENVIRONMENT = {k: os.environ.get(k) for k in ("REGISTRY_HOME", "REGISTRY_LANDING")}


def _reset_registry_environment() -> None:
    for key, value in _REGISTRY_ENVIRONMENT.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _registry_environment():
    """`registry run` called in-process sets REGISTRY_HOME and REGISTRY_LANDING for the Dagster definitions
    (as its own process would, for its lifetime), from module fixtures too: every test starts and ends
    with them as the session found them, so that no test reads another's landing zone."""
    _reset_registry_environment()
    yield
    _reset_registry_environment()


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
