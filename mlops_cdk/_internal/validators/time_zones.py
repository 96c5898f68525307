"""IANA time zone names, as EventBridge Scheduler's ``ScheduleExpressionTimezone`` takes them.

The names come from the ``tzdata`` package (the IANA database as a Python package, a library
dependency so that every platform checks against the same list, Windows included); without it,
``zoneinfo.available_timezones()`` (the system database). A misspelled zone is rejected with the
closest name (difflib).
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources

from mlops_cdk._internal.validators._data import suggestion

TIME_ZONE_MEANING = "an IANA time zone name such as 'UTC', 'Europe/Dublin' or 'America/New_York'"


@cache
def time_zones() -> frozenset[str]:
    """Every IANA zone name ``tzdata`` lists (the system's when tzdata is not installed)."""
    try:
        text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return frozenset(zoneinfo.available_timezones())
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def time_zone_problem(zone: str) -> str | None:
    """What ``zone`` must be (after "must be"), or ``None`` for a known IANA zone."""
    if isinstance(zone, str) and zone in time_zones():
        return None
    hint = suggestion(zone, time_zones()) if isinstance(zone, str) else ""
    return TIME_ZONE_MEANING + hint
