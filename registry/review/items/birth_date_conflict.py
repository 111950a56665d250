"""Birth-date conflicts: a record delivered a birth date nobody alive tonight can have (before 1900, or
after the extract date: noted `implausible_birth_date` by standardisation, which leaves it out of the
golden record), while its valid identity number says when the person was born. The officer sets the
golden birth date (usually the identity number's) or dismisses the item."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind
from registry.sql import table_exists

NOTE = "implausible_birth_date"


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_birth_date_conflict: the items of this kind the inputs yield."""
    known = (table_exists(con, "quarantine")
             and {"id_birth_date", "id_number_valid", "birth_date_raw"} <= set(src.record_columns))
    notes = (f"SELECT DISTINCT department, record_key FROM quarantine WHERE reason = '{NOTE}'" if known else
             "SELECT CAST(NULL AS VARCHAR) AS department, CAST(NULL AS VARCHAR) AS record_key LIMIT 0")
    id_birth = "r.id_birth_date" if known else "CAST(NULL AS DATE)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_birth_date_conflict AS
        WITH noted AS ({notes}),
        contradicted AS (
            SELECT x.resident_id, r.record_uid, {"r.birth_date_raw" if known else "NULL"} AS birth_date_raw,
                   CAST({id_birth} AS VARCHAR) AS id_birth,
                   {card_sql('r', src.record_columns)} AS card
            FROM {src.records} r JOIN _rq_xw x USING (record_uid)
            JOIN noted n ON n.department = r.department AND n.record_key = r.source_record_id
            WHERE {"r.id_number_valid" if known else "false"} AND {id_birth} IS NOT NULL),
        said AS (  -- each value, as delivered or as the identity number says, with the records saying it
            SELECT resident_id, said, list(record_uid ORDER BY record_uid) AS recs FROM (
                SELECT resident_id, birth_date_raw || ' (delivered)' AS said, record_uid FROM contradicted
                UNION ALL
                SELECT resident_id, id_birth || ' (identity number)', record_uid FROM contradicted)
            GROUP BY ALL),
        per_resident AS (
            SELECT c.resident_id, list(c.card ORDER BY c.record_uid) AS records,
                   list(DISTINCT c.id_birth ORDER BY c.id_birth) AS id_births, min(c.birth_date_raw) AS first_raw,
                   string_agg(c.record_uid || '=' || c.birth_date_raw || '/' || c.id_birth, ','
                              ORDER BY c.record_uid) AS basis
            FROM contradicted c GROUP BY c.resident_id)
        SELECT {KIND.item_id_sql("p.resident_id")} AS item_id, '{KIND.name}' AS kind, 3 AS priority,
               p.resident_id,
               format('birth date of resident {{}} delivered as {{}}, which nobody alive can have; the identity '
                      || 'number says {{}}', p.resident_id, p.first_raw, array_to_string(p.id_births, ' / ')) AS summary,
               to_json(struct_pack(resident_id := p.resident_id, attribute := 'birth_date')) AS subject,
               to_json(struct_pack(attribute := 'birth_date', candidates := p.id_births,
                                   "values" := (SELECT to_json(map_from_entries(list(struct_pack(k := s.said,
                                                                                                 v := s.recs))))
                                                FROM said s WHERE s.resident_id = p.resident_id),
                                   records := p.records)) AS evidence,
               md5(p.basis) AS evidence_hash
        FROM per_resident p""")
    return "_rq_birth_date_conflict"


KIND = ItemKind("birth_date_conflict", "bd", ("value", "dismiss"), build=build)
