"""Monitoring schedules: what SageMaker Model Monitor accepts, and the same cadence for the
drift job on EventBridge Scheduler. Free of CDK imports so configuration can check them too.

Model Monitor accepts (API ``ScheduleConfig``, "The cron expression for monitoring schedule"):
``cron(0 * ? * * *)`` hourly, ``cron(0 [00-23] ? * * *)`` daily, ``cron(0 [00-23]/[01-24] ? *
* *)`` every N hours from hour H (and ``NOW``, one run, which a recurring monitor does not use).
Field values and ranges are checked by the one schedule validator
(:func:`mlops_cdk._internal.validators.schedules.schedule_problem`); this module only narrows
valid expressions to the forms Model Monitor takes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlops_cdk._internal.validators.schedules import schedule_problem

HOUR = 3600
DAY = 24 * HOUR
_CRON = re.compile(r"cron\(0 (?P<hour>\*|\d+)(?:/(?P<step>\d+))? \? \* \* \*\)")

SCHEDULE_MEANING = (
    "'hourly', 'daily', 'cron(0 * ? * * *)', 'cron(0 H ? * * *)' or 'cron(0 H/N ? * * *)' "
    "with H 0-23 and N 1-24 (the forms SageMaker Model Monitor accepts)"
)
DRIFT_JOB_SCHEDULE_MEANING = (
    "'hourly', 'daily', 'cron(0 * ? * * *)' or 'cron(0 H ? * * *)' with H 0-23 (the drift job "
    "analyzes the previous hour or the previous day)"
)


@dataclass(frozen=True)
class MonitorSchedule:
    """A parsed monitoring schedule.

    :param expression: the cron expression Model Monitor and EventBridge Scheduler both take.
    :param interval_seconds: the time between two runs.
    :param window: the drift job window (``previous-hour``/``previous-day``), or ``None`` for
        every-N-hours schedules, whose window the drift job cannot express.
    """

    expression: str
    interval_seconds: int
    window: str | None


def parse_schedule(schedule: str) -> MonitorSchedule | None:
    """The schedule, or ``None`` when it is not one of the accepted forms."""
    if schedule == "hourly":
        return MonitorSchedule("cron(0 * ? * * *)", HOUR, "previous-hour")
    if schedule == "daily":
        return MonitorSchedule("cron(0 0 ? * * *)", DAY, "previous-day")
    match = _CRON.fullmatch(schedule)
    if match is None or schedule_problem(schedule) is not None:
        return None
    if match["hour"] == "*":
        return None if match["step"] else MonitorSchedule(schedule, HOUR, "previous-hour")
    if match["step"] is None:
        return MonitorSchedule(schedule, DAY, "previous-day")
    step = int(match["step"])
    if step > 24:  # Model Monitor's own limit; the cron syntax allows any increment
        return None
    # Model Monitor documents cron(0 17/12 ? * * *) as "every 12 hours, starting at 5 PM UTC":
    # every N hours from H, not the plain-cron reading (17 h only).
    return MonitorSchedule(schedule, step * HOUR, None)
