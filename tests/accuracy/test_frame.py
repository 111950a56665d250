"""The audit frame on a registry small enough to list: scored pairs, pairs of one resident, near pairs."""

from __future__ import annotations

import duckdb

from registry.accuracy.frame import frame_sql


def test_the_frame_holds_near_pairs_no_blocking_rule_scored():
    con = duckdb.connect()
    con.execute("""CREATE TABLE records AS SELECT * FROM (VALUES
        ('labour:1', 'ren yan', '075529058362', NULL, NULL, '福莲新村5栋1006'),
        ('public_security:1', 'ren yan', '075529058362', DATE '1996-12-26', '人民路5号', NULL),
        ('family_planning:1', 'ren yan', NULL, NULL, '福莲新村5栋1006', NULL),
        ('family_planning:2', 'ren yan', '13800000000', DATE '1970-01-01', NULL, NULL),
        ('civil_affairs:1', 'li na', '13900000000', DATE '1980-05-05', NULL, NULL),
        ('labour:2', 'li na', '13900000000', DATE '1980-05-05', NULL, NULL))
        AS t(record_uid, name_pinyin, phone, birth_date, hukou_rest, current_rest)""")
    con.execute("""CREATE TABLE crosswalk AS SELECT * FROM (VALUES
        ('labour:1', 'R1', 'labour'), ('public_security:1', 'R2', 'public_security'),
        ('family_planning:1', 'R3', 'family_planning'), ('family_planning:2', 'R4', 'family_planning'),
        ('civil_affairs:1', 'R5', 'civil_affairs'), ('labour:2', 'R5', 'labour'))
        AS t(record_uid, resident_id, department)""")
    con.execute("""CREATE TABLE links AS SELECT * FROM (VALUES ('civil_affairs:1', 'labour:2', 0.9999))
        AS t(record_uid_l, record_uid_r, match_probability)""")
    frame = con.execute(f"SELECT record_uid_l, record_uid_r, same_resident, band FROM ({frame_sql()}) ORDER BY ALL"
                        ).fetchall()
    assert frame == [
        ("civil_affairs:1", "labour:2", True, "0.999"),                       # scored
        ("family_planning:1", "labour:1", False, "not scored"),               # name and a hukou/current detail
        ("labour:1", "public_security:1", False, "not scored"),               # name and phone
    ]  # family_planning:2 shares the name only: no near pair
