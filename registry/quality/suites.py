"""Run the right suite on a table of the run database (the Dagster asset checks call these).

Only the columns a suite looks at are read into pandas: GX on a million rows is slow enough
without carrying twenty columns it never reads.
"""

from __future__ import annotations

import duckdb

from registry.quality import ValidationOutcome, load_suite, suite_columns, validate

RECORDS_SUITE = "standardised_records"

# Each department's identity-number column; the suites check its normalised form.
ID_COLUMNS = {"public_security": "公民身份号码", "family_planning": "身份证号", "civil_affairs": "证件号码",
              "labour": "SFZH"}
ID_NORMALISED = "_id_number_normalised"


def department_suite(department: str) -> str:
    return f"{department}_delivery"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                      "AND database_name = current_database() ORDER BY column_index",
                                      [table]).fetchall()]


def _frame(con, table: str, wanted: list[str], derived: dict[str, str] | None = None):
    present = set(_table_columns(con, table))
    if not present:
        raise LookupError(f"table {table} does not exist")
    derived = {k: v for k, v in (derived or {}).items() if k in wanted}
    select = [_q(c) for c in wanted if c in present] + [f"{expr} AS {_q(name)}" for name, expr in derived.items()]
    return con.execute(f"SELECT {', '.join(select) or '1 AS _none'} FROM {table}").df()


def normalised_id_sql(column: str) -> str:
    """The suite's view of an identity number: full-width digits and x folded, spaces and dashes gone."""
    c = _q(column)
    return (f"upper(regexp_replace(translate({c}, '０１２３４５６７８９ｘＸ', '0123456789xX'), "
            f"'[\\s\\-－]', '', 'g'))")


def validate_department(con: duckdb.DuckDBPyConnection, department: str) -> ValidationOutcome:
    """The delivery suite on raw_<department>."""
    suite_name = department_suite(department)
    wanted = suite_columns(load_suite(suite_name))
    id_column = ID_COLUMNS[department]
    present = set(_table_columns(con, f"raw_{department}"))
    derived = {ID_NORMALISED: normalised_id_sql(id_column)} if id_column in present else {}
    return validate(_frame(con, f"raw_{department}", wanted, derived), suite_name)


def validate_records(con: duckdb.DuckDBPyConnection, table: str = "records") -> ValidationOutcome:
    """The canonical-record suite on `records` (ARCHITECTURE.md)."""
    wanted = suite_columns(load_suite(RECORDS_SUITE))
    return validate(_frame(con, table, wanted), RECORDS_SUITE)
