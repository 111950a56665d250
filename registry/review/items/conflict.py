"""Conflicts: departments disagree on a value of one resident; the officer picks the value."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs
from registry.review.items.kind import ItemKind


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_conflict: the items of this kind the inputs yield."""
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
        SELECT {KIND.item_id_sql("c.resident_id || '|' || c.attribute")} AS item_id, 'conflict' AS kind,
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
    return "_rq_conflict"


KIND = ItemKind("conflict", "cf", ("value", "dismiss"), build=build)
