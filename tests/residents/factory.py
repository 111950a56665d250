"""Build the residents stage's inputs (records, links, clusters) directly in DuckDB for tests.

Only the canonical columns of docs/ARCHITECTURE.md; tests give the few values they care about.
"""

from __future__ import annotations

import duckdb
import pandas as pd

RECORDS_DDL = """
CREATE OR REPLACE TABLE records (
    record_uid VARCHAR, department VARCHAR, source_record_id VARCHAR, extract_date DATE,
    source_file VARCHAR, source_line BIGINT, record_hash VARCHAR,
    id_number_raw VARCHAR, id_number VARCHAR, id_number_valid BOOLEAN, id_number_form VARCHAR,
    id_birth_date DATE, id_sex VARCHAR,
    name_raw VARCHAR, name VARCHAR, name_plain VARCHAR, name_pinyin VARCHAR, name_is_pinyin BOOLEAN,
    surname VARCHAR, given_name VARCHAR, former_name VARCHAR,
    sex_raw VARCHAR, sex VARCHAR, birth_date_raw VARCHAR, birth_date DATE, birth_year INTEGER,
    birth_month INTEGER, birth_day INTEGER, birth_date_precision VARCHAR, sex_disagrees_id BOOLEAN,
    birth_disagrees_id BOOLEAN, ethnicity VARCHAR,
    phone_raw VARCHAR, phone VARCHAR, phone_kind VARCHAR,
    hukou_address_raw VARCHAR, hukou_address VARCHAR, hukou_province VARCHAR, hukou_city VARCHAR,
    hukou_district VARCHAR, hukou_street VARCHAR, hukou_community VARCHAR, hukou_rest VARCHAR,
    current_address_raw VARCHAR, current_address VARCHAR, current_province VARCHAR, current_city VARCHAR,
    current_district VARCHAR, current_street VARCHAR, current_community VARCHAR, current_rest VARCHAR,
    household_id VARCHAR, relation_to_head VARCHAR, family_role VARCHAR,
    population_type VARCHAR, person_status VARCHAR, status_change_date DATE, marital_status VARCHAR,
    children_count INTEGER, one_child_cert VARCHAR, assistance_kind VARCHAR, assistance_status VARCHAR,
    monthly_amount DECIMAL(12,2), approval_date DATE, disability_cert VARCHAR, disability_id_number VARCHAR,
    disability_category INTEGER, disability_level INTEGER, employment_status VARCHAR, employer VARCHAR,
    unemployment_date DATE, insurance_status VARCHAR, record_updated_at TIMESTAMP
)"""

PREFIX = {"public_security": "GA", "family_planning": "JS", "civil_affairs": "MZ", "labour": "LD"}


def record(department: str, key: int, **values) -> dict:
    """One record row; `key` becomes e.g. GA0000000001. Birth fields are derived from birth_date
    ('YYYY-MM-DD' or 'YYYY-MM')."""
    sid = f"{PREFIX[department]}{key:010d}"
    row = {"record_uid": f"{department}:{sid}", "department": department, "source_record_id": sid,
           "extract_date": "2026-11-20"}
    birth = values.pop("birth", None)
    if birth:
        parts = [int(p) for p in birth.split("-")]
        row.update(birth_year=parts[0], birth_month=parts[1])
        if len(parts) == 3:
            row.update(birth_date=birth, birth_day=parts[2], birth_date_precision="day")
        else:
            row.update(birth_date_precision="month")
    if values.get("id_number") is not None and "id_number_valid" not in values:
        values["id_number_valid"] = True
    row.update(values)
    return row


def load_records(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    con.execute(RECORDS_DDL)
    cols = [c for c, in con.execute("SELECT column_name FROM information_schema.columns "
                                    "WHERE table_name = 'records' ORDER BY ordinal_position").fetchall()]
    df = pd.DataFrame(rows).reindex(columns=cols).astype(object)
    df = df.where(pd.notna(df), None)
    con.register("_records_in", df)
    con.execute("INSERT INTO records BY NAME SELECT * FROM _records_in")
    con.unregister("_records_in")


def load_clusters(con: duckdb.DuckDBPyConnection, groups: list[list[str]]) -> None:
    """clusters from groups of record_uids (every record must be in one group)."""
    rows = []
    for g in groups:
        cid = min(g)
        rows += [(uid, cid, len(g)) for uid in g]
    con.execute("CREATE OR REPLACE TABLE clusters (record_uid VARCHAR, cluster_id VARCHAR, cluster_size INTEGER)")
    if rows:
        con.executemany("INSERT INTO clusters VALUES (?, ?, ?)", rows)


def load_links(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str, float]]) -> None:
    con.execute("""CREATE OR REPLACE TABLE links (record_uid_l VARCHAR, record_uid_r VARCHAR,
                   match_weight DOUBLE, match_probability DOUBLE, evidence VARCHAR)""")
    for a, b, p in pairs:
        l, r = sorted((a, b))
        con.execute("INSERT INTO links VALUES (?, ?, 0, ?, '[]')", [l, r, p])


def uid(department: str, key: int) -> str:
    return f"{department}:{PREFIX[department]}{key:010d}"
