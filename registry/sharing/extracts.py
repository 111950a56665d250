"""Per-department Parquet extracts, written at each publish before the swap (a publish artifact).

HOME/extracts/<department>/registry-<run_id>.parquet: the department's whole view — every resident, in
the policy's columns only, with `source_record_ids` (the department's own record keys of that resident,
never another department's) — one row per resident, ordered by resident_id. Parquet, so that any tool
and any DuckDB version reads it; its key-value metadata names the run, the department and the extract
date. The service serves it as GET /api/v1/export.parquet; a department's Unix group (policy
`unix_group`) may be given its folder. Written from the new registry file before it is swapped in, so
a published run always has its extracts; a failure here fails the publish. The newest seven per
department stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import grp
import logging
import os
from pathlib import Path

import duckdb

from registry.access.files import TRAVERSE_ONLY, private_dir
from registry.access.policy import DepartmentPolicy, Policy, load_policy
from registry.home import Home
from registry.sql import columns, quote_identifier, quote_literal

if TYPE_CHECKING:   # publish registers these artifacts: importing it here would be circular
    from registry.publish.context import PublishContext

log = logging.getLogger(__name__)


def extracts_root(home: Home) -> Path:
    return private_dir(home.extracts_dir, TRAVERSE_ONLY)


def extract_dir(home: Home, dept: DepartmentPolicy) -> Path:
    """The department's folder: the service's alone, or also its Unix group's (read only)."""
    folder = extracts_root(home) / dept.department
    gid = _group_id(dept.unix_group)
    private_dir(folder, 0o750 if gid is not None else 0o700)
    if gid is not None:
        os.chown(folder, -1, gid)
    return folder


def extract_path(home: Home, department: str, run_id: str) -> Path:
    return home.extracts_dir / department / f"registry-{run_id}.parquet"


def _group_id(name: str | None) -> int | None:
    if not name:
        return None
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        log.warning("access policy: unix_group %r does not exist; the extract folder stays the service's own", name)
        return None


def view_sql(dept: DepartmentPolicy, database: str) -> str:
    """The department's whole view: every resident in its columns (+ its own record keys); `database` is
    the (quoted) catalog holding the registry's tables."""
    cols = ", ".join(f'r."{c}"' for c in dept.columns)
    if not dept.own_crosswalk:
        return f"SELECT {cols} FROM {database}.residents r ORDER BY r.resident_id"
    return f"""
        SELECT {cols}, coalesce(k.source_record_ids, []) AS source_record_ids
        FROM {database}.residents r
        LEFT JOIN (SELECT resident_id, list(source_record_id ORDER BY source_record_id) AS source_record_ids
                   FROM {database}.crosswalk WHERE department = {quote_literal(dept.department)}
                   GROUP BY resident_id) k
          USING (resident_id)
        ORDER BY r.resident_id"""


def write_extract(con: duckdb.DuckDBPyConnection, database: str, home: Home, dept: DepartmentPolicy,
                  run_id: str, extract_date: str | None) -> Path:
    """One department's extract from `database` (attached to con); atomically in place."""
    folder = extract_dir(home, dept)
    path = folder / f"registry-{run_id}.parquet"
    tmp = folder / f".writing-{run_id}.parquet"
    tmp.unlink(missing_ok=True)
    meta = {"run_id": run_id, "department": dept.department, "extract_date": extract_date or ""}
    kv = ", ".join(f"{k}: '{str(v).replace(chr(39), '')}'" for k, v in meta.items())
    quoted = str(tmp).replace("'", "''")
    con.execute(f"COPY ({view_sql(dept, database)}) TO '{quoted}' "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000, KV_METADATA {{{kv}}})")
    os.chmod(tmp, 0o640 if folder.stat().st_mode & 0o050 else 0o600)
    os.replace(tmp, path)
    return path


class DepartmentExtracts:
    """The publish artifact: every department's extract of the file being finished."""

    name = "department_extracts"
    keep = 7

    def prepare(self, con: duckdb.DuckDBPyConnection, ctx: PublishContext) -> Policy:
        return load_policy(ctx.access_policy, residents_columns=set(columns(con, "residents")))

    def write(self, pub: duckdb.DuckDBPyConnection, ctx: PublishContext) -> list[str]:
        policy: Policy = ctx.prepared[self.name]
        database = quote_identifier(pub.execute("SELECT current_database()").fetchall()[0][0])
        written = [write_extract(pub, database, ctx.home, spec, ctx.night.run_id, ctx.night.extract_date or None)
                   for spec in policy.departments.values()]
        for path in written:
            _prune(path.parent, self.keep, path)
        return [str(p.relative_to(ctx.home.root)) for p in written]


def _prune(folder: Path, keep: int, current: Path) -> None:
    files = sorted(folder.glob("registry-*.parquet"), key=lambda p: (p.stat().st_mtime, p.name))
    for old in files[:-max(keep, 1)]:
        if old != current:
            old.unlink(missing_ok=True)
