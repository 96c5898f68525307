"""Alarms that always notify someone, and the metric helpers constructs share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal.patterns import LATENCY_PERCENTILES
from mlops_cdk._internal.validation import Checker, Said

DEFAULT_PERIOD = Duration.minutes(5)
GREATER_OR_EQUAL = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD


def check_latency(
    check: Checker,
    *,
    latency: Duration | None,
    latency_p99: Duration | None,
    percentile: str,
) -> Duration | None:
    """The threshold of a latency alarm option group (``latency``, or the older ``latency_p99``
    keyword, which names a p99 threshold), after checking the pair and ``percentile``.
    ``None`` when neither is given (the group's default applies)."""
    check.one_of("latency_percentile", percentile, LATENCY_PERCENTILES)
    if latency is not None and latency_p99 is not None:
        check.not_together("latency", "latency_p99", "latency_p99 is the older name of latency")
    if latency_p99 is not None and percentile != "p99":
        check.fail(
            "latency_p99",
            "left out when latency_percentile is not p99 (give the threshold as latency)",
            Said(f"latency_p99 with latency_percentile={percentile!r}"),
        )
    threshold = latency if latency is not None else latency_p99
    if threshold is not None:
        check.positive("latency", threshold.to_milliseconds())
    return threshold


def latency_alarm_id(prefix: str, percentile: str) -> str:
    """``LatencyP99``, ``DurationP95``...: the construct ID of a latency alarm. IDs keep the
    percentile, so changing it replaces the alarm (and its name, for rollback lists) cleanly."""
    return f"{prefix}{percentile.upper()}"


class _Collector(Protocol):
    """Where an :class:`AlarmSet` records what it creates (a construct's ``alarms`` list)."""

    def append(self, alarm: cloudwatch.Alarm, /) -> None: ...


def metric(
    namespace: str,
    name: str,
    dimensions: Mapping[str, str],
    *,
    statistic: str = "Sum",
    period: Duration = DEFAULT_PERIOD,
    label: str | None = None,
) -> cloudwatch.Metric:
    """A CloudWatch metric with explicit dimensions."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=name,
        dimensions_map=dict(dimensions),
        statistic=statistic,
        period=period,
        label=label,
    )


def alarm(
    scope: Construct,
    construct_id: str,
    *,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    topic: sns.ITopic,
    comparison: cloudwatch.ComparisonOperator = GREATER_OR_EQUAL,
    evaluation_periods: int = 3,
    datapoints_to_alarm: int = 2,
    missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
) -> cloudwatch.Alarm:
    """An alarm that notifies ``topic`` when it fires and when it recovers.

    ``datapoints_to_alarm`` of ``evaluation_periods`` breaching periods fire it, which rides out
    a single noisy period. Missing data is not breaching by default: no traffic is not an error.
    """
    created = cloudwatch.Alarm(
        scope,
        construct_id,
        metric=metric,
        threshold=threshold,
        comparison_operator=comparison,
        evaluation_periods=evaluation_periods,
        datapoints_to_alarm=datapoints_to_alarm,
        treat_missing_data=missing_data,
        alarm_description=description,
    )
    _notify(created, topic)
    return created


def _notify(created: cloudwatch.AlarmBase, topic: sns.ITopic) -> None:
    action = actions.SnsAction(topic)
    created.add_alarm_action(action)
    created.add_ok_action(action)


class AlarmSet:
    """The alarms of one construct: created under ``scope``, described with its path, notifying
    ``topic``, recorded in ``into`` (the construct's ``alarms`` list) in the order they are made.

    ``evaluation_periods`` and ``datapoints_to_alarm`` are the construct's defaults; one alarm
    may override them.
    """

    def __init__(
        self,
        scope: Construct,
        topic: sns.ITopic,
        *,
        into: _Collector,
        evaluation_periods: int = 3,
        datapoints_to_alarm: int = 2,
    ) -> None:
        self._scope, self._topic, self._into = scope, topic, into
        self._evaluation_periods = evaluation_periods
        self._datapoints_to_alarm = datapoints_to_alarm

    def add(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        comparison: cloudwatch.ComparisonOperator = GREATER_OR_EQUAL,
        evaluation_periods: int | None = None,
        datapoints_to_alarm: int | None = None,
        missing_data: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        """An alarm ``<construct path>: <description>`` when ``metric`` compares with
        ``threshold`` as ``comparison`` says."""
        created = alarm(
            self._scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            description=f"{self._scope.node.path}: {description}",
            topic=self._topic,
            comparison=comparison,
            evaluation_periods=(
                self._evaluation_periods if evaluation_periods is None else evaluation_periods
            ),
            datapoints_to_alarm=(
                self._datapoints_to_alarm if datapoints_to_alarm is None else datapoints_to_alarm
            ),
            missing_data=missing_data,
        )
        self._into.append(created)
        return created

    def any_of(
        self, construct_id: str, parts: Sequence[cloudwatch.IAlarm], description: str
    ) -> cloudwatch.CompositeAlarm:
        """A composite alarm that is in ALARM when any of ``parts`` is, notifying the topic the
        same way. Not recorded in ``into`` (a composite is no metric alarm): the caller decides."""
        composite = cloudwatch.CompositeAlarm(
            self._scope,
            construct_id,
            alarm_rule=cloudwatch.AlarmRule.any_of(*parts),
            alarm_description=f"{self._scope.node.path}: {description}",
        )
        _notify(composite, self._topic)
        return composite
