"""Overruled links: the model says one person (match probability at or above the uncertain band's top,
before or after household evidence), yet the machine keeps the two records in two residents, because

- the clustering's constraints cut the link (registry/linkage/clustering.py): the two residents hold two
  different valid identity numbers, or two records of one household register (public security, family
  planning: one record per person) that are not linked to each other; or
- household evidence (registry/linkage/households.py) lowered it below the band.

Silent, such a cut is an error nobody sees when the machine is wrong (a child filed twice in a family
file under two spellings, one assistance recipient entered twice in one flat). The officer says same or
different; the item says in words what overruled the link. One item per pair of residents (their
strongest overruled link; or, where the cut is their two records of one register and those agree, those
two, so that one "same" lifts it), and none where an item of another kind already names both residents
(ItemKind.defers: the queue's rule across kinds). Only pairs whose records themselves say one person
are raised (_one_person_sql): twins and namesakes the machine keeps apart agree with their records.
"""

from __future__ import annotations

import duckdb

from registry.review.inputs import Inputs, card_sql
from registry.review.items.kind import ItemKind
from registry.sql import literal_list, table_exists

NAME = "overruled_link"
REGISTER_NOUN = {"public_security": "household register (户籍)", "family_planning": "family-planning register (计生)"}


def _strong_sql(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Every pair scored at or above the band's top (p: tonight's probability; base_p: the model's, where
    household evidence lowered it below the band; from the band up they are items already)."""
    scored = f"""SELECT record_uid_l, record_uid_r, match_probability AS p, NULL::DOUBLE AS base_p, evidence
                 FROM {src.links} WHERE match_probability >= {hi}"""
    if not table_exists(con, "household_links"):
        return scored
    return scored + f"""
        UNION ALL
        SELECT h.record_uid_l, h.record_uid_r, coalesce(l.match_probability, 0.0), h.base_match_probability,
               coalesce(l.evidence, h.base_evidence)
        FROM household_links h LEFT JOIN {src.links} l USING (record_uid_l, record_uid_r)
        WHERE h.base_match_probability >= {hi} AND coalesce(l.match_probability, 0.0) < {lo}
          AND h.record_uid_l IN (SELECT record_uid FROM _rq_xw) AND h.record_uid_r IN (SELECT record_uid FROM _rq_xw)"""


def _one_person_sql(columns: frozenset[str]) -> str:
    """The two records `x`, `y` themselves say one person: the same name in sound (or one's former name),
    sex and birth month where both are known, and not two numbers the state issued. Keeping such a pair
    apart overrules the records; keeping any other apart (twins, namesakes of two generations in one
    family file, a child filed under its mother's number) only agrees with them."""
    names = [f"x.{a} = y.{b}" for a, b in (("name", "name"), ("name_pinyin", "name_pinyin"), ("former_name", "name"),
                                            ("name", "former_name"), ("former_name_pinyin", "name_pinyin"),
                                            ("name_pinyin", "former_name_pinyin"))
             if a in columns and b in columns]
    same = [f"coalesce({' OR '.join(names)}, x.name IS NULL OR y.name IS NULL)" if names else "true"]
    for c in ("sex", "birth_year", "birth_month"):
        if c in columns:
            same.append(f"coalesce(x.{c} = y.{c}, true)")
    if {"id_number", "id_number_form"} <= columns:
        def issued(a: str) -> str:
            agrees = "".join(f" AND NOT coalesce({a}.{c}, false)" for c in ("birth_disagrees_id", "sex_disagrees_id")
                             if c in columns)
            return f"({a}.id_number_form IN ('valid', 'converted15'){agrees})"
        same.append(f"NOT coalesce({issued('x')} AND {issued('y')} AND x.id_number <> y.id_number, false)")
    return " AND ".join(same)


def build(con: duckdb.DuckDBPyConnection, src: Inputs, lo: float, hi: float) -> str:
    """Temp table _rq_overruled: the items of this kind the inputs yield."""
    from registry.linkage.clustering import REGISTERS  # the linkage package loads Splink: only when building
    from registry.linkage.model import MATCH_THRESHOLD

    card_l, card_r = card_sql("rl", src.record_columns), card_sql("rr", src.record_columns)
    registers = literal_list(REGISTERS)
    register_noun = "CASE g.department " + " ".join(f"WHEN '{d}' THEN '{n}'" for d, n in REGISTER_NOUN.items()) + " END"
    household = "rl.household_id" if "household_id" in src.record_columns else "NULL::VARCHAR"
    household_r = "rr.household_id" if "household_id" in src.record_columns else "NULL::VARCHAR"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_overruled_pairs AS
        WITH strong AS ({_strong_sql(con, src, lo, hi)}),
        apart AS (
            SELECT s.*, xl.resident_id AS resident_l, xr.resident_id AS resident_r
            FROM strong s JOIN _rq_xw xl ON xl.record_uid = s.record_uid_l JOIN _rq_xw xr ON xr.record_uid = s.record_uid_r
            JOIN {src.records} x ON x.record_uid = s.record_uid_l JOIN {src.records} y ON y.record_uid = s.record_uid_r
            WHERE xl.resident_id <> xr.resident_id AND {_one_person_sql(src.record_columns)})
        -- the strongest per pair of residents; ties go to the smallest pair, so every build agrees
        SELECT arg_min(a, struct_pack(q := -greatest(a.p, coalesce(a.base_p, 0)), l := a.record_uid_l,
                                      r := a.record_uid_r)) AS a
        FROM apart a GROUP BY least(a.resident_l, a.resident_r), greatest(a.resident_l, a.resident_r)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _rq_overruled_pairs AS SELECT unnest(a) FROM _rq_overruled_pairs")
    # the residents' two records of one register not linked to each other (the clustering's register cut)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_overruled_registers AS
        SELECT o.record_uid_l, o.record_uid_r, a.department, x.record_uid AS a, y.record_uid AS b,
               {_one_person_sql(src.record_columns)} AS agree
        FROM _rq_overruled_pairs o
        JOIN _rq_xw a ON a.resident_id = o.resident_l AND a.department IN ({registers})
        JOIN _rq_xw b ON b.resident_id = o.resident_r AND b.department = a.department
        JOIN {src.records} x ON x.record_uid = a.record_uid JOIN {src.records} y ON y.record_uid = b.record_uid
        WHERE NOT EXISTS (SELECT 1 FROM {src.links} k WHERE k.match_probability >= {float(MATCH_THRESHOLD)}
                          AND k.record_uid_l = least(a.record_uid, b.record_uid)
                          AND k.record_uid_r = greatest(a.record_uid, b.record_uid))""")
    # what overruled each, in words
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_overruled_why AS
        SELECT record_uid_l, record_uid_r, list(why ORDER BY rank, why) AS reasons FROM (
            SELECT o.record_uid_l, o.record_uid_r, 1 AS rank,
                   format('household evidence lowered the model''s {{:.3f}} to {{:.3f}}{{}}', o.base_p, o.p,
                          CASE WHEN {household} = {household_r} AND rl.department = rr.department
                               THEN format(': both are filed in one {{}} ({{}}), under a different name, sex, birth '
                                           || 'or number, so the household rules read them as two members',
                                           CASE rl.department WHEN 'civil_affairs' THEN 'assisted flat'
                                                WHEN 'family_planning' THEN 'family file' ELSE 'household' END,
                                           {household})
                               ELSE '' END) AS why
            FROM _rq_overruled_pairs o
            JOIN {src.records} rl ON rl.record_uid = o.record_uid_l JOIN {src.records} rr ON rr.record_uid = o.record_uid_r
            WHERE o.base_p IS NOT NULL
            UNION ALL
            SELECT o.record_uid_l, o.record_uid_r, 2,
                   format('the two residents hold two different valid identity numbers ({{}} and {{}}): two numbers '
                          || 'the state issued are two people', il.id_number, ir.id_number)
            FROM _rq_overruled_pairs o
            JOIN (SELECT resident_id, min(id_number) AS id_number FROM _rq_idgroups GROUP BY ALL) il
              ON il.resident_id = o.resident_l
            JOIN (SELECT resident_id, min(id_number) AS id_number FROM _rq_idgroups GROUP BY ALL) ir
              ON ir.resident_id = o.resident_r
            WHERE NOT EXISTS (SELECT 1 FROM _rq_idgroups g JOIN _rq_idgroups h USING (id_number)
                              WHERE g.resident_id = o.resident_l AND h.resident_id = o.resident_r)
            UNION ALL
            SELECT record_uid_l, record_uid_r, 3,
                   format('each resident holds a record of the {{}}, {{}} and {{}}, and those two are not linked '
                          || 'to each other (a register files a person once)', {register_noun}, a, b)
            FROM _rq_overruled_registers g)
        GROUP BY ALL""")
    # What the officer decides: the overruled link; or, where the residents' two records of one register
    # are the cut and themselves say one person (a child filed twice), those two, so that "same" lifts it.
    hh = ("LEFT JOIN household_links h ON h.record_uid_l = o.subject_l AND h.record_uid_r = o.subject_r"
          if table_exists(con, "household_links") else
          "LEFT JOIN (SELECT NULL::VARCHAR AS base_evidence, NULL::DOUBLE AS base_match_probability) h ON false")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rq_overruled_subject AS
        SELECT o.*, coalesce(g.pair.l, o.record_uid_l) AS subject_l, coalesce(g.pair.r, o.record_uid_r) AS subject_r
        FROM _rq_overruled_pairs o LEFT JOIN (
            SELECT record_uid_l, record_uid_r, min(struct_pack(l := least(a, b), r := greatest(a, b))) AS pair
            FROM _rq_overruled_registers WHERE agree
            GROUP BY ALL) g USING (record_uid_l, record_uid_r)""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rq_overruled AS
        WITH s AS (  -- the subject pair's own link (the overruled one, or the register's two records')
            SELECT o.*, o.subject_l = o.record_uid_l AND o.subject_r = o.record_uid_r AS is_overruled,
                   CASE WHEN is_overruled THEN o.evidence ELSE coalesce(k.evidence, h.base_evidence) END AS subject_evidence,
                   CASE WHEN is_overruled THEN o.p ELSE coalesce(k.match_probability, 0.0) END AS subject_p,
                   CASE WHEN is_overruled THEN coalesce(o.base_p, o.p)
                        ELSE coalesce(h.base_match_probability, k.match_probability, 0.0) END AS subject_base_p
            FROM _rq_overruled_subject o
            LEFT JOIN {src.links} k ON k.record_uid_l = o.subject_l AND k.record_uid_r = o.subject_r {hh})
        SELECT {KIND.item_id_sql("o.subject_l || '|' || o.subject_r")} AS item_id, '{NAME}' AS kind, 2 AS priority,
               xl.resident_id AS resident_id,
               format('{{}} ({{}}) vs {{}} ({{}}): kept in two residents although the model scored {{}} {{:.4f}}: {{}}',
                      coalesce(rl.name, '?'), o.subject_l, coalesce(rr.name, '?'), o.subject_r,
                      CASE WHEN o.is_overruled THEN 'them'
                           ELSE o.record_uid_l || ' and ' || o.record_uid_r END,
                      greatest(o.p, coalesce(o.base_p, 0)),
                      coalesce(w.reasons[1], 'the clustering kept them apart through other records of their residents')) AS summary,
               to_json(struct_pack(record_l := o.subject_l, record_r := o.subject_r,
                                   resident_l := xl.resident_id, resident_r := xr.resident_id)) AS subject,
               to_json(struct_pack(records := [{card_l}, {card_r}], waterfall := json(coalesce(o.subject_evidence, '[]')),
                                   match_probability := o.subject_p, model_match_probability := o.subject_base_p,
                                   overruled_link := struct_pack(record_l := o.record_uid_l, record_r := o.record_uid_r,
                                                                 match_probability := o.p,
                                                                 model_match_probability := coalesce(o.base_p, o.p)),
                                   kept_apart_because := coalesce(w.reasons, []), same_resident := false)) AS evidence,
               md5(concat_ws('|', rl.record_hash, rr.record_hash, array_to_string(coalesce(w.reasons, []), '|'),
                   list_transform(coalesce(from_json(o.subject_evidence, '[{{"comparison":"VARCHAR","level":"VARCHAR"}}]'), []),
                                  lambda x: x.comparison || '=' || x.level)::VARCHAR)) AS evidence_hash
        FROM s o
        JOIN {src.records} rl ON rl.record_uid = o.subject_l
        JOIN {src.records} rr ON rr.record_uid = o.subject_r
        JOIN _rq_xw xl ON xl.record_uid = o.subject_l
        JOIN _rq_xw xr ON xr.record_uid = o.subject_r
        LEFT JOIN _rq_overruled_why w USING (record_uid_l, record_uid_r)""")
    return "_rq_overruled"


KIND = ItemKind(NAME, "ol", ("same", "different", "dismiss"), pair=True, build=build, defers=True)
