"""The review queue on an incremental night: who is affected tonight, and the slice of the inputs
their items read (registry.incremental's touched set for the queue).

Affected: survivorship's `residents_recomputed`, tonight's `resident_events`, the residents of
tonight's change set and of the records whose links changed with it (`links_recomputed`), of orphans linked to (or last shown beside) a changed household record, and of
link decisions changed since last night's queue; then everyone named by a stale item of last night.
"""

from __future__ import annotations

import duckdb

from registry import contracts
from registry.incremental import recomputed, worthwhile
from registry.night import NightPlan
from registry.review.inputs import (RECORD_CARD_FIELDS, RECORD_INPUT_FIELDS, Inputs, in_sql,
                                    link_decisions_sql)
from registry.review.items import ITEM_KINDS
from registry.sql import literal_list, table_exists

# Kinds whose items do not come from tonight's data: rebuilt whole every night.
EVERY_NIGHT: tuple[str, ...] = tuple(k.name for k in ITEM_KINDS if k.every_night)

# The officers' link decisions last night's queue was built with (weak clusters read the "same" ones).
DECISIONS_BASIS_TABLE = contracts.REVIEW_LINK_DECISIONS_BASIS.name


def affected(con: duckdb.DuckDBPyConnection, night: NightPlan, lo: float, hi: float) -> bool:
    """Temp tables `_rq_affected(resident_id)` and `_rq_stale(item_id)` (last night's items to rebuild).

    False when splicing is impossible (no record_changes, or survivorship recomputed everyone) or not
    worthwhile (most residents affected)."""
    resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED)
    if not (night.changes.exists(con) and resurvived):
        return False
    # the night's changed records, and those whose links the linkage changed with them (household evidence)
    linked = recomputed(con, contracts.LINKS_RECOMPUTED)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_changed AS SELECT DISTINCT record_uid FROM ({night.changes.uids_sql()})"
                + (f" UNION {linked}" if linked else ""))
    # Records whose items may read changed inputs while their residents did not change:
    sources = [
        "SELECT record_uid FROM _rq_changed",
        # both ends of a link decision that differs from the ones last night's queue was built with
        f"""SELECT unnest([record_uid_l, record_uid_r]) FROM (
                (SELECT * FROM ({link_decisions_sql(con)}) EXCEPT SELECT * FROM {DECISIONS_BASIS_TABLE})
                UNION ALL
                (SELECT * FROM {DECISIONS_BASIS_TABLE} EXCEPT SELECT * FROM ({link_decisions_sql(con)})))""",
        # orphans whose nearest household records may move: linked tonight to a changed household record...
        """SELECT CASE WHEN record_uid_r IN (SELECT record_uid FROM _rq_changed) THEN record_uid_l ELSE record_uid_r END
           FROM links
           WHERE (record_uid_r IN (SELECT record_uid FROM _rq_changed) AND record_uid_r LIKE 'public_security:%')
              OR (record_uid_l IN (SELECT record_uid FROM _rq_changed) AND record_uid_l LIKE 'public_security:%')""",
        # ...or showing one last night (its link may be gone tonight)
        """SELECT record FROM (
               SELECT json_extract_string(subject, '$.record') AS record,
                      unnest(json_extract_string(evidence, '$.nearest_household_records[*].record')) AS near
               FROM review_queue WHERE kind = 'orphan')
           WHERE near IN (SELECT record_uid FROM _rq_changed)""",
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_hot AS SELECT DISTINCT record_uid FROM ("
                + " UNION ALL ".join(sources) + ") t(record_uid) WHERE record_uid IS NOT NULL")
    residents = [resurvived,
                 "SELECT resident_id FROM crosswalk WHERE record_uid IN (SELECT record_uid FROM _rq_hot)"]
    params: list = []
    if table_exists(con, "resident_events"):
        residents.append("SELECT unnest([resident_id, other_resident_id]) FROM resident_events WHERE run_id = $1")
        params = [night.run_id]
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_affected0 AS SELECT DISTINCT resident_id FROM ("
                + " UNION ALL ".join(residents) + ") t(resident_id) WHERE resident_id IS NOT NULL", params)
    # Last night's items naming an affected resident or a hot record are stale; everyone they name is
    # affected too, so that each stale item is either rebuilt or proven gone.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_prev_names AS
        SELECT item_id, unnest([resident_id, json_extract_string(subject, '$.resident_id'),
                                json_extract_string(subject, '$.resident_l'),
                                json_extract_string(subject, '$.resident_r')]) AS resident_id,
               unnest([json_extract_string(subject, '$.record'), json_extract_string(subject, '$.record_l'),
                       json_extract_string(subject, '$.record_r'), NULL]) AS record_uid
        FROM review_queue""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_stale AS
        SELECT DISTINCT item_id FROM _rq_prev_names
        WHERE resident_id IN (SELECT resident_id FROM _rq_affected0) OR record_uid IN (SELECT record_uid FROM _rq_hot)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_affected AS
        SELECT DISTINCT resident_id FROM (
            SELECT resident_id FROM _rq_affected0
            UNION ALL
            SELECT resident_id FROM _rq_prev_names WHERE item_id IN (SELECT item_id FROM _rq_stale)
            UNION ALL
            SELECT resident_id FROM crosswalk WHERE record_uid IN (
                SELECT record_uid FROM _rq_prev_names WHERE item_id IN (SELECT item_id FROM _rq_stale)))
        WHERE resident_id IS NOT NULL""")
    affected = con.execute("SELECT count(*) FROM _rq_affected").fetchall()[0][0]
    total = con.execute("SELECT count(*) FROM residents").fetchall()[0][0] if table_exists(con, "residents") else 0
    return worthwhile(affected, total)


def affected_inputs(con: duckdb.DuckDBPyConnection, lo: float, hi: float, rec_cols: set[str]) -> Inputs:
    """The slice of the inputs that every item of an affected resident reads, complete for each resident in it.

    Residents in the slice: the affected, the far side of their links from the band's bottom up (and of the
    model's links household evidence lowered from its top), and every resident holding
    one of their valid identity numbers; all members of those, the links touching them, their records."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_members_affected AS
                   SELECT record_uid FROM crosswalk WHERE resident_id IN (SELECT resident_id FROM _rq_affected)""")
    # the model's links household evidence lowered from the band's top (overruled links)
    lowered = f"""UNION ALL
        SELECT unnest([record_uid_l, record_uid_r]) FROM household_links
        WHERE base_match_probability >= {hi}
          AND (record_uid_l IN (SELECT record_uid FROM _rq_members_affected)
               OR record_uid_r IN (SELECT record_uid FROM _rq_members_affected))""" if table_exists(
        con, "household_links") else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_reach AS
        SELECT record_uid FROM _rq_members_affected
        UNION ALL
        SELECT unnest([record_uid_l, record_uid_r]) FROM links
        WHERE match_probability >= {lo}
          AND (record_uid_l IN (SELECT record_uid FROM _rq_members_affected)
               OR record_uid_r IN (SELECT record_uid FROM _rq_members_affected))
        {lowered}
        UNION ALL
        SELECT record_uid FROM records WHERE id_number_valid AND id_number IN (
            SELECT id_number FROM records WHERE id_number_valid AND id_number IS NOT NULL
                AND record_uid IN (SELECT record_uid FROM _rq_members_affected))""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_xw AS
        SELECT record_uid, resident_id, department FROM crosswalk
        WHERE resident_id IN (SELECT resident_id FROM crosswalk WHERE record_uid IN (SELECT record_uid FROM _rq_reach))""")
    wanted = [c for c in ("record_uid", "department", *RECORD_CARD_FIELDS, *RECORD_INPUT_FIELDS) if c in rec_cols]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rq_rec AS SELECT {', '.join(dict.fromkeys(wanted))} FROM records
                    WHERE record_uid IN (SELECT record_uid FROM _rq_xw)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_links AS SELECT * FROM links
                   WHERE record_uid_l IN (SELECT record_uid FROM _rq_xw) OR record_uid_r IN (SELECT record_uid FROM _rq_xw)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_conflicts AS SELECT * FROM conflicts
                   WHERE resident_id IN (SELECT resident_id FROM _rq_affected)""")
    return Inputs(records="_rq_rec", links="_rq_links", conflicts="_rq_conflicts",
                  # most nights few affected residents have conflicts
                  lineage_scope=in_sql(con, "l.resident_id", "_rq_conflicts", "resident_id"),
                  record_columns=frozenset(rec_cols))


def affected_items_only(con: duckdb.DuckDBPyConnection) -> int:
    """Keep tonight's items of affected residents only: the slice also yields others, possibly incomplete,
    whose standing rows stay. Returns how many items were rebuilt."""
    con.execute(f"""
        DELETE FROM _rq_items WHERE NOT (
            coalesce(json_extract_string(subject, '$.resident_id') IN (SELECT resident_id FROM _rq_affected), false)
            OR coalesce(json_extract_string(subject, '$.resident_l') IN (SELECT resident_id FROM _rq_affected), false)
            OR coalesce(json_extract_string(subject, '$.resident_r') IN (SELECT resident_id FROM _rq_affected), false)
            OR kind IN ({literal_list(EVERY_NIGHT) if EVERY_NIGHT else 'NULL'}))""")
    return con.execute("SELECT count(*) FROM _rq_items").fetchall()[0][0]
