"""The access policy (registry/access_policy.yaml): which golden columns each department may read, and
whether it reads its own crosswalk; published as one view per department and table."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from registry.errors import PublishError
from registry.package_files import package_file
from registry.publish.context import PublishContext
from registry.sql import columns, quote_identifier, quote_literal

ACCESS_POLICY = package_file("access_policy.yaml")


def _flatten(items) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def load_access_policy(path: str | Path | None = None) -> dict[str, dict]:
    """{department: {"residents_columns": [...], "crosswalk": "own" | "none"}}"""
    path = Path(path or ACCESS_POLICY)
    with open(path, encoding="utf-8") as fh:
        policy = yaml.safe_load(fh) or {}
    depts = policy.get("departments") or {}
    for dept, spec in depts.items():
        spec["residents_columns"] = list(dict.fromkeys(_flatten(spec.get("residents_columns") or [])))
        if spec.get("crosswalk", "own") not in ("own", "none"):
            raise PublishError(f"{path}: department {dept!r}: crosswalk must be 'own' or 'none'")
    return depts


def department_views(policy: dict[str, dict], residents_columns: set[str]) -> dict[str, str]:
    """view name -> SELECT: each department's residents columns, and its own crosswalk rows."""
    views = {}
    for dept, spec in policy.items():
        unknown = [c for c in spec["residents_columns"] if c not in residents_columns]
        if unknown:
            raise PublishError(f"access policy for {dept!r} names columns that residents does not have: "
                               + ", ".join(unknown))
        cols = ", ".join(quote_identifier(c) for c in spec["residents_columns"])
        views[f"{dept}_residents"] = f"SELECT {cols} FROM residents"
        if spec.get("crosswalk", "own") == "own":
            views[f"{dept}_crosswalk"] = (
                "SELECT department, source_record_id, resident_id, match_probability FROM crosswalk "
                f"WHERE department = {quote_literal(dept)}")
    return views


class DepartmentViews:
    """The artifact: one view of the residents and one of the crosswalk per department."""

    name = "department_views"

    def prepare(self, con: duckdb.DuckDBPyConnection, ctx: PublishContext) -> dict[str, str]:
        return department_views(load_access_policy(ctx.access_policy), set(columns(con, "residents")))

    def write(self, pub: duckdb.DuckDBPyConnection, ctx: PublishContext) -> list[str]:
        # Views are created through the file's own connection so that they name its tables without a
        # catalog prefix (an ATTACH alias baked into a view breaks for every reader).
        views: dict[str, str] = ctx.prepared[self.name]
        for view, sql in views.items():
            pub.execute(f"CREATE VIEW {view} AS {sql}")
        return sorted(views)
