"""Run the right suite on a table of the run database (the Dagster asset checks call these).

Only the columns a suite looks at are read into pandas: GX on a million rows is slow enough
without carrying twenty columns it never reads.
"""

from __future__ import annotations

import duckdb

from registry.departments import RECORD_KEYS

from registry.quality import BLOCK, TABLE_LEVEL, ValidationOutcome, load_suite, suite_columns, validate

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


def _frame(con, table: str, wanted: list[str], derived: dict[str, str] | None = None, source: str | None = None):
    """The suite's columns of `table` (or of the rows `source` selects from it) as a DataFrame."""
    present = set(_table_columns(con, table))
    if not present:
        raise LookupError(f"table {table} does not exist")
    derived = {k: v for k, v in (derived or {}).items() if k in wanted}
    select = [_q(c) for c in wanted if c in present] + [f"{expr} AS {_q(name)}" for name, expr in derived.items()]
    return con.execute(f"SELECT {', '.join(select) or '1 AS _none'} FROM ({source or table})").df()


def _whole_table_facts(con, table: str, key: str) -> list[dict]:
    """What only holds for the whole table, counted in SQL when GX sees just tonight's rows:
    at least one row, and a record key that is present and unique."""
    rows, nulls, distinct = con.execute(
        f"SELECT count(*), count(*) - count({_q(key)}), count(DISTINCT {_q(key)}) FROM {table}").fetchall()[0]
    facts = [("expect_table_row_count_to_be_between", None, rows >= 1, f"{rows} rows"),
             ("expect_column_values_to_not_be_null", key, nulls == 0, f"{nulls} null keys"),
             ("expect_column_values_to_be_unique", key, distinct == rows - nulls,
              f"{rows - nulls - distinct} duplicate keys")]
    return [{"type": t, "column": c, "severity": BLOCK, "success": ok, "description": f"whole table: {what}",
             "kwargs": {}, "unexpected_count": None, "unexpected_percent": None,
             "partial_unexpected_list": [], "exception": None} for t, c, ok, what in facts]


def _scoped(con, table: str, key: str, suite_name: str, wanted: list[str], derived: dict[str, str],
            tonight: str | None) -> ValidationOutcome:
    """The whole table, or (tonight given) row-level expectations on tonight's rows plus whole-table facts."""
    if tonight is None:
        return validate(_frame(con, table, wanted, derived), suite_name)
    df = _frame(con, table, wanted, derived, source=tonight)
    outcome = (validate(df, suite_name, skip_types=TABLE_LEVEL) if len(df)
               else ValidationOutcome(suite_name, True, statistics={"rows": 0}))
    for fact in _whole_table_facts(con, table, key):
        outcome.results.append(fact)
        if not fact["success"]:
            outcome.blocking_failures.append(fact)
            outcome.success = False
    outcome.statistics["scope"] = "rows new or changed tonight"
    return outcome


def normalised_id_sql(column: str) -> str:
    """The suite's view of an identity number: full-width digits and x folded, spaces and dashes gone."""
    c = _q(column)
    return (f"upper(regexp_replace(translate({c}, '０１２３４５６７８９ｘＸ', '0123456789xX'), "
            f"'[\\s\\-－]', '', 'g'))")


def validate_department(con: duckdb.DuckDBPyConnection, department: str, *,
                        changed_only: bool = False) -> ValidationOutcome:
    """The delivery suite on raw_<department>.

    changed_only (incremental nights): row-level expectations look at the rows that are new or changed
    since the last processed snapshot (the others passed the night they arrived); row count and key
    uniqueness are still counted over the whole delivery.
    """
    from registry.standardise.changes import changed_raw_rows_sql, raw_hash_sql, table_exists

    table = f"raw_{department}"
    suite_name = department_suite(department)
    wanted = suite_columns(load_suite(suite_name))
    id_column = ID_COLUMNS[department]
    present = set(_table_columns(con, table))
    derived = {ID_NORMALISED: normalised_id_sql(id_column)} if id_column in present else {}
    tonight = (changed_raw_rows_sql(department, raw_hash_sql(con, department))
               if changed_only and table_exists(con, "records") else None)
    return _scoped(con, table, RECORD_KEYS[department], suite_name, wanted, derived, tonight)


def validate_records(con: duckdb.DuckDBPyConnection, table: str = "records", *,
                     changed_only: bool = False) -> ValidationOutcome:
    """The canonical-record suite on `records` (ARCHITECTURE.md); changed_only: the records standardised
    tonight (new or changed), with record_uid's presence and uniqueness counted over the whole table."""
    wanted = suite_columns(load_suite(RECORDS_SUITE))
    tonight = (f"SELECT r.* FROM {table} r JOIN record_changes c USING (record_uid) "
               "WHERE c.change IN ('new', 'changed')") if changed_only else None
    return _scoped(con, table, "record_uid", RECORDS_SUITE, wanted, {}, tonight)
