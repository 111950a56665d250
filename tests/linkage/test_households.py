"""Household context: children of a family file without numbers find their household's members; twins,
siblings and namesakes stay apart; every adjusted link says why in its evidence."""

import json

import duckdb

from registry.linkage import households, predict_links
from registry.night import full_night, incremental_night

from .records_factory import id_number, load_records, record

HOME = "福田区/福田街道/岗厦社区/金地花园3栋2单元1201"
OLD_HOME = "福田区/莲花街道/景田社区/彩虹苑9栋1单元801"          # where the family file still says they live
ELSEWHERE = "福田区/华富街道/田面社区/梅林一村5栋302"
FATHER = id_number("440304", "1980-04-02", "013")
MOTHER = id_number("440304", "1982-09-11", "024")


def together(clusters, *uids):
    return len({clusters[u] for u in uids}) == 1


def _family(prefix="9", children=(("张明轩", "1", "2012-03-05", "031"), ("张晓雨", "2", "2015-06-20", "042")),
            fp_children=None, fp_address=OLD_HOME):
    """A public-security household (parents and children with numbers) and its family file (parents with
    numbers, children without: birth month only, the family's old address)."""
    hh, fam = f"4403040000{prefix}1", f"JT4403040000{prefix}1"
    rows = [
        record("public_security", f"GA00000{prefix}0001", name="张建国", id_number=FATHER, birth="1980-04-02", sex="1",
               household_id=hh, relation_to_head="户主", hukou_address=HOME),
        record("public_security", f"GA00000{prefix}0002", name="李芳", id_number=MOTHER, birth="1982-09-11", sex="2",
               household_id=hh, relation_to_head="配偶", hukou_address=HOME),
        record("family_planning", f"JS00000{prefix}0001", name="张建国", id_number=FATHER, birth_month_only="1980-04",
               sex="1", household_id=fam, family_role="男方", current_address=fp_address),
        record("family_planning", f"JS00000{prefix}0002", name="李芳", id_number=MOTHER, birth_month_only="1982-09",
               sex="2", household_id=fam, family_role="女方", current_address=fp_address),
    ]
    for i, (name, sex, birth, order) in enumerate(children):
        rows.append(record("public_security", f"GA00000{prefix}001{i}", name=name, sex=sex, birth=birth,
                           id_number=id_number("440304", birth, order), household_id=hh,
                           relation_to_head="子" if sex == "1" else "女", hukou_address=HOME))
    for i, (name, sex, birth, pinyin) in enumerate(fp_children or [(n, s, b, None) for n, s, b, _ in children]):
        rows.append(record("family_planning", f"JS00000{prefix}001{i}", name=name, sex=sex, birth_month_only=birth[:7],
                           pinyin=pinyin, household_id=fam, family_role="子女", current_address=fp_address))
    return rows


def _evidence(con, a, b):
    row = con.execute("SELECT match_probability, evidence FROM links WHERE record_uid_l = least(?, ?) "
                      "AND record_uid_r = greatest(?, ?)", [a, b, a, b]).fetchone()
    return (row[0], json.loads(row[1])) if row else (None, [])


def test_a_child_without_a_number_joins_its_household_through_its_parents(link):
    rows = _family()
    c = link(rows)
    assert together(c, "public_security:GA0000090010", "family_planning:JS0000090010")
    assert together(c, "public_security:GA0000090011", "family_planning:JS0000090011")
    assert not together(c, "public_security:GA0000090010", "public_security:GA0000090011")
    p, evidence = _evidence(link.con, "public_security:GA0000090010", "family_planning:JS0000090010")
    household = [e for e in evidence if e["comparison"] == "household"]
    assert p >= 0.99 and household, evidence
    assert "family file JT44030400009" in household[0]["level"] and "household 44030400009" in household[0]["level"]
    assert "张建国" in household[0]["level"]                   # through whom the two files are one family
    assert abs(sum(e["match_weight"] for e in evidence) - link.con.execute(
        "SELECT match_weight FROM links WHERE record_uid_l = 'family_planning:JS0000090010' "
        "AND record_uid_r = 'public_security:GA0000090010'").fetchone()[0]) < 0.05


def test_twins_without_numbers_each_find_their_own_record(link):
    twins = (("张明轩", "1", "2012-03-05", "031"), ("张明哲", "1", "2012-03-05", "051"))
    c = link(_family(children=twins))
    assert together(c, "public_security:GA0000090010", "family_planning:JS0000090010")
    assert together(c, "public_security:GA0000090011", "family_planning:JS0000090011")
    assert not together(c, "family_planning:JS0000090010", "family_planning:JS0000090011")
    p, evidence = _evidence(link.con, "family_planning:JS0000090010", "public_security:GA0000090011")
    assert p is None or p < 0.01, evidence                      # the other twin: a better member exists


def test_two_members_of_one_family_file_are_two_people(link):
    twins = (("刘天然", "2", "2018-11-11", "064"), ("刘天庆", "2", "2018-11-11", "082"))
    c = link(_family(children=twins))
    assert not together(c, "family_planning:JS0000090010", "family_planning:JS0000090011")
    p, evidence = _evidence(link.con, "family_planning:JS0000090010", "family_planning:JS0000090011")
    assert p is None or p <= households.SAME_GROUP_CAP


def test_a_child_of_a_matched_family_is_not_a_namesake_in_another_household(link):
    rows = _family(children=(("王梓涵", "2", "2016-08-19", "022"),))
    # a girl of the same name, sex and birth month in another household, at the address the family file has
    rows.append(record("public_security", "GA0000099001", name="王梓涵", sex="2", birth="2016-08-03",
                       id_number=id_number("510104", "2016-08-03", "046"), household_id="440304000999",
                       relation_to_head="女", hukou_address=OLD_HOME))
    c = link(rows)
    assert together(c, "public_security:GA0000090010", "family_planning:JS0000090010")
    assert not together(c, "public_security:GA0000099001", "family_planning:JS0000090010")
    p, evidence = _evidence(link.con, "family_planning:JS0000090010", "public_security:GA0000099001")
    assert p is None or p < 0.5
    if p is not None:
        assert any(e["comparison"] == "household" and "outside" in e["level"] for e in evidence)


def test_a_homophone_in_the_child_s_name_is_still_the_child(link):
    # 张晓雨 written 张小雨 in the family file: the same sound ("zhang xiao yu")
    rows = _family(fp_children=[("张明轩", "1", "2012-03-05", None), ("张小雨", "2", "2015-06-20", "zhang xiao yu")])
    rows[5]["name_pinyin"] = "zhang xiao yu"     # the register's 张晓雨
    c = link(rows)
    assert together(c, "public_security:GA0000090011", "family_planning:JS0000090011")


def test_household_evidence_is_the_same_on_an_incremental_night(model, background):
    """A parent's record changes tonight: its children's links move with it, as a full night would have them."""
    night1 = background + _family()
    night2 = [dict(r) for r in night1]
    father = next(r for r in night2 if r["record_uid"] == "family_planning:JS0000090001")
    father.update(id_number=None, id_number_form="missing", id_number_valid=None)   # the number lost tonight
    mother = next(r for r in night2 if r["record_uid"] == "family_planning:JS0000090002")
    mother.update(id_number=None, id_number_form="missing", id_number_valid=None)
    con = duckdb.connect()
    load_records(con, night1)
    predict_links(con, model, full_night())
    load_records(con, night2)
    con.execute("CREATE TABLE record_changes AS SELECT * FROM (VALUES ('family_planning:JS0000090001', "
                "'family_planning', 'changed'), ('family_planning:JS0000090002', 'family_planning', 'changed')) "
                "t(record_uid, department, change)")
    predict_links(con, model, incremental_night())
    incremental = con.execute("SELECT * FROM links ORDER BY ALL").fetchall()
    changed = {r[0] for r in con.execute("SELECT record_uid FROM links_recomputed").fetchall()}
    predict_links(con, model, full_night())
    assert incremental == con.execute("SELECT * FROM links ORDER BY ALL").fetchall()
    # the children's links changed although their records did not: the stages after linkage must know
    assert {"family_planning:JS0000090010", "public_security:GA0000090010"} <= changed
