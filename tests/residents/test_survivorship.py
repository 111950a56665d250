"""Golden records: each survivorship rule decides the value it should, and lineage says so."""

import datetime as dt
import json

import pytest

from tests.residents.factory import load_clusters, load_links, load_records, record, uid
from registry.residents import assign_resident_ids, build_golden_records
from registry.night import incremental_night

PS, FP, CA, LB = "public_security", "family_planning", "civil_affairs", "labour"
ID_A = "11010119800503001X"
ID_B = "110101198005030020"


def golden(con, rows, groups=None, overrides=None):
    """Build residents from records; `groups` of record_uids (default: all one resident)."""
    load_records(con, rows)
    uids = [r["record_uid"] for r in rows]
    load_clusters(con, groups or [uids])
    load_links(con, [])
    if overrides:
        con.execute("""CREATE TABLE value_overrides (resident_id VARCHAR, attribute VARCHAR, value VARCHAR,
                       decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP)""")
        con.executemany("INSERT INTO value_overrides VALUES (?, ?, ?, ?, ?, ?)", overrides)
    assign_resident_ids(con, "run1", "2026-11-20")
    return build_golden_records(con, incremental_night())


def value(con, column, resident_id=None):
    sql = f"SELECT {column} FROM residents" + (" WHERE resident_id = ?" if resident_id else "")
    return con.execute(sql, [resident_id] if resident_id else []).fetchone()[0]


def lineage(con, attribute):
    return con.execute("SELECT value, department, source_record_id, rule FROM lineage WHERE attribute = ?",
                       [attribute]).fetchall()


def test_trust_ranking_public_security_name_wins_over_more_recent_labour(con):
    golden(con, [record(PS, 1, name="张伟", record_updated_at="2020-01-01"),
                 record(LB, 1, name="张玮", record_updated_at="2026-11-01")])
    assert value(con, "name") == "张伟"
    assert lineage(con, "name") == [("张伟", PS, "GA0000000001", "trust")]


def test_trust_ranking_labour_decides_employment_and_employer_from_same_record(con):
    golden(con, [record(LB, 1, employment_status="就业", employer="深圳某科技有限公司"),
                 record(CA, 1, employment_status="失业")])
    assert (value(con, "employment_status"), value(con, "employer")) == ("就业", "深圳某科技有限公司")
    assert lineage(con, "employer") == [("深圳某科技有限公司", LB, "LD0000000001", "trust")]


def test_validity_valid_identity_number_beats_invalid_public_security_one(con):
    golden(con, [record(PS, 1, id_number="110101198005030011", id_number_valid=False),
                 record(CA, 1, id_number=ID_A, id_number_valid=True)])
    assert value(con, "id_number") == ID_A
    assert lineage(con, "id_number") == [(ID_A, CA, "MZ0000000001", "validity")]


def test_full_date_beats_year_month_even_from_less_trusted_department(con):
    golden(con, [record(FP, 1, birth="1980-05"), record(LB, 1, birth="1980-05-03")])
    assert value(con, "birth_date") == dt.date(1980, 5, 3)
    assert value(con, "birth_date_precision") == "day"
    assert lineage(con, "birth_date") == [("1980-05-03", LB, "LD0000000001", "validity")]


def test_year_month_alone_fills_year_and_month_but_no_birth_date(con):
    golden(con, [record(FP, 1, birth="1980-05")])
    assert value(con, "birth_date") is None
    assert (value(con, "birth_year"), value(con, "birth_month")) == (1980, 5)
    assert lineage(con, "birth_date") == []
    assert lineage(con, "birth_month") == [("5", FP, "JS0000000001", "only_source")]


def test_recency_newest_phone_wins(con):
    golden(con, [record(FP, 1, phone="13800000001", phone_kind="mobile", record_updated_at="2024-01-01"),
                 record(LB, 1, phone="13900000002", phone_kind="mobile", record_updated_at="2026-10-01")])
    assert value(con, "phone") == "13900000002"
    assert lineage(con, "phone") == [("13900000002", LB, "LD0000000001", "recency")]


def test_completeness_value_beats_missing_value_of_trusted_department(con):
    golden(con, [record(PS, 1, name="张伟", ethnicity=None), record(LB, 1, name="张伟", ethnicity="汉族")])
    assert value(con, "ethnicity") == "汉族"
    assert lineage(con, "ethnicity") == [("汉族", LB, "LD0000000001", "completeness")]


def test_completeness_address_with_street_and_community_wins(con):
    golden(con, [record(FP, 1, current_address="深圳市南山区某路1号", current_street=None),
                 record(LB, 1, current_address="深圳市南山区粤海街道科技园社区某路1号",
                        current_street="粤海街道", current_community="科技园社区")])
    assert (value(con, "current_street"), value(con, "current_community")) == ("粤海街道", "科技园社区")
    assert lineage(con, "current_address")[0][1:] == (LB, "LD0000000001", "completeness")


def test_agreement_when_every_department_says_the_same(con):
    golden(con, [record(PS, 1, sex="1"), record(LB, 1, sex="1"), record(FP, 1, sex="1")])
    assert lineage(con, "sex") == [("1", PS, "GA0000000001", "agreement")]


def test_officer_decision_wins_above_every_rule_and_follows_merges(con):
    rows = [record(PS, 1, birth="1980-05-03"), record(LB, 1, birth="1980-06-03")]
    load_records(con, rows)
    # the decision was taken on a resident that tonight is merged into another: it follows the merge
    con.execute("""CREATE TABLE resident_ids AS SELECT * FROM (VALUES
        ('R0000000001', 'retired', 'r0', DATE '2026-11-01', 'r1', DATE '2026-11-19', 'R0000000002'))
        t(resident_id, status, created_run_id, created_date, retired_run_id, retired_date, merged_into)""")
    con.execute("""CREATE TABLE value_overrides AS SELECT * FROM (VALUES
        ('R0000000001', 'birth_date', '1980-06-03', 'd1', 'officer wang', TIMESTAMP '2026-11-19 10:00:00'),
        ('R0000000001', 'birth_date', '1980-07-01', 'd0', 'officer li', TIMESTAMP '2026-11-18 10:00:00'),
        ('R0000000002', 'nonsense', 'x', 'd2', 'officer li', TIMESTAMP '2026-11-18 10:00:00'))
        t(resident_id, attribute, value, decision_id, decided_by, decided_at)""")
    load_clusters(con, [[r["record_uid"] for r in rows]])
    load_links(con, [])
    assign_resident_ids(con, "run1", "2026-11-20")
    rid = con.execute("SELECT DISTINCT resident_id FROM crosswalk").fetchone()[0]
    assert rid == "R0000000002"
    summary = build_golden_records(con, incremental_night())
    assert value(con, "birth_date") == dt.date(1980, 6, 3)  # not PS's 1980-05-03, not the older decision
    assert con.execute("SELECT value, department, rule, decision_id FROM lineage WHERE attribute='birth_date'"
                       ).fetchall() == [("1980-06-03", None, "officer_decision", "d1")]
    assert (summary.overrides_applied, summary.overrides_unmatched) == (1, 1)


def test_status_mapped_from_household_register_or_unregistered(con):
    rows = [record(PS, 1, person_status="死亡"), record(LB, 2, name="李四")]
    golden(con, rows, groups=[[uid(PS, 1)], [uid(LB, 2)]])
    statuses = dict(con.execute("""SELECT x.department, r.status FROM residents r JOIN crosswalk x USING (resident_id)
                                   """).fetchall())
    assert statuses == {PS: "deceased", LB: "unregistered"}
    assert ("unregistered", None, None, "no_public_security_record") in lineage(con, "status")


def test_department_facts_are_aggregated(con):
    golden(con, [record(PS, 1), record(CA, 1, assistance_kind="城市低保", assistance_status="在保", monthly_amount=1120),
                 record(CA, 2, assistance_kind="残疾人两项补贴", assistance_status="在保", monthly_amount=200,
                        disability_category=2, disability_level=3),
                 record(CA, 3, assistance_kind="临时救助", assistance_status="停保", monthly_amount=500)])
    row = con.execute("""SELECT departments, record_count, civil_affairs_records, public_security_records,
                                assistance_kinds, assistance_amount_total, disability_category, disability_level
                         FROM residents""").fetchone()
    assert row == ([CA, PS], 4, 3, 1, ["城市低保", "残疾人两项补贴"], 1320, 2, 3)
    assert sorted(v for v, *_ in lineage(con, "assistance_kinds")) == ["城市低保", "残疾人两项补贴"]


def test_every_golden_value_has_lineage(con):
    golden(con, [record(PS, 1, name="张伟", sex="1", birth="1980-05-03", id_number=ID_A, ethnicity="汉族",
                        hukou_address="广东省深圳市南山区", person_status="正常", household_id="H1"),
                 record(LB, 1, name="张伟", phone="13800000001", employment_status="就业", employer="X",
                        insurance_status="参保缴费"),
                 record(FP, 1, marital_status="初婚", family_role="男方")])
    cols = [c for c, in con.execute("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_name = 'residents'").fetchall()]
    row = dict(zip(cols, con.execute("SELECT * FROM residents").fetchone()))
    facts = {"resident_id", "departments", "record_count", "public_security_records", "family_planning_records",
             "civil_affairs_records", "labour_records", "assistance_kinds", "assistance_amount_total"}
    golden_values = {c for c, v in row.items() if v is not None and c not in facts}
    with_lineage = {a for a, in con.execute("SELECT DISTINCT attribute FROM lineage").fetchall()}
    assert golden_values <= with_lineage
    # and lineage points at real records
    assert con.execute("""SELECT count(*) FROM lineage l ANTI JOIN records r USING (department, source_record_id)
                          WHERE l.department IS NOT NULL""").fetchone()[0] == 0


def test_conflicts_only_between_comparable_values(con):
    rows = [record(PS, 1, birth="1980-05-03", sex="1", id_number=ID_A),
            record(FP, 1, birth="1980-05", sex="1"),                       # same month: no conflict
            record(LB, 1, birth="1980-05-03", sex="2", id_number=ID_B),    # sex and id conflict
            record(CA, 1, id_number="110101198005030011", id_number_valid=False),  # a typo is no conflict
            record(PS, 2, birth="1990-01-02"), record(FP, 2, birth="1990-02")]     # other month: conflict
    golden(con, rows, groups=[[r["record_uid"] for r in rows[:4]], [uid(PS, 2), uid(FP, 2)]])
    found = {(a, json.dumps(json.loads(v), sort_keys=True)) for _, a, v in
             con.execute("SELECT * FROM conflicts").fetchall()}
    assert found == {
        ("sex", json.dumps({"1": [f"{FP}:JS0000000001", f"{PS}:GA0000000001"], "2": [f"{LB}:LD0000000001"]},
                           sort_keys=True)),
        ("id_number", json.dumps({ID_A: [f"{PS}:GA0000000001"], ID_B: [f"{LB}:LD0000000001"]}, sort_keys=True)),
        ("birth_date", json.dumps({"1990-01-02": [f"{PS}:GA0000000002"], "1990-02": [f"{FP}:JS0000000002"]},
                                  sort_keys=True)),
    }


def test_rules_file_is_validated(tmp_path):
    from registry.residents.survivorship import SurvivorshipConfigError, load_rules
    bad = tmp_path / "rules.yaml"
    bad.write_text("attributes:\n  name:\n    columns: [name]\n    present: name IS NOT NULL\n"
                   "    rank:\n      - popularity: x\n", encoding="utf-8")
    with pytest.raises(SurvivorshipConfigError, match="name.*rank #1"):
        load_rules(bad)
