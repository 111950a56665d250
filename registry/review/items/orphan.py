"""Orphans: civil affairs or labour records of a resident unknown to the household register, which the
register may hold after all (a linked record), or which lack what the machine links by."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_orphan: the items of this kind the inputs yield."""
    card = card_sql("r", src.record_columns)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_orphan_records AS
        SELECT x.record_uid, x.resident_id FROM _rq_xw x
        WHERE x.department IN ('civil_affairs', 'labour')
          AND NOT EXISTS (SELECT 1 FROM _rq_xw p WHERE p.resident_id = x.resident_id AND p.department = 'public_security')""")
    # an orphan is an item when the register holds someone it could be (a linked record), or when it is
    # known without a number or a birth date (nothing the machine could link it by); an orphan with a
    # number and a birth date that nobody in the register resembles is simply not registered here
    incomplete = " OR ".join(f"r.{c} IS NULL" for c in ("id_number", "birth_date") if c in src.record_columns)
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
        SELECT {KIND.item_id_sql('o.record_uid')} AS item_id, 'orphan' AS kind, 5 AS priority, o.resident_id,
               format('{{}} ({{}}) matches no one in the household register', coalesce(r.name, '?'), o.record_uid) AS summary,
               to_json(struct_pack(record := o.record_uid, resident_id := o.resident_id)) AS subject,
               to_json(struct_pack(records := [{card}], nearest_household_records := coalesce(c.nearest, []))) AS evidence,
               md5(coalesce(r.record_hash, '')) AS evidence_hash
        FROM _rq_orphan_records o JOIN {src.records} r USING (record_uid) LEFT JOIN candidates c USING (record_uid)
        WHERE c.record_uid IS NOT NULL OR {incomplete or 'false'}""")
    return "_rq_orphan"


KIND = ItemKind("orphan", "or", ("dismiss",), build=build)
