"""Everything DuckDB-specific in the linkage: Splink's database API, the linkage functions as macros,
and the one connected-components solver (clustering, and the review queue's weak clusters).

The comparisons (comparisons.py) only call the functions of functions.py by name; each is declared
there with its DuckDB body (registered here as a macro) and its Spark body (engines.on_spark).
SQL that only DuckDB speaks (the dwelling's regular expressions below) runs here, before the
records reach an engine.
"""

from __future__ import annotations

import duckdb

from registry.linkage.functions import FUNCTIONS

# name -> (parameters, body): the DuckDB bodies of the linkage functions (functions.py declares each
# once, with its Spark twin).
MACROS: dict[str, tuple[str, str]] = {f.name: (f.param_names, f.duckdb) for f in FUNCTIONS}


def dwelling_sql(rest: str) -> str:
    """SQL for the dwelling of an address's `*_rest` (estate, building, unit, room): the text without
    the unit, e.g. '皇御苑4栋4单元2701' -> '皇御苑4栋2701'. Departments leave the unit out (DEPARTMENTS.md),
    so within one street the estate, building and room alone name the flat. An annotation such as
    '(原"皇御村")' and commas are dropped too. NULL unless the rest ends in '<building>栋...<room>'
    (a road address such as '新华街127号' names no flat)."""
    key = f"regexp_replace(regexp_replace({rest}, '\\([^)]*\\)|[,，、]', '', 'g'), '[0-9]+单元', '', 'g')"
    return f"CASE WHEN regexp_matches({key}, '[0-9A-Za-z]+栋[0-9]+$') THEN {key} END"


def register_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Create (or replace) the linkage macros on a connection. Idempotent and cheap."""
    for name, (params, body) in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}({params}) AS ({body})")


def splink_api(con: duckdb.DuckDBPyConnection):
    """Splink's database API over the run's connection (Splink's DuckDB backend)."""
    from splink import DuckDBAPI

    return DuckDBAPI(connection=con)


def connected_components(con: duckdb.DuckDBPyConnection, nodes: str, edges: str, out: str,
                         max_rounds: int = 100) -> None:
    """Temp table `out(node, label)`: for every node of `nodes(node)`, the smallest node of its connected
    component over the undirected edges `edges(a, b)`. Nodes may be of any type that orders (integers
    are fastest). Min-label propagation with pointer jumping: each round a node takes the smallest label
    among its neighbours, then the label of its label, which halves chains; converged when no label
    changes. Raises rather than return labels that have not converged."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out}_adj AS SELECT a AS node, b AS nb FROM {edges} "
                f"UNION ALL SELECT b, a FROM {edges}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT node, node AS label FROM {nodes}")
    try:
        for _ in range(max_rounds):
            con.execute(f"""CREATE OR REPLACE TEMP TABLE {out}_step AS
                WITH hop AS (
                    SELECT l.node, least(l.label, coalesce(min(n.label), l.label)) AS label
                    FROM {out} l LEFT JOIN {out}_adj a ON a.node = l.node LEFT JOIN {out} n ON n.node = a.nb
                    GROUP BY l.node, l.label)
                SELECT h.node, least(h.label, j.label) AS label FROM hop h JOIN hop j ON j.node = h.label""")
            changed = con.execute(f"SELECT count(*) FROM {out}_step s JOIN {out} l USING (node) "
                                  "WHERE s.label <> l.label").fetchall()[0][0]
            con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM {out}_step")
            if changed == 0:
                return
        raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {out}_adj")
        con.execute(f"DROP TABLE IF EXISTS {out}_step")
