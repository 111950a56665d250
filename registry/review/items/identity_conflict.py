"""Identity conflicts: one valid identity number held by two residents, or two valid numbers by one."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_identity: the items of this kind the inputs yield."""
    card_l, card_r = card_sql("rl", src.record_columns), card_sql("rr", src.record_columns)
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
        SELECT {KIND.item_id_sql('p.key')} AS item_id, 'identity_conflict' AS kind, 1 AS priority,
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
    return "_rq_identity"


KIND = ItemKind("identity_conflict", "ic", ("same", "different", "dismiss"), pair=True, build=build)
