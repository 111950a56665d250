"""Incremental nights: the one mechanism by which a stage computes only what changed tonight.

Tonight's changes are the `ChangeSet` the standardise stage writes (records new, changed or removed
since the last processed snapshots); the night plan (registry.night) names it. A stage whose output is
a function of a few keys' inputs (clustering: a group of linked records; survivorship: a resident's
members; the review queue: an item's residents; publish: a table's rows) then

1. checks its `Basis`: the definition its standing tables were computed under (an algorithm version,
   the rules it read, a threshold), kept in `state_meta`. Another basis, or a standing table missing,
   means computing in full;
2. gathers its touched set: the keys whose rows may differ from yesterday's (the stage knows which);
3. applies the cut-off (`worthwhile`): above a share of the whole, a full computation costs no more;
4. splices (`splice`): the touched keys' rows deleted, their recomputed rows inserted; every other row
   stands, which equals a full computation by construction (the tests compare both, table by table);
5. names what it recomputed for the stages after it (`mark_recomputed`: clusters_recomputed,
   crosswalk_recomputed, residents_recomputed); after a full computation the table is absent
   (`clear_recomputed`), and `recomputed` tells a later stage which of the two it got.

On a full night (NightPlan.incremental false) every stage computes everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb

from registry import contracts
from registry.sql import literal_list, table_exists

# Above this share of the whole touched tonight, computing everything is as cheap as splicing.
MAX_SHARE = 0.5


@dataclass(frozen=True)
class ChangeSet:
    """Tonight's record changes: `table`(record_uid, department, change: new | changed | removed).
    Unchanged records are absent; on a full night every record is `new`."""

    table: str = contracts.RECORD_CHANGES.name

    def uids_sql(self, *changes: str) -> str:
        """SELECT record_uid of tonight's changes (of the given kinds; all by default)."""
        where = f" WHERE change IN ({literal_list(changes)})" if changes else ""
        return f"SELECT record_uid FROM {self.table}{where}"

    def exists(self, con: duckdb.DuckDBPyConnection) -> bool:
        return table_exists(con, self.table)


RECORD_CHANGES = ChangeSet()


def digest(version: str, definition: bytes | str) -> str:
    """A basis digest: the stage's algorithm version and a hash of what else defines its output."""
    data = definition.encode("utf-8") if isinstance(definition, str) else definition
    return f"{version}:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class Basis:
    """What a stage's standing tables were computed under: `digest`, kept in state_meta under `key`;
    `tables` are the standing tables it describes (all must exist for the basis to hold)."""

    key: str
    digest: str
    tables: tuple[str, ...]

    def standing(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """The digest the standing tables were computed under (None: unknown, or a table is missing)."""
        if not all(table_exists(con, t) for t in (*self.tables, contracts.STATE_META.name)):
            return None
        row = con.execute(f"SELECT value FROM {contracts.STATE_META.name} WHERE key = ?", [self.key]).fetchall()
        return row[0][0] if row else None

    def holds(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether the standing tables were computed under this very basis."""
        return self.standing(con) == self.digest

    def record(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remember this basis for the next night (after the standing tables were written under it)."""
        from registry.runs import set_meta

        set_meta(con, self.key, self.digest)


def worthwhile(touched: int, total: int, max_share: float = MAX_SHARE) -> bool:
    """The cut-off: splicing `touched` keys of `total` is worth it (else compute everything)."""
    return touched <= max_share * max(total, 1)


def splice(con: duckdb.DuckDBPyConnection, table: str, key: str, keys_sql: str, rows_sql: str) -> None:
    """Replace the rows of `table` whose `key` is among `keys_sql` by the rows `rows_sql` selects."""
    con.execute(f"DELETE FROM {table} WHERE {key} IN ({keys_sql})")
    con.execute(f"INSERT INTO {table} BY NAME {rows_sql}")


def mark_recomputed(con: duckdb.DuckDBPyConnection, recomputed_table: contracts.Table, keys_sql: str) -> None:
    """Name the keys a stage recomputed tonight, for the stages after it."""
    con.execute(f"CREATE OR REPLACE TABLE {recomputed_table.name} AS {keys_sql}")


def clear_recomputed(con: duckdb.DuckDBPyConnection, recomputed_table: contracts.Table) -> None:
    """A stage computed everything: no list of recomputed keys (the next stages compute in full too)."""
    con.execute(f"DROP TABLE IF EXISTS {recomputed_table.name}")


def recomputed(con: duckdb.DuckDBPyConnection, recomputed_table: contracts.Table, schema: str = "") -> str | None:
    """SELECT of the keys an earlier stage recomputed tonight (from `schema`.table when given, for a
    connection with other databases attached); None when it computed everything."""
    if not table_exists(con, recomputed_table.name):
        return None
    (key,) = recomputed_table.column_names
    return f"SELECT {key} FROM {schema + '.' if schema else ''}{recomputed_table.name}"
