"""Weak clusters: residents held together only by links below the uncertain band's top."""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind
from registry.sql import table_exists


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, strong: float) -> str:
    """Temp table _rq_weak: residents of >= 3 records that fall apart without their weak links (below
    the band's top, `strong`); the officer says whether the groups are one person."""
    from registry.linkage.backend import connected_components

    card = card_sql("r", src.record_columns)
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
        SELECT {KIND.item_id_sql('w.resident_id')} AS item_id, 'weak_cluster' AS kind, 2 AS priority,
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
    return "_rq_weak"


KIND = ItemKind("weak_cluster", "wc", ("same", "different", "dismiss"), pair=True, build=build)
