import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the deliveries helper beside the tests


@pytest.fixture
def con():
    """An in-memory DuckDB connection, closed after the test."""
    c = duckdb.connect()
    yield c
    c.close()
