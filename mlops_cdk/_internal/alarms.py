"""Alarms that always notify someone, and the metric helpers constructs share."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from constructs import Construct

DEFAULT_PERIOD = Duration.minutes(5)


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
    comparison: cloudwatch.ComparisonOperator = (
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    ),
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
    action = actions.SnsAction(topic)
    created.add_alarm_action(action)
    created.add_ok_action(action)
    return created
