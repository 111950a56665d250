"""Health figures on a small registry whose answers the test knows, and the thresholds that judge them."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from registry.health import figures
from registry.health.thresholds import Thresholds, judge


@pytest.fixture
def con():
    c = duckdb.connect()
    records = pd.DataFrame([
        # resident A: public security + civil affairs + labour, one person
        ("public_security:GA1", "public_security", "R-A", "110101199001011234", "valid", "1", "1990-01-01", None, None),
        ("civil_affairs:MZ1", "civil_affairs", "R-A", "110101199001011234", "valid", "1", "1990-01-01", None, None),
        ("labour:LD1", "labour", "R-A", None, "missing", "1", "1990-01-01", None, None),
        # resident B: two valid identity numbers and two sexes (a wrong merge)
        ("public_security:GA2", "public_security", "R-B", "110101198502023456", "valid", "2", "1985-02-02", None, None),
        ("family_planning:JS1", "family_planning", "R-B", "110101198703037890", "valid", "1", "1987-03-03", None, None),
        # resident C: died in 2020, yet a record of his was born in 2021
        ("public_security:GA3", "public_security", "R-C", None, "missing", "1", "1940-05-05", "死亡", "2020-06-01"),
        ("labour:LD2", "labour", "R-C", None, "missing", "1", "2021-01-01", None, None),
        # residents D, E: alone
        ("public_security:GA4", "public_security", "R-D", "110101197001019999", "valid", "2", "1970-01-01", None, None),
        ("labour:LD3", "labour", "R-E", None, "missing", None, None, None, None),
    ], columns=["record_uid", "department", "resident_id", "id_number", "id_number_form", "sex", "birth_date",
                "person_status", "status_change_date"])
    c.register("_r", records)
    c.execute("""CREATE TABLE records AS SELECT record_uid, department, id_number, id_number_form, sex,
                 birth_date::DATE AS birth_date, year(birth_date::DATE) AS birth_year, NULL::VARCHAR AS name_plain,
                 NULL::VARCHAR AS phone, NULL::VARCHAR AS hukou_address, NULL::VARCHAR AS current_address,
                 NULL::VARCHAR AS household_id, person_status, status_change_date::DATE AS status_change_date
                 FROM _r""")
    c.execute("CREATE TABLE crosswalk AS SELECT record_uid, department, resident_id FROM _r")
    c.execute("""CREATE TABLE links AS SELECT * FROM (VALUES
        ('civil_affairs:MZ1', 'public_security:GA1', 40.0, 1.0),
        ('labour:LD1', 'public_security:GA1', 20.0, 0.999),
        ('family_planning:JS1', 'public_security:GA2', 4.0, 0.95),
        ('labour:LD3', 'public_security:GA4', -2.0, 0.3))
        t(record_uid_l, record_uid_r, match_weight, match_probability)""")
    c.execute("""CREATE TABLE review_queue AS SELECT * FROM (VALUES
        ('ul-1', 'uncertain_link', 'open', DATE '2026-11-01'), ('ul-2', 'uncertain_link', 'open', DATE '2026-11-19'),
        ('or-1', 'orphan', 'decided', DATE '2026-10-01')) t(item_id, kind, status, first_raised_date)""")
    yield c
    c.close()


def _figure(con, sql: str) -> dict:
    rows = con.execute(f"SELECT figure, department, other, value, numerator, denominator FROM ({sql})").fetchall()
    return {(f, d, o): (v, n, t) for f, d, o, v, n, t in rows}


def test_link_rates_by_department_pair(con):
    rates = _figure(con, figures.link_rates_sql())
    assert rates[("link_rate", "civil_affairs", "public_security")][0] == 1.0
    # labour: LD1 (with GA1) and LD2 (with GA3) share a resident with public security, LD3 does not
    assert rates[("link_rate", "labour", "public_security")][:2] == (pytest.approx(2 / 3), 2)
    assert rates[("link_rate", "public_security", "labour")][:2] == (0.5, 2)
    assert rates[("link_rate", "civil_affairs", "family_planning")][:2] == (0.0, 0)


def test_unlinked_records_by_department(con):
    unlinked = _figure(con, figures.unlinked_sql())
    assert unlinked[("unlinked_share", "labour", None)][:2] == (pytest.approx(1 / 3), 1)
    assert unlinked[("unlinked_share", "public_security", None)][:2] == (0.25, 1)


def test_residents_of_impossible_shape(con):
    shapes = _figure(con, figures.impossible_residents_sql())
    assert shapes[("impossible_residents", None, "two_valid_identity_numbers")][1] == 1
    assert shapes[("impossible_residents", None, "two_sexes")][1] == 1
    assert shapes[("impossible_residents", None, "birth_after_death")][1] == 1
    assert shapes[("impossible_residents", None, "two_sexes")][2] == 5


def test_resident_sizes_and_completeness(con):
    sizes = _figure(con, figures.resident_sizes_sql())
    assert sizes[("residents_by_size", None, "3")][1] == 1
    assert sizes[("residents_by_size", None, "2")][1] == 2
    assert sizes[("largest_resident", None, None)][0] == 3
    filled = _figure(con, figures.completeness_sql())
    assert filled[("completeness", "labour", "id_number")][:2] == (0.0, 0)
    assert filled[("completeness", "public_security", "id_number")][:2] == (0.75, 3)


def test_match_weights_by_department_pair(con):
    weights = _figure(con, figures.match_weights_sql(0.9))
    assert weights[("mean_match_weight", "labour", "public_security")][0] == 20.0
    assert weights[("uncertain_share", "labour", "public_security")][:2] == (0.5, 1)
    histogram = _figure(con, figures.match_weight_histogram_sql())
    assert histogram[("match_weight_histogram", None, "40.0")][1] == 1
    assert sum(v[1] for v in histogram.values()) == 4


def test_review_queue_size_and_age(con):
    queue = _figure(con, figures.review_queue_sql("2026-11-20"))
    assert queue[("review_open", None, "uncertain_link")][0] == 2
    assert queue[("review_open", None, "all")][0] == 2
    assert queue[("review_open_age_days", None, "oldest")][0] == 19


RULES = Thresholds.load().rules


def test_a_five_point_fall_in_a_link_rate_warns_naming_the_department():
    status, _, message = judge("link_rate", "civil_affairs", "public_security", 0.90, 0.951, 800, RULES["link_rate"])
    assert status == "warn"
    assert "civil_affairs -> public_security" in message and "90.0%" in message and "5.1 points" in message
    assert judge("link_rate", "civil_affairs", "public_security", 0.92, 0.951, 800, RULES["link_rate"])[0] == "ok"
    # a rise is no harm, and a department with a handful of records says nothing
    assert judge("link_rate", "labour", "public_security", 0.99, 0.90, 800, RULES["link_rate"])[0] == "ok"
    assert judge("link_rate", "labour", "public_security", 0.10, 0.90, 10, RULES["link_rate"])[0] == "info"


def test_a_small_departments_share_must_also_move_beyond_chance():
    # 190 records at 64%: the standard error is 3.5 points, so an 8.4-point fall is chance (seen on the
    # independent writer's nights, whose civil affairs records are a new draw of people every night) ...
    assert judge("link_rate", "civil_affairs", "labour", 0.558, 0.642, 190, RULES["link_rate"])[0] == "ok"
    status, limit, _ = judge("link_rate", "civil_affairs", "labour", 0.52, 0.642, 190, RULES["link_rate"])
    assert status == "warn" and 0.10 < limit < 0.11
    # ... the same fall among 5,000 records is not; nor is half of them losing a field that was always filled
    assert judge("link_rate", "civil_affairs", "labour", 0.558, 0.642, 5000, RULES["link_rate"])[0] == "warn"
    assert judge("completeness", "civil_affairs", "id_number", 0.497, 1.0, 190, RULES["completeness"])[0] == "warn"


def test_without_a_baseline_only_absolute_limits_warn():
    assert judge("completeness", "labour", "id_number", 0.1, None, 900, RULES["completeness"])[0] == "ok"
    status, _, message = judge("review_open_age_days", None, "oldest", 45, None, 10, RULES["review_open_age_days"])
    assert status == "warn" and "45" in message


def test_counts_warn_on_both_an_absolute_and_a_relative_rise():
    rule = RULES["impossible_residents"]
    assert judge("impossible_residents", None, "two_sexes", 0.002, 0.001, 20_000, rule, 20, 40)[0] == "warn"
    assert judge("impossible_residents", None, "two_sexes", 0.0011, 0.001, 20_000, rule, 20, 22)[0] == "ok"
