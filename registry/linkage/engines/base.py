"""What an engine does for the linkage: give Splink a database, take the run's tables to it, bring results back."""

from __future__ import annotations

from abc import ABC, abstractmethod

import duckdb
import pandas as pd
from splink.internals.database_api import DatabaseAPI
from splink.internals.splink_dataframe import SplinkDataFrame


class LinkageEngine(ABC):
    """Where Splink's SQL runs. `con` is the run's DuckDB connection: inputs are read from it and results
    brought back into it, so the stages before and after the linkage never see the engine."""

    name: str = ""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    @abstractmethod
    def api(self) -> DatabaseAPI:
        """A new Splink database API on the engine (one per Linker: Splink names its tables per API)."""

    @abstractmethod
    def register(self, db: DatabaseAPI, table: str) -> SplinkDataFrame:
        """A table or view of `con` as a Splink input named after it."""

    @abstractmethod
    def register_frame(self, db: DatabaseAPI, frame: pd.DataFrame, name: str) -> SplinkDataFrame:
        """A small pandas frame (a lookup such as frozen term frequencies) as a Splink table."""

    @abstractmethod
    def fetch(self, result: SplinkDataFrame, columns: list[str]) -> str:
        """The name of a relation of `con` holding those columns of a Splink result (valid until release())."""

    def release(self, result: SplinkDataFrame) -> None:
        """Drop a Splink result and whatever fetch() made of it."""
        result.drop_table_from_database_and_remove_from_cache()

    @abstractmethod
    def connected_components(self, nodes: str, edges: str, out: str, max_rounds: int = 100) -> None:
        """Temp table `out(node, label)` of `con`: for every node of `nodes(node)`, the smallest node of its
        connected component over the undirected edges `edges(a, b)` (integers)."""

    def describe(self) -> dict[str, str]:
        """What a run records about where its linkage ran."""
        return {"engine": self.name}

    def close(self) -> None:
        """Remove what the engine left for this run (its session, if it owns one, stays to its owner)."""
