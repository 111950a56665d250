"""Blocking rules read as keys, and the incremental night's candidates they select."""

import duckdb
import pytest

from registry.linkage import load_model, predict_links
from registry.linkage.blocking import BlockingRuleError, blocking_key, candidates_sql
from registry.linkage.model import blocking_rules
from registry.night import full_night, incremental_night

from .records_factory import load_records, record


def test_the_committed_model_blocks_on_the_rules_of_model_py():
    assert [blocking_key(r) for r in load_model().blocking_rules()] == [blocking_key(r) for r in blocking_rules()]


def test_every_rule_is_read_as_equalities_of_l_and_r():
    key = blocking_key("l.name_pinyin = r.name_pinyin AND r.hukou_street = l.current_street")
    assert key.left == ("name_pinyin", "current_street") and key.right == ("name_pinyin", "hukou_street")
    assert blocking_key("substr(l.id_number, 1, 14) = substr(r.id_number, 1, 14)").symmetric


@pytest.mark.parametrize("rule", ["l.a = r.a OR l.b = r.b", "levenshtein(l.a, r.a) <= 1", "l.a = l.b",
                                  "l.a = r.a AND l.b IS NOT NULL", "l.a || r.a = 'x'"])
def test_a_rule_that_is_not_a_conjunction_of_l_r_equalities_is_refused(rule):
    with pytest.raises(BlockingRuleError, match="blocking rule"):
        blocking_key(rule)


def test_candidates_share_every_key_of_a_rule_in_either_role():
    con = duckdb.connect()
    con.execute("""CREATE TABLE changed AS SELECT * FROM (VALUES ('c1', 'zhang', 'A', NULL)) t(record_uid, name, cur, hk)""")
    con.execute("""CREATE TABLE others AS SELECT * FROM (VALUES
        ('u1', 'zhang', NULL, 'A'),   -- its hukou is the changed record's current address
        ('u2', 'zhang', 'B', 'A'),    -- the same
        ('u3', 'zhang', 'B', NULL),   -- another place
        ('u4', 'li', NULL, 'A'),      -- another name
        ('u5', NULL, 'A', 'A')        -- no name: NULL never matches
        ) t(record_uid, name, cur, hk)""")
    keys = [blocking_key("l.name = r.name AND l.cur = r.hk")]
    got = {u for (u,) in con.execute(candidates_sql(keys, "changed", "others")).fetchall()}
    assert got == {"u1", "u2"}
    # the changed record in the r role: its hukou (NULL) matches no one's current address
    keys = [blocking_key("l.name = r.name AND l.hk = r.cur")]
    assert {u for (u,) in con.execute(candidates_sql(keys, "changed", "others")).fetchall()} == {"u1", "u2"}


def test_a_pair_blocked_only_across_address_kinds_is_rescored_from_either_side(model):
    """Household register (hukou address) and labour (current address, no number, no birth date) meet only
    through the rules that cross address kinds; whichever of them changed, the night finds the pair."""
    ps = record("public_security", "GA0000000001", name="赵志鹏", pinyin="zhao zhi peng", sex="1",
                id_number="440306199001011234", birth="1990-01-01", hukou_address="南山区/粤海街道/科技园社区/高新南路1号")
    lb = record("labour", "LD0000000001", name="赵志鹏", pinyin="zhao zhi peng", sex="1",
                current_address="南山区/粤海街道/科技园社区/高新南路1号", employer="某公司")
    for changed in (ps, lb):
        con = duckdb.connect()
        load_records(con, [ps, lb])
        predict_links(con, model, full_night())
        full = con.execute("SELECT * FROM links ORDER BY ALL").fetchall()
        assert len(full) == 1
        con.execute("CREATE TABLE record_changes AS SELECT ? AS record_uid, 'changed' AS change",
                    [changed["record_uid"]])
        predict_links(con, model, incremental_night())
        assert con.execute("SELECT * FROM links ORDER BY ALL").fetchall() == full
