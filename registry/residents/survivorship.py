"""Golden records: one value per attribute per resident, chosen by the rules in survivorship.yaml.

For each attribute, the candidate records of a resident are ranked by a window function whose ORDER
BY is built from the YAML criteria; the first-ranked record supplies all of the attribute's columns.
The first criterion on which the winner differs from the runner-up is the lineage `rule` (with
`agreement` when every candidate carries the same value, `only_source`/`completeness` when there is
one candidate). Officers' `value_overrides` are applied last, above every rule.

Writes `residents`, `lineage` and `conflicts`; reads `records` and `crosswalk` (so run
`assign_resident_ids` first), `resident_ids` and `value_overrides` when present.

Incremental (an incremental night, registry.incremental): a golden record is a function of its
resident's member records, its officers' overrides and the rules, nothing else. `golden_members` keeps the (record, resident, record_hash) the standing
golden tables were computed from; on the next call only residents whose membership or member
records differ (plus those with overrides, and everyone named in `record_changes`) are recomputed
and spliced in, which equals a full recomputation by construction. A full night, no basis, changed
rules, or most residents touched -> everything is recomputed.
`residents_recomputed` lists the residents recomputed by an incremental call, for `record_history`.
After a scoped `assign_resident_ids` (`crosswalk_recomputed` present) membership is compared for those
records only: every other crosswalk row is yesterday's, which is what golden_members holds.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import yaml

from registry import contracts
from registry.contracts import RESIDENT_LEADING_COLUMNS as LEADING_COLUMNS
from registry.incremental import (Basis, clear_recomputed, digest, mark_recomputed, recomputed, splice,
                                  worthwhile)
from registry.night import NightPlan
from registry.package_files import package_file
from registry.residents.conflicts import write_conflicts
from registry.residents.overrides import OFFICER_RULE, apply_overrides, resolve_overrides
from registry.sql import quote_literal as _q
from registry.sql import columns, table_exists

log = logging.getLogger(__name__)

RULES_PATH = package_file("residents", "survivorship.yaml")
CRITERIA = ("validity", "trust", "completeness", "recency")

# Bump when the survivorship SQL changes meaning: the next run then recomputes everyone.
ALGORITHM_VERSION = "2"
RULES_META_KEY = "survivorship_basis"
# The residents recomputed by an incremental call (its touched set), a temp table while it runs.
_TOUCHED = "SELECT resident_id FROM _touched"



class SurvivorshipConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SurvivorshipSummary:
    residents: int
    lineage_rows: int
    conflicts: int
    overrides_applied: int
    overrides_unmatched: int   # resident or attribute not found
    overrides_rejected: int    # value could not be read as the attribute's type
    rules_decided: dict        # rule -> number of golden values it decided
    recomputed: int = 0        # residents whose golden record was (re)computed in this call
    mode: str = "full"         # full | incremental

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=8)
def _read_rules(path: str, mtime: float) -> dict:
    with open(path, encoding="utf-8") as fh:
        rules = yaml.safe_load(fh)
    attrs = rules.get("attributes") or {}
    if not attrs:
        raise SurvivorshipConfigError(f"{path}: no 'attributes'")
    seen: dict[str, str] = {}
    for name, spec in attrs.items():
        for key in ("columns", "present", "rank"):
            if not spec.get(key):
                raise SurvivorshipConfigError(f"{path}: attribute {name!r} needs {key!r}")
        for col in spec["columns"]:
            if col in seen:
                raise SurvivorshipConfigError(
                    f"{path}: column {col!r} is taken by both {seen[col]!r} and {name!r}")
            seen[col] = name
        for i, crit in enumerate(spec["rank"]):
            if not isinstance(crit, dict) or len(crit) != 1 or next(iter(crit)) not in CRITERIA:
                raise SurvivorshipConfigError(
                    f"{path}: attribute {name!r} rank #{i + 1} must be one of {CRITERIA}, got {crit!r}")
    return rules


def load_rules(rules_path: str | Path | None = None) -> dict:
    path = Path(rules_path or RULES_PATH)
    return _read_rules(str(path), path.stat().st_mtime)


def _criterion_sql(crit: dict) -> tuple[str, str, str]:
    """(rule name, key expression, sort direction) of one YAML criterion."""
    kind, arg = next(iter(crit.items()))
    if kind == "validity":
        return "validity", f"CASE WHEN ({arg}) THEN 0 ELSE 1 END", "ASC"
    if kind == "trust":
        whens = " ".join(f"WHEN {_q(d)} THEN {i}" for i, d in enumerate(arg))
        return "trust", f"CASE department {whens} ELSE {len(arg)} END", "ASC"
    if kind == "completeness":
        return "completeness", " + ".join(f"CAST({c} IS NOT NULL AS INTEGER)" for c in arg), "DESC"
    return "recency", str(arg), "DESC NULLS LAST"


def _winners(con: duckdb.DuckDBPyConnection, attr: str, spec: dict) -> str:
    """Temp table `_win_<attr>`: the winning record per resident and the rule that decided."""
    table = f"_win_{attr}"
    crits = [_criterion_sql(c) for c in spec["rank"]]
    keys = ", ".join(f"{expr} AS _k{i}" for i, (_, expr, _) in enumerate(crits))
    order = ", ".join(f"_k{i} {d}" for i, (_, _, d) in enumerate(crits)) + ", record_uid"
    cols = spec["columns"]
    where = f"({spec['present']})"
    if spec.get("departments"):
        where += f" AND department IN ({', '.join(_q(d) for d in spec['departments'])})"
    # What "the same value" means for `agreement`: all of the attribute's columns.
    value = "CAST(" + cols[0] + " AS VARCHAR)" if len(cols) == 1 else \
        "concat_ws('|', " + ", ".join(f"coalesce(CAST({c} AS VARCHAR), '')" for c in cols) + ")"
    decided = " ".join(
        f"WHEN w._k{i} IS DISTINCT FROM r2._k{i} THEN {_q(name)}" for i, (name, _, _) in enumerate(crits))
    # Candidates ranked once; only the winner and the runner-up are kept.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ranked AS
        SELECT * FROM (
            SELECT resident_id, record_uid, department, source_record_id, {', '.join(cols)}, {keys},
                   row_number() OVER w AS _rn, count(*) OVER p AS _n,
                   min({value}) OVER p IS NOT DISTINCT FROM max({value}) OVER p AS _agree
            FROM _member WHERE {where}
            WINDOW p AS (PARTITION BY resident_id), w AS (PARTITION BY resident_id ORDER BY {order}))
        WHERE _rn <= 2""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT w.resident_id, w.record_uid, w.department, w.source_record_id,
               {', '.join('w.' + c for c in cols)},
               CASE WHEN w._n = 1 AND m.n_records = 1 THEN 'only_source'
                    WHEN w._n = 1 THEN 'completeness'
                    WHEN w._agree THEN 'agreement'
                    {decided}
                    ELSE 'tie_break' END AS rule
        FROM _ranked w
        LEFT JOIN _ranked r2 ON r2.resident_id = w.resident_id AND r2._rn = 2
        JOIN _member_count m ON m.resident_id = w.resident_id
        WHERE w._rn = 1""")
    con.execute("DROP TABLE _ranked")
    return table


def basis(rules_path: str | Path | None = None) -> Basis:
    """What the golden tables are computed under: this module's algorithm and the rules file."""
    return Basis(RULES_META_KEY, digest(ALGORITHM_VERSION, Path(rules_path or RULES_PATH).read_bytes()),
                 (contracts.RESIDENTS_TABLE, contracts.LINEAGE.name, contracts.CONFLICTS.name,
                  contracts.GOLDEN_MEMBERS.name))


def _touched_residents(con: duckdb.DuckDBPyConnection, night: NightPlan) -> int:
    """Temp table `_touched`: residents (tonight's or yesterday's) whose golden record may differ from
    the standing one. Returns how many."""
    # After a scoped assign_resident_ids only `crosswalk_recomputed` records can have moved; changed
    # records are among them and in `record_changes` too. Elsewhere crosswalk = golden_members.
    remapped = recomputed(con, contracts.CROSSWALK_RECOMPUTED)
    if remapped:
        within = f"record_uid IN ({remapped}) AND "
        crosswalk = f"(SELECT * FROM crosswalk WHERE record_uid IN ({remapped}))"
    else:
        within, crosswalk = "", "crosswalk"
    sources = [
        # tonight's members that are new to their resident or whose raw values changed
        f"""SELECT x.resident_id FROM {crosswalk} x JOIN records r USING (record_uid)
           LEFT JOIN golden_members g USING (record_uid)
           WHERE g.record_uid IS NULL OR g.resident_id <> x.resident_id
              OR r.record_hash IS NULL OR g.record_hash IS DISTINCT FROM r.record_hash""",
        # yesterday's residents that lost a record (moved elsewhere or removed)
        f"""SELECT g.resident_id FROM golden_members g LEFT JOIN crosswalk x USING (record_uid)
           WHERE {within}(x.record_uid IS NULL OR x.resident_id <> g.resident_id)""",
        # records without a hash cannot be compared: always recomputed (scoped or not)
        """SELECT x.resident_id FROM records r JOIN crosswalk x USING (record_uid) WHERE r.record_hash IS NULL""",
        # officers' value decisions, old and new
        f"SELECT resident_id FROM lineage WHERE rule = '{OFFICER_RULE}'",
    ]
    if table_exists(con, "_overrides"):
        sources.append("SELECT resident_id FROM _overrides")
    if night.changes.exists(con):
        sources.append(f"""SELECT x.resident_id FROM {night.changes.table} c JOIN crosswalk x USING (record_uid)
                           UNION ALL
                           SELECT g.resident_id FROM {night.changes.table} c JOIN golden_members g USING (record_uid)""")
    con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT resident_id FROM ("
                + " UNION ALL ".join(sources) + ") WHERE resident_id IS NOT NULL")
    return con.execute("SELECT count(*) FROM _touched").fetchone()[0]


def build_golden_records(con: duckdb.DuckDBPyConnection, night: NightPlan,
                         rules_path: str | Path | None = None) -> SurvivorshipSummary:
    """Write `residents`, `lineage` and `conflicts` from `records` + `crosswalk`.

    On an incremental night only residents whose inputs changed since the standing golden tables are
    recomputed when that is possible and worthwhile (registry.incremental); the result is the same."""
    rules = load_rules(rules_path)
    attrs: dict = rules["attributes"]
    depts: list[str] = rules.get("departments", [])
    status_map: dict = rules.get("status_values", {})
    active_assistance = rules.get("assistance_active_values", [])
    standing = basis(rules_path)

    resolve_overrides(con)
    partial = False
    if night.incremental and standing.holds(con):
        touched = _touched_residents(con, night)
        # yesterday's number of residents: only sizes the choice, never changes the result
        total = con.execute("SELECT count(*) FROM residents").fetchone()[0]
        partial = worthwhile(touched, total)
    scope = "WHERE x.resident_id IN (SELECT resident_id FROM _touched)" if partial else ""

    # Only the columns survivorship reads: the full records row is ~80 columns wide.
    needed = {"record_uid", "department", "source_record_id", "record_hash", "birth_year", "birth_month",
              "birth_date", "sex", "id_number", "id_number_valid", "assistance_kind", "assistance_status",
              "monthly_amount", "record_updated_at"}
    record_cols = columns(con, "records")
    text = " ".join(str(spec) for spec in attrs.values())
    cols = [c for c in record_cols if c in needed or c in text]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _member AS
                   SELECT x.resident_id, {', '.join('r.' + c for c in cols)}
                   FROM records r JOIN crosswalk x USING (record_uid) {scope}""")
    con.execute("""CREATE OR REPLACE TEMP TABLE _member_count AS
                   SELECT resident_id, count(*) AS n_records FROM _member GROUP BY ALL""")
    wins = {attr: _winners(con, attr, spec) for attr, spec in attrs.items()}

    # Aggregated department facts --------------------------------------------------------------
    per_dept = ", ".join(f"count(*) FILTER (WHERE department = {_q(d)})::INTEGER AS {d}_records" for d in depts)
    active_list = ", ".join(_q(v) for v in active_assistance) or "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _facts AS
        SELECT resident_id,
               list_sort(list_distinct(list(department))) AS departments,
               count(*)::INTEGER AS record_count,
               {per_dept},
               coalesce(list_sort(list_distinct(
                   list(assistance_kind) FILTER (WHERE assistance_status IN ({active_list})
                                                  AND assistance_kind IS NOT NULL))), []) AS assistance_kinds,
               sum(monthly_amount) FILTER (WHERE assistance_status IN ({active_list})) AS assistance_amount_total
        FROM _member GROUP BY resident_id""")

    # residents ---------------------------------------------------------------------------------
    status_case = " ".join(f"WHEN {_q(k)} THEN {_q(v)}" for k, v in status_map.items())
    has_status = "status" in attrs
    status_expr = (f"CASE WHEN w_status.resident_id IS NULL THEN {_q(rules.get('status_unregistered', 'unregistered'))} "
                   f"ELSE CASE w_status.person_status {status_case} "
                   f"ELSE {_q(rules.get('status_unknown', 'unknown'))} END END"
                   if has_status else _q(rules.get("status_unregistered", "unregistered")))
    selected: dict[str, str] = {"resident_id": "ids.resident_id"}
    for attr, spec in attrs.items():
        for col in spec["columns"]:
            selected[col] = f"w_{attr}.{col}"
    selected["status"] = status_expr
    fact_cols = ["departments", "record_count"] + [f"{d}_records" for d in depts] + \
                ["assistance_kinds", "assistance_amount_total"]
    for col in fact_cols:
        selected[col] = f"f.{col}"
    order = [c for c in LEADING_COLUMNS if c in selected] + [c for c in selected if c not in LEADING_COLUMNS]
    joins = "\n".join(f"LEFT JOIN {t} w_{a} ON w_{a}.resident_id = ids.resident_id" for a, t in wins.items())
    golden_sql = f"""
        SELECT {', '.join(f'{selected[c]} AS {c}' for c in order)}
        FROM (SELECT DISTINCT resident_id FROM _member) ids
        {joins}
        LEFT JOIN _facts f ON f.resident_id = ids.resident_id
        ORDER BY ids.resident_id"""
    if partial:
        con.execute("CREATE OR REPLACE TEMP TABLE _golden AS " + golden_sql)
        splice(con, "residents", "resident_id", _TOUCHED, "SELECT * FROM _golden")
        golden_table = "_golden"
    else:
        con.execute("CREATE OR REPLACE TABLE residents AS " + golden_sql)
        golden_table = "residents"

    # lineage: one row per golden value ---------------------------------------------------------
    parts = []
    for attr, spec in attrs.items():
        for col in spec["columns"]:
            value = f"CAST({col} AS VARCHAR)"
            parts.append(f"SELECT resident_id, {_q(col)} AS attribute, {value} AS value, department, "
                         f"source_record_id, rule FROM {wins[attr]} WHERE {col} IS NOT NULL")
    parts.append(f"""SELECT r.resident_id, 'status', r.status, w.department, w.source_record_id,
                           CASE WHEN w.resident_id IS NULL THEN 'no_public_security_record' ELSE w.rule END
                    FROM {golden_table} r LEFT JOIN """ + (wins["status"] if has_status else "(SELECT NULL::VARCHAR AS resident_id, NULL::VARCHAR AS department, NULL::VARCHAR AS source_record_id, NULL::VARCHAR AS rule WHERE FALSE)") +
                 " w USING (resident_id)")
    parts.append(f"""SELECT resident_id, 'assistance_kinds', assistance_kind, department, source_record_id, 'aggregate'
                     FROM _member WHERE assistance_status IN ({active_list}) AND assistance_kind IS NOT NULL""")
    parts.append(f"""SELECT resident_id, 'assistance_amount_total', CAST(monthly_amount AS VARCHAR), department,
                            source_record_id, 'aggregate'
                     FROM _member WHERE assistance_status IN ({active_list}) AND monthly_amount IS NOT NULL""")
    lineage_sql = "\nUNION ALL\n".join(parts)
    if partial:
        splice(con, "lineage", "resident_id", _TOUCHED, f"SELECT *, NULL::VARCHAR AS decision_id FROM ({lineage_sql})")
    else:
        con.execute("CREATE OR REPLACE TABLE lineage AS " + lineage_sql)
        con.execute("ALTER TABLE lineage ADD COLUMN decision_id VARCHAR")

    applied, unmatched, rejected = apply_overrides(con, attrs)
    n_conflicts = write_conflicts(con, _TOUCHED if partial else None)
    _write_basis(con, partial, standing)

    residents_n = con.execute("SELECT count(*) FROM residents").fetchone()[0]
    lineage_n = con.execute("SELECT count(*) FROM lineage").fetchone()[0]
    decided = dict(con.execute("SELECT rule, count(*) FROM lineage GROUP BY rule ORDER BY rule").fetchall())
    recomputed = con.execute("SELECT count(DISTINCT resident_id) FROM _member").fetchone()[0]
    for t in ["_member", "_member_count", "_facts", "_golden", "_overrides", "_touched", *wins.values()]:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return SurvivorshipSummary(residents=residents_n, lineage_rows=lineage_n, conflicts=n_conflicts,
                               overrides_applied=applied, overrides_unmatched=unmatched,
                               overrides_rejected=rejected, rules_decided=decided, recomputed=recomputed,
                               mode="incremental" if partial else "full")


def _write_basis(con: duckdb.DuckDBPyConnection, partial: bool, standing: Basis) -> None:
    """Remember what the golden tables were computed from, for the next incremental call."""
    members = "SELECT record_uid, resident_id, record_hash FROM _member"
    if partial:
        splice(con, "golden_members", "resident_id", _TOUCHED, members)
        mark_recomputed(con, contracts.RESIDENTS_RECOMPUTED, _TOUCHED)
    else:
        con.execute(f"CREATE OR REPLACE TABLE golden_members AS {members}")
        clear_recomputed(con, contracts.RESIDENTS_RECOMPUTED)
    standing.record(con)
