"""Stable resident IDs: today's clusters mapped onto yesterday's residents, with merge/split events.

Yesterday's `crosswalk` says which resident every record belonged to. Each old resident is "held"
by the cluster that now contains most of its records (ties: the smallest record_uid). A cluster
holding one old resident keeps its ID; a cluster holding several is a MERGE: the oldest resident
(created_date, then ID) survives and the others are retired with `merged_into` pointing at it.
Records of an old resident found outside its holding cluster were SPLIT off: their cluster keeps
whatever ID it holds itself, or gets a new one. Clusters of brand-new records get new IDs; old
residents none of whose records remain are retired.

IDs are 'R' + 10 digits (the departments' own keys are two letters + 10 digits), issued from the
largest number ever written to `resident_ids`, which keeps every ID forever, or to
`withdrawn_resident_ids` (those of a night taken back by `registry rollback`): never reused.
Everything is set-based SQL; nothing loops over records.

Incremental (registry.incremental): after an incremental clustering, `clusters_recomputed` lists the records whose cluster
rows were rewritten (removed records included). Every other cluster is yesterday's cluster, record for
record, and so yesterday's resident with nothing to do; and every old resident with a record in the
list has all its records there (a resident was one cluster, and clustering recomputes whole
components). So the mapping above runs on those records alone, and only their crosswalk rows are
rewritten: the same IDs, events and crosswalk as mapping every cluster. (That relies on every active
resident holding crosswalk rows, which each night leaves true: one without records is retired.)
`crosswalk_recomputed` then lists the records whose crosswalk rows may differ from yesterday's; it is
absent after a full mapping.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from registry import contracts
from registry.incremental import clear_recomputed, mark_recomputed, recomputed, splice
from registry.sql import table_exists

ID_PREFIX = "R"
ID_DIGITS = 10

RESIDENT_IDS_DDL = contracts.RESIDENT_IDS.ddl()
RESIDENT_EVENTS_DDL = contracts.RESIDENT_EVENTS.ddl()


@dataclass(frozen=True)
class IdSummary:
    created: int      # brand-new residents (no record was known before)
    merged: int       # residents retired by merging into another
    split: int        # split events (records of one resident moved to another/new resident)
    retired: int      # residents whose records all disappeared
    unchanged: int    # residents keeping their ID with exactly the same records
    kept: int         # residents keeping their ID (unchanged or not)
    new_ids: int      # IDs issued tonight (created + split-off residents)
    active: int       # residents after tonight

    def as_dict(self) -> dict:
        return asdict(self)


def format_resident_id(number: int) -> str:
    return f"{ID_PREFIX}{number:0{ID_DIGITS}d}"


def assign_resident_ids(con: duckdb.DuckDBPyConnection, run_id: str, extract_date: str) -> IdSummary:
    """Write `crosswalk`, extend `resident_ids`, append `resident_events` for today's `clusters`."""
    con.execute(RESIDENT_IDS_DDL)
    con.execute(RESIDENT_EVENTS_DDL)
    # A rerun of the same run (same copy of the state) must not double its events.
    con.execute("DELETE FROM resident_events WHERE run_id = ?", [run_id])

    scoped = recomputed(con, contracts.CLUSTERS_RECOMPUTED) is not None and table_exists(con, "crosswalk")
    if scoped:
        con.execute("""CREATE OR REPLACE TEMP TABLE _scope_clusters AS
            SELECT * FROM clusters WHERE record_uid IN (SELECT record_uid FROM clusters_recomputed)""")
        con.execute("""CREATE OR REPLACE TEMP TABLE _prev_crosswalk AS SELECT record_uid, resident_id FROM crosswalk
                       WHERE record_uid IN (SELECT record_uid FROM clusters_recomputed)""")
    elif table_exists(con, "crosswalk"):
        con.execute("CREATE OR REPLACE TEMP VIEW _scope_clusters AS SELECT * FROM clusters")
        con.execute("CREATE OR REPLACE TEMP TABLE _prev_crosswalk AS "
                    "SELECT record_uid, resident_id FROM crosswalk")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW _scope_clusters AS SELECT * FROM clusters")
        con.execute("CREATE OR REPLACE TEMP TABLE _prev_crosswalk (record_uid VARCHAR, resident_id VARCHAR)")

    # Parts: the records of each old resident, per cluster they now sit in.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _parts AS
        SELECT p.resident_id AS old_id, c.cluster_id, count(*) AS n_records, min(c.record_uid) AS first_uid
        FROM _scope_clusters c JOIN _prev_crosswalk p USING (record_uid)
        GROUP BY ALL""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _holders AS
        SELECT old_id, cluster_id, n_records
        FROM (SELECT *, row_number() OVER (PARTITION BY old_id ORDER BY n_records DESC, first_uid) AS rn
              FROM _parts)
        WHERE rn = 1""")
    # Per cluster, the old residents it holds; the oldest survives.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _claims AS
        SELECT h.cluster_id, h.old_id, h.n_records,
               row_number() OVER (PARTITION BY h.cluster_id
                                  ORDER BY i.created_date NULLS LAST, h.old_id) AS seniority
        FROM _holders h LEFT JOIN resident_ids i ON i.resident_id = h.old_id""")

    # IDs a night taken back issued (registry.rollback) are never issued again either.
    withdrawn = contracts.WITHDRAWN_RESIDENT_IDS.name
    issued = "SELECT resident_id FROM resident_ids" + (
        f" UNION ALL SELECT resident_id FROM {withdrawn}" if table_exists(con, withdrawn) else "")
    next_number = con.execute(
        f"SELECT coalesce(max(TRY_CAST(substr(resident_id, {len(ID_PREFIX) + 1}) AS BIGINT)), 0) "
        f"FROM ({issued})").fetchone()[0] + 1
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _assign AS
        WITH cl AS (SELECT DISTINCT cluster_id FROM _scope_clusters),
        kept AS (SELECT cluster_id, old_id AS resident_id FROM _claims WHERE seniority = 1),
        fresh AS (
            SELECT cl.cluster_id,
                   '{ID_PREFIX}' || lpad(CAST(? + row_number() OVER (ORDER BY cl.cluster_id) - 1 AS VARCHAR),
                                         {ID_DIGITS}, '0') AS resident_id
            FROM cl ANTI JOIN kept USING (cluster_id))
        SELECT cluster_id, resident_id, FALSE AS is_new FROM kept
        UNION ALL
        SELECT cluster_id, resident_id, TRUE AS is_new FROM fresh""", [next_number])

    # Events -------------------------------------------------------------------------------------
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _events AS
        -- merged: every claimed old resident but the oldest
        SELECT 'merged' AS event, c.old_id AS resident_id, a.resident_id AS other_resident_id,
               json_object('records', c.n_records) AS detail
        FROM _claims c JOIN _assign a USING (cluster_id) WHERE c.seniority > 1
        UNION ALL
        -- split: records of an old resident outside its holding cluster
        SELECT 'split', p.old_id, a.resident_id,
               json_object('records', p.n_records, 'to_new_resident', a.is_new)
        FROM _parts p ANTI JOIN _holders h USING (old_id, cluster_id)
        JOIN _assign a USING (cluster_id)
        UNION ALL
        -- created: a new ID whose cluster holds no previously known record
        SELECT 'created', a.resident_id, NULL, json_object('records', count(*))
        FROM _assign a JOIN _scope_clusters c USING (cluster_id)
        WHERE a.is_new AND a.cluster_id NOT IN (SELECT cluster_id FROM _parts)
        GROUP BY a.resident_id
        UNION ALL
        -- retired: an active resident none of whose records remain
        SELECT 'retired', i.resident_id, NULL, json_object('reason', 'no records left')
        FROM resident_ids i
        WHERE i.status = 'active'
          AND i.resident_id NOT IN (SELECT old_id FROM _holders)"""
                + (" AND i.resident_id IN (SELECT resident_id FROM _prev_crosswalk)" if scoped else ""))
    con.execute("""
        INSERT INTO resident_events
        SELECT ?, CAST(? AS DATE), event, resident_id, other_resident_id, detail FROM _events""",
                [run_id, extract_date])

    # resident_ids: issue the new IDs, retire the merged and the vanished -------------------------
    con.execute("""
        INSERT INTO resident_ids
        SELECT resident_id, 'active', ?, CAST(? AS DATE), NULL, NULL, NULL FROM _assign WHERE is_new""",
                [run_id, extract_date])
    con.execute("""
        UPDATE resident_ids SET status = 'retired', retired_run_id = ?, retired_date = CAST(? AS DATE),
               merged_into = e.other_resident_id
        FROM _events e
        WHERE e.event IN ('merged', 'retired') AND e.resident_id = resident_ids.resident_id""",
                [run_id, extract_date])

    # crosswalk ----------------------------------------------------------------------------------
    write_crosswalk(con, scoped)

    counts = dict(con.execute("SELECT event, count(*) FROM _events GROUP BY event").fetchall())
    kept, unchanged = con.execute("""
        WITH prev_size AS (SELECT resident_id, count(*) AS n FROM _prev_crosswalk GROUP BY ALL),
        now AS (SELECT a.resident_id, count(*) AS n,
                       count(*) FILTER (WHERE p.resident_id = a.resident_id) AS n_same
                FROM _assign a JOIN _scope_clusters c USING (cluster_id)
                LEFT JOIN _prev_crosswalk p USING (record_uid)
                WHERE NOT a.is_new GROUP BY ALL)
        SELECT count(*), count(*) FILTER (WHERE now.n = now.n_same AND now.n = prev_size.n)
        FROM now JOIN prev_size USING (resident_id)""").fetchone()
    new_ids, mapped = con.execute(
        "SELECT count(*) FILTER (WHERE is_new), count(*) FROM _assign").fetchone()
    # Clusters outside the scope kept their resident and its records unchanged.
    active = con.execute("SELECT count(*) FROM clusters WHERE record_uid = cluster_id").fetchone()[0]
    kept, unchanged = int(kept or 0) + active - mapped, int(unchanged or 0) + active - mapped
    for t in ("_prev_crosswalk", "_parts", "_holders", "_claims", "_assign", "_events"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    con.execute(f"DROP {'TABLE' if scoped else 'VIEW'} IF EXISTS _scope_clusters")
    return IdSummary(created=counts.get("created", 0), merged=counts.get("merged", 0),
                     split=counts.get("split", 0), retired=counts.get("retired", 0),
                     unchanged=int(unchanged or 0), kept=int(kept or 0), new_ids=int(new_ids),
                     active=int(active))


def write_crosswalk(con: duckdb.DuckDBPyConnection, scoped: bool = False) -> None:
    """crosswalk from `_assign` (cluster -> resident). match_probability: the record's strongest link
    to another record of the same resident (an officer's 'same' decision counts as 1.0); 1.0 for a
    resident of one record; NULL if the record reached its resident only through others.

    scoped: only the rows of `clusters_recomputed` records are replaced (the links and decisions
    inside any other cluster are yesterday's, and so are its rows)."""
    has_links = table_exists(con, "links")
    has_decisions = table_exists(con, "link_decisions")
    edges = []
    if has_links:
        edges += ["SELECT record_uid_l AS u, record_uid_r AS v, match_probability AS p FROM links",
                  "SELECT record_uid_r, record_uid_l, match_probability FROM links"]
    if has_decisions:
        edges += ["SELECT record_uid_l, record_uid_r, 1.0 FROM link_decisions WHERE same",
                  "SELECT record_uid_r, record_uid_l, 1.0 FROM link_decisions WHERE same"]
    edges_sql = " UNION ALL ".join(edges) or "SELECT NULL::VARCHAR AS u, NULL::VARCHAR AS v, NULL::DOUBLE AS p WHERE FALSE"
    rows_sql = f"""
        WITH e AS ({edges_sql}),
        best AS (
            SELECT e.u AS record_uid, max(e.p) AS p
            FROM e JOIN _scope_clusters cu ON cu.record_uid = e.u JOIN _scope_clusters cv ON cv.record_uid = e.v
            WHERE cu.cluster_id = cv.cluster_id
            GROUP BY e.u)
        SELECT r.department, r.source_record_id, c.record_uid, a.resident_id,
               CAST(CASE WHEN c.cluster_size = 1 THEN 1.0 ELSE best.p END AS DOUBLE) AS match_probability
        FROM _scope_clusters c
        JOIN _assign a USING (cluster_id)
        JOIN records r USING (record_uid)
        LEFT JOIN best USING (record_uid)
        ORDER BY a.resident_id, c.record_uid"""
    if scoped:
        reclustered = recomputed(con, contracts.CLUSTERS_RECOMPUTED)
        splice(con, "crosswalk", "record_uid", reclustered, rows_sql)
        mark_recomputed(con, contracts.CROSSWALK_RECOMPUTED, reclustered)
    else:
        con.execute("CREATE OR REPLACE TABLE crosswalk AS " + rows_sql)
        clear_recomputed(con, contracts.CROSSWALK_RECOMPUTED)
