"""`registry run`: the nightly merge for one extract date, through the same Dagster job the schedule launches."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path

from registry.commands.common import add_home


# Every file, database and log of the run is closed when run() returns (see registry.cli.console).
ENDS_WITHOUT_TEARDOWN = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_home(parser)
    parser.add_argument("--landing", default=None, metavar="LANDING", help="landing zone (default: HOME/landing)")
    parser.add_argument("--date", default="", metavar="YYYY-MM-DD",
                        help="extract date to merge (default: the latest night in LANDING)")
    parser.add_argument("--full-rebuild", action="store_true",
                        help="rebuild the night from all deliveries instead of incrementally")
    parser.add_argument("--retrain", action="store_true",
                        help="also train a candidate linkage model (EM, fixed seeds) on tonight's records with the "
                             "officers' decisions as labels, and report what it would change; the night itself is "
                             "linked with the committed model")
    parser.add_argument("--accept-rejected", action="store_true",
                        help="publish even if a delivery is rejected, with that department's previous delivery standing")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="",
                        help="where training, prediction and clustering run (default: the linkage engine of "
                             "HOME/registry.yaml, else duckdb); Spark runs in local mode unless that file names a master")
    parser.add_argument("--accept-shrink", action="store_true",
                        help="accept tonight's shrink: a delivery removing more than --max-drop of its department's "
                             "records, a night retiring more than --max-retire of the residents")
    parser.add_argument("--max-drop", type=_share, default=None, metavar="SHARE",
                        help="the share of a department's records one delivery may remove before it is held back "
                             "(default 0.05)")
    parser.add_argument("--max-retire", type=_share, default=None, metavar="SHARE",
                        help="the share of the residents one night may retire before it is held back (default 0.05)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr while the night runs (the summary at the end stays)")
    parser.add_argument("--verbose", action="store_true", help="show Dagster's step-by-step log")


def _share(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share (0.05 or 5%)") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1")
    return value


def run(args: argparse.Namespace) -> int:
    from registry.errors import NightRefused
    from registry.home import Home
    from registry.night import check_forward, check_night, latest_merged_night

    home = Home.at(args.home)
    landing = Path(args.landing).resolve() if args.landing else home.landing
    # Nights come from deliveries: checked before anything is created, locked or recorded.
    try:
        args.date = check_night(landing, args.date)
        check_forward(args.date, latest_merged_night(home))
    except NightRefused as exc:
        print(f"registry run: refused, nothing changed: {exc}", file=sys.stderr)
        return 1
    new_home = not home.root.exists()
    home.ensure()
    # The environment is the run's only while it runs (a caller in the same process, a test, keeps its own).
    saved = {k: os.environ.get(k) for k in ("REGISTRY_HOME", "REGISTRY_LANDING", "DAGSTER_HOME")}
    try:
        return _run_in(args, home, landing, new_home)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run_in(args: argparse.Namespace, home, landing: Path, new_home: bool) -> int:
    from registry import progress

    # The Dagster definitions read these at import, exactly as `dagster dev` and the daemon do.
    os.environ["REGISTRY_HOME"] = str(home.root)
    if args.landing:
        os.environ["REGISTRY_LANDING"] = str(Path(args.landing).resolve())
    else:
        os.environ.pop("REGISTRY_LANDING", None)
    # Run history goes to HOME/dagster, where `make dagster` shows it, unless DAGSTER_HOME says otherwise.
    os.environ.setdefault("DAGSTER_HOME", str(home.dagster_home))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    if not (dagster_home / "dagster.yaml").exists():
        # The district's machines reach no analytics endpoint; keep Dagster from trying.
        (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")

    # The deliveries start being parsed now, on the core that importing Dagster leaves idle; the run
    # (the id chosen here) is handed the runtime when its resources start.
    from registry.runtime import NightRuntime

    runtime = NightRuntime(home, str(uuid.uuid4()), landing, args.date)
    with progress.printed(enabled=not args.quiet):
        progress.note(f"registry run {runtime.run_id} for {args.date}: home {home.root}"
                      + (" (new: created now)" if new_home else "") + f", landing {landing}")
        runtime.parse_ahead()
        try:
            return _run_job(args, home, runtime)
        finally:
            runtime.close()


def _run_job(args: argparse.Namespace, home, runtime) -> int:
    with runtime.importing():
        from dagster import DagsterInstance

        from pipelines import definitions
        from pipelines.jobs import NIGHTLY_MERGE, night_run_config
        from pipelines.resources import RunDatabase
        from registry.runs import abandon_run

    job = definitions.defs.resolve_job_def(NIGHTLY_MERGE)
    config = night_run_config(args.date, full_rebuild=args.full_rebuild, retrain=args.retrain,
                              accept_rejected=args.accept_rejected, accept_shrink=args.accept_shrink,
                              max_record_drop=args.max_drop, max_resident_retire=args.max_retire, engine=args.engine)
    # Quiet by default: a failure is explained in one line below, with its traceback under --verbose.
    config["loggers"] = {"console": {"config": {"log_level": "DEBUG" if args.verbose else "CRITICAL"}}}
    run_db = RunDatabase(registry=definitions.registry_home, started_ahead=runtime)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False,
                                        run_id=runtime.run_id, resources={"run_db": run_db},
                                        tags={"registry/trigger": "cli",
                                              "registry/extract_date": args.date or "latest"})
    if not result.success:
        message = _failure_message(result)
        outcome = abandon_run(home, result.run_id, message)
        if outcome.get("published"):
            # It failed after the swap: departments already read this night, and the state now follows it.
            print(f"registry run: published, but a step after the swap failed ({message}); "
                  "the working state was rolled forward to match", file=sys.stderr)
            _print_summary(home, result.run_id)
            return 0
        print(f"registry run FAILED (run {result.run_id}): {message}", file=sys.stderr)
        if home.published_db.exists():
            print(f"The published registry stays as it was: {home.published_db}", file=sys.stderr)
        return 1
    _print_summary(home, result.run_id)
    return 0


# What this command adds to a library error that stopped the night: how to go on with its own flags.
CLI_HINTS = {
    "DeliveryStopsNight": lambda text: (
        text + " (rerun with --accept-shrink to load it, or --accept-rejected to publish with the previous "
               "delivery standing)" if "held back" in text
        else text + " (rerun with --accept-rejected)" if "delivery rejected" in text else text),
    "ShrinkHeldBack": lambda text: text + " (rerun with --accept-shrink)",
}


def _failure_message(result) -> str:
    """The first failing step's (or resource's) own message, not the framework's wrapping of it, with
    this command's hint for a library error it knows; for a blocking quality check, what it found."""
    for event in result.all_events:
        check = event.event_specific_data if event.event_type_value == "ASSET_CHECK_EVALUATION" else None
        if check is not None and not check.passed and str(check.severity).endswith("ERROR"):
            found = [line.strip()[len("[block] "):] for line in (check.description or "").splitlines()
                     if line.strip().startswith("[block] ")]
            more = f" (and {len(found) - 1} more: see the check in Dagster)" if len(found) > 1 else ""
            return (f"quality check {check.check_name} blocked the night: {(found or [check.description or ''])[0]}"
                    f"{more}. The published registry stays as it was")
    for event in result.all_events:
        err = getattr(event.event_specific_data, "error", None)
        if err is None:
            continue
        while err.cause is not None and (err.cls_name or "").startswith(("Dagster", "ResourceInit")):
            err = err.cause
        first_line = (err.message or "").strip().splitlines()
        text = first_line[0] if first_line else err.cls_name
        if text.startswith("dagster.") and ": " in text:  # "dagster._core....Failure: <our message>"
            text = text.split(": ", 1)[1]
        head, _, rest = text.partition(": ")
        if rest and (head.split(".")[-1] == err.cls_name or head in ("RuntimeError", "Failure")):
            text = rest  # "registry.errors.NightRefused: <our message>"
        text = CLI_HINTS.get(err.cls_name, lambda t: t)(text)
        return f"{event.step_key}: {text}" if event.step_key else text
    for event in result.all_events:
        if event.is_run_failure:
            return event.message or "the run failed"
    return "the run failed"


def _print_summary(home, run_id: str) -> None:
    import duckdb

    # The state holds the run's final ledger row (with the publish stage); the registry holds the residents.
    con = duckdb.connect(str(home.state_db), read_only=True)
    try:
        row = con.execute("SELECT strftime(extract_date, '%Y-%m-%d'), mode, status, started_at, finished_at, "
                          "message, stats FROM runs WHERE run_id = ?", [run_id]).fetchall()
    finally:
        con.close()
    con = duckdb.connect(str(home.published_db), read_only=True)
    try:
        residents = con.execute("SELECT count(*) FROM residents").fetchall()[0][0]
    finally:
        con.close()
    if not row:
        print(f"run {run_id} published, but its ledger row is missing from {home.published_db}")
        return
    date, mode, status, started, finished, message, stats = row[0]
    stats = json.loads(stats) if isinstance(stats, str) else (stats or {})
    print(format_run_summary(run_id, date, mode, status, started, finished, message, stats, residents,
                             home.published_db))


def format_run_summary(run_id, date, mode, status, started, finished, message, stats, residents, path) -> str:
    from registry.departments import DEPARTMENTS

    lines = [f"Nightly merge {date} ({mode}) {status}: run {run_id}",
             f"  {_second(started)} -> {_second(finished)}; {message or ''}".rstrip("; "),
             "  department        status    delivered  loaded  quarantined    new  changed  removed"]
    changes = (stats.get("standardised_records") or {}).get("changes", {})
    for d in DEPARTMENTS:
        s = stats.get(f"{d}_delivery") or {}
        lines.append(f"  {d:<17} {s.get('status', '-'):<8} {s.get('rows_delivered', 0):>10} {s.get('rows_loaded', 0):>7}"
                     f" {s.get('rows_quarantined', 0):>12} {changes.get(d + '.new', 0):>6}"
                     f" {changes.get(d + '.changed', 0):>8} {changes.get(d + '.removed', 0):>8}")
    ids = (stats.get("residents") or {}).get("ids", {})
    lines.append(f"  residents: {residents} published; " + ", ".join(
        f"{k} {ids.get(k, 0)}" for k in ("created", "merged", "split", "retired")))
    review = stats.get("review_queue") or {}
    def total(v):
        return sum(v.values()) if isinstance(v, dict) else (v or 0)

    lines.append(f"  review queue: raised {total(review.get('raised'))}, closed {total(review.get('closed'))}, "
                 "open " + (", ".join(f"{k} {v}" for k, v in sorted(review.get("open_by_kind", {}).items())) or "none"))
    decisions = (stats.get("person_clusters") or {}).get("decisions") or {}
    if decisions.get("unreadable_lines"):
        numbers = ", ".join(str(n) for n in decisions.get("unreadable_line_numbers") or [])
        lines.append(f"  decisions: {decisions['unreadable_lines']} line(s) of the decisions file are no decision and "
                     f"were skipped (line {numbers}); `registry review list` shows them")
    candidate = stats.get("candidate_model") or {}
    if candidate.get("retrained"):
        lines.append(f"  retrain: {candidate.get('headline')}")
    seconds = stats.get("stage_seconds", {})
    lines.append("  stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
    linked = stats.get("record_links") or {}
    if linked.get("engine"):
        lines.append(f"  linkage engine: {linked['engine']}"
                     + (f" ({linked['spark_master']}, Spark {linked.get('spark_version')})"
                        if linked.get("spark_master") else ""))
    lines.append(f"  published: {path}")
    return "\n".join(lines)


def _second(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if hasattr(moment, "strftime") else str(moment or "-")
