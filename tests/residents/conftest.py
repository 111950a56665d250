import duckdb
import pytest


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()
