"""Publish the registry: check tonight's tables, build a new DuckDB file beside the published one,
swap it in atomically.

1. Blocking checks on the run database (checks.py: SQL across tables and the `published_registry`
   suite on `residents`). Any failure raises PublishError; nothing under HOME/published is touched.
2. Build HOME/published/.building-<run_id>.duckdb: in full (build.py: the published tables of
   registry.contracts copied inside DuckDB), or on an incremental night whose base is exactly the
   published file, as that file plus tonight's changes (deltas.py), equal to a full build. The
   artifacts (artifacts.py: the department views of the access policy, access.py) are written into it;
   it is checkpointed and closed (no WAL left beside it).
3. Swap it over HOME/published/registry.duckdb (versions.py): an atomic rename. A crash at any earlier
   moment leaves the old registry as it was (the half-built file is removed by the next publish).
4. Keep a version as HOME/published/versions/registry-<run_id>.duckdb; the newest keep_versions stay.

The published file can be copied ahead while the night is computed (base_copy.py, started by
registry.runtime); an incremental publish then starts from that copy.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from registry import contracts
from registry.errors import PublishError
from registry.home import Home
from registry.incremental import recomputed
from registry.night import NightPlan
from registry.publish import checks, deltas, versions
from registry.publish.access import load_access_policy
from registry.publish.artifacts import ARTIFACTS
from registry.publish.base_copy import BaseCopy
from registry.publish.build import build_full
from registry.publish.checks import CheckResult, blocking_checks
from registry.publish.context import PublishContext
from registry.runs import PUBLISH_STAGE as STAGE

log = logging.getLogger(__name__)

__all__ = ["publish", "PublishResult", "PublishError", "CheckResult", "BaseCopy", "STAGE", "blocking_checks",
           "load_access_policy"]


@dataclass
class PublishResult:
    run_id: str
    path: Path
    version_path: Path | None
    tables: dict[str, int]
    artifacts: dict[str, list[str]]
    checks: list[CheckResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    build: str = "full"             # full | incremental: how the file was built
    build_reason: str = ""          # why it was built in full, or what it was built from
    suite_digest: str = ""          # the GX suite checked tonight (a changed suite checks every row again)
    step_seconds: dict[str, float] = field(default_factory=dict)
    file: dict = field(default_factory=dict)   # blocks, rows, and blocks per row at the last full build

    @property
    def views(self) -> list[str]:
        return sorted(self.artifacts.get("department_views", []))

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "path": str(self.path),
                "version_path": str(self.version_path) if self.version_path else None,
                "tables": self.tables, "views": self.views, "warnings": self.warnings,
                "checks": [c.__dict__ for c in self.checks], "seconds": round(self.seconds, 3),
                "build": self.build, "build_reason": self.build_reason, "suite_digest": self.suite_digest,
                "step_seconds": {k: round(v, 3) for k, v in self.step_seconds.items()}, "file": self.file}


def publish(con: duckdb.DuckDBPyConnection, home: Home, night: NightPlan, keep_versions: int = 7,
            access_policy: str | Path | None = None, *, base_copy: BaseCopy | None = None) -> PublishResult:
    """Check the run's registry tables and atomically replace HOME/published/registry.duckdb.

    On an incremental night the new file is the published one plus tonight's changes when that file
    is exactly this run's starting point (deltas.incremental_base); the result is the same registry
    as a full build. base_copy: the published file copied ahead during the run (used, or removed, here)."""
    try:
        return _publish(con, home, night, keep_versions, access_policy, base_copy)
    finally:
        if base_copy is not None:
            base_copy.discard()


def _publish(con, home: Home, night: NightPlan, keep_versions, access_policy, base_copy) -> PublishResult:
    started = time.monotonic()
    steps: dict[str, float] = {}
    found = blocking_checks(con)
    steps["sql checks"] = time.monotonic() - started
    digest = checks.suite_digest()
    resurvived = recomputed(con, contracts.RESIDENTS_RECOMPUTED)
    # Rows not recomputed tonight passed this very suite the night they were computed.
    gx_scope = (resurvived if night.incremental and digest and night.previous_publish.get("suite_digest") == digest
                else None)
    if all(c.passed for c in found):
        clock = time.monotonic()
        found += checks.quality_suite(con, gx_scope)
        steps["gx suite"] = time.monotonic() - clock
    failed = [c for c in found if not c.passed and c.severity == "block"]
    if failed:
        raise PublishError("registry not published, blocking checks failed: "
                           + "; ".join(f"{c.name}: {c.failing} failing {c.detail}".strip() for c in failed),
                           checks=found)
    warnings = [f"{c.name}: {c.failing} failing {c.detail}".strip() for c in found
                if not c.passed and c.severity == "warn"]

    ctx = PublishContext(home=home, night=night, access_policy=access_policy)
    for artifact in ARTIFACTS:
        ctx.prepared[artifact.name] = artifact.prepare(con, ctx)

    home.published_dir.mkdir(parents=True, exist_ok=True)
    versions.clean_stale_builds(home.published_dir, night.run_id)
    building = versions.building_path(home, night.run_id)
    clock = time.monotonic()
    use_base, reason = deltas.incremental_base(con, home, night)
    steps["base check"] = time.monotonic() - clock
    build = "incremental" if use_base else "full"
    try:
        built = None
        if use_base:
            try:
                ahead = base_copy.take() if base_copy is not None else None
                built = deltas.build_incremental(con, building, ctx, steps, warnings, ahead)
            except deltas.Diverged as exc:   # never publish a registry that differs from a full build
                log.warning("%s; building in full", exc)
                warnings.append(f"incremental publish abandoned: {exc}")
                build, reason = "full", str(exc)
                versions.remove_db_file(building)
        if built is None:
            clock = time.monotonic()
            built = build_full(con, building, ctx)
            steps["full build"] = time.monotonic() - clock
        counts, written = built
        file_figures = deltas.file_figures(building, counts, build, night.previous_publish)
        # Read-only on disk (kept versions are hard links to it, and no reader may write through it), and
        # the service's alone: departments read through the service or their extracts.
        os.chmod(building, 0o400)
        versions.swap(building, home.published_db)
    except BaseException:
        versions.remove_db_file(building)
        raise
    # After the swap nothing may fail the run: the registry is published, and the run's state must follow.
    try:
        version = versions.keep_version(home, night.run_id, keep_versions)
    except OSError as exc:
        version = None
        warnings.append(f"version not kept: {exc}")
    result = PublishResult(run_id=night.run_id, path=home.published_db, version_path=version, tables=counts,
                           artifacts=written, checks=found, warnings=warnings,
                           seconds=time.monotonic() - started, build=build, build_reason=reason,
                           suite_digest=digest, step_seconds=steps, file=file_figures)
    log.info("published %s (%s build: %s): %s", home.published_db, build, reason, counts)
    return result
