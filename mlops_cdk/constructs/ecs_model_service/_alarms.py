"""The alarms of an EcsModelService: unhealthy tasks, the share of 5XX responses, latency at a
percentile, fewer running tasks than the service should have, and CPU and memory utilisation,
each notifying the alarm topic after three of five periods in breach."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal.alarms import AlarmSet, latency_alarm_id
from mlops_cdk._internal.validators.ecs_deployments import ROLLBACK_ALARM_DATAPOINTS
from mlops_cdk.constructs.ecs_model_service.options import ServiceAlarms


def service_alarms(
    scope: Construct,
    *,
    target_groups: Sequence[elbv2.ApplicationTargetGroup],
    service: ecs.BaseService,
    running_tasks: cloudwatch.IMetric,
    min_running_tasks: int,
    thresholds: ServiceAlarms,
    topic: sns.ITopic,
) -> list[cloudwatch.Alarm]:
    """The alarms of ``scope``, created under it in this order: ``UnhealthyHosts``,
    ``Target5xx``, ``LatencyP99`` (``LatencyP95``... at another percentile), ``RunningTasks``
    (below ``min_running_tasks``), ``Cpu`` and ``Memory``. With two target groups (blue/green)
    each load-balancer alarm watches both, so it keeps watching production after ECS moved it to
    the other group."""
    period = thresholds.period
    alarms: list[cloudwatch.Alarm] = []
    add = AlarmSet(
        scope,
        topic,
        into=alarms,
        evaluation_periods=5,
        # ECS's rollback waits on these alarms: the bake check uses the same count.
        datapoints_to_alarm=ROLLBACK_ALARM_DATAPOINTS,
    ).add
    add(
        "UnhealthyHosts",
        _combined(
            target_groups,
            lambda m: m.unhealthy_host_count(statistic="Maximum", period=period),
            "MAX",
            "Unhealthy tasks",
            period,
        ),
        1,
        "at least one task fails the load balancer's health check",
    )
    add(
        "Target5xx",
        _error_rate(target_groups, period),
        thresholds.error_5xx_rate_percent,
        f"model 5XX responses above {thresholds.error_5xx_rate_percent:g} % of requests",
    )
    percentile, limit = thresholds.latency_percentile, thresholds.latency_threshold
    add(
        latency_alarm_id("Latency", percentile),
        _combined(
            target_groups,
            lambda m: m.target_response_time(statistic=percentile, period=period),
            "MAX",
            f"{percentile} response time (s)",
            period,
        ),
        limit.to_milliseconds() / 1000,  # TargetResponseTime is in seconds
        f"{percentile} response time above {limit.to_milliseconds():g} ms",
    )
    add(
        "RunningTasks",
        running_tasks,
        min_running_tasks,
        f"fewer than {min_running_tasks} tasks running (tasks failing to start, or no capacity)",
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    )
    add(
        "Cpu",
        service.metric_cpu_utilization(period=period),
        thresholds.cpu_percent,
        f"service CPU above {thresholds.cpu_percent:g} %",
    )
    add(
        "Memory",
        service.metric_memory_utilization(period=period),
        thresholds.memory_percent,
        f"service memory above {thresholds.memory_percent:g} %",
    )
    return alarms


def _combined(
    groups: Sequence[elbv2.ApplicationTargetGroup],
    metric: Callable[[elbv2.IApplicationTargetGroupMetrics], cloudwatch.IMetric],
    function: str,
    label: str,
    period: Duration,
) -> cloudwatch.IMetric:
    """``metric`` of the one group, or ``function`` (MAX) over every group's, an idle group
    counting as nothing (metric math drops a series with no data from MAX)."""
    if len(groups) == 1:
        return metric(groups[0].metrics)
    names = {f"g{index}": metric(group.metrics) for index, group in enumerate(groups)}
    return cloudwatch.MathExpression(
        expression=f"{function}([{', '.join(names)}])",
        using_metrics=names,
        label=label,
        period=period,
    )


def _error_rate(
    groups: Sequence[elbv2.ApplicationTargetGroup], period: Duration
) -> cloudwatch.IMetric:
    """Target 5XX responses per request, in %, over every group."""
    using: dict[str, cloudwatch.IMetric] = {}
    for index, group in enumerate(groups):
        using[f"e{index}"] = group.metrics.http_code_target(
            elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period
        )
        using[f"r{index}"] = group.metrics.request_count(period=period)
    if len(groups) == 1:
        using = {"errors": using["e0"], "requests": using["r0"]}
        expression = "IF(requests > 0, 100 * errors / requests, 0)"
    else:
        errors = " + ".join(f"FILL(e{i}, 0)" for i in range(len(groups)))
        requests = " + ".join(f"FILL(r{i}, 0)" for i in range(len(groups)))
        expression = f"IF(({requests}) > 0, 100 * ({errors}) / ({requests}), 0)"
    return cloudwatch.MathExpression(
        expression=expression, using_metrics=using, label="Target 5XX %", period=period
    )
