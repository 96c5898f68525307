"""The monitoring part of an environment: drift detection on the Serving stack's endpoint, and
a dashboard of its metrics."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk.constructs import (
    Baseline,
    ModelMonitorSchedule,
    MonitorBackend,
    RealtimeEndpoint,
    ReportLocation,
)
from mlops_cdk.stacks.data import DataStack
from mlops_cdk.stacks.network import NetworkStack

_BACKENDS = {"drift_job": MonitorBackend.DRIFT_JOB, "model_monitor": MonitorBackend.MODEL_MONITOR}


class MonitoringStack(Stack):
    """Drift detection of one environment: a ModelMonitorSchedule on the environment's
    RealtimeEndpoint, reports in the Data stack's ``reports`` bucket, alarms to its topic.
    Stateless, so it can be replaced at will."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        endpoint: RealtimeEndpoint,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.model_monitor
        self.monitor = ModelMonitorSchedule(
            self,
            "Drift",
            endpoint=endpoint,
            baseline=Baseline.demo_model(),
            backend=_BACKENDS[settings.backend],
            schedule=settings.schedule,
            instance_type=settings.instance_type,
            volume_size_gb=settings.volume_size_gb,
            max_runtime=Duration.minutes(settings.max_runtime_minutes),
            drift_threshold=settings.drift_threshold,
            reports=ReportLocation(
                bucket=data.shared_bucket(self, "reports"), prefix=settings.reports_prefix
            ),
            vpc=network.vpc if settings.in_vpc else None,
            subnets=network.private_subnets,
            encryption_key=data.encryption_key,
            alarm_topic=data.alarm_topic,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.project}-{config.name}-monitoring",
            widgets=[[widget] for widget in self.monitor.dashboard_widgets()],
        )
        CfnOutput(
            self,
            "MonitoringScheduleName",
            value=self.monitor.schedule_name,
            description="MonitoringSchedule dimension of the drift metrics "
            "(aws/sagemaker/Endpoints/data-metrics)",
        )
