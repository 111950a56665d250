"""The access policy (registry/access_policy.yaml) as the service enforces it, on every request.

For each department: the golden-record columns it may see (an allow-list), which sensitive columns
among them it is entitled to and for what purpose (个人信息保护法 art. 28: sensitive personal information
only for a specific purpose; a sensitive column listed without one is refused when the policy loads),
the lookups it may make, and whether it sees its own crosswalk keys. Nothing is allowed by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from registry.access import AccessError

# The reads a department can be allowed (`lookups:` in the policy); one per kind of department API call.
LOOKUPS: dict[str, str] = {
    "record": "its own record key -> the resident (GET /api/v1/records/{department}/{source_record_id})",
    "resident": "a resident by resident_id (GET /api/v1/residents/{resident_id})",
    "id_number": "find residents by identity number, with a stated purpose (GET /api/v1/residents?id_number=)",
    "name_birth_date": "find residents by name and birth date, with a stated purpose "
                       "(GET /api/v1/residents?name=&birth_date=)",
    "export": "its whole view as one Parquet file (GET /api/v1/export.parquet)",
    "changes": "the change feed since a cursor (GET /api/v1/changes)",
    "discrepancies": "its own records that differ from the golden record (GET /api/v1/discrepancies)",
}


class PolicyError(AccessError, ValueError):
    """The access policy file is not one the service can enforce."""


@dataclass(frozen=True)
class DepartmentPolicy:
    department: str
    columns: tuple[str, ...]          # golden-record columns, resident_id first
    sensitive: dict[str, str]         # sensitive column -> the purpose it is processed for
    lookups: frozenset[str]
    own_crosswalk: bool               # sees its own record keys (never another department's)
    unix_group: str | None = None     # owner group of its Parquet extract folder, if any

    def allows(self, lookup: str) -> bool:
        return lookup in self.lookups


@dataclass(frozen=True)
class Policy:
    path: Path
    sensitive_columns: frozenset[str]
    departments: dict[str, DepartmentPolicy]

    def department(self, name: str) -> DepartmentPolicy:
        try:
            return self.departments[name]
        except KeyError:
            raise PolicyError(f"{self.path}: no department {name!r} (one of {', '.join(self.departments)})") from None

    @property
    def visible_columns(self) -> tuple[str, ...]:
        """Every column some department may see, in first-seen order."""
        return tuple(dict.fromkeys(c for d in self.departments.values() for c in d.columns))


def load_policy(path: str | Path | None = None, residents_columns: set[str] | None = None) -> Policy:
    """Read and check the policy. residents_columns: when given, every listed column must exist in it."""
    from registry.publish.access import ACCESS_POLICY, load_access_policy

    path = Path(path or ACCESS_POLICY)
    base = load_access_policy(path)
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    sensitive_columns = frozenset(_flatten(raw.get("sensitive_columns") or []))
    departments = {}
    for dept, spec in base.items():
        where = f"{path}: department {dept!r}"
        columns = list(spec["residents_columns"])
        if "resident_id" not in columns:
            raise PolicyError(f"{where}: residents_columns must include resident_id")
        columns.remove("resident_id")
        sensitive = spec.get("sensitive") or {}
        if not isinstance(sensitive, dict) or not all(isinstance(v, str) and v.strip() for v in sensitive.values()):
            raise PolicyError(f"{where}: `sensitive` maps each sensitive column to the purpose it is read for")
        unnamed = [c for c in columns if c in sensitive_columns and c not in sensitive]
        if unnamed:
            raise PolicyError(f"{where}: sensitive columns {', '.join(unnamed)} listed without a purpose "
                              "under `sensitive`")
        stray = [c for c in sensitive if c not in columns]
        if stray:
            raise PolicyError(f"{where}: `sensitive` names {', '.join(stray)}, which are not in its residents_columns")
        lookups = spec.get("lookups") or []
        unknown = [x for x in lookups if x not in LOOKUPS]
        if unknown:
            raise PolicyError(f"{where}: unknown lookups {', '.join(map(str, unknown))} (one of {', '.join(LOOKUPS)})")
        if residents_columns is not None:
            missing = [c for c in columns if c not in residents_columns]
            if missing:
                raise PolicyError(f"{where}: residents has no columns {', '.join(missing)}")
        departments[dept] = DepartmentPolicy(
            department=dept, columns=("resident_id", *columns), sensitive=dict(sensitive),
            lookups=frozenset(lookups), own_crosswalk=spec.get("crosswalk", "own") == "own",
            unix_group=spec.get("unix_group"))
    return Policy(path=path, sensitive_columns=sensitive_columns, departments=departments)


def _flatten(items) -> list[str]:
    out: list[str] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out
