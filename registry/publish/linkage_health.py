"""The linkage health of every night (registry.health), written into the published registry whole: its
history is the point, a reader compares tonight with earlier nights. A few hundred rows a night."""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.publish.context import PublishContext
from registry.sql import table_exists

TABLE = contracts.LINKAGE_HEALTH


class LinkageHealth:
    """The artifact: table linkage_health, as the run database holds it (empty before any night measured it)."""

    name = TABLE.name

    def prepare(self, con: duckdb.DuckDBPyConnection, ctx: PublishContext):
        source = TABLE.name if table_exists(con, TABLE.name) else f"({TABLE.empty_select()})"
        return con.sql(f"SELECT {', '.join(TABLE.column_names)} FROM {source} "
                       "ORDER BY extract_date, figure, department, other").to_arrow_table()

    def write(self, pub: duckdb.DuckDBPyConnection, ctx: PublishContext) -> list[str]:
        pub.register("_linkage_health", ctx.prepared[self.name])
        pub.execute(TABLE.ddl(replace=True, constraints=False))
        pub.execute(f"INSERT INTO {TABLE.name} SELECT * FROM _linkage_health")
        pub.unregister("_linkage_health")
        return [TABLE.name]
