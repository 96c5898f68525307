"""EventBridge Scheduler expressions, checked without CDK so configuration can use them too.

Forms (EventBridge Scheduler user guide, "Schedule types"): ``cron(minutes hours day-of-month
month day-of-week year)`` with six fields, where one of day-of-month and day-of-week is ``?``;
``rate(value unit)`` with a positive whole number and ``minute(s)``, ``hour(s)`` or ``day(s)``,
singular for 1 and plural otherwise; ``at(yyyy-mm-ddThh:mm:ss)`` for one run.
"""

from __future__ import annotations

import re

_RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]+)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z,*/?#-]+")
_AT = re.compile(r"at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)")

SCHEDULE_MEANING = (
    "an EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week "
    "year) with ? in day-of-month or day-of-week, rate(<n> minute[s]|hour[s]|day[s]) or "
    "at(yyyy-mm-ddThh:mm:ss)"
)


def schedule_problem(expression: str) -> str | None:
    """What is wrong with ``expression`` (a requirement, "must be ..."), or ``None``."""
    if _AT.fullmatch(expression):
        return None
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        value, unit = int(rate["value"]), rate["unit"]
        if value < 1:
            return "a rate of at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return (
                "a rate with a singular unit for 1 and a plural one otherwise "
                "(rate(1 day), rate(2 days))"
            )
        return None
    cron = _CRON.fullmatch(expression)
    if cron is None:
        return SCHEDULE_MEANING
    fields = cron["fields"].split()
    if len(fields) != 6 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
        return (
            "a cron expression with six fields: minutes hours day-of-month month day-of-week year"
        )
    if (fields[2] == "?") == (fields[4] == "?"):
        return "a cron expression with ? in exactly one of day-of-month and day-of-week"
    return None
