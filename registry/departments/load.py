"""Load a department's nightly delivery into raw_<department>, recording the outcome.

One call per department per run. The newest delivery up to the run's extract date that loads
cleanly replaces raw_<department>; a rejected or missing night leaves the snapshot standing.
Row-level problems go to `quarantine`; the outcome goes to `deliveries`.

The quarantine rules are those of the readers (unparseable rows) and registry/departments/row_rules.py
(missing and repeated record keys, the key-format note).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from registry import contracts
from registry.errors import DeliveryStopsNight
from registry.departments import COLUMNS, DEPARTMENTS, RECORD_HASH_COLUMN, RECORD_KEYS, record_hash_sql
from registry.departments.landing import (DeliveryRejected, available_dates, check_manifest_identity,
                                          deliveries_for, earlier_deliveries, read_manifest, sha256_of)
from registry.departments.readers import read_delivery
from registry.departments.row_rules import NOTE_REASONS, ROW_REASONS, screen_rows
from registry.shrink import ShrinkGuard, delivery_held_back
from registry.sql import drop_temporaries, table_exists
from registry.sql import quote_identifier as _q
from registry.sql import quote_literal as _sql

if TYPE_CHECKING:
    from registry.departments.parsing import DeliveryParsing
    from registry.night import NightPlan

__all__ = ["load_department", "load_night", "stop_unless_usable", "available_dates", "deliveries_for",
           "DeliveryOutcome", "ensure_tables", "raw_table", "LOADED", "STALE", "REJECTED", "MISSING"]

LOADED, STALE, REJECTED, MISSING = "loaded", "stale", "rejected", "missing"



@dataclass
class DeliveryOutcome:
    """What one load_department call did.

    status          loaded | stale | rejected | missing (see deliveries in ARCHITECTURE.md)
    delivery_date   date of the delivery standing in raw_<department> afterwards (None: none ever)
    file            loaded/stale: the standing file; rejected: the refused file; missing: None
    reason          why (None when loaded cleanly)
    rows_delivered  data rows in the file loaded by this call (0 when nothing was (re)loaded)
    rows_loaded     rows standing in raw_<department> afterwards
    rows_quarantined rows of the file loaded by this call that were not loaded
    quarantined_by_reason  reason code -> count, row-level and value-level notes, for that file
    """

    department: str
    status: str
    delivery_date: str | None
    file: str | None
    reason: str | None
    rows_delivered: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(contracts.DELIVERIES.ddl())
    con.execute(contracts.QUARANTINE.ddl())


raw_table = contracts.raw_table


def _ensure_raw(con, department: str) -> None:
    con.execute(contracts.raw_snapshot(department).ddl())


def _hash_of(con, stage: str, department: str) -> str:
    """The staged rows' record hash: computed by the parsing worker when it read the file, else here."""
    has = con.execute(f"SELECT count(*) FROM (DESCRIBE {stage}) WHERE column_name = ?",
                      [RECORD_HASH_COLUMN]).fetchall()[0][0]
    return f"s.{RECORD_HASH_COLUMN}" if has else record_hash_sql(department)


def _standing(con, department: str) -> tuple[str | None, str | None, int]:
    """(delivery date, file, rows) of the snapshot in raw_<department>, or (None, None, 0)."""
    if not table_exists(con, raw_table(department)):
        return None, None, 0
    date, file, rows = con.execute(
        f"SELECT max(_extract_date)::VARCHAR, max(_source_file), count(*) FROM {raw_table(department)}").fetchall()[0]
    if date is None:  # an empty snapshot: what the deliveries log says stands
        row = con.execute("""SELECT delivery_date::VARCHAR, file FROM deliveries
                             WHERE department = ? AND status = 'loaded' ORDER BY run_extract_date DESC LIMIT 1""",
                          [department]).fetchall()
        if row:
            date, file = row[0]
    return date, file, int(rows)


def _begin(con) -> bool:
    try:
        con.execute("BEGIN TRANSACTION")
        return True
    except duckdb.TransactionException:  # the caller holds a transaction: write inside it
        return False


def _load_file(con, department: str, date: str, path: Path, workdir: Path,
               parsing: DeliveryParsing | None = None, shrink: ShrinkGuard | None = None) -> DeliveryOutcome:
    """Load one file into raw_<department> or raise DeliveryRejected (leaving raw untouched); `shrink`:
    hold back a delivery that would remove too much of the standing snapshot (registry.shrink)."""
    parsed = parsing.take(department, path) if parsing is not None else None
    stage = f"_stage_{department}_{uuid.uuid4().hex[:8]}"
    try:
        sha = parsed.sha256 if parsed is not None else sha256_of(path)
        manifest = read_manifest(path)
        if manifest is not None:
            check_manifest_identity(manifest, path, department, sha)
        staged = (parsed.stage(con, stage) if parsed is not None
                  else read_delivery(con, path, department, stage, workdir))
        if manifest is not None and manifest.rows is not None and manifest.rows != staged.rows_delivered:
            raise DeliveryRejected(f"{path.name}: does not match its manifest.json: {staged.rows_delivered} data "
                                   f"rows, manifest says {manifest.rows} (file truncated or corrupt)")
        screened = staged.notes is not None  # a worker ran the row rules on the file
        if not screened:
            staged = screen_rows(con, department, staged)
        n_rows_out = con.execute(f"SELECT count(*) FROM {staged.problems}").fetchall()[0][0]
        rows_loaded = staged.rows_delivered - n_rows_out
        if rows_loaded <= 0:
            raise DeliveryRejected(f"{path.name}: none of its {staged.rows_delivered} data rows could be loaded")
        if shrink is not None:
            key = _q(RECORD_KEYS[department])
            loadable = (f"SELECT {key} FROM {stage}" if screened else
                        f"SELECT {key} FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {staged.problems} q "
                        "WHERE q.line = s._source_line)")
            held = delivery_held_back(con, department, loadable, shrink)
            if held is not None:
                raise DeliveryRejected(f"{path.name}: {held}")

        cols = ", ".join(_q(c) for c in COLUMNS[department])
        own = _begin(con)
        try:
            select = f"""SELECT {cols}, {_sql(path.name)}::VARCHAR AS _source_file,
                                _source_line::BIGINT AS _source_line, DATE {_sql(date)} AS _extract_date,
                                {_hash_of(con, stage, department)} AS {RECORD_HASH_COLUMN}
                         FROM {stage} s"""
            # A worker's rows are already only the loadable ones. Sorted either way: the standardise stage
            # updates every record in line order, which a table stored in that order serves fastest.
            unloadable = "" if screened else (
                f"WHERE NOT EXISTS (SELECT 1 FROM {staged.problems} q WHERE q.line = s._source_line)")
            con.execute(f"CREATE OR REPLACE TABLE {raw_table(department)} AS {select} {unloadable} "
                        "ORDER BY _source_line")
            codes = ", ".join(_sql(r) for r in ROW_REASONS + NOTE_REASONS)
            con.execute(f"""DELETE FROM quarantine WHERE department = ? AND file = ?
                            AND split_part(reason, ':', 1) IN ({codes})""", [department, path.name])
            for source in (staged.problems, staged.notes):
                con.execute(f"""INSERT INTO quarantine
                                SELECT DATE {_sql(date)}, {_sql(department)}, {_sql(path.name)},
                                       line, record_key, field, value, reason
                                FROM {source} ORDER BY line""")
            if own:
                con.execute("COMMIT")
        except BaseException:
            if own:
                con.execute("ROLLBACK")
            raise
        by_reason = dict(con.execute(f"""
            SELECT split_part(reason, ':', 1), count(*) FROM
              (SELECT reason FROM {staged.problems} UNION ALL SELECT reason FROM {staged.notes})
            GROUP BY ALL ORDER BY 1""").fetchall())
        return DeliveryOutcome(department, LOADED, date, path.name, None, staged.rows_delivered,
                               rows_loaded, int(n_rows_out), by_reason, sha)
    finally:
        drop_temporaries(con, stage)  # a pre-parsed delivery is staged as a view
        if parsed is not None:
            parsed.discard()


def load_department(con: duckdb.DuckDBPyConnection, landing: Path, department: str, extract_date: str,
                    *, workdir: Path | None = None, parsing: DeliveryParsing | None = None,
                    shrink: ShrinkGuard | None = None) -> DeliveryOutcome:
    """Bring raw_<department> up to the run's extract date (YYYY-MM-DD); see the module docstring.

    `parsing`: the night's deliveries already being read in worker processes (registry.departments.parsing);
    without it, or for a file it did not read, the file is read here. The outcome is the same.
    `shrink`: the guard against a delivery removing too much of the standing snapshot (registry.shrink);
    a delivery it holds back is rejected like any broken one.
    """
    contracts.department(department)  # ValueError naming the four for anything else
    dt.date.fromisoformat(extract_date)
    ensure_tables(con)
    workdir = Path(workdir or tempfile.gettempdir())
    standing_date, standing_file, _ = _standing(con, department)
    candidates = earlier_deliveries(Path(landing), department, extract_date)  # newest first
    tonight = candidates[0] if candidates and candidates[0][0] == extract_date else None

    loaded: DeliveryOutcome | None = None
    refusals: list[tuple[str, Path, str]] = []
    for date, path in candidates:
        if standing_date is not None and (date < standing_date or (date == standing_date != extract_date)):
            break  # the snapshot in place is as new as this one: it stands, no reload
        if standing_date is not None and date == standing_date:
            # The night is rerun: the very file standing needs no re-read; a re-delivered one is loaded.
            loaded = _still_standing(con, department, date, path, standing_file)
            if loaded is not None:
                break
        try:
            loaded = _load_file(con, department, date, path, workdir, parsing, shrink)
            break
        except DeliveryRejected as exc:
            refusals.append((date, path, str(exc)))

    _ensure_raw(con, department)
    now_date, now_file, now_rows = _standing(con, department)
    stands = (f"the delivery of {now_date} ({now_file}) stands" if now_date
              else "no earlier delivery loads, raw_" + department + " is empty")
    refused = "; ".join(r for _, _, r in refusals)

    if tonight is not None and loaded is not None and loaded.delivery_date == extract_date:
        outcome = loaded
    elif tonight is not None:
        outcome = DeliveryOutcome(department, REJECTED, now_date, tonight[1].name,
                                  f"rejected: {refused}; {stands}")
    elif now_date is not None:
        outcome = DeliveryOutcome(department, STALE, now_date, now_file,
                                  f"no delivery for {extract_date}; {stands}"
                                  + (f"; also rejected: {refused}" if refused else ""))
    else:
        outcome = DeliveryOutcome(department, MISSING, None, None,
                                  f"no delivery for {extract_date} or before"
                                  + (f"; rejected: {refused}" if refused else ""))
    if loaded is not None and outcome is not loaded:  # an earlier delivery was loaded as the fallback
        outcome.rows_delivered = loaded.rows_delivered
        outcome.rows_quarantined = loaded.rows_quarantined
        outcome.quarantined_by_reason = loaded.quarantined_by_reason
    outcome.rows_loaded = now_rows
    if outcome.sha256 is None and outcome.file is not None:
        folder = Path(landing) / (extract_date if outcome.status == REJECTED else now_date) / department
        if (folder / outcome.file).is_file():
            outcome.sha256 = sha256_of(folder / outcome.file)
    _record_delivery(con, extract_date, outcome)
    return outcome


def stop_unless_usable(outcome: DeliveryOutcome, night: NightPlan) -> None:
    """The night's rule for a delivery that did not load: with none at all the night stops; a rejected
    one stops it unless the plan accepts publishing with the previous delivery standing. Raises
    DeliveryStopsNight (the published registry stays as it was)."""
    if outcome.status == MISSING:
        raise DeliveryStopsNight(f"{outcome.department}: no delivery for {night.extract_date} or any earlier night in "
                                 f"{night.landing}; the published registry stays as it was",
                                 department=outcome.department, status=outcome.status)
    if outcome.status == REJECTED and not night.accept_rejected:
        raise DeliveryStopsNight(f"{outcome.department}: delivery rejected: {outcome.reason}. The published registry "
                                 "stays as it was; the night can be published with the previous delivery standing",
                                 department=outcome.department, status=outcome.status)


def _still_standing(con, department: str, date: str, path: Path, standing_file: str | None
                    ) -> DeliveryOutcome | None:
    """The outcome of loading `path` if it is byte for byte (sha256) the delivery standing in
    raw_<department>, read from the deliveries log and quarantine without reading the file again."""
    if path.name != standing_file:
        return None
    row = con.execute("""SELECT sha256, rows_delivered, rows_quarantined FROM deliveries
                         WHERE department = ? AND status = 'loaded' AND delivery_date = CAST(? AS DATE)
                           AND file = ? AND sha256 IS NOT NULL
                         ORDER BY run_extract_date DESC LIMIT 1""", [department, date, path.name]).fetchall()
    if not row:
        return None
    sha, delivered, quarantined = row[0]
    if sha256_of(path) != sha:
        return None
    codes = ", ".join(_sql(r) for r in ROW_REASONS + NOTE_REASONS)
    by_reason = dict(con.execute(f"""SELECT split_part(reason, ':', 1), count(*) FROM quarantine
                                     WHERE department = ? AND file = ? AND split_part(reason, ':', 1) IN ({codes})
                                     GROUP BY ALL ORDER BY 1""", [department, path.name]).fetchall())
    return DeliveryOutcome(department, LOADED, date, path.name, None, int(delivered or 0), 0,
                           int(quarantined or 0), by_reason, sha)


def _record_delivery(con, run_extract_date: str, o: DeliveryOutcome) -> None:
    con.execute("DELETE FROM deliveries WHERE run_extract_date = ? AND department = ?",
                [run_extract_date, o.department])
    con.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_extract_date, o.department, o.delivery_date, o.file, o.status, o.reason,
                 o.rows_delivered, o.rows_loaded, o.rows_quarantined, o.sha256])


def load_night(con: duckdb.DuckDBPyConnection, landing: Path, extract_date: str,
               *, workdir: Path | None = None) -> dict[str, DeliveryOutcome]:
    """All four departments for one night."""
    return {d: load_department(con, landing, d, extract_date, workdir=workdir) for d in DEPARTMENTS}
