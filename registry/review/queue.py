"""The nightly review queue: what quality officers should look at, built set-wise in the run database.

build_review_queue reads `links`, `records`, `crosswalk`, `residents`, `conflicts`, `lineage` (and, when
present, `link_decisions`, `resident_ids` and last night's `review_queue`) and writes:
- `review_queue`: one row per item (ARCHITECTURE.md "Review"), status `decided` only while the latest
  decision on the item saw the evidence the item holds tonight;
- `review_decisions_orphaned`: decisions whose records (or resident) are gone. They stay in
  decisions.jsonl; this table only reports them.

Incremental: an item is a function of a few residents (its subject's), their member records, the links
touching those records and the officers' "same" link decisions among them. On an incremental night only
the items of *affected* residents are rebuilt (from the same SQL, fed with the affected residents' slice
of the inputs) and last night's other items are kept as they are; statuses are re-evaluated for every
item against the decisions journal each night. Affected: survivorship's `residents_recomputed`, tonight's
`resident_events`, the residents of tonight's `record_changes`, of orphans linked to (or last shown beside)
a changed household record, and of link decisions changed since last night's queue; then everyone named
by a stale item of last night. The result equals a full build (tests/review/test_incremental.py).
A full build runs with no previous queue or basis, on a full night, when the queue's definition (the
basis: QUEUE_VERSION, band, record columns) changed, or when most residents are affected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from registry import contracts
from registry.incremental import Basis, digest, recomputed, splice, worthwhile
from registry.linkage.backend import connected_components
from registry.night import NightPlan
from registry.review import ITEM_PREFIX, KINDS, journal
from registry.review.status import decided_sql, latest_decisions_sql
from registry.sql import literal_list, table_exists

# Fields of a record shown in evidence, in display order (those the records table has).
RECORD_CARD_FIELDS: tuple[str, ...] = (
    "record_uid", "department", "source_record_id", "name_raw", "name", "name_pinyin", "former_name", "sex",
    "birth_date", "birth_date_raw", "id_number_raw", "id_number", "id_number_form", "phone", "ethnicity",
    "hukou_address", "current_address", "household_id", "relation_to_head", "family_role", "person_status",
    "marital_status", "assistance_kind", "employment_status", "employer",
)
# Other record columns the items read (identity groups, hashes, places).
_RECORD_INPUT_FIELDS: tuple[str, ...] = (
    "record_hash", "id_number_valid", "current_street", "current_community", "hukou_street", "hukou_community",
)
# Department preferred for a resident's street/community: the household register first.
_PLACE_RANK = ("CASE r.department WHEN 'public_security' THEN 1 WHEN 'civil_affairs' THEN 2 "
               "WHEN 'family_planning' THEN 3 ELSE 4 END")
_ITEM_COLUMNS = "item_id, kind, priority, resident_id, summary, subject, evidence, evidence_hash"

# Bump when an item's SQL changes meaning: the next night then builds the whole queue.
QUEUE_VERSION = "2"
BASIS_META_KEY = "review_queue_basis"
# The officers' link decisions last night's queue was built with (weak clusters read the "same" ones).
DECISIONS_BASIS_TABLE = "review_link_decisions_basis"


@dataclass
class QueueSummary:
    """Counts per kind: raised (newly open tonight, reopened included), closed (open last night, not tonight)."""

    raised: dict[str, int] = field(default_factory=dict)
    closed: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    decisions_orphaned: int = 0
    mode: str = "full"          # full | incremental
    items_rebuilt: int = 0      # items computed tonight (the rest kept from last night's queue)

    def as_dict(self) -> dict:
        return {"raised": self.raised, "closed": self.closed, "open": self.open, "decided": self.decided,
                "reopened": self.reopened, "decisions_orphaned": self.decisions_orphaned, "mode": self.mode,
                "items_rebuilt": self.items_rebuilt}


@dataclass(frozen=True)
class _Inputs:
    """The relations the item SQL reads: whole tables on a full build, the affected slice when splicing."""

    records: str = "records"
    links: str = "links"
    conflicts: str = "conflicts"
    lineage_scope: str = "true"   # a predicate on lineage `l` (the table is the widest: 25M rows at 1M people)


def _item_id_sql(kind: str, key_sql: str) -> str:
    return f"'{ITEM_PREFIX[kind]}-' || substr(md5('{kind}|' || {key_sql}), 1, 16)"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _card_sql(alias: str, columns: set[str]) -> str:
    """JSON object of a record's displayed fields (JSON type, so it nests unquoted)."""
    fields = ", ".join(f"{c} := {alias}.{c}" for c in RECORD_CARD_FIELDS if c in columns)
    return f"to_json(struct_pack({fields}))"


def build_review_queue(con: duckdb.DuckDBPyConnection, night: NightPlan, decisions_path: Path | str,
                       uncertain_band: tuple[float, float] = (0.5, 0.95)) -> QueueSummary:
    """Build `review_queue` (and `review_decisions_orphaned`) in the run database; see the module doc.

    An incremental night splices into last night's queue when that is possible and worthwhile
    (registry.incremental); the result is the same either way."""
    lo, hi = (float(x) for x in uncertain_band)
    rec_cols = _columns(con, "records")
    journal.register(con, decisions_path, "_rq_decisions")
    standing = basis(con, (lo, hi), rec_cols)
    spliced = night.incremental and standing.holds(con) and _affected(con, night, lo, hi)
    if spliced:
        inputs = _affected_inputs(con, lo, hi, rec_cols)
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_xw AS SELECT record_uid, resident_id, department FROM crosswalk")
        inputs = _Inputs()
    _build_items(con, inputs, lo, hi, rec_cols)
    rebuilt = _affected_items_only(con) if spliced else con.execute("SELECT count(*) FROM _rq_items").fetchall()[0][0]
    _places(con, inputs)
    summary = _publish_queue(con, night.extract_date, spliced)
    _write_basis(con, standing)
    summary.mode, summary.items_rebuilt = ("incremental" if spliced else "full"), rebuilt
    _drop_work_tables(con)
    return summary


# --- what the standing queue was built from -----------------------------------------------------------------

def basis(con: duckdb.DuckDBPyConnection, band: tuple[float, float], rec_cols: set[str]) -> Basis:
    """The queue's definition: items built under another basis are not reused."""
    res_cols = _columns(con, "residents") if table_exists(con, "residents") else set()
    text = json.dumps({"version": QUEUE_VERSION, "band": list(band),
                       "record_columns": sorted(rec_cols & set(RECORD_CARD_FIELDS + _RECORD_INPUT_FIELDS)),
                       "resident_place": sorted(res_cols & {"current_street", "current_community"})})
    return Basis(BASIS_META_KEY, digest(QUEUE_VERSION, text), ("review_queue", DECISIONS_BASIS_TABLE))


def _write_basis(con: duckdb.DuckDBPyConnection, standing: Basis) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {DECISIONS_BASIS_TABLE} AS {_link_decisions_sql(con)}")
    standing.record(con)


def _link_decisions_sql(con: duckdb.DuckDBPyConnection) -> str:
    if table_exists(con, "link_decisions"):
        return "SELECT record_uid_l, record_uid_r, same FROM link_decisions"
    return ("SELECT CAST(NULL AS VARCHAR) AS record_uid_l, CAST(NULL AS VARCHAR) AS record_uid_r, "
            "CAST(NULL AS BOOLEAN) AS same LIMIT 0")


# --- incremental: who is affected tonight ---------------------------------------------------------------------

def _affected(con: duckdb.DuckDBPyConnection, night: NightPlan, lo: float, hi: float) -> bool:
    """Temp tables `_rq_affected(resident_id)` and `_rq_stale(item_id)` (last night's items to rebuild).

    False when splicing is impossible (no record_changes, or survivorship recomputed everyone) or not
    worthwhile (most residents affected)."""
    resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED)
    if not (night.changes.exists(con) and resurvived):
        return False
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_changed AS SELECT DISTINCT record_uid FROM ({night.changes.uids_sql()})")
    # Records whose items may read changed inputs while their residents did not change:
    sources = [
        "SELECT record_uid FROM _rq_changed",
        # both ends of a link decision that differs from the ones last night's queue was built with
        f"""SELECT unnest([record_uid_l, record_uid_r]) FROM (
                (SELECT * FROM ({_link_decisions_sql(con)}) EXCEPT SELECT * FROM {DECISIONS_BASIS_TABLE})
                UNION ALL
                (SELECT * FROM {DECISIONS_BASIS_TABLE} EXCEPT SELECT * FROM ({_link_decisions_sql(con)})))""",
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


def _affected_inputs(con: duckdb.DuckDBPyConnection, lo: float, hi: float, rec_cols: set[str]) -> _Inputs:
    """The slice of the inputs that every item of an affected resident reads, complete for each resident in it.

    Residents in the slice: the affected, the far side of their uncertain links, and every resident holding
    one of their valid identity numbers; all members of those, the links touching them, their records."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_members_affected AS
                   SELECT record_uid FROM crosswalk WHERE resident_id IN (SELECT resident_id FROM _rq_affected)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_reach AS
        SELECT record_uid FROM _rq_members_affected
        UNION ALL
        SELECT unnest([record_uid_l, record_uid_r]) FROM links
        WHERE match_probability >= {lo} AND match_probability < {hi}
          AND (record_uid_l IN (SELECT record_uid FROM _rq_members_affected)
               OR record_uid_r IN (SELECT record_uid FROM _rq_members_affected))
        UNION ALL
        SELECT record_uid FROM records WHERE id_number_valid AND id_number IN (
            SELECT id_number FROM records WHERE id_number_valid AND id_number IS NOT NULL
                AND record_uid IN (SELECT record_uid FROM _rq_members_affected))""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_xw AS
        SELECT record_uid, resident_id, department FROM crosswalk
        WHERE resident_id IN (SELECT resident_id FROM crosswalk WHERE record_uid IN (SELECT record_uid FROM _rq_reach))""")
    wanted = [c for c in ("record_uid", "department", *RECORD_CARD_FIELDS, *_RECORD_INPUT_FIELDS) if c in rec_cols]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rq_rec AS SELECT {', '.join(dict.fromkeys(wanted))} FROM records
                    WHERE record_uid IN (SELECT record_uid FROM _rq_xw)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_links AS SELECT * FROM links
                   WHERE record_uid_l IN (SELECT record_uid FROM _rq_xw) OR record_uid_r IN (SELECT record_uid FROM _rq_xw)""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_conflicts AS SELECT * FROM conflicts
                   WHERE resident_id IN (SELECT resident_id FROM _rq_affected)""")
    return _Inputs(records="_rq_rec", links="_rq_links", conflicts="_rq_conflicts",
                   # most nights few affected residents have conflicts
                   lineage_scope=_in_sql(con, "l.resident_id", "_rq_conflicts", "resident_id"))


def _affected_items_only(con: duckdb.DuckDBPyConnection) -> int:
    """Keep tonight's items of affected residents only: the slice also yields others, possibly incomplete,
    whose standing rows stay. Returns how many items were rebuilt."""
    con.execute("""
        DELETE FROM _rq_items WHERE NOT (
            coalesce(json_extract_string(subject, '$.resident_id') IN (SELECT resident_id FROM _rq_affected), false)
            OR coalesce(json_extract_string(subject, '$.resident_l') IN (SELECT resident_id FROM _rq_affected), false)
            OR coalesce(json_extract_string(subject, '$.resident_r') IN (SELECT resident_id FROM _rq_affected), false))""")
    return con.execute("SELECT count(*) FROM _rq_items").fetchall()[0][0]


# --- the items ---------------------------------------------------------------------------------------------------

def _build_items(con: duckdb.DuckDBPyConnection, src: _Inputs, lo: float, hi: float, rec_cols: set[str]) -> None:
    """Temp table `_rq_items`: every item the inputs yield (`_rq_xw` is the crosswalk of the same slice)."""
    card_l, card_r, card = _card_sql("rl", rec_cols), _card_sql("rr", rec_cols), _card_sql("r", rec_cols)

    # --- uncertain links: pairs the model could not settle -----------------------------------------------
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_uncertain AS
        SELECT {_item_id_sql('uncertain_link', "l.record_uid_l || '|' || l.record_uid_r")} AS item_id,
               'uncertain_link' AS kind,
               CASE WHEN l.match_probability BETWEEN 0.35 AND 0.65 THEN 3 ELSE 4 END AS priority,
               coalesce(xl.resident_id, xr.resident_id) AS resident_id,
               format('{{}} ({{}}) vs {{}} ({{}}): match probability {{:.2f}}', coalesce(rl.name, '?'), l.record_uid_l,
                      coalesce(rr.name, '?'), l.record_uid_r, l.match_probability) AS summary,
               to_json(struct_pack(record_l := l.record_uid_l, record_r := l.record_uid_r,
                                   resident_l := xl.resident_id, resident_r := xr.resident_id)) AS subject,
               to_json(struct_pack(records := [{card_l}, {card_r}],
                                   waterfall := json(coalesce(l.evidence, '[]')),
                                   match_probability := l.match_probability, match_weight := l.match_weight,
                                   same_resident := xl.resident_id IS NOT DISTINCT FROM xr.resident_id)) AS evidence,
               -- the data and the levels it reached, not the weights: retraining alone does not reopen an item
               md5(concat_ws('|', rl.record_hash, rr.record_hash,
                   list_transform(coalesce(from_json(l.evidence, '[{{"comparison":"VARCHAR","level":"VARCHAR"}}]'), []),
                                  lambda x: x.comparison || '=' || x.level)::VARCHAR)) AS evidence_hash
        FROM {src.links} l
        JOIN {src.records} rl ON rl.record_uid = l.record_uid_l
        JOIN {src.records} rr ON rr.record_uid = l.record_uid_r
        LEFT JOIN _rq_xw xl ON xl.record_uid = l.record_uid_l
        LEFT JOIN _rq_xw xr ON xr.record_uid = l.record_uid_r
        WHERE l.match_probability >= {lo} AND l.match_probability < {hi}""")

    # --- identity conflicts: one valid number in two residents; two valid numbers in one resident --------
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_idgroups AS
        SELECT r.id_number, x.resident_id, min(r.record_uid) AS rep, list(r.record_uid ORDER BY r.record_uid) AS recs,
               string_agg(r.record_uid || ':' || coalesce(r.record_hash, ''), ',' ORDER BY r.record_uid) AS hashes
        FROM {src.records} r JOIN _rq_xw x USING (record_uid)
        WHERE r.id_number_valid AND r.id_number IS NOT NULL
        GROUP BY r.id_number, x.resident_id""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_identity AS
        WITH pairs AS (
            SELECT 'shared_id_number' AS reason, a.id_number AS id_l, b.id_number AS id_r,
                   a.resident_id AS resident_l, b.resident_id AS resident_r, a.rep AS rep_a, b.rep AS rep_b,
                   a.recs AS recs_l, b.recs AS recs_r, a.hashes || ';' || b.hashes AS hashes,
                   'shared|' || a.id_number || '|' || a.resident_id || '|' || b.resident_id AS key
            FROM _rq_idgroups a JOIN _rq_idgroups b ON a.id_number = b.id_number AND a.resident_id < b.resident_id
            UNION ALL
            SELECT 'two_id_numbers', a.id_number, b.id_number, a.resident_id, b.resident_id, a.rep, b.rep,
                   a.recs, b.recs, a.hashes || ';' || b.hashes,
                   'two|' || a.resident_id || '|' || a.id_number || '|' || b.id_number
            FROM _rq_idgroups a JOIN _rq_idgroups b ON a.resident_id = b.resident_id AND a.id_number < b.id_number)
        SELECT {_item_id_sql('identity_conflict', 'p.key')} AS item_id, 'identity_conflict' AS kind, 1 AS priority,
               p.resident_l AS resident_id,
               CASE p.reason WHEN 'shared_id_number'
                    THEN format('identity number {{}} is held by two residents: {{}} and {{}}', p.id_l, p.resident_l, p.resident_r)
                    ELSE format('resident {{}} holds two valid identity numbers: {{}} and {{}}', p.resident_l, p.id_l, p.id_r)
               END AS summary,
               to_json(struct_pack(reason := p.reason, record_l := least(p.rep_a, p.rep_b),
                                   record_r := greatest(p.rep_a, p.rep_b), resident_l := p.resident_l,
                                   resident_r := p.resident_r, id_number_l := p.id_l, id_number_r := p.id_r)) AS subject,
               to_json(struct_pack(records := [{card_l}, {card_r}], records_l := p.recs_l, records_r := p.recs_r,
                                   match_probability := lk.match_probability,
                                   waterfall := json(coalesce(lk.evidence, '[]')))) AS evidence,
               md5(p.hashes) AS evidence_hash
        FROM pairs p
        JOIN {src.records} rl ON rl.record_uid = p.rep_a
        JOIN {src.records} rr ON rr.record_uid = p.rep_b
        LEFT JOIN {src.links} lk ON lk.record_uid_l = least(p.rep_a, p.rep_b) AND lk.record_uid_r = greatest(p.rep_a, p.rep_b)""")

    # --- conflicts: departments disagree on a value of one resident ---------------------------------------
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_lineage AS
        SELECT resident_id, attribute,
               list(struct_pack(value := value, department := department, source_record_id := source_record_id,
                                rule := rule) ORDER BY department, source_record_id, value, rule) AS rows
        FROM lineage l
        WHERE {src.lineage_scope}
          AND EXISTS (SELECT 1 FROM {src.conflicts} c WHERE c.resident_id = l.resident_id AND c.attribute = l.attribute)
        GROUP BY resident_id, attribute""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_conflict AS
        SELECT {_item_id_sql('conflict', "c.resident_id || '|' || c.attribute")} AS item_id, 'conflict' AS kind,
               3 AS priority, c.resident_id,
               format('{{}} of resident {{}} differs between departments: {{}}', c.attribute, c.resident_id,
                      array_to_string(json_keys(c."values"), ' / ')) AS summary,
               to_json(struct_pack(resident_id := c.resident_id, attribute := c.attribute)) AS subject,
               to_json(struct_pack(attribute := c.attribute, "values" := json(c."values"),
                                   candidates := json_keys(c."values"), lineage := coalesce(g.rows, []))) AS evidence,
               md5(json(c."values")::VARCHAR) AS evidence_hash
        FROM {src.conflicts} c LEFT JOIN _rq_lineage g USING (resident_id, attribute)
        -- two valid identity numbers in one resident are already an identity_conflict item
        WHERE NOT (c.attribute = 'id_number' AND c.resident_id IN
                   (SELECT resident_id FROM _rq_idgroups GROUP BY resident_id HAVING count(*) > 1))""")

    # --- orphans: civil affairs / labour records of a resident unknown to the household register ----------
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_orphan_records AS
        SELECT x.record_uid, x.resident_id FROM _rq_xw x
        WHERE x.department IN ('civil_affairs', 'labour')
          AND NOT EXISTS (SELECT 1 FROM _rq_xw p WHERE p.resident_id = x.resident_id AND p.department = 'public_security')""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_orphan AS
        WITH candidates AS (
            SELECT o.record_uid, list(struct_pack(record := c.other, match_probability := c.p)
                                      ORDER BY c.p DESC, c.other)[1:3] AS nearest
            FROM _rq_orphan_records o JOIN (
                SELECT record_uid_l AS rec, record_uid_r AS other, match_probability AS p FROM {src.links}
                WHERE record_uid_r LIKE 'public_security:%'
                UNION ALL
                SELECT record_uid_r, record_uid_l, match_probability FROM {src.links}
                WHERE record_uid_l LIKE 'public_security:%') c ON c.rec = o.record_uid
            GROUP BY o.record_uid)
        SELECT {_item_id_sql('orphan', 'o.record_uid')} AS item_id, 'orphan' AS kind, 5 AS priority, o.resident_id,
               format('{{}} ({{}}) matches no one in the household register', coalesce(r.name, '?'), o.record_uid) AS summary,
               to_json(struct_pack(record := o.record_uid, resident_id := o.resident_id)) AS subject,
               to_json(struct_pack(records := [{card}], nearest_household_records := coalesce(c.nearest, []))) AS evidence,
               md5(coalesce(r.record_hash, '')) AS evidence_hash
        FROM _rq_orphan_records o JOIN {src.records} r USING (record_uid) LEFT JOIN candidates c USING (record_uid)""")

    # --- weak clusters: residents of >= 3 records that fall apart without their weak links ----------------
    _weak_clusters(con, src, hi, card)

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_items AS
        SELECT {_ITEM_COLUMNS} FROM _rq_uncertain UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_identity
        UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_conflict UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_orphan
        UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_weak""")


def _weak_clusters(con: duckdb.DuckDBPyConnection, src: _Inputs, strong: float, card: str) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_members AS
        SELECT resident_id, record_uid FROM _rq_xw
        WHERE resident_id IN (SELECT resident_id FROM _rq_xw GROUP BY resident_id HAVING count(*) >= 3)""")
    decided_same = ("UNION ALL SELECT record_uid_l, record_uid_r, 1.0 FROM link_decisions WHERE same"
                    if table_exists(con, "link_decisions") else "")
    # Edges inside one resident; an officer's "same" is as strong as it gets.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_inner AS
        SELECT e.a, e.b, max(e.p) AS p, ma.resident_id FROM (
            SELECT record_uid_l AS a, record_uid_r AS b, match_probability AS p FROM {src.links} {decided_same}) e
        JOIN _rq_members ma ON ma.record_uid = e.a
        JOIN _rq_members mb ON mb.record_uid = e.b AND mb.resident_id = ma.resident_id
        GROUP BY e.a, e.b, ma.resident_id""")
    # Groups held together by strong edges alone: the one connected-components solver.
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_cc_nodes AS SELECT record_uid AS node FROM _rq_members")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_strong AS SELECT a, b FROM _rq_inner WHERE p >= {strong}")
    connected_components(con, "_rq_cc_nodes", "_rq_strong", "_rq_cc")
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_label AS SELECT node AS record_uid, label FROM _rq_cc")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_weak AS
        WITH m AS (SELECT m.resident_id, m.record_uid, l.label FROM _rq_members m JOIN _rq_label l USING (record_uid)),
        weak AS (SELECT resident_id, list_sort(list(DISTINCT label)) AS labels, count(*) AS n FROM m
                 GROUP BY resident_id HAVING count(DISTINCT label) > 1),
        bridge AS (  -- the strongest link between groups; ties go to the smallest pair, so every build agrees
            SELECT i.resident_id, arg_min(struct_pack(a := i.a, b := i.b), struct_pack(q := -i.p, a := i.a, b := i.b)) AS ab,
                   max(i.p) AS p
            FROM _rq_inner i JOIN m ma ON ma.record_uid = i.a JOIN m mb ON mb.record_uid = i.b
            WHERE ma.label <> mb.label AND i.resident_id IN (SELECT resident_id FROM weak)
            GROUP BY i.resident_id),
        cards AS (
            SELECT m.resident_id, list(struct_pack(component := m.label, record := {card}) ORDER BY m.record_uid) AS members,
                   string_agg(m.record_uid || ':' || coalesce(r.record_hash, ''), ',' ORDER BY m.record_uid) AS hashes,
                   min(r.name) AS name
            FROM m JOIN {src.records} r USING (record_uid) WHERE m.resident_id IN (SELECT resident_id FROM weak)
            GROUP BY m.resident_id),
        inner_links AS (
            SELECT resident_id, list(struct_pack(record_l := a, record_r := b, match_probability := p) ORDER BY a, b) AS links
            FROM _rq_inner WHERE resident_id IN (SELECT resident_id FROM weak) GROUP BY resident_id)
        SELECT {_item_id_sql('weak_cluster', 'w.resident_id')} AS item_id, 'weak_cluster' AS kind, 2 AS priority,
               w.resident_id,
               format('resident {{}} ({{}}): {{}} records in {{}} groups held together only by a weak link (p={{}})',
                      w.resident_id, coalesce(c.name, '?'), w.n, len(w.labels),
                      coalesce(round(b.p, 2)::VARCHAR, 'none')) AS summary,
               to_json(struct_pack(resident_id := w.resident_id,
                                   record_l := least(coalesce(b.ab.a, w.labels[1]), coalesce(b.ab.b, w.labels[2])),
                                   record_r := greatest(coalesce(b.ab.a, w.labels[1]), coalesce(b.ab.b, w.labels[2])))) AS subject,
               to_json(struct_pack(members := c.members, links := coalesce(il.links, []), bridge_probability := b.p,
                                   strong_threshold := {strong})) AS evidence,
               md5(c.hashes) AS evidence_hash
        FROM weak w JOIN cards c USING (resident_id) LEFT JOIN bridge b USING (resident_id)
        LEFT JOIN inner_links il USING (resident_id)""")


def _places(con: duckdb.DuckDBPyConnection, src: _Inputs) -> None:
    """Street and community of each resident with a rebuilt item: the current address, else the hukou address.

    Taken together from one record (household register first), or from residents' own columns if it has them.
    """
    rec_cols = _columns(con, "records")
    prefixes = [p for p in ("current", "hukou") if {f"{p}_street", f"{p}_community"} <= rec_cols]
    res_cols = _columns(con, "residents") if table_exists(con, "residents") else set()
    street = ["s.current_street"] if {"current_street", "current_community"} <= res_cols else []
    community = ["s.current_community"] if street else []
    aggregates = ", ".join(
        f"arg_min(struct_pack(s := r.{p}_street, c := r.{p}_community), {_PLACE_RANK}) "
        f"FILTER (WHERE r.{p}_street IS NOT NULL) AS {p}" for p in prefixes) or "NULL AS none"
    street += [f"a.{p}.s" for p in prefixes]
    community += [f"a.{p}.c" for p in prefixes]
    residents_join = "LEFT JOIN residents s USING (resident_id)" if res_cols >= {"current_street"} and \
        "s.current_street" in street else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_place AS
        WITH a AS (
            SELECT x.resident_id, {aggregates}
            FROM _rq_xw x JOIN {src.records} r USING (record_uid)
            WHERE x.resident_id IN (SELECT resident_id FROM _rq_items)
            GROUP BY x.resident_id)
        SELECT i.resident_id, coalesce({', '.join(street) or 'NULL'}, NULL)::VARCHAR AS street,
               coalesce({', '.join(community) or 'NULL'}, NULL)::VARCHAR AS community
        FROM (SELECT DISTINCT resident_id FROM _rq_items WHERE resident_id IS NOT NULL) i
        LEFT JOIN a USING (resident_id) {residents_join}""")


def _status_sql(items: str) -> str:
    """Status of each item of `items` (item_id, evidence_hash): decided while the latest decision on it saw
    the evidence it holds tonight; reopened when that decision saw other evidence."""
    return f"""
        SELECT item_id, CASE WHEN decided THEN 'decided' ELSE 'open' END AS status,
               CASE WHEN decided THEN d_decided_at END AS decided_at, CASE WHEN decided THEN d_decision END AS decision,
               has_decision AND NOT decided AS reopened
        FROM (SELECT i.item_id, d.item_id IS NOT NULL AS has_decision, {decided_sql("d", "i")} AS decided,
                     d.decision AS d_decision, d.decided_at AS d_decided_at
              FROM {items} i LEFT JOIN _rq_latest d USING (item_id))"""


def _publish_queue(con: duckdb.DuckDBPyConnection, extract_date, spliced: bool) -> QueueSummary:
    if table_exists(con, "review_queue"):
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT item_id, kind, status, "
                    "CAST(first_raised_date AS DATE) AS first_raised_date FROM review_queue")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT CAST(NULL AS VARCHAR) AS item_id, "
                    "CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS status, "
                    "CAST(NULL AS DATE) AS first_raised_date LIMIT 0")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_latest AS {latest_decisions_sql('_rq_decisions')}")
    rows = f"""
        SELECT i.item_id, i.kind, i.priority::INTEGER AS priority, s.status, i.resident_id, p.street, p.community,
               i.summary, i.subject::JSON AS subject, i.evidence::JSON AS evidence, i.evidence_hash,
               coalesce(prev.first_raised_date, CAST($1 AS DATE)) AS first_raised_date, s.decided_at, s.decision
        FROM _rq_items i JOIN ({_status_sql('_rq_items')}) s USING (item_id)
        LEFT JOIN _rq_place p USING (resident_id) LEFT JOIN _rq_prev prev USING (item_id)"""
    if spliced:  # in place: the queue's text is tens of MB, tonight's edits a few hundred rows
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_rows AS " + rows, [str(extract_date)])
        splice(con, "review_queue", "item_id", "SELECT item_id FROM _rq_stale UNION ALL SELECT item_id FROM _rq_items",
               "SELECT * FROM _rq_rows")
        # every item's status against tonight's decisions: they change with no data change
        con.execute(f"""
            UPDATE review_queue q SET status = s.status, decided_at = s.decided_at, decision = s.decision
            FROM ({_status_sql('review_queue')}) s
            WHERE s.item_id = q.item_id AND (q.status IS DISTINCT FROM s.status OR q.decided_at IS DISTINCT FROM
                  s.decided_at OR q.decision IS DISTINCT FROM s.decision)""")
    else:
        con.execute(f"CREATE OR REPLACE TABLE review_queue AS {rows} ORDER BY status DESC, priority, item_id",
                    [str(extract_date)])
    summary = QueueSummary()
    for kind, n_open, n_decided in con.execute(
            "SELECT kind, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'decided') "
            "FROM review_queue GROUP BY kind").fetchall():
        summary.open[kind], summary.decided[kind] = n_open, n_decided
    summary.raised = dict(con.execute("""
        SELECT q.kind, count(*) FROM review_queue q LEFT JOIN _rq_prev p USING (item_id)
        WHERE q.status = 'open' AND p.status IS DISTINCT FROM 'open' GROUP BY q.kind""").fetchall())
    summary.closed = dict(con.execute("""
        SELECT p.kind, count(*) FROM _rq_prev p LEFT JOIN review_queue q USING (item_id)
        WHERE p.status = 'open' AND q.status IS DISTINCT FROM 'open' GROUP BY p.kind""").fetchall())
    summary.reopened = con.execute(f"SELECT count(*) FROM ({_status_sql('review_queue')}) WHERE reopened"
                                   ).fetchall()[0][0]
    for d in (summary.open, summary.decided, summary.raised, summary.closed):
        for kind in KINDS:
            d.setdefault(kind, 0)
    summary.decisions_orphaned = _orphaned_decisions(con)
    return summary


def _orphaned_decisions(con: duckdb.DuckDBPyConnection) -> int:
    """Report decisions whose records, or whose resident (for a value), no longer exist. Nothing is deleted."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _rq_named AS
                   SELECT DISTINCT r AS record_uid FROM (SELECT unnest([record_l, record_r]) AS r FROM _rq_decisions)
                   WHERE r IS NOT NULL""")
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_named_residents AS SELECT DISTINCT resident_id FROM _rq_decisions "
                "WHERE decision = 'value' AND resident_id IS NOT NULL")
    records = _in_sql(con, "record_uid", "_rq_named", "record_uid")
    residents = _in_sql(con, "resident_id", "_rq_named_residents", "resident_id")
    known_residents = f"SELECT resident_id FROM residents WHERE {residents}"
    if table_exists(con, "resident_ids"):
        known_residents += f" UNION ALL SELECT resident_id FROM resident_ids WHERE merged_into IS NOT NULL AND {residents}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_present AS SELECT record_uid FROM records WHERE {records}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rq_known AS {known_residents}")
    con.execute("""
        CREATE OR REPLACE TABLE review_decisions_orphaned AS
        WITH d AS (
            SELECT d.*,
                   list_filter([CASE WHEN d.record_l IS NOT NULL AND rl.record_uid IS NULL THEN d.record_l END,
                                CASE WHEN d.record_r IS NOT NULL AND rr.record_uid IS NULL THEN d.record_r END],
                               lambda r: r IS NOT NULL) AS missing_records,
                   d.decision = 'value' AND NOT EXISTS (SELECT 1 FROM _rq_known k
                                                         WHERE k.resident_id = d.resident_id) AS resident_missing
            FROM _rq_decisions d
            LEFT JOIN _rq_present rl ON rl.record_uid = d.record_l
            LEFT JOIN _rq_present rr ON rr.record_uid = d.record_r)
        SELECT decision_id, item_id, kind, decision, record_l, record_r, resident_id, attribute, value, decided_by,
               decided_at, reason,
               concat_ws('; ', CASE WHEN len(missing_records) > 0
                                    THEN 'records gone: ' || array_to_string(missing_records, ', ') END,
                         CASE WHEN resident_missing THEN 'resident gone: ' || resident_id END) AS missing
        FROM d WHERE len(missing_records) > 0 OR resident_missing
        ORDER BY decided_at, decision_id""")
    return con.execute("SELECT count(*) FROM review_decisions_orphaned").fetchall()[0][0]


def _in_sql(con: duckdb.DuckDBPyConnection, column: str, table: str, key: str, max_listed: int = 2000) -> str:
    """`column IN (the keys of table)`: a literal list while short, which DuckDB filters inside the scan of a
    big table instead of probing a hash table with every row."""
    keys = [k for (k,) in con.execute(f"SELECT DISTINCT {key} FROM {table} WHERE {key} IS NOT NULL "
                                      f"ORDER BY 1 LIMIT {max_listed + 1}").fetchall()]
    if not keys:
        return "false"
    if len(keys) > max_listed:
        return f"{column} IN (SELECT {key} FROM {table})"
    return f"{column} IN ({literal_list(keys)})"


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The run's connection serves later stages: free the slices and intermediate tables."""
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_rq\\_%' "
                               "ESCAPE '\\'").fetchall():
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")
