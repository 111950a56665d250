"""The linkage on DuckDB: Splink's SQL runs in the run's own database, on the same connection."""

from __future__ import annotations

import pandas as pd
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from registry.linkage import backend
from registry.linkage.engines.base import LinkageEngine


class DuckDBEngine(LinkageEngine):
    name = "duckdb"

    def api(self) -> DuckDBAPI:
        backend.register_functions(self.con)
        return backend.splink_api(self.con)

    def register(self, db: DuckDBAPI, table: str) -> SplinkDataFrame:
        return db.register(table, dataset_display_name=table)

    def register_frame(self, db: DuckDBAPI, frame: pd.DataFrame, name: str) -> SplinkDataFrame:
        self.con.register("_engine_frame", frame)
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _engine_frame")
        finally:
            self.con.unregister("_engine_frame")
        return db.register(name, dataset_display_name=f"{name}_sdf")

    def fetch(self, result: SplinkDataFrame, columns: list[str]) -> str:
        return result.physical_name

    def connected_components(self, nodes: str, edges: str, out: str, max_rounds: int = 100) -> None:
        backend.connected_components(self.con, nodes, edges, out, max_rounds=max_rounds)
