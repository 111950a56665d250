"""02:00 Asia/Shanghai: merge the night that just ended."""


import datetime as dt

from dagster import RunRequest, ScheduleEvaluationContext, SkipReason, schedule

from pipelines.jobs import nightly_merge, night_run_config
from pipelines.resources import RegistryHome
from registry.errors import NightRefused
from registry.night import check_night
from registry.runs import published_dates

TIMEZONE = "Asia/Shanghai"


@schedule(job=nightly_merge, cron_schedule="0 2 * * *", execution_timezone=TIMEZONE,
          description="Every night at 02:00 Asia/Shanghai, for the extract date of the day before.")
def nightly_merge_schedule(context: ScheduleEvaluationContext, registry: RegistryHome):
    extract_date = (context.scheduled_execution_time.date() - dt.timedelta(days=1)).isoformat()
    if extract_date in published_dates(registry.paths):
        return SkipReason(f"{extract_date} is already published (the delivery sensor ran it)")
    try:
        check_night(registry.landing_path, extract_date)  # nights come from deliveries
    except NightRefused as exc:
        return SkipReason(str(exc))
    return RunRequest(run_key=f"nightly-{extract_date}", run_config=night_run_config(extract_date),
                      tags={"registry/extract_date": extract_date, "registry/trigger": "schedule"})
