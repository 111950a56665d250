"""Nights run in-process through `registry run` (registry.cli.main), isolated from the test process: the
command sets REGISTRY_HOME and REGISTRY_LANDING for the Dagster definitions it loads, and those must not
outlive the test (a later test in the same worker would read another test's landing zone)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def isolated_run_environment(root: Path) -> Iterator[None]:
    """Dagster's instance under root/dagster; the registry's environment restored afterwards."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_HOME", str(root / "dagster"))
    for name in ("REGISTRY_HOME", "REGISTRY_LANDING"):
        # setenv first: MonkeyPatch remembers a variable's absence only when it sets it, so that undo()
        # removes what `registry run` sets; then unset for the runs to come
        mp.setenv(name, "")
        mp.delenv(name)
    try:
        yield
    finally:
        mp.undo()
