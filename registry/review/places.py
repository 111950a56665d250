"""Where each resident with an item lives (street, community), so officers can work their own streets."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, columns_of
from registry.sql import table_exists

# Department preferred for a resident's street/community: the household register first.
PLACE_RANK = ("CASE r.department WHEN 'public_security' THEN 1 WHEN 'civil_affairs' THEN 2 "
              "WHEN 'family_planning' THEN 3 ELSE 4 END")


def resident_places(con: duckdb.DuckDBPyConnection, src: Inputs) -> None:
    """Temp table `_rq_place`: street and community of each resident with a rebuilt item: the current address, else the hukou address.

    Taken together from one record (household register first), or from residents' own columns if it has them.
    """
    rec_cols = columns_of(con, "records")
    prefixes = [p for p in ("current", "hukou") if {f"{p}_street", f"{p}_community"} <= rec_cols]
    res_cols = columns_of(con, "residents") if table_exists(con, "residents") else set()
    street = ["s.current_street"] if {"current_street", "current_community"} <= res_cols else []
    community = ["s.current_community"] if street else []
    aggregates = ", ".join(
        f"arg_min(struct_pack(s := r.{p}_street, c := r.{p}_community), {PLACE_RANK}) "
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
