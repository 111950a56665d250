"""A suite on a table of the run database, on the whole table or on tonight's rows: one policy for
every suite (deliveries, records, the golden table).

Whole table: Great Expectations on the suite's columns of every row.

Tonight's rows (an incremental night; the other rows passed the night they arrived): Great
Expectations looks at tonight's rows, and what only holds for a table as a whole is counted in SQL
over all of it: the row count, uniqueness, the presence of the key, and every share (`mostly`).
A share is therefore held on both: tonight's rows must mostly pass (a broken delivery is caught
however large the table), and so must the whole table (an incremental night never passes what a full
night would refuse). An expectation about the whole table that SQL here cannot count makes the
suite run on the whole table in Great Expectations instead.
"""

from __future__ import annotations

import json

import duckdb

from registry.quality import BLOCK, TABLE_LEVEL, WARN, ValidationOutcome, load_suite, suite_columns, validate
from registry.sql import columns, literal_list, quote_identifier, quote_literal

WHOLE_TABLE = "(whole table)"


def validate_table(con: duckdb.DuckDBPyConnection, table: str, suite_name: str, *, tonight: str | None = None,
                   key: str | None = None, derived: dict[str, str] | None = None) -> ValidationOutcome:
    """Run the suite on `table`: on every row, or (tonight given: a SELECT of tonight's rows of it) by
    the policy of the module docstring. `key`: a column that must be present on every row; `derived`:
    columns computed in SQL (name -> expression over the table) that the suite looks at."""
    suite = load_suite(suite_name)
    present = set(columns(con, table))
    if not present:
        raise LookupError(f"table {table} does not exist")
    derived = {k: v for k, v in (derived or {}).items() if k in suite_columns(suite)}
    wanted = [c for c in suite_columns(suite) if c in present]
    whole = _whole_table_expectations(suite, key)
    if tonight is not None and all(_count_sql(e, "t") is not None for e in whole):
        outcome = _validate_tonight(con, _frame_sql(tonight, wanted, derived), suite_name)
        source = f"(SELECT *{_derived_sql(derived)} FROM {table}) t"
        for expectation in whole:
            fact = _whole_table_fact(con, source, expectation)
            outcome.results.append(fact)
            if not fact["success"]:
                (outcome.blocking_failures if fact["severity"] == BLOCK else outcome.warnings).append(fact)
        outcome.success = not outcome.blocking_failures
        outcome.statistics["scope"] = "rows new or changed tonight"
        return outcome
    return validate(con.execute(_frame_sql(table, wanted, derived)).df(), suite_name)


def _derived_sql(derived: dict[str, str]) -> str:
    return "".join(f", {expr} AS {quote_identifier(name)}" for name, expr in derived.items())


def _frame_sql(source: str, wanted: list[str], derived: dict[str, str]) -> str:
    """The suite's columns of `source` (the table, or a SELECT of some of its rows)."""
    select = [quote_identifier(c) for c in wanted] + [f"{e} AS {quote_identifier(n)}" for n, e in derived.items()]
    return f"SELECT {', '.join(select) or '1 AS _none'} FROM ({source})"


def _validate_tonight(con, frame: str, suite_name: str) -> ValidationOutcome:
    df = con.execute(frame).df()
    if not len(df):
        return ValidationOutcome(suite_name, True, statistics={"rows": 0})
    return validate(df, suite_name, skip_types=TABLE_LEVEL)


def _whole_table_expectations(suite: dict, key: str | None) -> list[dict]:
    """The suite's expectations about the table as a whole, and the key's presence."""
    out = [e for e in suite["expectations"] if e["type"] in TABLE_LEVEL or "mostly" in e.get("kwargs", {})]
    if key is not None:
        out.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": key},
                    "meta": {"severity": BLOCK, "description": "every row has its key"}})
    return out


def _count_sql(expectation: dict, source: str) -> str | None:
    """SQL giving (rows considered, rows failing) of the expectation over `source`; None if not countable.
    As in Great Expectations, a share counts the non-null values (all rows for `not_be_null`)."""
    kw = expectation.get("kwargs", {})
    col = quote_identifier(kw.get("column", ""))
    kind = expectation["type"]
    if kind == "expect_table_row_count_to_be_between":
        return f"SELECT count(*), 0 FROM {source}"
    if kind == "expect_column_values_to_be_unique":
        return f"SELECT count({col}), count({col}) - count(DISTINCT {col}) FROM {source}"
    if kind == "expect_column_values_to_not_be_null":
        return f"SELECT count(*), count(*) - count({col}) FROM {source}"
    if kind == "expect_column_values_to_match_regex":
        return (f"SELECT count({col}), count({col}) FILTER (WHERE NOT regexp_matches(CAST({col} AS VARCHAR), "
                f"{quote_literal(kw['regex'])})) FROM {source}")
    if kind == "expect_column_values_to_be_in_set":
        return (f"SELECT count({col}), count({col}) FILTER (WHERE CAST({col} AS VARCHAR) NOT IN "
                f"({literal_list(kw['value_set'])})) FROM {source}")
    if kind == "expect_column_values_to_be_between":
        outside = [f"{col} < {float(kw['min_value'])}" if kw.get("min_value") is not None else None,
                   f"{col} > {float(kw['max_value'])}" if kw.get("max_value") is not None else None]
        return (f"SELECT count({col}), count({col}) FILTER (WHERE {' OR '.join(o for o in outside if o) or 'false'}) "
                f"FROM {source}")
    return None


def _whole_table_fact(con, source: str, expectation: dict) -> dict:
    kw, meta = expectation.get("kwargs", {}), expectation.get("meta", {})
    considered, failing = con.execute(_count_sql(expectation, source)).fetchall()[0]
    if expectation["type"] == "expect_table_row_count_to_be_between":
        ok = ((kw.get("min_value") is None or considered >= kw["min_value"])
              and (kw.get("max_value") is None or considered <= kw["max_value"]))
        failing = 0 if ok else considered
    else:
        mostly = float(kw.get("mostly", 1.0))
        ok = considered == 0 or (considered - failing) / considered >= mostly
    description = " ".join(x for x in (meta.get("description", ""), WHOLE_TABLE) if x)
    return {"type": expectation["type"], "column": kw.get("column"), "kwargs": kw,
            "severity": meta.get("severity", WARN), "description": description, "success": bool(ok),
            "observed_value": json.dumps({"rows": int(considered), "failing": int(failing)}),
            "element_count": int(considered), "unexpected_count": None if ok else int(failing),
            "unexpected_percent": None, "partial_unexpected_list": [], "exception": None}
