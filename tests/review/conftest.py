"""Fixtures of the review tests: a crafted run database and a published HOME (see factory.py)."""

from __future__ import annotations

import duckdb
import pytest

import registry.cli

from .factory import build_run_tables, make_published_home


@pytest.fixture
def run_con(tmp_path):
    con = duckdb.connect(str(tmp_path / "run.duckdb"))
    build_run_tables(con)
    yield con
    con.close()


@pytest.fixture
def published_home(tmp_path):
    """A HOME with a published registry holding the scenario's queue, and no decisions yet."""
    return make_published_home(tmp_path)


@pytest.fixture
def review_cli(monkeypatch):
    """registry.cli.main limited to the review and serve sub-commands: the others are their owners' to test."""
    monkeypatch.setattr(registry.cli, "COMMANDS", {k: v for k, v in registry.cli.COMMANDS.items()
                                                   if k in ("review", "serve")})
    return registry.cli.main
