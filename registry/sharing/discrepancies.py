"""`discrepancies`: a department's own records whose value differs from the golden record's.

One row per (record, attribute) where the record has a value, the golden record has one, and they
differ after standardisation (contracts.DISCREPANCIES): the department's value, the golden value, and
from `lineage` the department whose record the golden value came from and the survivorship rule that
chose it (`officer_decision`, with no department, when an officer set it). The department corrects its
own system from it; the service shows a department only its own rows, and only attributes among its
policy's columns.

A publish artifact computes it on the run database before the file is built (it is a published table,
`by_resident`). On an incremental night only the residents survivorship recomputed are compared
again: a resident's rows depend on its member records and its golden values alone, and both change
only for those (registry.incremental); the result equals a full comparison.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from registry import contracts
from registry.incremental import Basis, digest, recomputed, splice
from registry.sql import columns, quote_literal, table_exists

if TYPE_CHECKING:   # publish registers these artifacts: importing it here would be circular
    from registry.publish.context import PublishContext

# Attributes a department's record and the golden record both hold, compared as standardised text.
# Household numbers are left out: each department numbers households its own way.
COMPARED = ("id_number", "name", "sex", "birth_date", "ethnicity", "hukou_address", "current_address", "phone",
            "marital_status", "children_count", "one_child_cert", "employment_status", "employer",
            "unemployment_date", "insurance_status", "disability_category", "disability_level", "disability_cert")
# The lineage attribute that names a compared attribute's source (birth_date may be a year and month
# only: birth_year is recorded for both, from the same winning record).
LINEAGE_ATTRIBUTE = {"birth_date": "birth_year"}
TABLE = contracts.DISCREPANCIES
BASIS = Basis("discrepancies_basis", digest("1", "|".join(COMPARED)), (TABLE.name,))


def _value_sql(attribute: str, alias: str, have: set[str]) -> str | None:
    """The attribute of `alias` as text; a birth date as a full date, or a year and month."""
    if attribute == "birth_date":
        if not {"birth_date", "birth_year", "birth_month"} <= have:
            return None
        return (f"coalesce(strftime({alias}.birth_date, '%Y-%m-%d'), CASE WHEN {alias}.birth_month IS NOT NULL "
                f"THEN printf('%04d-%02d', {alias}.birth_year, {alias}.birth_month) END)")
    return f"CAST({alias}.{attribute} AS VARCHAR)" if attribute in have else None


def discrepancies_sql(con: duckdb.DuckDBPyConnection, residents_sql: str | None = None) -> str:
    """SELECT of the discrepancies (of the residents `residents_sql` selects; of all when None)."""
    have_records, have_residents = set(columns(con, "records")), set(columns(con, "residents"))
    parts = []
    for attribute in COMPARED:
        record, golden = _value_sql(attribute, "m", have_records), _value_sql(attribute, "g", have_residents)
        if record is None or golden is None:
            continue
        if attribute == "birth_date":   # a year-month record is compared with the golden year and month
            golden = f"CASE WHEN m.birth_date IS NULL THEN left({golden}, 7) ELSE {golden} END"
        parts.append(f"SELECT m.department, m.source_record_id, m.resident_id, {quote_literal(attribute)} AS attribute, "
                     f"{record} AS record_value, {golden} AS golden_value FROM m JOIN residents g USING (resident_id)")
    if not parts:
        return TABLE.empty_select()
    needed = sorted(({"birth_date", "birth_year", "birth_month"} | set(COMPARED)) & have_records)
    scope = f"WHERE x.resident_id IN ({residents_sql})" if residents_sql else ""
    lineage = "lineage" if table_exists(con, "lineage") else contracts.LINEAGE.empty_select()
    attribute_map = " ".join(f"WHEN {quote_literal(a)} THEN {quote_literal(b)}" for a, b in LINEAGE_ATTRIBUTE.items())
    return f"""
        WITH m AS (SELECT x.resident_id, r.department, r.source_record_id, {', '.join('r.' + c for c in needed)}
                   FROM records r JOIN crosswalk x USING (record_uid) {scope}),
        pairs AS (SELECT * FROM ({' UNION ALL '.join(parts)})
                  WHERE record_value IS NOT NULL AND golden_value IS NOT NULL AND record_value <> golden_value)
        SELECT p.department, p.source_record_id, p.resident_id, p.attribute, p.record_value, p.golden_value,
               l.department AS golden_department, l.rule AS golden_rule
        FROM pairs p
        LEFT JOIN (SELECT resident_id, attribute, any_value(department) AS department, any_value(rule) AS rule
                   FROM ({lineage}) GROUP BY ALL) l
          ON l.resident_id = p.resident_id AND l.attribute = CASE p.attribute {attribute_map} ELSE p.attribute END
        ORDER BY p.department, p.source_record_id, p.attribute"""


def build_discrepancies(con: duckdb.DuckDBPyConnection, incremental: bool = True) -> dict:
    """Create (or bring up to date) `discrepancies` in the run database. Returns its figures."""
    resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED)
    partial = incremental and resurvived is not None and BASIS.holds(con)
    if partial:
        splice(con, TABLE.name, "resident_id", resurvived, discrepancies_sql(con, resurvived))
    else:
        con.execute(f"CREATE OR REPLACE TABLE {TABLE.name} AS {discrepancies_sql(con)}")
    BASIS.record(con)
    return {"mode": "incremental" if partial else "full",
            "rows": con.execute(f"SELECT count(*) FROM {TABLE.name}").fetchall()[0][0]}


class DepartmentDiscrepancies:
    """The publish artifact: computes the published table `discrepancies` on the run database."""

    name = "department_discrepancies"

    def prepare(self, con: duckdb.DuckDBPyConnection, ctx: PublishContext) -> dict:
        if not (table_exists(con, "records") and table_exists(con, "crosswalk")):
            return {"mode": "skipped", "rows": 0}   # published empty, as the contract's shape
        return build_discrepancies(con, incremental=ctx.night.incremental)

    def write(self, pub: duckdb.DuckDBPyConnection, ctx: PublishContext) -> list[str]:
        return []   # a published table: the build copies it
