"""`conflicts`: residents whose records disagree on birth date, sex or a valid identity number."""

from __future__ import annotations

import duckdb

from registry.incremental import splice

def write_conflicts(con: duckdb.DuckDBPyConnection, touched: str | None = None) -> int:
    """`conflicts`: residents whose records disagree on birth date, sex or (valid) identity number.

    Only comparable values are compared: a year-month birth date conflicts with a full date only
    when the months differ. Mistyped identity numbers (failing the check) are typos, not
    conflicts. `values` is JSON {value: ["department:source_record_id", ...]}.
    """
    sql = """
        WITH v AS (
            SELECT resident_id, 'birth_date' AS attribute,
                   coalesce(strftime(birth_date, '%Y-%m-%d'), printf('%04d-%02d', birth_year, birth_month)) AS value,
                   department || ':' || source_record_id AS record
            FROM _member WHERE birth_year IS NOT NULL AND birth_month IS NOT NULL
            UNION ALL
            SELECT resident_id, 'sex', sex, department || ':' || source_record_id FROM _member WHERE sex IS NOT NULL
            UNION ALL
            SELECT resident_id, 'id_number', id_number, department || ':' || source_record_id
            FROM _member WHERE id_number IS NOT NULL AND id_number_valid),
        births AS (
            SELECT resident_id FROM _member
            WHERE birth_year IS NOT NULL AND birth_month IS NOT NULL
            GROUP BY resident_id
            HAVING count(DISTINCT birth_date) > 1 OR count(DISTINCT (birth_year, birth_month)) > 1),
        disagree AS (
            SELECT resident_id, 'birth_date' AS attribute FROM births
            UNION ALL
            SELECT resident_id, attribute FROM v WHERE attribute <> 'birth_date'
            GROUP BY ALL HAVING count(DISTINCT value) > 1),
        grouped AS (
            SELECT v.resident_id, v.attribute, v.value, list(v.record ORDER BY v.record) AS records
            FROM v JOIN disagree USING (resident_id, attribute) GROUP BY ALL)
        SELECT resident_id, attribute, -- keys in value order, so that reruns write the same text
               CAST('{' || string_agg(to_json(value) || ':' || to_json(records), ',' ORDER BY value) || '}' AS JSON)
                   AS "values"
        FROM grouped GROUP BY ALL ORDER BY resident_id, attribute"""
    if touched:  # an incremental survivorship: the touched residents' rows
        splice(con, "conflicts", "resident_id", touched, sql)
    else:
        con.execute("CREATE OR REPLACE TABLE conflicts AS " + sql)
    return con.execute("SELECT count(*) FROM conflicts").fetchone()[0]
