"""Schedule expressions, field by field, for EventBridge Scheduler and EventBridge rules."""

from __future__ import annotations

import re

import pytest

from mlops_cdk._internal.monitor_schedules import parse_schedule
from mlops_cdk._internal.validators.schedules import schedule_problem

VALID = [
    pytest.param("cron(0 12 * * ? *)", id="daily-noon"),
    pytest.param("cron(0/15 * ? * MON-FRI *)", id="every-15-min-weekdays"),
    pytest.param("cron(5,35 14 * * ? *)", id="list"),
    pytest.param("cron(0 8 1-7 * ? *)", id="range"),
    pytest.param("cron(0 10 ? * 6L 2026)", id="last-friday"),
    pytest.param("cron(0 10 ? * L *)", id="last-day-of-week"),
    pytest.param("cron(0 10 15W * ? *)", id="nearest-weekday"),
    pytest.param("cron(0 10 L * ? *)", id="last-day-of-month"),
    pytest.param("cron(0 10 ? * 3#2 *)", id="second-tuesday"),
    pytest.param("cron(0 0 1 JAN,JUL ? 1970-2199)", id="month-names-year-range"),
    pytest.param("cron(0 0 1 jan ? *)", id="month-name-any-case"),
    pytest.param("cron(59 23 31 12 ? 2199)", id="upper-bounds"),
    pytest.param("cron(0 0 1/5 * ? *)", id="day-increment"),
    pytest.param("rate(1 hour)", id="rate-singular"),
    pytest.param("rate(5 minutes)", id="rate-plural"),
]

INVALID = [
    pytest.param(
        "cron(0 25 * * ? *)",
        r"hours field is 0-23 with , - \* / \(25 is out of range\)",
        id="hour-25",
    ),
    pytest.param(
        "cron(60 1 * * ? *)", r"minutes field is 0-59 .*\(60 is out of range\)", id="minute-60"
    ),
    pytest.param(
        "cron(0 1 0 * ? *)", r"day-of-month field is 1-31 .*\(0 is out of range\)", id="day-0"
    ),
    pytest.param("cron(0 1 32 * ? *)", r"day-of-month field .*\(32 is out of range\)", id="day-32"),
    pytest.param(
        "cron(0 0 1 13 ? *)",
        r"month field is 1-12 or JAN-DEC .*\(13 is out of range\)",
        id="month-13",
    ),
    pytest.param(
        "cron(0 0 1 JNA ? *)", r"month field .*'JNA' is not a value", id="month-name-typo"
    ),
    pytest.param(
        "cron(0 0 ? * 8 *)",
        r"day-of-week field is 1-7 or SUN-SAT .*\(8 is out of range\)",
        id="dow-8",
    ),
    pytest.param("cron(0 0 ? * 3#6 *)", r"the n in day#n is 1-5", id="dow-nth-6"),
    pytest.param(
        "cron(0 0 ? * 3#1,6#3 *)",
        r"with # the field holds that one expression only",
        id="dow-hash-list",
    ),
    pytest.param("cron(0 0 ? * MON/2 *)", r"/ is not allowed here", id="dow-increment"),
    pytest.param(
        "cron(0 0 1 * ? 1969)",
        r"year field is 1970-2199 .*\(1969 is out of range\)",
        id="year-1969",
    ),
    pytest.param("cron(0 0 1 * ? 2200)", r"year field .*\(2200 is out of range\)", id="year-2200"),
    pytest.param(
        "cron(0/0 * * * ? *)", r"increment after / is a whole number of at least 1", id="step-0"
    ),
    pytest.param(
        "cron(0 0 ? * ? *)",
        r"\? in exactly one of day-of-month and day-of-week",
        id="two-question-marks",
    ),
    pytest.param(
        "cron(0 0 * * * *)", r"\? in exactly one .*given '\*' and '\*'", id="no-question-mark"
    ),
    pytest.param(
        "cron(0 ? * * ? *)", r"\? is only for day-of-month or day-of-week", id="question-in-hours"
    ),
    pytest.param("cron(0 0 * * ?)", r"six fields.*\(5 given\)", id="five-fields"),
    pytest.param("cron(0 0 LW * ? *)", r"'L' is not a value|is not a value", id="lw-undocumented"),
    pytest.param(
        "at(2026-02-30T00:00:00)",
        r"naming a real date and time \(2026-02-30T00:00:00 is not one\)",
        id="at-february-30",
    ),
    pytest.param("at(2026-13-01T00:00:00)", r"naming a real date and time", id="at-month-13"),
    pytest.param("at(2026-01-01T24:00:00)", r"naming a real date and time", id="at-hour-24"),
    pytest.param(
        "at(2026-1-1T00:00:00)",
        r"^an EventBridge Scheduler expression: .*or at\(yyyy-mm-ddThh:mm:ss\)$",
        id="at-short-fields",
    ),
    pytest.param("rate(0 minutes)", r"a rate of at least 1", id="rate-0"),
    pytest.param("rate(1 hours)", r"singular unit for 1", id="rate-plural-for-1"),
    pytest.param("rate(2 day)", r"singular unit for 1", id="rate-singular-for-2"),
    pytest.param("rate(1 week)", r"EventBridge Scheduler expression", id="rate-weeks"),
    pytest.param("0 12 * * ?", r"EventBridge Scheduler expression", id="bare-cron"),
]


@pytest.mark.parametrize("expression", VALID)
@pytest.mark.parametrize("api", ["scheduler", "rule"])
def test_valid_expressions_pass(expression: str, api: str) -> None:
    assert schedule_problem(expression, api=api) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("expression", "message"), INVALID)
def test_invalid_expressions_name_the_field_and_its_allowed_values(
    expression: str, message: str
) -> None:
    problem = schedule_problem(expression)
    assert problem is not None
    assert re.search(message, problem), problem


def test_at_takes_a_real_leap_day() -> None:
    assert schedule_problem("at(2028-02-29T23:59:59)") is None
    assert schedule_problem("at(2027-02-29T00:00:00)") is not None


def test_rules_have_no_one_time_schedules() -> None:
    problem = schedule_problem("at(2026-03-01T10:00:00)", api="rule")
    assert problem is not None
    assert "rules have no one-time at() schedules" in problem
    assert schedule_problem("at(2026-03-01T10:00:00)", api="scheduler") is None


@pytest.mark.parametrize(
    ("schedule", "interval_hours"),
    [
        pytest.param("hourly", 1, id="hourly"),
        pytest.param("cron(0 23 ? * * *)", 24, id="daily-23"),
        pytest.param("cron(0 17/12 ? * * *)", 12, id="every-12-from-17"),
        pytest.param("cron(0 0/24 ? * * *)", 24, id="step-24"),
    ],
)
def test_model_monitor_forms_parse(schedule: str, interval_hours: int) -> None:
    parsed = parse_schedule(schedule)
    assert parsed is not None
    assert parsed.interval_seconds == interval_hours * 3600


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param("cron(0 25 ? * * *)", id="hour-25-by-the-shared-rule"),
        pytest.param("cron(0 24 ? * * *)", id="hour-24"),
        pytest.param("cron(0 1/25 ? * * *)", id="step-over-24"),
        pytest.param("cron(0 1/0 ? * * *)", id="step-0"),
        pytest.param("cron(0 */2 ? * * *)", id="star-step"),
        pytest.param("rate(1 hour)", id="rate"),
    ],
)
def test_model_monitor_rejects_other_forms(schedule: str) -> None:
    assert parse_schedule(schedule) is None
