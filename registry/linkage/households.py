"""Household context, the evidence an officer weighs first: which family is this record in?

A second pass over the scored pairs (`links`), after the model and before clustering. Each department
that files people by family gives every record a *group*: public security's household (户号), family
planning's family file (家庭档案号), civil affairs' flat (street and dwelling of 家庭住址: 低保 is granted
to a household). Two groups of different departments *correspond* when some of their members are linked
for certain (p >= ANCHOR and one issued identity number: the parents, usually). Then:

1. Within corresponding groups, the members not matched for certain (by one issued number and the
   model together) are matched one to one. A family-planning child without a number, whose birth is
   known to the month, is compared with the household's members that are still unmatched; the household
   model (how members of one household differ, how one person's
   records agree: parameters estimated from the training night, `estimate_parameters`) gives each
   candidate a Bayes factor, and the probability that the child is that member is its share against the
   other members and against "not in this household". A child that agrees on name, sex and birth month
   with one member is far more likely that member than a stranger with the same name would be; twins
   are told apart by whatever differs, since only one of them can be the child.
2. The reverse: a record matched for certain to one member of a corresponding group is not another
   member of it; and a record whose family corresponds to a household is unlikely to be someone of
   that department outside it: its links there are capped at the share its own household leaves over.
3. Two records of one group of one department with different names (in characters: twins' names can
   sound alike), sexes, birth months or numbers are two members: their link is capped at SAME_GROUP_CAP.

Each adjusted link carries a `household` entry in its evidence, in words, whose weight is the change:
the evidence still adds up to the link's match weight. The pass is recomputed over the whole night (it
reads only `links` as the model scored them, and `records`), so an incremental night gives what a full
one gives; `household_links` keeps each adjusted pair's model values to start from the next night, and
`links_recomputed` lists the records whose links changed tonight (for clustering and the review queue).
"""

from __future__ import annotations

import math

import duckdb

from registry import contracts
from registry.incremental import clear_recomputed, mark_recomputed
from registry.linkage import backend
from registry.linkage.model import LINK_FLOOR
from registry.sql import drop_temporaries

# A link this strong makes two groups one family.
ANCHOR = 0.99
# A group larger than this (a dormitory flat, a collective household) says nothing about who is who.
MAX_GROUP = 12
# Two records of one department's group with different names.
SAME_GROUP_CAP = 0.001
# Never certain either way from household context alone.
P_MIN, P_MAX = 1e-6, 1 - 1e-9
STATE_TABLE = contracts.HOUSEHOLD_LINKS.name

GROUP_NOUN = {"public_security": "household", "family_planning": "family file", "civil_affairs": "assisted flat"}

# The household model's comparisons of two records, as levels (SQL over a pair `x`, `y` of records).
# Within a family a character of unknown reading ('?') is no proof of one name: siblings share all but
# one character (宋丽𠮷 / 宋丽杰), so there it only makes the names one syllable apart.
NAME_LEVEL = """CASE
    WHEN x.name_plain IS NULL OR y.name_plain IS NULL THEN 'unknown'
    WHEN x.name_plain = y.name_plain OR x.name_pinyin = y.name_pinyin
         OR x.former_name = y.name OR x.name = y.former_name
         OR x.former_name_pinyin = y.name_pinyin OR x.name_pinyin = y.former_name_pinyin THEN 'same'
    WHEN reg_char_mismatches(x.name_plain, y.name_plain) = 1
         OR reg_syllable_mismatches(x.name_pinyin, y.name_pinyin) <= 1 THEN 'one_off'
    ELSE 'different' END"""
SEX_LEVEL = """CASE WHEN x.sex IS NULL OR y.sex IS NULL THEN 'unknown'
                    WHEN x.sex = y.sex THEN 'same' ELSE 'different' END"""
BIRTH_LEVEL = """CASE
    WHEN x.birth_year IS NULL OR y.birth_year IS NULL OR x.birth_month IS NULL OR y.birth_month IS NULL THEN 'unknown'
    WHEN x.birth_year = y.birth_year AND x.birth_month = y.birth_month THEN 'same_month'
    WHEN abs(reg_birth_months(x.birth_year, x.birth_month) - reg_birth_months(y.birth_year, y.birth_month)) <= 12
        THEN 'within_a_year'
    ELSE 'different' END"""
ID_LEVEL = """CASE
    WHEN x.issued IS NOT NULL AND y.issued IS NOT NULL AND x.issued = y.issued THEN 'same'
    WHEN x.issued IS NOT NULL AND y.issued IS NOT NULL THEN 'different'
    ELSE 'unknown' END"""
LEVELS = {"name": ("same", "one_off", "different"), "sex": ("same", "different"),
          "birth": ("same_month", "within_a_year", "different")}
# The least share any level gets, in m and in u: one person's records disagree more often than the ones
# joined by an identity number show (those are the clean ones), and members of one household agree
# more often than one training night shows.
LEVEL_FLOOR = 0.01
# A number issued to each of the two records, and they differ: two people, whatever else agrees.
DIFFERENT_NUMBERS_LOG2BF = -30.0

DEFAULT_PARAMETERS = {
    "prior_in_group": 0.9,
    "levels": {"name": {"same": [0.95, 0.02], "one_off": [0.03, 0.3], "different": [0.02, 0.68]},
               "sex": {"same": [0.995, 0.5], "different": [0.005, 0.5]},
               "birth": {"same_month": [0.97, 0.03], "within_a_year": [0.02, 0.1], "different": [0.01, 0.87]}},
}


def _records_sql(source: str = "records") -> str:
    """Every record of a department that files people by family, with its group (NULL outside one) and
    what the household model compares."""
    dwelling = backend.dwelling_sql("current_rest")
    return f"""
        SELECT record_uid, department,
               CASE WHEN department IN ('public_security', 'family_planning') AND household_id IS NOT NULL
                         THEN department || ':' || household_id
                    WHEN department = 'civil_affairs' AND current_street IS NOT NULL AND {dwelling} IS NOT NULL
                         THEN department || ':' || current_street || '|' || {dwelling} END AS grp,
               CASE WHEN department IN ('public_security', 'family_planning') THEN household_id
                    ELSE current_street || ' ' || {dwelling} END AS grp_label,
               name, name_plain, name_pinyin, former_name, former_name_pinyin, sex, birth_year, birth_month,
               CASE WHEN id_number_form IN ('valid', 'converted15') AND NOT coalesce(birth_disagrees_id, false)
                         AND NOT coalesce(sex_disagrees_id, false) THEN id_number END AS issued
        FROM {source} WHERE department IN ({", ".join(f"'{d}'" for d in GROUP_NOUN)})"""


def _members(con: duckdb.DuckDBPyConnection) -> None:
    """hh_rec: the records of the departments filing by family; grp NULL outside a group of 2..MAX_GROUP."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_rec AS
        WITH r AS ({_records_sql()}),
             g AS (SELECT grp FROM r WHERE grp IS NOT NULL GROUP BY grp HAVING count(*) BETWEEN 2 AND {MAX_GROUP})
        SELECT r.* REPLACE (g.grp AS grp) FROM r LEFT JOIN g USING (grp)""")


# ---------------------------------------------------------------- the household model's parameters

def estimate_parameters(con: duckdb.DuckDBPyConnection) -> dict:
    """The household model from `records` alone (so it can be trained before any link exists):
    u from pairs of one public-security household with two different issued numbers (two members);
    m from pairs of records of two departments sharing an issued number (one person); the prior that a
    member of a group has a counterpart in a corresponding group from the groups joined by numbers."""
    backend.register_functions(con)
    _members(con)
    levels = f"{NAME_LEVEL} AS name, {SEX_LEVEL} AS sex, {BIRTH_LEVEL} AS birth"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_u AS
        SELECT {levels} FROM hh_rec x JOIN hh_rec y ON x.grp = y.grp AND x.record_uid < y.record_uid
        WHERE x.department = 'public_security' AND x.issued IS NOT NULL AND y.issued IS NOT NULL
          AND x.issued <> y.issued""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_m AS
        SELECT {levels} FROM hh_rec x JOIN hh_rec y ON x.issued = y.issued AND x.department < y.department""")
    out = {"levels": {}}
    for feature, names in LEVELS.items():
        table = {}
        for which, tbl in (("m", "hh_m"), ("u", "hh_u")):
            counts = dict(con.execute(f"SELECT {feature}, count(*) FROM {tbl} WHERE {feature} <> 'unknown' "
                                      "GROUP BY 1").fetchall())
            total = sum(counts.get(n, 0) for n in names)
            for n in names:  # no level is impossible: a night's records are messier than its numbers say
                share = (counts.get(n, 0) + 1) / (total + len(names))
                table.setdefault(n, [0.0, 0.0])[0 if which == "m" else 1] = round(max(share, LEVEL_FLOOR), 6)
        out["levels"][feature] = table
    # prior: of the members with an issued number of groups joined to another department's group by
    # a shared number, the share whose number is in that group
    joined, found = con.execute("""
        WITH corr AS (SELECT DISTINCT x.grp AS a, y.grp AS b FROM hh_rec x JOIN hh_rec y
                      ON x.issued = y.issued AND x.department <> y.department),
             mem AS (SELECT c.a, c.b, x.issued FROM corr c JOIN hh_rec x ON x.grp = c.a WHERE x.issued IS NOT NULL)
        SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM hh_rec y WHERE y.grp = mem.b
                                                         AND y.issued = mem.issued)) FROM mem""").fetchall()[0]
    out["prior_in_group"] = round((found + 1) / (joined + 2), 4) if joined else DEFAULT_PARAMETERS["prior_in_group"]
    drop_temporaries(con, "hh_")
    return out


_WORDS = {"same": "the same", "one_off": "one character or syllable apart", "different": "different",
          "unknown": "unknown", "same_month": "the same", "within_a_year": "within a year"}


def _words(level: str) -> str:
    """A household-model level as the evidence says it."""
    return "CASE " + " ".join(f"WHEN {level} = '{k}' THEN '{v}'" for k, v in _WORDS.items()) + f" ELSE {level} END"


def _factors_sql(parameters: dict) -> str:
    """VALUES (feature, level, log2 Bayes factor) of the household model."""
    rows = []
    for feature, levels in parameters["levels"].items():
        for level, (m, u) in levels.items():
            rows.append(f"('{feature}', '{level}', {math.log2(m / u)!r})")
    return "(VALUES " + ", ".join(rows) + ")"


# ---------------------------------------------------------------- the pass

def _base_links(con: duckdb.DuckDBPyConnection) -> None:
    """hh_edge: the links touching a record of a department filing by family, as the model scored them
    (last night's household adjustments taken back), with both records' groups, departments and numbers;
    evidence is fetched later, for the pairs adjusted only."""
    standing = con.execute(f"SELECT count(*) FROM {STATE_TABLE}").fetchall()[0][0]
    base = ("SELECT record_uid_l, record_uid_r, match_weight, match_probability FROM links" if not standing else f"""
            SELECT record_uid_l, record_uid_r, match_weight, match_probability
            FROM links ANTI JOIN {STATE_TABLE} USING (record_uid_l, record_uid_r)
            UNION ALL
            SELECT record_uid_l, record_uid_r, base_match_weight, base_match_probability
            FROM {STATE_TABLE} WHERE base_match_probability IS NOT NULL""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_edge AS
        WITH b AS ({base})
        SELECT b.record_uid_l AS l, b.record_uid_r AS r, b.match_weight AS w, b.match_probability AS p,
               xl.grp AS gl, xr.grp AS gr, xl.department AS dl, xr.department AS dr, xl.issued AS il, xr.issued AS ir
        FROM b LEFT JOIN hh_rec xl ON xl.record_uid = b.record_uid_l LEFT JOIN hh_rec xr ON xr.record_uid = b.record_uid_r
        WHERE xl.record_uid IS NOT NULL OR xr.record_uid IS NOT NULL""")


def _adjustments(con: duckdb.DuckDBPyConnection, parameters: dict) -> None:
    """hh_new(record_uid_l, record_uid_r, match_probability, words): tonight's household adjustments."""
    prior = float(parameters["prior_in_group"])
    factors = _factors_sql(parameters)
    # certain links between two departments' groups (the model's and the number's): which groups are one
    # family, and through whom
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_anchor AS
        SELECT e.l AS x, e.r AS y, e.gl AS gx, e.gr AS gy, x.name AS name_x, y.name AS name_y, e.p
        FROM hh_edge e JOIN hh_rec x ON x.record_uid = e.l JOIN hh_rec y ON y.record_uid = e.r
        WHERE e.p >= {ANCHOR} AND e.dl <> e.dr AND e.il = e.ir AND e.gl IS NOT NULL AND e.gr IS NOT NULL""")
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_corr AS
        SELECT ga, gb, list_sort(list(DISTINCT name)) AS through FROM (
            SELECT gx AS ga, gy AS gb, name_x AS name FROM hh_anchor UNION ALL SELECT gy, gx, name_y FROM hh_anchor)
        GROUP BY ga, gb""")
    # records matched for certain into a corresponding group, and to whom
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_settled AS
        SELECT x AS record_uid, gy AS into_grp, y AS partner, name_y AS partner_name, p FROM hh_anchor
        UNION ALL SELECT y, gx, x, name_x, p FROM hh_anchor""")
    # 1. the members of corresponding groups not matched for certain, one to one
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_cand AS
        WITH open AS (
            SELECT r.*, c.gb FROM hh_corr c JOIN hh_rec r ON r.grp = c.ga
            WHERE NOT EXISTS (SELECT 1 FROM hh_settled s WHERE s.record_uid = r.record_uid AND s.into_grp = c.gb)),
        pairs AS (
            SELECT x.record_uid AS xu, y.record_uid AS yu, x.grp AS gx, y.grp AS gy,
                   {NAME_LEVEL} AS name, {SEX_LEVEL} AS sex, {BIRTH_LEVEL} AS birth, {ID_LEVEL} AS id,
                   md5(concat_ws('|', x.grp, x.name_pinyin, x.sex, x.birth_year, x.birth_month)) AS xcls,
                   md5(concat_ws('|', y.grp, y.name_pinyin, y.sex, y.birth_year, y.birth_month)) AS ycls
            FROM open x JOIN open y ON y.grp = x.gb AND x.grp = y.gb
            WHERE x.department < y.department)
        SELECT p.*, CASE WHEN p.id = 'different' THEN {DIFFERENT_NUMBERS_LOG2BF}
                         ELSE coalesce(fn.log2bf, 0) + coalesce(fs.log2bf, 0) + coalesce(fb.log2bf, 0) END AS log2bf
        FROM pairs p
        LEFT JOIN {factors} fn(feature, level, log2bf) ON fn.feature = 'name' AND fn.level = p.name
        LEFT JOIN {factors} fs(feature, level, log2bf) ON fs.feature = 'sex' AND fs.level = p.sex
        LEFT JOIN {factors} fb(feature, level, log2bf) ON fb.feature = 'birth' AND fb.level = p.birth""")
    # the probability that x is y: y's share against x's other candidates and against "not here"; the
    # same from y's side; the smaller of the two (sums in a fixed order: the same every run). A member
    # registered twice in its group (same name, sex and birth month: one class) is one candidate, not two.
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_post AS
        WITH bf AS (SELECT *, pow(2, greatest(least(log2bf, 60), -60)) AS f FROM hh_cand),
        ox AS (SELECT xu, gy, ycls, max(f) AS f FROM bf GROUP BY ALL),
        oy AS (SELECT yu, gx, xcls, max(f) AS f FROM bf GROUP BY ALL),
        sx AS (SELECT xu, gy, count(*) AS n, list_sum(list(f ORDER BY ycls)) AS s FROM ox GROUP BY xu, gy),
        sy AS (SELECT yu, gx, count(*) AS n, list_sum(list(f ORDER BY xcls)) AS s FROM oy GROUP BY yu, gx)
        SELECT b.* EXCLUDE (xcls, ycls),
               least(({prior} / sx.n) * b.f / ((1 - {prior}) + ({prior} / sx.n) * sx.s),
                     ({prior} / sy.n) * b.f / ((1 - {prior}) + ({prior} / sy.n) * sy.s)) AS p
        FROM bf b JOIN sx USING (xu, gy) JOIN sy USING (yu, gx)""")
    # how surely each record is someone in a group corresponding to its own (per department of that group)
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_taken AS
        SELECT record_uid, department, max(p_here) AS p_here FROM (
            SELECT record_uid, department, least(list_sum(list(p ORDER BY other)), 1.0) AS p_here FROM (
                SELECT xu AS record_uid, yu AS other, split_part(gy, ':', 1) AS department, p FROM hh_post
                UNION ALL SELECT yu, xu, split_part(gx, ':', 1), p FROM hh_post)
            GROUP BY ALL
            UNION ALL
            SELECT record_uid, split_part(into_grp, ':', 1), max(p) FROM hh_settled GROUP BY ALL)
        GROUP BY ALL""")
    noun = "CASE department " + " ".join(f"WHEN '{d}' THEN '{n}'" for d, n in GROUP_NOUN.items()) + " END"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_label AS
        SELECT grp, {noun} || ' ' || any_value(grp_label) AS label FROM hh_rec WHERE grp IS NOT NULL
        GROUP BY grp, department""")

    def named(g: str) -> str:
        """Join the words for group `g` (as l_<g>.label)."""
        alias = "l_" + g.replace(".", "_")
        return f"JOIN hh_label {alias} ON {alias}.grp = {g}"

    def group(g: str) -> str:
        return "l_" + g.replace(".", "_") + ".label"

    # the scored pairs that are not one issued number certain, in both directions: x the record whose
    # family speaks, z the other (a certain pair is never moved by rules 2 and 3)
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_loose AS
        SELECT l AS xu, r AS zu, l, r, p, gl AS gx, gr AS gz, dr AS dz, il AS ix, ir AS iz FROM hh_edge
        WHERE gl IS NOT NULL AND dl <> dr AND NOT coalesce(il = ir, false)
        UNION ALL
        SELECT r, l, l, r, p, gr, gl, dl, ir, il FROM hh_edge
        WHERE gr IS NOT NULL AND dl <> dr AND NOT coalesce(il = ir, false)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_new AS
        -- 1. one to one among the members not matched for certain
        SELECT least(p.xu, p.yu) AS record_uid_l, greatest(p.xu, p.yu) AS record_uid_r,
               greatest(least(p.p, {P_MAX}), {P_MIN}) AS match_probability,
               format('{{}} and {{}} hold one family (both have {{}}); of their members not matched yet, '
                      || 'these two have names {{}}, sex {{}}, birth month {{}}{{}}: {{}} within the family',
                      {group('p.gx')}, {group('p.gy')}, array_to_string(c.through, ', '), {_words('p.name')},
                      {_words('p.sex')}, {_words('p.birth')},
                      CASE WHEN p.id = 'different' THEN ', and hold two different identity numbers' ELSE '' END,
                      CASE WHEN p.p >= 0.5 THEN 'the one that fits' ELSE 'another member fits better' END) AS words
        FROM hh_post p JOIN hh_corr c ON c.ga = p.gx AND c.gb = p.gy {named('p.gx')} {named('p.gy')}""")
    con.execute(f"""INSERT INTO hh_new
        -- 2. within one family, a record already matched for certain to another member
        SELECT b.l, b.r, greatest(least(b.p, 1 - s.p), {P_MIN}),
               format('{{}} and {{}} hold one family, where this record is already {{}}',
                      {group('b.gx')}, {group('b.gz')}, s.partner_name)
        FROM hh_loose b
        JOIN (SELECT record_uid, into_grp, max(p) AS p, min(partner_name) AS partner_name FROM hh_settled
              GROUP BY ALL) s ON s.record_uid = b.xu AND s.into_grp = b.gz
        {named('b.gx')} {named('b.gz')}
        WHERE b.p > 1 - s.p
          AND NOT EXISTS (SELECT 1 FROM hh_settled t WHERE t.record_uid = b.xu AND t.partner = b.zu)""")
    con.execute(f"""INSERT INTO hh_new
        -- 3. a link leaving the family, from a record that its corresponding group has taken
        SELECT b.l, b.r, greatest(least(b.p, 1 - t.p_here), {P_MIN}),
               format('this record''s family is {{}} (matched to {{}}), and the other record is outside it',
                      {group('b.gx')}, {group('k.gb')})
        FROM hh_loose b
        JOIN hh_taken t ON t.record_uid = b.xu AND t.department = b.dz
        JOIN (SELECT ga, split_part(gb, ':', 1) AS department, min(gb) AS gb FROM hh_corr GROUP BY ALL) k
          ON k.ga = b.gx AND k.department = b.dz
        {named('b.gx')} {named('k.gb')}
        WHERE t.p_here >= 0.5 AND b.p > 1 - t.p_here
          AND NOT EXISTS (SELECT 1 FROM hh_corr c WHERE c.ga = b.gx AND c.gb = b.gz)""")
    con.execute(f"""INSERT INTO hh_new
        -- 4. two members of one group
        SELECT e.l, e.r, least(e.p, {SAME_GROUP_CAP}),
               format('two members of one {{}} with different names, sexes, births or numbers: two people',
                      {group('e.gl')})
        FROM hh_edge e JOIN hh_rec x ON x.record_uid = e.l JOIN hh_rec y ON y.record_uid = e.r {named('e.gl')}
        WHERE e.gl = e.gr AND e.p > {SAME_GROUP_CAP} AND NOT coalesce(e.il = e.ir, false)
          AND (NOT coalesce(x.name_plain = y.name_plain, false)
               OR coalesce(x.sex <> y.sex, false) OR coalesce(x.issued <> y.issued, false)
               OR coalesce(x.birth_year * 12 + x.birth_month <> y.birth_year * 12 + y.birth_month, false))""")
    # one adjustment per pair (the lowest, should two rules meet)
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_new AS
        SELECT record_uid_l, record_uid_r, min(match_probability) AS match_probability,
               arg_min(words, struct_pack(p := match_probability, w := words)) AS words
        FROM hh_new GROUP BY ALL""")


def _desired_sql() -> str:
    """The links rows tonight's household evidence asks for (pairs it adjusts), with their model values."""
    weight = "log2(n.match_probability / (1 - n.match_probability))"
    entry = ("json_object('comparison', 'household', 'level', n.words, 'match_weight', "
             f"round({weight} - coalesce(b.w, 0), 3))")
    return f"""
        SELECT n.record_uid_l, n.record_uid_r, {weight} AS match_weight, n.match_probability,
               CAST(json_array({entry}) AS VARCHAR) AS entry,
               b.w AS base_match_weight, b.p AS base_match_probability,
               coalesce(s.base_evidence, l.evidence) AS base_evidence
        FROM hh_new n LEFT JOIN hh_edge b ON b.l = n.record_uid_l AND b.r = n.record_uid_r
        LEFT JOIN {STATE_TABLE} s ON b.l IS NOT NULL AND s.record_uid_l = n.record_uid_l
                                 AND s.record_uid_r = n.record_uid_r
        LEFT JOIN links l ON b.l IS NOT NULL AND s.record_uid_l IS NULL
                         AND l.record_uid_l = n.record_uid_l AND l.record_uid_r = n.record_uid_r
        WHERE abs(n.match_probability - coalesce(b.p, -1)) > 1e-12
          AND (b.p IS NOT NULL OR n.match_probability >= {LINK_FLOOR})"""


def apply_household_evidence(con: duckdb.DuckDBPyConnection, parameters: dict | None,
                             rescored: str | None = None) -> int:
    """Adjust `links` by household context (module doc); returns the number of links it changed tonight.

    rescored: on an incremental night, SQL selecting the record_uid of the records whose links the model
    rescored tonight; None on a full night (then `links` is all fresh). An incremental call marks
    `links_recomputed` (registry.incremental): those records and every other whose links changed."""
    parameters = parameters or DEFAULT_PARAMETERS
    backend.register_functions(con)
    con.execute(contracts.HOUSEHOLD_LINKS.ddl())
    if rescored is None:
        con.execute(f"DELETE FROM {STATE_TABLE}")
    else:  # the model rescored these records' pairs tonight: what was kept of them is gone
        con.execute(f"""DELETE FROM {STATE_TABLE} WHERE record_uid_l IN ({rescored})
                                                  OR record_uid_r IN ({rescored})""")
    _members(con)
    _base_links(con)
    _adjustments(con, parameters)
    con.execute(f"CREATE OR REPLACE TEMP TABLE hh_desired AS {_desired_sql()}")
    # what links should hold for every pair adjusted last night or tonight
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_target AS
        SELECT record_uid_l, record_uid_r, match_weight, match_probability,
               CAST(CASE WHEN base_evidence IS NULL THEN entry::JSON
                         ELSE list_concat(base_evidence::JSON[], entry::JSON[])::JSON END AS VARCHAR) AS evidence
        FROM hh_desired WHERE match_probability >= {LINK_FLOOR}
        UNION ALL
        SELECT s.record_uid_l, s.record_uid_r, s.base_match_weight, s.base_match_probability, s.base_evidence
        FROM {STATE_TABLE} s ANTI JOIN hh_desired d USING (record_uid_l, record_uid_r)
        WHERE s.base_match_probability >= {LINK_FLOOR}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE hh_touched AS
        SELECT record_uid_l, record_uid_r FROM {STATE_TABLE} UNION SELECT record_uid_l, record_uid_r FROM hh_desired""")
    con.execute("""CREATE OR REPLACE TEMP TABLE hh_changed AS
        SELECT record_uid_l, record_uid_r FROM (
            (SELECT l.* FROM links l SEMI JOIN hh_touched USING (record_uid_l, record_uid_r)
             EXCEPT SELECT * FROM hh_target)
            UNION ALL
            (SELECT * FROM hh_target EXCEPT SELECT l.* FROM links l SEMI JOIN hh_touched USING (record_uid_l, record_uid_r)))
        GROUP BY ALL""")
    changed = con.execute("SELECT count(*) FROM hh_changed").fetchall()[0][0]
    if changed:
        con.execute("DELETE FROM links WHERE (record_uid_l, record_uid_r) IN (SELECT record_uid_l, record_uid_r "
                    "FROM hh_changed)")
        con.execute("INSERT INTO links SELECT t.* FROM hh_target t SEMI JOIN hh_changed USING (record_uid_l, record_uid_r)")
    con.execute(f"DELETE FROM {STATE_TABLE}")
    con.execute(f"""INSERT INTO {STATE_TABLE} SELECT record_uid_l, record_uid_r, base_match_weight,
                    base_match_probability, base_evidence FROM hh_desired""")
    if rescored is not None:
        mark_recomputed(con, contracts.LINKS_RECOMPUTED, f"""
            SELECT record_uid FROM ({rescored}) UNION SELECT unnest([record_uid_l, record_uid_r]) FROM hh_changed""")
    else:
        clear_recomputed(con, contracts.LINKS_RECOMPUTED)
    drop_temporaries(con, "hh_")
    return changed
