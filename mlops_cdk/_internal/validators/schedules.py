"""Schedule expressions as EventBridge Scheduler and EventBridge rules accept them, field by field.

Sources (read 2026-12):

- EventBridge Scheduler user guide, "Schedule types on EventBridge Scheduler"
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html): ``at(yyyy-mm-dd
  Thh:mm:ss)`` one-time schedules, ``rate(value unit)`` and ``cron(minutes hours day-of-month
  month day-of-week year)``.
- EventBridge user guide, "Cron expressions reference" and "Rate expressions reference"
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html; formerly
  eb-scheduled-rule-pattern.html): the same cron and rate forms for scheduled *rules*, which
  have no ``at()``.

The cron fields (both services):

=============  ================  =================
Field          Values            Wildcards
=============  ================  =================
Minutes        0-59              , - * /
Hours          0-23              , - * /
Day-of-month   1-31              , - * ? / L W
Month          1-12 or JAN-DEC   , - * /
Day-of-week    1-7 or SUN-SAT    , - * ? L #
Year           1970-2199         , - * /
=============  ================  =================

One of day-of-month and day-of-week must be ``?`` (a value or ``*`` in one needs ``?`` in the
other); a day-of-week with ``#`` holds that one expression only ("3#1,6#3" is invalid). A rate
is a positive whole number with ``minute``, ``hour`` or ``day``, singular for 1 and plural
otherwise. ``at()`` must name a real calendar date and time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ScheduleApi = Literal["scheduler", "rule"]

_RATE = re.compile(r"rate\((?P<value>\d+) (?P<unit>minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)")
_AT = re.compile(r"at\((?P<moment>[^()]*)\)")
_AT_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

SCHEDULE_MEANING = (
    "an EventBridge Scheduler expression: cron(minutes hours day-of-month month day-of-week "
    "year) with ? in day-of-month or day-of-week, rate(<n> minute[s]|hour[s]|day[s]) or "
    "at(yyyy-mm-ddThh:mm:ss)"
)
RULE_SCHEDULE_MEANING = (
    "an EventBridge rule schedule: cron(minutes hours day-of-month month day-of-week year) "
    "with ? in day-of-month or day-of-week, or rate(<n> minute[s]|hour[s]|day[s])"
)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    wildcards: str
    names: tuple[str, ...] = ()

    @property
    def allowed(self) -> str:
        values = f"{self.low}-{self.high}"
        if self.names:
            values += f" or {self.names[0]}-{self.names[-1]}"
        return f"{values} with {' '.join(self.wildcards)}"


_FIELDS = (
    _Field("minutes", 0, 59, ",-*/"),
    _Field("hours", 0, 23, ",-*/"),
    _Field("day-of-month", 1, 31, ",-*?/LW"),
    _Field("month", 1, 12, ",-*/", _MONTHS),
    _Field("day-of-week", 1, 7, ",-*?L#", _DAYS),
    _Field("year", 1970, 2199, ",-*/"),
)


def schedule_problem(expression: object, *, api: ScheduleApi = "scheduler") -> str | None:
    """What ``expression`` must be (a phrase after "must be"), or ``None`` when ``api`` (an
    EventBridge Scheduler schedule or an EventBridge rule) accepts it."""
    meaning = SCHEDULE_MEANING if api == "scheduler" else RULE_SCHEDULE_MEANING
    if not isinstance(expression, str):
        return meaning
    at = _AT.fullmatch(expression)
    if at is not None:
        if api == "rule":
            return f"{meaning} (rules have no one-time at() schedules; EventBridge Scheduler has)"
        return _at_problem(at["moment"], meaning)
    rate = _RATE.fullmatch(expression)
    if rate is not None:
        return _rate_problem(int(rate["value"]), rate["unit"])
    cron = _CRON.fullmatch(expression)
    if cron is None:
        return meaning
    return cron_problem(cron["fields"])


def _at_problem(moment: str, meaning: str) -> str | None:
    if _AT_SHAPE.fullmatch(moment) is None:
        return meaning
    shape = "a one-time schedule at(yyyy-mm-ddThh:mm:ss)"
    try:
        datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return f"{shape} naming a real date and time ({moment} is not one)"
    return None


def _rate_problem(value: int, unit: str) -> str | None:
    if value < 1:
        return "a rate of at least 1 (rate(1 hour))"
    if (value == 1) != (not unit.endswith("s")):
        return (
            "a rate with a singular unit for 1 and a plural one otherwise "
            "(rate(1 day), rate(2 days))"
        )
    return None


def cron_problem(fields_text: str) -> str | None:
    """The problem with the six fields inside ``cron(...)``, or ``None``."""
    fields = fields_text.split()
    if len(fields) != len(_FIELDS):
        return (
            "a cron expression with six fields: minutes hours day-of-month month day-of-week "
            f"year ({len(fields)} given)"
        )
    for field, text in zip(_FIELDS, fields, strict=True):
        problem = _field_problem(field, text)
        if problem is not None:
            return f"a cron expression whose {field.name} field is {field.allowed} ({problem})"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            "a cron expression with ? in exactly one of day-of-month and day-of-week "
            f"(given {day_of_month!r} and {day_of_week!r})"
        )
    return None


def _field_problem(field: _Field, text: str) -> str | None:
    if text == "?":
        return None if "?" in field.wildcards else "? is only for day-of-month or day-of-week"
    items = text.split(",")
    if field.name == "day-of-week" and "#" in text and len(items) > 1:
        return f"{text!r}: with # the field holds that one expression only"
    for item in items:
        problem = _item_problem(field, item)
        if problem is not None:
            return problem
    return None


def _item_problem(field: _Field, item: str) -> str | None:
    if item == "*":
        return None
    if item == "?":
        return "? stands alone in its field"
    if field.name == "day-of-month":
        if item == "L":
            return None
        if item.endswith("W"):
            return _value_problem(field, item[:-1], item)
    if field.name == "day-of-week":
        if item == "L":
            return None
        if item.endswith("L"):
            return _value_problem(field, item[:-1], item)
        if "#" in item:
            day, _, nth = item.partition("#")
            if nth not in ("1", "2", "3", "4", "5"):
                return f"{item!r}: the n in day#n is 1-5"
            return _value_problem(field, day, item)
    base, slash, step = item.partition("/")
    if slash:
        if "/" not in field.wildcards:
            return f"{item!r}: / is not allowed here"
        if not step.isdigit() or int(step) < 1:
            return f"{item!r}: the increment after / is a whole number of at least 1"
        if base == "*":
            return None
    low, dash, high = base.partition("-")
    if dash:
        return _value_problem(field, low, item) or _value_problem(field, high, item)
    return _value_problem(field, base, item)


def _value_problem(field: _Field, value: str, item: str) -> str | None:
    where = "" if value == item else f" in {item!r}"
    if value.upper() in field.names:  # Quartz-style parsing: names in any case
        return None
    if not value.isdigit():
        return f"{value!r}{where} is not a value of this field"
    if not field.low <= int(value) <= field.high:
        return f"{value} is out of range{where}"
    return None
