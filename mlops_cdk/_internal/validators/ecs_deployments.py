"""ECS service deployments (CreateService / UpdateService ``deploymentConfiguration``, botocore
ecs model, read 2026-12): which timing settings each strategy takes and their ranges.

- ``bakeTimeInMinutes``, ``linearConfiguration.stepBakeTimeInMinutes`` and
  ``canaryConfiguration.canaryBakeTimeInMinutes``: 0-1440 whole minutes; the bake is for
  BLUE_GREEN, LINEAR and CANARY (the time both revisions run after production traffic moved).
- ``linearConfiguration.stepPercent``: 3.0-100.0, ``canaryConfiguration.canaryPercent``:
  0.1-100.0, both in multiples of 0.1.
- Rollback alarms can only fail a deployment while it runs: a bake shorter than the alarms'
  reaction time (breaching datapoints x period) lets a bad revision finish first.
"""

from __future__ import annotations

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
MAX_MINUTES = 1440
# The timing settings each strategy takes (the others must be left out).
SETTINGS = {
    "ROLLING": (),
    "BLUE_GREEN": ("bake_time",),
    "LINEAR": ("bake_time", "step_percent", "step_interval"),
    "CANARY": ("bake_time", "canary_percent", "step_interval"),
}
TAKEN_BY = {
    "bake_time": "BLUE_GREEN, LINEAR and CANARY",
    "canary_percent": "CANARY",
    "step_percent": "LINEAR",
    "step_interval": "LINEAR and CANARY",
}
LOWEST_PERCENT = {"canary_percent": 0.1, "step_percent": 3.0}
# The service's rollback alarms fire after this many breaching periods (3 of 5).
ROLLBACK_ALARM_DATAPOINTS = 3


def minutes_problem(seconds: float) -> str | None:
    """What a bake or step interval must be, or ``None``."""
    if seconds % 60 == 0 and 0 <= seconds <= MAX_MINUTES * 60:
        return None
    return f"whole minutes between 0 and {MAX_MINUTES} (ECS counts it in minutes)"


def percent_problem(value: float, *, setting: str) -> str | None:
    """What ``canary_percent`` or ``step_percent`` must be, or ``None``."""
    low = LOWEST_PERCENT[setting]
    if low <= value <= 100 and abs(value * 10 - round(value * 10)) < 1e-9:
        return None
    return f"between {low:g} and 100 % in steps of 0.1"


def bake_problem(bake_seconds: float, *, alarm_period_seconds: float) -> str | None:
    """What the bake must be so the rollback alarms can still fail the deployment, or ``None``."""
    needed = ROLLBACK_ALARM_DATAPOINTS * alarm_period_seconds
    if bake_seconds >= needed:
        return None
    return (
        f"at least {needed / 60:g} minutes ({ROLLBACK_ALARM_DATAPOINTS} alarm periods of "
        f"{alarm_period_seconds:g} s: the rollback alarms cannot fire sooner, so a shorter bake "
        "ends before a bad revision is caught)"
    )
