"""Uncertain links: pairs the model scored inside the uncertain band; the officer says same or different."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_uncertain: the items of this kind the inputs yield."""
    card_l, card_r = card_sql("rl", src.record_columns), card_sql("rr", src.record_columns)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_uncertain AS
        SELECT {KIND.item_id_sql("l.record_uid_l || '|' || l.record_uid_r")} AS item_id,
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
    return "_rq_uncertain"


KIND = ItemKind("uncertain_link", "ul", ("same", "different", "dismiss"), pair=True, build=build)
