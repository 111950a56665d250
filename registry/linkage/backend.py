"""Everything DuckDB-specific in the linkage: Splink's database API, the SQL macros the comparisons
call, and the one connected-components solver (clustering, and the review queue's weak clusters).

The comparisons (comparisons.py) only call the macros defined here by name, so running the
linkage on another Splink backend means re-implementing this one module (as UDFs there).

Why macros: DuckDB's levenshtein/jaro_winkler/hamming count UTF-8 *bytes*; a one-character
change in a hanzi name is a distance of 3. The macros below work on characters (`length`,
`substr` count characters). They are also opaque function calls to sqlglot, which Splink uses
to parse comparison SQL and which does not understand DuckDB's lambda syntax.
"""

from __future__ import annotations

import duckdb

# name -> (parameters, body). Bodies are set-based SQL; no Python per row.
MACROS: dict[str, tuple[str, str]] = {
    # Number of character positions at which two strings of equal length differ; NULL when the
    # lengths differ (a hamming distance on characters, not bytes).
    "reg_char_mismatches": (
        "a, b",
        """CASE WHEN a IS NULL OR b IS NULL OR length(a) <> length(b) THEN NULL
                ELSE len(list_filter(range(1, length(a) + 1),
                                     lambda i: substr(a, i, 1) <> substr(b, i, 1))) END""",
    ),
    # The same for ASCII-only strings (normalised identity numbers): DuckDB's built-in hamming,
    # which counts bytes, is exact there and far cheaper than the character list above.
    "reg_ascii_mismatches": (
        "a, b",
        "CASE WHEN a IS NULL OR b IS NULL OR strlen(a) <> strlen(b) THEN NULL ELSE hamming(a, b) END",
    ),
    # Two ASCII strings of equal length that become equal when two adjacent characters of one are
    # swapped (a classic keying error in identity numbers: 1234 -> 1324).
    "reg_adjacent_swap": (
        "a, b",
        """CASE WHEN a IS NULL OR b IS NULL OR strlen(a) <> strlen(b) OR hamming(a, b) <> 2 THEN FALSE
                ELSE len(list_filter(range(1, length(a)),
                       lambda i: substr(a, i, 1) <> substr(b, i, 1)
                             AND substr(a, i, 1) = substr(b, i + 1, 1)
                             AND substr(a, i + 1, 1) = substr(b, i, 1)
                             AND substr(a, 1, i - 1) = substr(b, 1, i - 1)
                             AND substr(a, i + 2) = substr(b, i + 2))) = 1 END""",
    ),
    # Months since year 0 for a (year, month) birth: compares day- and month-precision dates.
    "reg_birth_months": ("y, m", "y * 12 + m"),
}


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
