"""A suite on a table of the run database, on the whole table or on tonight's rows: one policy for
every suite (deliveries, records, the golden table).

Whole table: Great Expectations on the suite's columns of every row; a table of more than CHUNK_ROWS
rows chunk by chunk as DuckDB streams it (memory for one chunk), with what only holds for the table as
a whole counted in SQL over all of it, as for tonight's rows below.

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

from registry.quality import (BLOCK, TABLE_LEVEL, WARN, ValidationOutcome, load_suite, merged_results,
                              share_judged_on_enough_rows, suite_columns, validate)
from registry.sql import columns, literal_list, quote_identifier, quote_literal

WHOLE_TABLE = "(whole table)"
# A table larger than this is validated chunk by chunk (memory for one chunk); a multiple of DuckDB's 2,048-row vector.
CHUNK_ROWS = 50 * 2048


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
    countable = all(_count_sql(e, "t") is not None for e in whole)
    if tonight is not None and countable:
        outcome = _validate_tonight(con, _frame_sql(tonight, wanted, derived), suite_name)
        outcome.statistics["scope"] = "rows new or changed tonight"
        return _with_whole_table_facts(con, outcome, table, whole, derived)
    if countable and con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0] > CHUNK_ROWS:
        outcome = _validate_in_chunks(con, _frame_sql(table, wanted, derived), suite_name)
        outcome.statistics["scope"] = f"whole table, in chunks of {CHUNK_ROWS:,} rows"
        return _with_whole_table_facts(con, outcome, table, whole, derived)
    return validate(con.execute(_frame_sql(table, wanted, derived)).df(), suite_name)


def _with_whole_table_facts(con, outcome: ValidationOutcome, table: str, whole: list[dict],
                            derived: dict[str, str]) -> ValidationOutcome:
    """The expectations about the table as a whole, counted in SQL over all of it, added to `outcome`."""
    source = f"(SELECT *{_derived_sql(derived)} FROM {table}) t"
    for expectation in whole:
        fact = share_judged_on_enough_rows(_whole_table_fact(con, source, expectation))
        outcome.results.append(fact)
        if not fact["success"]:
            (outcome.blocking_failures if fact["severity"] == BLOCK else outcome.warnings).append(fact)
    outcome.success = not outcome.blocking_failures
    return outcome


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


def _validate_in_chunks(con, frame: str, suite_name: str) -> ValidationOutcome:
    """Great Expectations on every row of a large table, CHUNK_ROWS at a time as DuckDB streams them:
    memory for one chunk, not the table. Only expectations that hold row by row (no shares, nothing
    about the table as a whole: the caller counts those over the whole table)."""
    chunks = []
    result = con.execute(frame)
    while len(df := result.fetch_df_chunk(CHUNK_ROWS // 2048)):
        chunks.append(validate(df, suite_name, skip_types=TABLE_LEVEL, skip_shares=True))
        del df
    return merged_results(chunks, suite_name)


def _whole_table_expectations(suite: dict, key: str | None) -> list[dict]:
    """The suite's expectations about the table as a whole, and the key's presence."""
    out = [e for e in suite["expectations"] if e["type"] in TABLE_LEVEL or "mostly" in e.get("kwargs", {})]
    if key is not None:
        out.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": key},
                    "meta": {"severity": BLOCK, "description": "every row has its key"}})
    return out


def failing_condition(expectation: dict, source: str) -> str | None:
    """SQL condition on a row of `source` that fails a column-value expectation; None if not such a one."""
    kw = expectation.get("kwargs", {})
    col = quote_identifier(kw.get("column", ""))
    kind = expectation["type"]
    if kind == "expect_column_values_to_not_be_null":
        return f"{col} IS NULL"
    if kind == "expect_column_values_to_be_unique":
        return f"{col} IN (SELECT {col} FROM {source} GROUP BY ALL HAVING count(*) > 1)"
    if kind == "expect_column_values_to_match_regex":
        return f"{col} IS NOT NULL AND NOT regexp_matches(CAST({col} AS VARCHAR), {quote_literal(kw['regex'])})"
    if kind == "expect_column_values_to_be_in_set":
        return f"{col} IS NOT NULL AND CAST({col} AS VARCHAR) NOT IN ({literal_list(kw['value_set'])})"
    if kind == "expect_column_values_to_be_between":
        outside = [f"{col} < {float(kw['min_value'])}" if kw.get("min_value") is not None else None,
                   f"{col} > {float(kw['max_value'])}" if kw.get("max_value") is not None else None]
        return f"{col} IS NOT NULL AND ({' OR '.join(o for o in outside if o) or 'false'})"
    return None


def _count_sql(expectation: dict, source: str) -> str | None:
    """SQL giving (rows considered, rows failing) of the expectation over `source`; None if not countable.
    As in Great Expectations, a share counts the non-null values (all rows for `not_be_null`)."""
    kw = expectation.get("kwargs", {})
    col = quote_identifier(kw.get("column", ""))
    kind = expectation["type"]
    if kind == "expect_table_row_count_to_be_between":
        return f"SELECT count(*), 0 FROM {source}"
    if kind == "expect_column_values_to_be_unique":  # as GX: every row whose value another row has fails
        return (f"SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE n > 1), 0) FROM "
                f"(SELECT count(*) AS n FROM {source} WHERE {col} IS NOT NULL GROUP BY {col})")
    condition = failing_condition(expectation, source)
    if condition is None:
        return None
    considered = "count(*)" if kind == "expect_column_values_to_not_be_null" else f"count({col})"
    return f"SELECT {considered}, count(*) FILTER (WHERE {condition}) FROM {source}"


def explain_failures(con: duckdb.DuckDBPyConnection, outcome: ValidationOutcome, table: str, where: str, *,
                     tonight: str | None = None, derived: dict[str, str] | None = None,
                     shown: dict[str, str] | None = None, line_sql: str | None = "'line ' || _source_line",
                     order_sql: str = "_source_line", examples: int = 3) -> ValidationOutcome:
    """Each blocking failure of `outcome` gets an `explanation`: where (`where`: the department and its
    file, say), which expectation on which column, how many rows fail of how many, and a few example
    lines (`line_sql` over the table) with their values as delivered (`shown`: a derived column -> the
    column it is computed from)."""
    derived, shown = derived or {}, shown or {}
    for failure in outcome.blocking_failures:
        expectation = {"type": failure["type"], "kwargs": failure.get("kwargs") or {}}
        column = failure.get("column")
        whole = WHOLE_TABLE in (failure.get("description") or "") or tonight is None
        rows = f"({tonight})" if not whole else table
        source = f"(SELECT *{_derived_sql(derived)} FROM {rows}) t"
        text = f"{where}: {failure['type']}" + (f" on {shown.get(column, column)}" if column else "")
        if column in shown:
            text += " (normalised)"
        try:  # best effort: the explanation must never be what fails a night
            text += _counted_with_examples(con, expectation, source, column, shown, whole, line_sql, order_sql,
                                           examples, failure)
        except duckdb.Error:
            pass
        failure["explanation"] = text
    return outcome


def _counted_with_examples(con, expectation: dict, source: str, column: str | None, shown: dict[str, str],
                           whole: bool, line_sql: str | None, order_sql: str, examples: int, failure: dict) -> str:
    """How many rows fail of how many, and a few of them by line, as words (and failure["examples"])."""
    text = ""
    counted = _count_sql(expectation, source)
    condition = failing_condition(expectation, source)
    if counted is not None and column is not None:
        considered, failing = con.execute(counted).fetchall()[0]
        text += f": {failing:,} of {considered:,} rows fail"
        mostly = expectation["kwargs"].get("mostly")
        if mostly is not None and considered:
            text += f" ({failing / considered:.1%}; at most {1 - float(mostly):.0%} may)"
        if not whole:
            text += " among tonight's new and changed rows"
    elif failure.get("observed_value") is not None:
        text += f": observed {failure['observed_value']}"
    if condition is not None and line_sql is not None:
        value = quote_identifier(shown.get(column, column))
        found = con.execute(f"SELECT {line_sql}, CAST({value} AS VARCHAR) FROM {source} WHERE {condition} "
                            f"ORDER BY {order_sql} LIMIT {int(examples)}").fetchall()
        failure["examples"] = [[label, v] for label, v in found]
        if found:
            text += "; e.g. " + ", ".join(f"{label} {v!r}" for label, v in found)
    return text


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
