"""Typed keyword options of every ``metric_*`` method, the same in every construct.

They are the keywords of ``aws_cloudwatch.MetricOptions``: each construct fills in namespace,
metric name, dimensions and a sensible statistic and period, and the caller may override any of
them::

    endpoint.metric_model_latency(statistic="p90", period=Duration.minutes(5), label="p90")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch


class MetricOptions(TypedDict, total=False):
    """Keyword options of ``metric_*`` methods (those of ``aws_cloudwatch.MetricOptions``).

    :param account: account the metric comes from. Default: the stack's.
    :param color: graph colour (hex ``#rrggbb``). Default: automatic.
    :param dimensions_map: dimensions added to (or replacing) the construct's own.
    :param label: legend label. Default: the metric name.
    :param period: aggregation period. Default: per method (1 minute on most).
    :param region: region the metric comes from. Default: the stack's.
    :param statistic: ``Sum``, ``Average``, ``Minimum``, ``Maximum``, ``SampleCount``,
        ``pNN``... Default: per method.
    :param unit: only data points in this unit. Default: all.
    """

    account: str
    color: str
    dimensions_map: Mapping[str, str]
    label: str
    period: Duration
    region: str
    statistic: str
    unit: cloudwatch.Unit


def build_metric(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str],
    options: MetricOptions,
    *,
    statistic: str,
    period: Duration,
) -> cloudwatch.Metric:
    """A metric with the construct's defaults (``statistic``, ``period``, ``dimensions``)
    overridden by the caller's ``options``. For the constructs of this package."""
    check_options(options)
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={**dimensions, **options.get("dimensions_map", {})},
        statistic=options.get("statistic", statistic),
        period=options.get("period", period),
        label=options.get("label"),
        unit=options.get("unit"),
        color=options.get("color"),
        account=options.get("account"),
        region=options.get("region"),
    )


def check_options(options: MetricOptions) -> None:
    """Raise ``TypeError`` for a keyword that is not a metric option (as Python would for an
    explicit keyword argument)."""
    unknown = sorted(set(options) - MetricOptions.__optional_keys__)
    if unknown:
        raise TypeError(
            f"unexpected metric option(s) {', '.join(unknown)}; allowed: "
            + ", ".join(sorted(MetricOptions.__optional_keys__))
        )
