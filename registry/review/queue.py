"""The nightly review queue: what quality officers should look at, built set-wise in the run database.

build_review_queue reads `links`, `records`, `crosswalk`, `residents`, `conflicts`, `lineage` (and, when
present, `link_decisions`, `resident_ids` and last night's `review_queue`) and writes:
- `review_queue`: one row per item (ARCHITECTURE.md "Review"), status `decided` only while the latest
  decision on the item saw the evidence the item holds tonight;
- `review_decisions_orphaned`: decisions whose records (or resident) are gone. They stay in
  decisions.jsonl; this table only reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from registry.review import ITEM_PREFIX, KINDS, journal

# Fields of a record shown in evidence, in display order (those the records table has).
RECORD_CARD_FIELDS: tuple[str, ...] = (
    "record_uid", "department", "source_record_id", "name_raw", "name", "name_pinyin", "former_name", "sex",
    "birth_date", "birth_date_raw", "id_number_raw", "id_number", "id_number_form", "phone", "ethnicity",
    "hukou_address", "current_address", "household_id", "relation_to_head", "family_role", "person_status",
    "marital_status", "assistance_kind", "employment_status", "employer",
)
# Department preferred for a resident's street/community: the household register first.
_PLACE_RANK = ("CASE r.department WHEN 'public_security' THEN 1 WHEN 'civil_affairs' THEN 2 "
               "WHEN 'family_planning' THEN 3 ELSE 4 END")
_ITEM_COLUMNS = "item_id, kind, priority, resident_id, summary, subject, evidence, evidence_hash"
_MAX_LABEL_ROUNDS = 200


@dataclass
class QueueSummary:
    """Counts per kind: raised (newly open tonight, reopened included), closed (open last night, not tonight)."""

    raised: dict[str, int] = field(default_factory=dict)
    closed: dict[str, int] = field(default_factory=dict)
    open: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)
    reopened: int = 0
    decisions_orphaned: int = 0

    def as_dict(self) -> dict:
        return {"raised": self.raised, "closed": self.closed, "open": self.open, "decided": self.decided,
                "reopened": self.reopened, "decisions_orphaned": self.decisions_orphaned}


def _item_id_sql(kind: str, key_sql: str) -> str:
    return f"'{ITEM_PREFIX[kind]}-' || substr(md5('{kind}|' || {key_sql}), 1, 16)"


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = "
                            "current_database() AND schema_name = current_schema()", [name]).fetchall()[0][0])


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _card_sql(alias: str, columns: set[str]) -> str:
    """JSON object of a record's displayed fields (JSON type, so it nests unquoted)."""
    fields = ", ".join(f"{c} := {alias}.{c}" for c in RECORD_CARD_FIELDS if c in columns)
    return f"to_json(struct_pack({fields}))"


def build_review_queue(con: duckdb.DuckDBPyConnection, decisions_path: Path | str, extract_date,
                       uncertain_band: tuple[float, float] = (0.5, 0.95)) -> QueueSummary:
    """Build `review_queue` (and `review_decisions_orphaned`) in the run database; see the module doc."""
    lo, hi = (float(x) for x in uncertain_band)
    rec_cols = _columns(con, "records")
    card_l, card_r, card = _card_sql("rl", rec_cols), _card_sql("rr", rec_cols), _card_sql("r", rec_cols)
    journal.register(con, decisions_path, "_rq_decisions")
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_xw AS SELECT record_uid, resident_id, department FROM crosswalk")

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
        FROM links l
        JOIN records rl ON rl.record_uid = l.record_uid_l
        JOIN records rr ON rr.record_uid = l.record_uid_r
        LEFT JOIN _rq_xw xl ON xl.record_uid = l.record_uid_l
        LEFT JOIN _rq_xw xr ON xr.record_uid = l.record_uid_r
        WHERE l.match_probability >= {lo} AND l.match_probability < {hi}""")

    # --- identity conflicts: one valid number in two residents; two valid numbers in one resident --------
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_idgroups AS
        SELECT r.id_number, x.resident_id, min(r.record_uid) AS rep, list(r.record_uid ORDER BY r.record_uid) AS recs,
               string_agg(r.record_uid || ':' || coalesce(r.record_hash, ''), ',' ORDER BY r.record_uid) AS hashes
        FROM records r JOIN _rq_xw x USING (record_uid)
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
        JOIN records rl ON rl.record_uid = p.rep_a
        JOIN records rr ON rr.record_uid = p.rep_b
        LEFT JOIN links lk ON lk.record_uid_l = least(p.rep_a, p.rep_b) AND lk.record_uid_r = greatest(p.rep_a, p.rep_b)""")

    # --- conflicts: departments disagree on a value of one resident ---------------------------------------
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_lineage AS
        SELECT resident_id, attribute,
               list(struct_pack(value := value, department := department, source_record_id := source_record_id,
                                rule := rule) ORDER BY department, source_record_id) AS rows
        FROM lineage l
        WHERE EXISTS (SELECT 1 FROM conflicts c WHERE c.resident_id = l.resident_id AND c.attribute = l.attribute)
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
        FROM conflicts c LEFT JOIN _rq_lineage g USING (resident_id, attribute)
        -- two valid identity numbers in one resident are already an identity_conflict item
        WHERE NOT (c.attribute = 'id_number' AND c.resident_id IN
                   (SELECT resident_id FROM _rq_idgroups GROUP BY resident_id HAVING count(*) > 1))""")

    # --- orphans: civil affairs / labour records of a resident unknown to the household register ----------
    con.execute(f"""
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
                SELECT record_uid_l AS rec, record_uid_r AS other, match_probability AS p FROM links
                WHERE record_uid_r LIKE 'public_security:%'
                UNION ALL
                SELECT record_uid_r, record_uid_l, match_probability FROM links
                WHERE record_uid_l LIKE 'public_security:%') c ON c.rec = o.record_uid
            GROUP BY o.record_uid)
        SELECT {_item_id_sql('orphan', 'o.record_uid')} AS item_id, 'orphan' AS kind, 5 AS priority, o.resident_id,
               format('{{}} ({{}}) matches no one in the household register', coalesce(r.name, '?'), o.record_uid) AS summary,
               to_json(struct_pack(record := o.record_uid, resident_id := o.resident_id)) AS subject,
               to_json(struct_pack(records := [{card}], nearest_household_records := coalesce(c.nearest, []))) AS evidence,
               md5(coalesce(r.record_hash, '')) AS evidence_hash
        FROM _rq_orphan_records o JOIN records r USING (record_uid) LEFT JOIN candidates c USING (record_uid)""")

    # --- weak clusters: residents of >= 3 records that fall apart without their weak links ----------------
    _weak_clusters(con, hi, card)

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_items AS
        SELECT {_ITEM_COLUMNS} FROM _rq_uncertain UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_identity
        UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_conflict UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_orphan
        UNION ALL SELECT {_ITEM_COLUMNS} FROM _rq_weak""")
    _places(con)
    return _publish_queue(con, extract_date)


def _weak_clusters(con: duckdb.DuckDBPyConnection, strong: float, card: str) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_members AS
        SELECT resident_id, record_uid FROM _rq_xw
        WHERE resident_id IN (SELECT resident_id FROM _rq_xw GROUP BY resident_id HAVING count(*) >= 3)""")
    decided_same = ("UNION ALL SELECT record_uid_l, record_uid_r, 1.0 FROM link_decisions WHERE same"
                    if _has_table(con, "link_decisions") else "")
    # Edges inside one resident; an officer's "same" is as strong as it gets.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_inner AS
        SELECT e.a, e.b, max(e.p) AS p, ma.resident_id FROM (
            SELECT record_uid_l AS a, record_uid_r AS b, match_probability AS p FROM links {decided_same}) e
        JOIN _rq_members ma ON ma.record_uid = e.a
        JOIN _rq_members mb ON mb.record_uid = e.b AND mb.resident_id = ma.resident_id
        GROUP BY e.a, e.b, ma.resident_id""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_strong AS
        SELECT a, b FROM _rq_inner WHERE p >= {strong} UNION ALL SELECT b, a FROM _rq_inner WHERE p >= {strong}""")
    # Connected components over strong edges by min-label propagation (one SQL pass per round).
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_label AS SELECT record_uid, record_uid AS label FROM _rq_members")
    for _ in range(_MAX_LABEL_ROUNDS):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _rq_label_next AS
            SELECT l.record_uid, least(l.label, coalesce(min(n.label), l.label)) AS label
            FROM _rq_label l LEFT JOIN _rq_strong s ON s.a = l.record_uid LEFT JOIN _rq_label n ON n.record_uid = s.b
            GROUP BY l.record_uid, l.label""")
        changed = con.execute("SELECT count(*) FROM _rq_label_next n JOIN _rq_label l USING (record_uid) "
                              "WHERE n.label <> l.label").fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_label AS SELECT * FROM _rq_label_next")
        if not changed:
            break
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_weak AS
        WITH m AS (SELECT m.resident_id, m.record_uid, l.label FROM _rq_members m JOIN _rq_label l USING (record_uid)),
        weak AS (SELECT resident_id, list_sort(list(DISTINCT label)) AS labels, count(*) AS n FROM m
                 GROUP BY resident_id HAVING count(DISTINCT label) > 1),
        bridge AS (
            SELECT i.resident_id, arg_max(i.a, i.p) AS a, arg_max(i.b, i.p) AS b, max(i.p) AS p
            FROM _rq_inner i JOIN m ma ON ma.record_uid = i.a JOIN m mb ON mb.record_uid = i.b
            WHERE ma.label <> mb.label AND i.resident_id IN (SELECT resident_id FROM weak)
            GROUP BY i.resident_id),
        cards AS (
            SELECT m.resident_id, list(struct_pack(component := m.label, record := {card}) ORDER BY m.record_uid) AS members,
                   string_agg(m.record_uid || ':' || coalesce(r.record_hash, ''), ',' ORDER BY m.record_uid) AS hashes,
                   min(r.name) AS name
            FROM m JOIN records r USING (record_uid) WHERE m.resident_id IN (SELECT resident_id FROM weak)
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
                                   record_l := least(coalesce(b.a, w.labels[1]), coalesce(b.b, w.labels[2])),
                                   record_r := greatest(coalesce(b.a, w.labels[1]), coalesce(b.b, w.labels[2])))) AS subject,
               to_json(struct_pack(members := c.members, links := coalesce(il.links, []), bridge_probability := b.p,
                                   strong_threshold := {strong})) AS evidence,
               md5(c.hashes) AS evidence_hash
        FROM weak w JOIN cards c USING (resident_id) LEFT JOIN bridge b USING (resident_id)
        LEFT JOIN inner_links il USING (resident_id)""")


def _places(con: duckdb.DuckDBPyConnection) -> None:
    """Street and community of each resident with an item: the current address, else the hukou address.

    Taken together from one record (household register first), or from residents' own columns if it has them.
    """
    rec_cols = _columns(con, "records")
    prefixes = [p for p in ("current", "hukou") if {f"{p}_street", f"{p}_community"} <= rec_cols]
    res_cols = _columns(con, "residents") if _has_table(con, "residents") else set()
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
            FROM _rq_xw x JOIN records r USING (record_uid)
            WHERE x.resident_id IN (SELECT resident_id FROM _rq_items)
            GROUP BY x.resident_id)
        SELECT i.resident_id, coalesce({', '.join(street) or 'NULL'}, NULL)::VARCHAR AS street,
               coalesce({', '.join(community) or 'NULL'}, NULL)::VARCHAR AS community
        FROM (SELECT DISTINCT resident_id FROM _rq_items WHERE resident_id IS NOT NULL) i
        LEFT JOIN a USING (resident_id) {residents_join}""")


def _publish_queue(con: duckdb.DuckDBPyConnection, extract_date) -> QueueSummary:
    if _has_table(con, "review_queue"):
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT item_id, kind, status, "
                    "CAST(first_raised_date AS DATE) AS first_raised_date FROM review_queue")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE _rq_prev AS SELECT CAST(NULL AS VARCHAR) AS item_id, "
                    "CAST(NULL AS VARCHAR) AS kind, CAST(NULL AS VARCHAR) AS status, "
                    "CAST(NULL AS DATE) AS first_raised_date LIMIT 0")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_latest AS
        SELECT item_id, arg_max(decision, line_no) AS decision, arg_max(decided_at, line_no) AS decided_at,
               arg_max(evidence_hash, line_no) AS evidence_hash
        FROM _rq_decisions WHERE item_id IS NOT NULL GROUP BY item_id""")
    con.execute("""
        CREATE OR REPLACE TABLE review_queue AS
        WITH j AS (
            SELECT i.*, d.item_id IS NOT NULL AS has_decision,
                   d.item_id IS NOT NULL AND (d.evidence_hash IS NULL OR d.evidence_hash = i.evidence_hash) AS decided,
                   d.decision AS d_decision, d.decided_at AS d_decided_at
            FROM _rq_items i LEFT JOIN _rq_latest d USING (item_id))
        SELECT j.item_id, j.kind, j.priority::INTEGER AS priority,
               CASE WHEN j.decided THEN 'decided' ELSE 'open' END AS status,
               j.resident_id, p.street, p.community, j.summary, j.subject::JSON AS subject,
               j.evidence::JSON AS evidence, j.evidence_hash,
               coalesce(prev.first_raised_date, CAST($1 AS DATE)) AS first_raised_date,
               CASE WHEN j.decided THEN j.d_decided_at END AS decided_at,
               CASE WHEN j.decided THEN j.d_decision END AS decision,
               j.has_decision AND NOT j.decided AS reopened
        FROM j LEFT JOIN _rq_place p USING (resident_id) LEFT JOIN _rq_prev prev USING (item_id)
        ORDER BY status DESC, priority, item_id""", [str(extract_date)])
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
    summary.reopened = con.execute("SELECT count(*) FROM review_queue WHERE reopened").fetchall()[0][0]
    for d in (summary.open, summary.decided, summary.raised, summary.closed):
        for kind in KINDS:
            d.setdefault(kind, 0)
    con.execute("ALTER TABLE review_queue DROP COLUMN reopened")
    summary.decisions_orphaned = _orphaned_decisions(con)
    return summary


def _orphaned_decisions(con: duckdb.DuckDBPyConnection) -> int:
    """Report decisions whose records, or whose resident (for a value), no longer exist. Nothing is deleted."""
    known_residents = "SELECT resident_id FROM residents"
    if _has_table(con, "resident_ids"):
        known_residents += " UNION ALL SELECT resident_id FROM resident_ids WHERE merged_into IS NOT NULL"
    con.execute(f"""
        CREATE OR REPLACE TABLE review_decisions_orphaned AS
        WITH d AS (
            SELECT d.*,
                   list_filter([CASE WHEN d.record_l IS NOT NULL AND rl.record_uid IS NULL THEN d.record_l END,
                                CASE WHEN d.record_r IS NOT NULL AND rr.record_uid IS NULL THEN d.record_r END],
                               lambda r: r IS NOT NULL) AS missing_records,
                   d.decision = 'value' AND d.resident_id NOT IN ({known_residents}) AS resident_missing
            FROM _rq_decisions d
            LEFT JOIN records rl ON rl.record_uid = d.record_l
            LEFT JOIN records rr ON rr.record_uid = d.record_r)
        SELECT decision_id, item_id, kind, decision, record_l, record_r, resident_id, attribute, value, decided_by,
               decided_at, reason,
               concat_ws('; ', CASE WHEN len(missing_records) > 0
                                    THEN 'records gone: ' || array_to_string(missing_records, ', ') END,
                         CASE WHEN resident_missing THEN 'resident gone: ' || resident_id END) AS missing
        FROM d WHERE len(missing_records) > 0 OR resident_missing
        ORDER BY decided_at, decision_id""")
    return con.execute("SELECT count(*) FROM review_decisions_orphaned").fetchall()[0][0]
