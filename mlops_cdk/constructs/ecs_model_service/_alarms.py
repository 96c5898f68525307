"""The alarms of an EcsModelService: unhealthy tasks, the share of 5XX responses, latency at a
percentile, fewer running tasks than the service should have, and CPU and memory utilisation,
each notifying the alarm topic after three of five periods in breach."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal.alarms import AlarmSet, latency_alarm_id
from mlops_cdk.constructs.ecs_model_service.options import ServiceAlarms


def service_alarms(
    scope: Construct,
    *,
    target_group: elbv2.ApplicationTargetGroup,
    service: ecs.BaseService,
    running_tasks: cloudwatch.IMetric,
    min_running_tasks: int,
    thresholds: ServiceAlarms,
    topic: sns.ITopic,
) -> list[cloudwatch.Alarm]:
    """The alarms of ``scope``, created under it in this order: ``UnhealthyHosts``,
    ``Target5xx``, ``LatencyP99`` (``LatencyP95``... at another percentile), ``RunningTasks``
    (below ``min_running_tasks``), ``Cpu`` and ``Memory``."""
    period = thresholds.period
    metrics = target_group.metrics
    alarms: list[cloudwatch.Alarm] = []
    add = AlarmSet(scope, topic, into=alarms, evaluation_periods=5, datapoints_to_alarm=3).add
    add(
        "UnhealthyHosts",
        metrics.unhealthy_host_count(statistic="Maximum", period=period),
        1,
        "at least one task fails the load balancer's health check",
    )
    add(
        "Target5xx",
        cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={
                "errors": metrics.http_code_target(
                    elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period
                ),
                "requests": metrics.request_count(period=period),
            },
            label="Target 5XX %",
            period=period,
        ),
        thresholds.error_5xx_rate_percent,
        f"model 5XX responses above {thresholds.error_5xx_rate_percent:g} % of requests",
    )
    percentile, limit = thresholds.latency_percentile, thresholds.latency_threshold
    add(
        latency_alarm_id("Latency", percentile),
        metrics.target_response_time(statistic=percentile, period=period),
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
