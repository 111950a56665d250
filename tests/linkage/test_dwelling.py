"""The same flat written with the unit (单元) or the community (社区) left out on one side."""

import json

import duckdb
import pytest

from registry.linkage.backend import dwelling_sql

from .records_factory import record


@pytest.mark.parametrize("rest, dwelling", [
    ("皇御苑4栋4单元2701", "皇御苑4栋2701"),
    ("皇御苑4栋2701", "皇御苑4栋2701"),
    ('皇御苑(原"皇御村"),4栋4单元2701', "皇御苑4栋2701"),
    ("福莲新村13栋1单元1703", "福莲新村13栋1703"),
    ("新华街127号", None),           # a road address names no flat
    ("红荔路220号", None),
    (None, None),
])
def test_dwelling_is_estate_building_and_room_without_the_unit(rest, dwelling):
    got = duckdb.connect().execute(f"SELECT {dwelling_sql('x')} FROM (SELECT ?::VARCHAR AS x)", [rest]).fetchone()[0]
    assert got == dwelling


def _address_level(con, uid_l, uid_r):
    evidence = con.execute("SELECT evidence FROM links WHERE record_uid_l = least(?, ?) AND record_uid_r = greatest(?, ?)",
                           [uid_l, uid_r, uid_l, uid_r]).fetchone()
    assert evidence is not None, f"no link between {uid_l} and {uid_r}"
    return next(e["level"] for e in json.loads(evidence[0]) if e["comparison"] == "address")


def test_child_without_number_joins_its_registration_when_unit_and_community_are_left_out(link):
    # the independent writer's split people: a family planning child, no identity number, birth month
    # only, whose address was written without 单元 and without the 社区
    rows = [
        record("public_security", "GA0000950001", name="邓子涵", birth="2015-06-14", sex="2",
               household_id="H950", hukou_address="福田区/香蜜湖街道/香梅社区/皇御苑4栋4单元2701"),
        record("family_planning", "JS0000950001", name="邓子涵", birth_month_only="2015-06", sex="2",
               household_id="F950", current_address="福田区/香蜜湖街道//皇御苑4栋2701", current_community=None,
               phone="13800009501"),
        # a neighbour one floor down with another name: not the same flat
        record("family_planning", "JS0000950002", name="邓子轩", birth_month_only="2015-06", sex="2",
               household_id="F951", current_address="福田区/香蜜湖街道/香梅社区/皇御苑4栋4单元2601"),
    ]
    c = link(rows)
    assert c["public_security:GA0000950001"] == c["family_planning:JS0000950001"]
    assert c["family_planning:JS0000950002"] != c["public_security:GA0000950001"]
    assert _address_level(link.con, "public_security:GA0000950001", "family_planning:JS0000950001") == \
        "same building and room (unit or community left out)"
