"""Build `records` rows directly with every canonical column (registry.contracts.RECORDS), defaults filled."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from registry import contracts
from registry.standardise.id_numbers import check_char

# column -> DuckDB type, in the contract's order
RECORD_COLUMNS: dict[str, str] = dict(contracts.RECORDS.columns)


def id_number(division: str, birth: str, order: str) -> str:
    """A valid 18-character identity number (check character computed)."""
    body = division + birth.replace("-", "") + order
    return body + check_char(body)


def record(department: str, key: str, *, name: str | None = None, id_number: str | None = None,
           id_form: str | None = None, birth: str | None = None, birth_month_only: str | None = None,
           sex: str | None = None, pinyin: str | None = None, **other) -> dict:
    """One `records` row; derived columns (name_plain, surname, birth parts, id checks) filled in."""
    row = dict.fromkeys(RECORD_COLUMNS)
    row.update(record_uid=f"{department}:{key}", department=department, source_record_id=key,
               extract_date=dt.date(2026, 11, 20), name=name, sex=sex)
    if name:
        row.update(name_plain=name.replace("·", ""), surname=name[0], given_name=name[1:],
                   name_pinyin=pinyin or " ".join(f"p{ord(c)}" for c in name.replace("·", "")))
    if birth:
        d = dt.date.fromisoformat(birth)
        row.update(birth_date=d, birth_year=d.year, birth_month=d.month, birth_day=d.day,
                   birth_date_precision="day")
    elif birth_month_only:
        y, m = birth_month_only.split("-")
        row.update(birth_year=int(y), birth_month=int(m), birth_date_precision="month")
    if id_number:
        try:
            id_birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
        except ValueError:  # a mistyped number can carry an impossible date
            id_birth = None
        id_sex = "1" if int(id_number[16]) % 2 else "2"
        row.update(id_number=id_number, id_number_form=id_form or "valid",
                   id_number_valid=(id_form or "valid") in ("valid", "converted15"),
                   id_birth_date=id_birth, id_sex=id_sex)
        if row["birth_year"] is not None and id_birth is not None:
            row["birth_disagrees_id"] = (row["birth_year"], row["birth_month"]) != (id_birth.year, id_birth.month) \
                or (row["birth_day"] is not None and row["birth_day"] != id_birth.day)
        if sex is not None:
            row["sex_disagrees_id"] = sex != id_sex
    else:
        row["id_number_form"] = "missing"
    for p in ("hukou", "current"):
        if other.get(f"{p}_address"):
            parts = other[f"{p}_address"]  # "district/street/community/rest"
            district, street, community, rest = parts.split("/")
            row.update({f"{p}_district": district, f"{p}_street": street, f"{p}_community": community,
                        f"{p}_rest": rest, f"{p}_address": district + street + community + rest})
            other.pop(f"{p}_address")
    row.update(other)
    return row


def load_records(con: duckdb.DuckDBPyConnection, rows: list[dict], table: str = "records") -> None:
    """Create `records` with the canonical schema and these rows."""
    cols = ", ".join(f'"{c}" {t}' for c, t in RECORD_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
    if rows:
        df = pd.DataFrame(rows, columns=list(RECORD_COLUMNS)).astype(object)
        con.register("_rows", df)
        casts = ", ".join(f'CAST("{c}" AS {t})' for c, t in RECORD_COLUMNS.items())
        con.execute(f"INSERT INTO {table} SELECT {casts} FROM _rows")
        con.unregister("_rows")
