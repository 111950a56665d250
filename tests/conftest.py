"""Fixtures for every test."""

from __future__ import annotations

import os

import pytest

# `registry run` sets these for the Dagster definitions it loads (registry/commands/run.py); a test that
# runs it in-process would otherwise hand its HOME and landing zone to every later test of the process.
_RUN_ENVIRONMENT = ("REGISTRY_HOME", "REGISTRY_LANDING")


@pytest.fixture(autouse=True)
def _restore_run_environment():
    saved = {name: os.environ.get(name) for name in _RUN_ENVIRONMENT}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
