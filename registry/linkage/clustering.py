"""Grouping linked records into persons: connected components with officers' constraints.

1. Edges: links at or above the threshold, plus officers' "same" decisions (must-link), minus
   pairs officers decided "different".
2. Connected components on integer node ids, where the linkage engine runs (DuckDB SQL:
   backend.connected_components; Spark: Splink's solver).
3. Components that break a constraint — an officer's cannot-link pair; two different valid
   identity numbers each consistent with its record's sex and birth date (two such numbers are
   two people: e.g. twins chained together through a third record without a number); two records
   of one household register (public security, family planning: one record per person) that the
   model did not link to each other (two people sharing one number, two twins, chained through a
   third record) — are re-clustered in Python: edges in descending probability, union-find refusing
   any union that would break a constraint. Only the few offending components go through Python.

Incremental (an incremental night; registry.incremental's mechanism; the seeds are the night's changes
and the records whose links the linkage changed with them, `links_recomputed`): a component's clusters
are a function of its
records, its edges and the decisions on its pairs alone. So only tonight's components that may differ
from yesterday's are recomputed: the *region* is every record of yesterday's components holding a
seed — a changed/removed record, an endpoint of a link or officer decision touching one, an endpoint
of a decision added, changed or withdrawn since — plus the seeds that are new records. No edge leaves
the region (an edge that is new tonight has seeds at both ends; an old one lies inside one of
yesterday's components), so its components are whole and are computed exactly as a full run would;
every other record keeps its row. `clusters_recomputed` lists the records whose rows were rewritten
(removed ones included); it is absent after a full clustering. Yesterday's components are read from
`clusters`, except where constraints cut a component into several clusters: `cluster_components`
keeps those records' component, and `cluster_decisions` the decisions the clusters were computed
with. Without that basis (or with another threshold) the call clusters everything.
The SQL is DuckDB's, run on the run's connection; the connected components are backend's solver.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from registry import contracts
from registry.incremental import Basis, ChangeSet, clear_recomputed, mark_recomputed, recomputed, splice
from registry.linkage.engines import DuckDBEngine, LinkageEngine
from registry.linkage.model import MATCH_THRESHOLD
from registry.night import NightPlan
from registry.sql import drop_temporaries, table_exists

_MAX_ITERATIONS = 100
# What the standing clusters were computed with; another value makes the next call cluster everything.
BASIS_META_KEY = "clustering_basis"
ALGORITHM_VERSION = "2"
# Registers that hold one record per person: two of their records in one cluster must be linked directly.
REGISTERS = ("public_security", "family_planning")


def _decisions(con: duckdb.DuckDBPyConnection) -> None:
    has_decisions = table_exists(con, "link_decisions")
    decisions = ("SELECT record_uid_l, record_uid_r, same FROM link_decisions" if has_decisions else
                 "SELECT NULL::VARCHAR AS record_uid_l, NULL::VARCHAR AS record_uid_r, NULL::BOOLEAN AS same LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE cl_decisions AS {decisions}")


def _edges(con: duckdb.DuckDBPyConnection, threshold: float, region: str | None = None) -> None:
    """cl_nodes and cl_edges over `records`, or over the records listed in the table `region`."""
    scope = f"WHERE record_uid IN (SELECT record_uid FROM {region})" if region else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cl_nodes AS
        SELECT record_uid, CAST(row_number() OVER (ORDER BY record_uid) AS INTEGER) AS node,
               CASE WHEN id_number_form = 'valid' AND NOT coalesce(birth_disagrees_id, false)
                         AND NOT coalesce(sex_disagrees_id, false) THEN id_number END AS identity,
               CASE WHEN department IN ({_registers()}) THEN department END AS register
        FROM records {scope}""")
    # probability 2.0 marks must-link edges so that they are always united first
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cl_edges AS
        WITH e AS (
            SELECT record_uid_l, record_uid_r, match_probability AS p FROM links
            WHERE match_probability >= {float(threshold)}
              AND (record_uid_l, record_uid_r) NOT IN (SELECT record_uid_l, record_uid_r FROM cl_decisions WHERE NOT same)
            UNION ALL
            SELECT least(record_uid_l, record_uid_r), greatest(record_uid_l, record_uid_r), 2.0 FROM cl_decisions WHERE same)
        SELECT a.node AS a, b.node AS b, max(e.p) AS p
        FROM e JOIN cl_nodes a ON a.record_uid = e.record_uid_l JOIN cl_nodes b ON b.record_uid = e.record_uid_r
        GROUP BY ALL""")


def _registers() -> str:
    return ", ".join(f"'{d}'" for d in REGISTERS)


def _offending_components(con: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in con.execute("""
        SELECT label FROM cl_label JOIN cl_nodes USING (node)
        GROUP BY label HAVING count(DISTINCT identity) > 1
        UNION
        (WITH c AS (  -- components holding two records of one register (few): are they all linked directly?
             SELECT l.label, n.register, count(*) AS k FROM cl_label l JOIN cl_nodes n USING (node)
             WHERE n.register IS NOT NULL GROUP BY ALL HAVING count(*) >= 2),
         m AS (SELECT l.node, n.register, l.label FROM cl_label l JOIN cl_nodes n USING (node)
               WHERE l.label IN (SELECT label FROM c) AND n.register IS NOT NULL)
         SELECT c.label FROM c LEFT JOIN (
             SELECT ma.label, ma.register, count(*) AS links FROM cl_edges e
             JOIN m ma ON ma.node = e.a JOIN m mb ON mb.node = e.b AND mb.register = ma.register
             GROUP BY ALL) d USING (label, register)
         WHERE coalesce(d.links, 0) < c.k * (c.k - 1) / 2)
        UNION
        SELECT a.label FROM cl_decisions d
            JOIN cl_nodes na ON na.record_uid = d.record_uid_l JOIN cl_label a ON a.node = na.node
            JOIN cl_nodes nb ON nb.record_uid = d.record_uid_r JOIN cl_label b ON b.node = nb.node
        WHERE NOT d.same AND a.label = b.label""").fetchall()]


def _recluster(con: duckdb.DuckDBPyConnection, labels: list[int]) -> pd.DataFrame:
    """New labels for the nodes of offending components (Python over those components only)."""
    con.execute("CREATE OR REPLACE TEMP TABLE cl_bad AS SELECT unnest(?::INTEGER[]) AS label", [labels])
    nodes = con.execute("""SELECT n.node, n.identity, n.register
                            FROM cl_label l JOIN cl_bad USING (label) JOIN cl_nodes n USING (node)""").fetchall()
    edges = con.execute("""SELECT e.a, e.b FROM cl_edges e JOIN cl_label l ON l.node = e.a JOIN cl_bad USING (label)
                           ORDER BY e.p DESC, e.a, e.b""").fetchall()
    linked = set(edges)
    cannot = con.execute("""SELECT na.node, nb.node FROM cl_decisions d
        JOIN cl_nodes na ON na.record_uid = d.record_uid_l JOIN cl_nodes nb ON nb.record_uid = d.record_uid_r
        WHERE NOT d.same""").fetchall()
    must = {(a, b) for a, b in con.execute("""SELECT na.node, nb.node FROM cl_decisions d
        JOIN cl_nodes na ON na.record_uid = d.record_uid_l JOIN cl_nodes nb ON nb.record_uid = d.record_uid_r
        WHERE d.same""").fetchall()}

    parent = {n: n for n, _, _ in nodes}
    # per root: the valid, self-consistent identity numbers held, and members (for cannot-links)
    held = {n: ({identity} if identity else set()) for n, identity, _ in nodes}
    members = {n: {n} for n in parent}
    register = {n: reg for n, _, reg in nodes if reg}

    def apart_in_a_register(small: set[int], large: set[int]) -> bool:
        """Two records of one register, not linked to each other, would share a cluster."""
        return any(register.get(a) and register.get(a) == register.get(b) and (min(a, b), max(a, b)) not in linked
                   for a in small for b in large)

    forbid: dict[int, set[int]] = {}
    for a, b in cannot:
        if a in parent and b in parent:
            forbid.setdefault(a, set()).add(b)
            forbid.setdefault(b, set()).add(a)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        officer_says_same = (a, b) in must or (b, a) in must
        if not officer_says_same and held[ra] and held[rb] and held[ra] != held[rb]:
            continue  # would give one person two different valid identity numbers
        small, large = (ra, rb) if len(members[ra]) < len(members[rb]) else (rb, ra)
        if any(forbid.get(m, set()) & members[large] for m in members[small]):
            continue  # an officer said these are different people
        if not officer_says_same and apart_in_a_register(members[small], members[large]):
            continue  # one register's two records the model kept apart: two people
        parent[small] = large
        members[large] |= members.pop(small)
        held[large] |= held.pop(small)
    return pd.DataFrame({"node": list(parent), "label": [min(members[find(n)]) for n in parent]},
                        dtype="int32")


def basis(threshold: float) -> Basis:
    """What the standing clusters were computed with; another value makes the next call cluster everything."""
    return Basis(BASIS_META_KEY, f"{ALGORITHM_VERSION}:{float(threshold)!r}",
                 (contracts.CLUSTERS.name, contracts.CLUSTER_COMPONENTS.name, contracts.CLUSTER_DECISIONS.name))


def _region(con: duckdb.DuckDBPyConnection, threshold: float, changes: ChangeSet) -> None:
    """The touched set. cl_old_region: records of yesterday's `clusters` to replace (and the removed
    seeds); cl_region: tonight's records to cluster afresh."""
    linked = recomputed(con, contracts.LINKS_RECOMPUTED)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cl_changed AS SELECT DISTINCT record_uid FROM ({changes.uids_sql()})"
                + (f" UNION {linked}" if linked else ""))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cl_seeds AS
        SELECT record_uid FROM cl_changed
        UNION
        SELECT unnest([record_uid_l, record_uid_r]) FROM links
        WHERE match_probability >= {float(threshold)}
          AND (record_uid_l IN (SELECT record_uid FROM cl_changed) OR record_uid_r IN (SELECT record_uid FROM cl_changed))
        UNION
        SELECT unnest([record_uid_l, record_uid_r]) FROM cl_decisions
        WHERE record_uid_l IN (SELECT record_uid FROM cl_changed) OR record_uid_r IN (SELECT record_uid FROM cl_changed)
        UNION
        SELECT unnest([record_uid_l, record_uid_r]) FROM (
            (SELECT record_uid_l, record_uid_r, same FROM cl_decisions
             EXCEPT SELECT record_uid_l, record_uid_r, same FROM cluster_decisions)
            UNION ALL
            (SELECT record_uid_l, record_uid_r, same FROM cluster_decisions
             EXCEPT SELECT record_uid_l, record_uid_r, same FROM cl_decisions))""")
    con.execute("""CREATE OR REPLACE TEMP TABLE cl_old_component AS
        SELECT c.record_uid, coalesce(k.component_id, c.cluster_id) AS component_id
        FROM clusters c LEFT JOIN cluster_components k USING (record_uid)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE cl_old_region AS
        SELECT record_uid FROM cl_old_component
        WHERE component_id IN (SELECT o.component_id FROM cl_seeds JOIN cl_old_component o USING (record_uid))
        UNION SELECT record_uid FROM cl_seeds""")
    con.execute("""CREATE OR REPLACE TEMP TABLE cl_region AS
        SELECT record_uid FROM records WHERE record_uid IN (SELECT record_uid FROM cl_old_region)""")


def _label(con: duckdb.DuckDBPyConnection, engine: LinkageEngine) -> list[int]:
    """cl_label(node, label) with constraints applied; returns the labels of the offending components.
    The connected components are solved where the engine runs (DuckDB SQL, or Splink's solver on Spark):
    the same components either way; the constraints are applied here."""
    engine.connected_components("cl_nodes", "cl_edges", "cl_label", max_rounds=_MAX_ITERATIONS)
    offending = _offending_components(con)
    if offending:
        relabel = _recluster(con, offending)
        con.execute("CREATE OR REPLACE TEMP TABLE cl_offending AS "
                    "SELECT node, label AS component FROM cl_label WHERE label IN (SELECT unnest(?::INTEGER[]))",
                    [offending])
        con.register("cl_relabel", relabel)
        con.execute("""CREATE OR REPLACE TEMP TABLE cl_label AS
            SELECT l.node, coalesce(r.label, l.label) AS label FROM cl_label l LEFT JOIN cl_relabel r USING (node)""")
        con.unregister("cl_relabel")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE cl_offending (node INTEGER, component INTEGER)")
    return offending


_CLUSTERS_SQL = """
    SELECT n.record_uid, min(n.record_uid) OVER (PARTITION BY l.label) AS cluster_id,
           CAST(count(*) OVER (PARTITION BY l.label) AS INTEGER) AS cluster_size
    FROM cl_nodes n JOIN cl_label l USING (node) ORDER BY n.record_uid"""
# Records of components that constraints cut into several clusters, with their component.
_COMPONENTS_SQL = """
    SELECT n.record_uid, min(n.record_uid) OVER (PARTITION BY o.component) AS component_id
    FROM cl_offending o JOIN cl_nodes n USING (node)"""


def cluster_records(con: duckdb.DuckDBPyConnection, night: NightPlan, threshold: float = MATCH_THRESHOLD,
                    engine: LinkageEngine | None = None) -> int:
    """Write `clusters` (record_uid, cluster_id, cluster_size) from `links`; returns the number of clusters.
    engine: where the connected components are solved (default: DuckDB, on `con`).

    A full night clusters every record. An incremental night recomputes only the components the
    night's changes can reach, with the same result as clustering everything (registry.incremental;
    everything when yesterday's basis is missing or another)."""
    _decisions(con)
    standing = basis(threshold)
    incremental = night.incremental and standing.holds(con)
    if incremental:
        _region(con, threshold, night.changes)
        _edges(con, threshold, region="cl_region")
    else:
        _edges(con, threshold)
    _label(con, engine or DuckDBEngine(con))
    if incremental:
        region = "SELECT record_uid FROM cl_old_region"
        splice(con, "clusters", "record_uid", region, _CLUSTERS_SQL)
        splice(con, "cluster_components", "record_uid", region, _COMPONENTS_SQL)
        # For the residents stage: the records whose cluster rows were rewritten tonight (removed ones too).
        mark_recomputed(con, contracts.CLUSTERS_RECOMPUTED, region)
    else:
        con.execute("DROP TABLE IF EXISTS clusters")
        con.execute("CREATE TABLE clusters AS " + _CLUSTERS_SQL)
        con.execute("CREATE OR REPLACE TABLE cluster_components AS " + _COMPONENTS_SQL)
        clear_recomputed(con, contracts.CLUSTERS_RECOMPUTED)
    con.execute("CREATE OR REPLACE TABLE cluster_decisions AS "
                "SELECT record_uid_l, record_uid_r, same FROM cl_decisions")
    standing.record(con)
    drop_temporaries(con, "cl_")
    return con.execute("SELECT count(*) FROM clusters WHERE record_uid = cluster_id").fetchall()[0][0]
