"""Start the merge as soon as a night's deliveries have all landed, or at the cutoff with what has landed;
and keep the ledger of runs that failed."""


import datetime as dt
import json
from zoneinfo import ZoneInfo

from dagster import (DefaultSensorStatus, RunFailureSensorContext, RunRequest, SensorEvaluationContext,
                     SkipReason, run_failure_sensor, sensor)

from pipelines.jobs import nightly_merge, night_run_config
from pipelines.resources import Clock, RegistryHome
from pipelines.schedules import TIMEZONE
from registry.departments import DEPARTMENTS
from registry.departments.landing import available_dates, deliveries_for
from registry.runs import abandon_run, published_dates

# Hour (Asia/Shanghai) on the day after the extract date past which the merge runs with what has landed.
CUTOFF_HOUR = 6


def nights_ready(landing, done: set[str], now: dt.datetime) -> list[tuple[str, list[str]]]:
    """Nights not yet merged that are complete, or past their cutoff: (date, departments missing)."""
    ready = []
    for date in available_dates(landing):
        if date in done:
            continue
        landed = deliveries_for(landing, date)
        missing = [d for d in DEPARTMENTS if not landed.get(d)]
        cutoff = dt.datetime.fromisoformat(date).replace(tzinfo=ZoneInfo(TIMEZONE)) + dt.timedelta(
            days=1, hours=CUTOFF_HOUR)
        if not missing or now >= cutoff:
            ready.append((date, missing))
    return ready


@sensor(job=nightly_merge, minimum_interval_seconds=300, default_status=DefaultSensorStatus.STOPPED,
        description="Runs the nightly merge when all four departments have delivered for a night, "
                    f"or at {CUTOFF_HOUR:02d}:00 the next morning with what has landed.")
def deliveries_landed_sensor(context: SensorEvaluationContext, registry: RegistryHome, clock: Clock):
    requested = set(json.loads(context.cursor)) if context.cursor else set()
    done = requested | set(published_dates(registry.paths))
    now = clock.now(TIMEZONE)
    ready = nights_ready(registry.landing_path, done, now)
    if not ready:
        yield SkipReason("no night is complete or past its cutoff")
        return
    for date, missing in ready:
        requested.add(date)
        yield RunRequest(run_key=f"nightly-{date}", run_config=night_run_config(date),
                         tags={"registry/extract_date": date, "registry/trigger": "sensor",
                               "registry/missing_departments": ",".join(missing) or "none"})
    context.update_cursor(json.dumps(sorted(requested)[-60:]))


@run_failure_sensor(monitored_jobs=[nightly_merge], default_status=DefaultSensorStatus.RUNNING,
                    description="Keeps a failed night in the run ledger and drops its state copy.")
def nightly_merge_failed(context: RunFailureSensorContext, registry: RegistryHome):
    run = context.dagster_run
    message = context.failure_event.message or "the run failed"
    abandon_run(registry.paths, run.run_id, message)
