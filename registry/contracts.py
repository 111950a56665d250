"""The contracts between the stages, in code: what each department delivers, and the shape of every
table the nightly merge keeps in its working state or publishes.

Loaders, stages, publish and the tests' factories build their tables from these definitions
(`Table.ddl`, `Table.columns`), so a column is named and typed in one place; docs/ARCHITECTURE.md
says what the tables mean and points here for their columns. DuckDB types throughout; "unknown" is
always NULL, never ''.

Two tables are shaped by configuration, not here: `residents` (its columns follow
registry/residents/survivorship.yaml; `RESIDENT_LEADING_COLUMNS` come first) and
`resident_history` (the residents' columns plus `HISTORY_VALIDITY`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.sql import quote_identifier

# ---------------------------------------------------------------- the departments (DEPARTMENTS.md)


@dataclass(frozen=True)
class Department:
    """What one department delivers each night: one full snapshot file in the landing zone,
    <landing>/<YYYY-MM-DD>/<name>/<file_pattern with {ymd}>."""

    name: str
    file_pattern: str          # {ymd}: the extract date as YYYYMMDD
    file_format: str           # csv | xlsx | jsonl
    encoding: str              # declared text encoding ('' for a workbook)
    columns: tuple[str, ...]   # the department's own columns (keys for JSON Lines), in delivery order
    record_key: str            # the department's record key column: stable from night to night
    key_prefix: str            # keys are <prefix> + 10 digits (others are loaded, with a note)
    id_number_column: str      # the citizen identity number's column
    sheet: str | None = None   # the workbook's sheet

    def file_name(self, extract_date: str) -> str:
        """The data file's name for an extract date given as YYYY-MM-DD."""
        return self.file_pattern.format(ymd=extract_date.replace("-", ""))

    @property
    def key_pattern(self) -> str:
        """The regular expression a well-formed record key matches."""
        return f"^{self.key_prefix}[0-9]{{10}}$"

    def record_id(self, number: int) -> str:
        """The well-formed record key with this number (e.g. GA0000000001)."""
        return f"{self.key_prefix}{number:010d}"


DEPARTMENT_SPECS: dict[str, Department] = {d.name: d for d in (
    Department("public_security", "hukou_{ymd}.csv", "csv", "gb18030",
               ("人员编号", "公民身份号码", "姓名", "曾用名", "性别", "民族", "出生日期", "户籍地址", "现住址", "户号",
                "与户主关系", "人口类型", "人员状态", "变动日期"),
               record_key="人员编号", key_prefix="GA", id_number_column="公民身份号码"),
    Department("family_planning", "jisheng_{ymd}.xlsx", "xlsx", "",
               ("个案编号", "家庭档案号", "姓名", "身份证号", "性别", "出生年月", "婚姻状况", "家庭角色", "子女数",
                "独生子女证号", "联系电话", "现居住地", "登记日期"),
               record_key="个案编号", key_prefix="JS", id_number_column="身份证号", sheet="个案信息"),
    Department("civil_affairs", "minzheng_{ymd}.csv", "csv", "utf-8-sig",
               ("对象编号", "姓名", "证件号码", "性别", "出生日期", "救助类别", "残疾人证号", "月保障金额", "家庭住址",
                "所属街道", "所属社区", "联系电话", "审批日期", "状态"),
               record_key="对象编号", key_prefix="MZ", id_number_column="证件号码"),
    Department("labour", "laodong_{ymd}.jsonl", "jsonl", "utf-8",
               ("GRBH", "XM", "SFZH", "XB", "CSRQ", "LXDH", "HJDZ", "JZDZ", "JYZT", "DWMC", "SYDJRQ", "CBZT", "GXSJ"),
               record_key="GRBH", key_prefix="LD", id_number_column="SFZH"),
)}

DEPARTMENTS: tuple[str, ...] = tuple(DEPARTMENT_SPECS)


def department(name: str) -> Department:
    """The specification of a department; ValueError naming the four for any other name."""
    try:
        return DEPARTMENT_SPECS[name]
    except KeyError:
        raise ValueError(f"unknown department {name!r}; expected one of {DEPARTMENTS}") from None


def record_uid(department_name: str, source_record_id: str) -> str:
    """A record's key across departments (Splink's unique_id): department:source_record_id."""
    return f"{department_name}:{source_record_id}"


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """A table's name and columns (name, DuckDB type) in contract order; `key` its primary key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def ddl(self, name: str | None = None, *, constraints: bool = True, replace: bool = False) -> str:
        """CREATE TABLE for this shape (under another name if given; IF NOT EXISTS unless replace)."""
        cols = []
        for column, type_ in self.columns:
            extra = " NOT NULL" if constraints and column in self.not_null else ""
            extra += " PRIMARY KEY" if constraints and self.key == (column,) else ""
            cols.append(f"{quote_identifier(column)} {type_}{extra}")
        if constraints and len(self.key) > 1:
            cols.append(f"PRIMARY KEY ({', '.join(quote_identifier(c) for c in self.key)})")
        head = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
        return f"{head} {name or self.name} ({', '.join(cols)})"

    def empty_select(self) -> str:
        """A SELECT of no rows with this shape (for a missing input read as empty)."""
        cols = ", ".join(f"CAST(NULL AS {t}) AS {quote_identifier(c)}" for c, t in self.columns)
        return f"SELECT {cols} LIMIT 0"


def _cols(text: str) -> tuple[tuple[str, str], ...]:
    """'a VARCHAR, b DECIMAL(12,2)' -> (('a', 'VARCHAR'), ('b', 'DECIMAL(12,2)'))."""
    return tuple(tuple(part.strip().split(None, 1)) for part in re.split(r",(?![^()]*\))", text))


# Provenance columns of every raw snapshot, after the department's own (all VARCHAR) columns.
RECORD_HASH_COLUMN = "_record_hash"
RAW_PROVENANCE = _cols(f"_source_file VARCHAR, _source_line BIGINT, _extract_date DATE, {RECORD_HASH_COLUMN} VARCHAR")


def raw_table(department_name: str) -> str:
    return f"raw_{department_name}"


def raw_snapshot(department_name: str) -> Table:
    """raw_<department>: the department's current snapshot, verbatim."""
    own = tuple((c, "VARCHAR") for c in department(department_name).columns)
    return Table(raw_table(department_name), own + RAW_PROVENANCE)


# --- run ledger and bookkeeping (registry/runs.py)
RUNS = Table("runs", _cols("run_id VARCHAR, extract_date DATE, mode VARCHAR, status VARCHAR, started_at TIMESTAMP, "
                           "finished_at TIMESTAMP, message VARCHAR, stats JSON"), key=("run_id",))
RUN_STAGES = Table("run_stages", _cols("run_id VARCHAR, stage VARCHAR, seconds DOUBLE, stats JSON, "
                                       "recorded_at TIMESTAMP"))
STATE_META = Table("state_meta", _cols("key VARCHAR, value VARCHAR"), key=("key",))

# --- deliveries (registry/departments)
DELIVERIES = Table("deliveries", _cols(
    "run_extract_date DATE, department VARCHAR, delivery_date DATE, file VARCHAR, status VARCHAR, reason VARCHAR, "
    "rows_delivered BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, sha256 VARCHAR"))
QUARANTINE = Table("quarantine", _cols(
    "extract_date DATE, department VARCHAR, file VARCHAR, line BIGINT, record_key VARCHAR, field VARCHAR, "
    "value VARCHAR, reason VARCHAR"))

# --- standardised records (registry/standardise)
_ADDRESS_PARTS = ("address_raw", "address", "province", "city", "district", "street", "community", "rest")
RECORDS = Table("records", _cols(
    "record_uid VARCHAR, department VARCHAR, source_record_id VARCHAR, extract_date DATE, source_file VARCHAR, "
    "source_line BIGINT, record_hash VARCHAR, "
    "id_number_raw VARCHAR, id_number VARCHAR, id_number_valid BOOLEAN, id_number_form VARCHAR, id_birth_date DATE, "
    "id_sex VARCHAR, "
    "name_raw VARCHAR, name VARCHAR, name_plain VARCHAR, name_pinyin VARCHAR, name_is_pinyin BOOLEAN, surname VARCHAR, "
    "given_name VARCHAR, former_name VARCHAR, former_name_pinyin VARCHAR, "
    "sex_raw VARCHAR, sex VARCHAR, birth_date_raw VARCHAR, birth_date DATE, birth_year INTEGER, birth_month INTEGER, "
    "birth_day INTEGER, birth_date_precision VARCHAR, sex_disagrees_id BOOLEAN, birth_disagrees_id BOOLEAN, "
    "ethnicity VARCHAR, "
    "phone_raw VARCHAR, phone VARCHAR, phone_kind VARCHAR, "
    + "".join(f"{p}_{c} VARCHAR, " for p in ("hukou", "current") for c in _ADDRESS_PARTS) +
    "household_id VARCHAR, relation_to_head VARCHAR, family_role VARCHAR, "
    "population_type VARCHAR, person_status VARCHAR, status_change_date DATE, marital_status VARCHAR, "
    "children_count INTEGER, one_child_cert VARCHAR, assistance_kind VARCHAR, assistance_status VARCHAR, "
    "monthly_amount DECIMAL(12,2), approval_date DATE, disability_cert VARCHAR, disability_id_number VARCHAR, "
    "disability_category INTEGER, disability_level INTEGER, employment_status VARCHAR, employer VARCHAR, "
    "unemployment_date DATE, insurance_status VARCHAR, record_updated_at TIMESTAMP"))
RECORD_CHANGES = Table("record_changes", _cols("record_uid VARCHAR, department VARCHAR, change VARCHAR"))

# --- linkage (registry/linkage)
LINKS = Table("links", _cols("record_uid_l VARCHAR, record_uid_r VARCHAR, match_weight DOUBLE, "
                             "match_probability DOUBLE, evidence VARCHAR"))
CLUSTERS = Table("clusters", _cols("record_uid VARCHAR, cluster_id VARCHAR, cluster_size INTEGER"))
CLUSTER_COMPONENTS = Table("cluster_components", _cols("record_uid VARCHAR, component_id VARCHAR"))
CLUSTER_DECISIONS = Table("cluster_decisions", _cols("record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN"))
CLUSTERS_RECOMPUTED = Table("clusters_recomputed", _cols("record_uid VARCHAR"))
# the records whose links changed tonight: the night's changes, and those household evidence or a
# changed name frequency moved with them (clustering and the review queue seed from it)
LINKS_RECOMPUTED = Table("links_recomputed", _cols("record_uid VARCHAR"))
# the pairs household evidence adjusted, with the model's own values (registry/linkage/households.py)
HOUSEHOLD_LINKS = Table("household_links", _cols("record_uid_l VARCHAR, record_uid_r VARCHAR, "
                                                 "base_match_weight DOUBLE, base_match_probability DOUBLE, "
                                                 "base_evidence VARCHAR"))
# the name frequencies tonight's links were scored with (registry/linkage/term_frequencies.py)
LINKAGE_TERM_FREQUENCIES = Table("linkage_term_frequencies", _cols("column_name VARCHAR, value VARCHAR, tf DOUBLE"))

# --- officers' decisions, loaded for the run (registry/review/decisions.py)
LINK_DECISIONS = Table("link_decisions", _cols("record_uid_l VARCHAR, record_uid_r VARCHAR, same BOOLEAN, "
                                               "decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP"))
VALUE_OVERRIDES = Table("value_overrides", _cols("resident_id VARCHAR, attribute VARCHAR, value VARCHAR, "
                                                 "decision_id VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP"))

# --- residents (registry/residents)
RESIDENT_IDS = Table("resident_ids", _cols("resident_id VARCHAR, status VARCHAR, created_run_id VARCHAR, "
                                           "created_date DATE, retired_run_id VARCHAR, retired_date DATE, "
                                           "merged_into VARCHAR"), key=("resident_id",), not_null=("status",))
# resident_ids issued by a night that was taken back (registry rollback): in no registry, never reissued.
WITHDRAWN_RESIDENT_IDS = Table("withdrawn_resident_ids", _cols("resident_id VARCHAR, issued_run_id VARCHAR, "
                                                               "withdrawn_at TIMESTAMP"), key=("resident_id",))
RESIDENT_EVENTS = Table("resident_events", _cols("run_id VARCHAR, extract_date DATE, event VARCHAR, "
                                                 "resident_id VARCHAR, other_resident_id VARCHAR, detail JSON"))
CROSSWALK = Table("crosswalk", _cols("department VARCHAR, source_record_id VARCHAR, record_uid VARCHAR, "
                                     "resident_id VARCHAR, match_probability DOUBLE"))
CROSSWALK_RECOMPUTED = Table("crosswalk_recomputed", _cols("record_uid VARCHAR"))
RESIDENTS_TABLE = "residents"              # columns: RESIDENT_LEADING_COLUMNS, then survivorship.yaml's
RESIDENT_HISTORY_TABLE = "resident_history"  # the residents' columns + HISTORY_VALIDITY
RESIDENT_LEADING_COLUMNS = ("resident_id", "id_number", "name", "sex", "birth_date", "ethnicity", "hukou_address",
                            "current_address", "phone", "status")
LINEAGE = Table("lineage", _cols("resident_id VARCHAR, attribute VARCHAR, value VARCHAR, department VARCHAR, "
                                 "source_record_id VARCHAR, rule VARCHAR, decision_id VARCHAR"))
CONFLICTS = Table("conflicts", _cols("resident_id VARCHAR, attribute VARCHAR, values JSON"))
HISTORY_VALIDITY = _cols("valid_from DATE, valid_to DATE")
GOLDEN_MEMBERS = Table("golden_members", _cols("record_uid VARCHAR, resident_id VARCHAR, record_hash VARCHAR"))
RESIDENTS_RECOMPUTED = Table("residents_recomputed", _cols("resident_id VARCHAR"))

# --- review (registry/review)
REVIEW_QUEUE = Table("review_queue", _cols(
    "item_id VARCHAR, kind VARCHAR, priority INTEGER, status VARCHAR, resident_id VARCHAR, street VARCHAR, "
    "community VARCHAR, summary VARCHAR, subject JSON, evidence JSON, evidence_hash VARCHAR, first_raised_date DATE, "
    "decided_at TIMESTAMP, decision VARCHAR"))
REVIEW_LINK_DECISIONS_BASIS = Table("review_link_decisions_basis", CLUSTER_DECISIONS.columns)
REVIEW_DECISIONS_ORPHANED = Table("review_decisions_orphaned", _cols(
    "decision_id VARCHAR, item_id VARCHAR, kind VARCHAR, decision VARCHAR, record_l VARCHAR, record_r VARCHAR, "
    "resident_id VARCHAR, attribute VARCHAR, value VARCHAR, decided_by VARCHAR, decided_at TIMESTAMP, "
    "reason VARCHAR, missing VARCHAR"))


# --- linkage health (registry/health)
RECORD_LINKABILITY = Table("record_linkability", _cols(
    "record_uid VARCHAR, department VARCHAR, self_match_weight DOUBLE, self_match_probability DOUBLE"))
LINKAGE_HEALTH = Table("linkage_health", _cols(
    "run_id VARCHAR, extract_date DATE, figure VARCHAR, department VARCHAR, other VARCHAR, value DOUBLE, "
    "numerator BIGINT, denominator BIGINT, baseline DOUBLE, threshold DOUBLE, status VARCHAR, message VARCHAR"))

# ---------------------------------------------------------------- the published registry


@dataclass(frozen=True)
class Published:
    """A table of HOME/published/registry.duckdb, and how an incremental publish brings yesterday's
    copy of it up to tonight's (registry/publish/deltas.py):

    by_resident  rows of the residents survivorship recomputed tonight (`residents_recomputed`) replaced
    by_key       rows of the keys tonight may have touched replaced (`key`), verified by a checksum
    by_run       tonight's rows (column run_id) replaced
    rewrite      small, any row may change: written whole
    """

    name: str
    delta: str
    key: str | None = None
    shape: Table | None = None   # the contract's shape: published empty when the run database lacks it
    required: bool = False       # the run database must hold it (else the registry is not published)


# --- what departments receive (registry/sharing)
# A department's record whose standardised value differs from the golden value, and where that came from.
DISCREPANCIES = Table("discrepancies", _cols(
    "department VARCHAR, source_record_id VARCHAR, resident_id VARCHAR, attribute VARCHAR, record_value VARCHAR, "
    "golden_value VARCHAR, golden_department VARCHAR, golden_rule VARCHAR"))


PUBLISHED_TABLES: tuple[Published, ...] = (
    Published(RESIDENTS_TABLE, "by_resident", required=True),
    Published("crosswalk", "by_key", key="record_uid", shape=CROSSWALK, required=True),
    Published("lineage", "by_resident", shape=LINEAGE, required=True),
    Published("conflicts", "by_resident", shape=CONFLICTS, required=True),
    Published("resident_events", "by_run", shape=RESIDENT_EVENTS, required=True),
    Published(RESIDENT_HISTORY_TABLE, "by_resident", required=True),
    Published("resident_ids", "by_key", key="resident_id", shape=RESIDENT_IDS),
    Published("review_queue", "rewrite", shape=REVIEW_QUEUE),
    Published("runs", "rewrite", shape=RUNS),
    Published("quarantine", "rewrite", shape=QUARANTINE),
    Published("deliveries", "rewrite", shape=DELIVERIES),
    Published(DISCREPANCIES.name, "by_resident", shape=DISCREPANCIES),
)
