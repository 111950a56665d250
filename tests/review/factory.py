"""Small crafted run databases and published registries for the review tests.

The tables follow ARCHITECTURE.md (only the columns review reads, plus a few shown as evidence).
Scenario, one resident per line:
  R1  public_security:GA0000000001 + labour:LD0000000001 (id A), birth dates disagree  -> conflict
      family_planning:JS0000000001 (R2) scores 0.70 with GA..01                        -> uncertain_link
  R3  public_security:GA0000000003 (id B) and R4 civil_affairs:MZ0000000004 (id B)     -> identity_conflict (shared)
      R4 has no household record                                                         -> orphan
  R5  public_security:GA0000000005 (id C) + labour:LD0000000005 (id D)                 -> identity_conflict (two ids)
  R6  labour:LD0000000006 alone                                                         -> orphan
  R7  GA..07=JS..07 (0.99), LD..07=MZ..07 (0.99), JS..07-LD..07 only 0.60              -> weak_cluster (+ uncertain_link)
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from registry.home import Home
from registry.night import incremental_night

ID_A, ID_B, ID_C, ID_D = "110101198001020011", "440304199005050022", "320102197003030033", "320102197003030044"

RECORDS = [
    # record_uid, name, id_number, birth_date, street, community, resident
    ("public_security:GA0000000001", "张伟", ID_A, "1980-01-02", "福田街道", "岗厦社区", "R1"),
    ("labour:LD0000000001", "张伟", ID_A, "1980-02-01", "福田街道", "岗厦社区", "R1"),
    ("family_planning:JS0000000001", "张玮", None, None, "福田街道", "岗厦社区", "R2"),
    ("public_security:GA0000000003", "李娜", ID_B, "1990-05-05", "沙头街道", "新洲社区", "R3"),
    ("civil_affairs:MZ0000000004", "李娜", ID_B, "1990-05-05", "沙头街道", "新洲社区", "R4"),
    ("public_security:GA0000000005", "王芳", ID_C, "1970-03-03", "福田街道", "福山社区", "R5"),
    ("labour:LD0000000005", "王芳", ID_D, "1970-03-03", "福田街道", "福山社区", "R5"),
    ("labour:LD0000000006", "赵敏", None, None, "沙头街道", "上沙社区", "R6"),
    ("public_security:GA0000000007", "陈静", None, "1985-07-07", "华富街道", "莲花社区", "R7"),
    ("family_planning:JS0000000007", "陈静", None, None, "华富街道", "莲花社区", "R7"),
    ("labour:LD0000000007", "陈晶", None, "1985-07-17", "华富街道", "莲花社区", "R7"),
    ("civil_affairs:MZ0000000007", "陈晶", None, "1985-07-17", "华富街道", "莲花社区", "R7"),
]

WATERFALL = [{"comparison": "name", "level": "same pinyin", "match_weight": 4.2},
             {"comparison": "birth_date", "level": "missing", "match_weight": 0.0},
             {"comparison": "id_number", "level": "missing", "match_weight": 0.0}]

LINKS = [  # record_uid_l < record_uid_r
    ("labour:LD0000000001", "public_security:GA0000000001", 0.99),
    ("family_planning:JS0000000001", "public_security:GA0000000001", 0.70),
    ("civil_affairs:MZ0000000004", "public_security:GA0000000003", 0.999),
    ("labour:LD0000000005", "public_security:GA0000000005", 0.98),
    ("labour:LD0000000006", "public_security:GA0000000001", 0.20),
    ("family_planning:JS0000000007", "public_security:GA0000000007", 0.99),
    ("civil_affairs:MZ0000000007", "labour:LD0000000007", 0.99),
    ("family_planning:JS0000000007", "labour:LD0000000007", 0.60),
]


def create_record_tables(con: duckdb.DuckDBPyConnection, rec: pd.DataFrame) -> None:
    """`records`, `crosswalk` and `residents` from one row per record (with its resident_id)."""
    rec = rec.assign(birth_date=pd.to_datetime(rec["birth_date"]).dt.date)
    con.register("_records_frame", rec)
    try:
        con.execute("CREATE OR REPLACE TABLE records AS SELECT * EXCLUDE (resident_id, birth_date), "
                    "CAST(birth_date AS DATE) AS birth_date FROM _records_frame")
        con.execute("CREATE OR REPLACE TABLE crosswalk AS SELECT department, source_record_id, record_uid, "
                    "resident_id, 0.99 AS match_probability FROM _records_frame")
        con.execute("CREATE OR REPLACE TABLE residents AS SELECT resident_id, min(id_number) AS id_number, "
                    "min(name) AS name, 'active' AS status FROM _records_frame GROUP BY resident_id")
    finally:
        con.unregister("_records_frame")


def build_run_tables(con: duckdb.DuckDBPyConnection, *, records=RECORDS, links=LINKS, hash_salt: dict | None = None) -> None:
    """Create records, links, crosswalk, residents, conflicts, lineage as the other stages would."""
    hash_salt = hash_salt or {}
    rec = pd.DataFrame([{
        "record_uid": uid, "department": uid.split(":")[0], "source_record_id": uid.split(":")[1],
        "record_hash": f"h-{uid}-{hash_salt.get(uid, '')}", "name_raw": name, "name": name, "id_number": idn,
        "id_number_valid": idn is not None, "birth_date": bd, "current_street": street,
        "current_community": community, "resident_id": resident,
    } for uid, name, idn, bd, street, community, resident in records])
    create_record_tables(con, rec)
    con.execute("CREATE OR REPLACE TABLE links (record_uid_l VARCHAR, record_uid_r VARCHAR, match_weight DOUBLE, "
                "match_probability DOUBLE, evidence VARCHAR)")
    present = {r[0] for r in records}
    for l, r, p in links:
        if l in present and r in present:
            con.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?)", [l, r, 4.2, p, json.dumps(WATERFALL, ensure_ascii=False)])
    values = {"1980-01-02": ["public_security:GA0000000001"], "1980-02-01": ["labour:LD0000000001"]}
    con.execute("CREATE OR REPLACE TABLE conflicts AS SELECT 'R1' AS resident_id, 'birth_date' AS attribute, "
                "?::JSON AS \"values\"", [json.dumps(values)])
    con.execute("""CREATE OR REPLACE TABLE lineage AS SELECT * FROM (VALUES
        ('R1', 'birth_date', '1980-01-02', 'public_security', 'GA0000000001', 'household register first'),
        ('R1', 'name', '张伟', 'public_security', 'GA0000000001', 'household register first'))
        t(resident_id, attribute, value, department, source_record_id, rule)""")


def publish(con: duckdb.DuckDBPyConnection, home: Home) -> None:
    """Write HOME/published/registry.duckdb from the run tables, as publish.py would (atomic rename)."""
    home.ensure()
    tmp = home.published_dir / "registry.next.duckdb"
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH '{tmp}' AS nxt")
    for table in ("review_queue", "residents", "crosswalk", "lineage", "conflicts"):
        con.execute(f"CREATE TABLE nxt.{table} AS SELECT * FROM {table}")
    con.execute("DETACH nxt")
    tmp.replace(home.published_db)


def make_published_home(root: Path, extract_date: str = "2026-11-20") -> Home:
    """A HOME whose published registry holds the scenario's queue."""
    from registry.review.queue import build_review_queue

    home = Home(root / "home").ensure()
    con = duckdb.connect(str(root / "night1.duckdb"))
    try:
        build_run_tables(con)
        build_review_queue(con, incremental_night(extract_date), home.decisions, uncertain_band=(0.5, 0.95))
        publish(con, home)
    finally:
        con.close()
    return home
