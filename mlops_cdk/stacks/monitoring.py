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
    GroundTruth,
    ModelMonitorSchedule,
    MonitorBackend,
    MonitoringType,
    QualityAlarm,
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
        common: dict[str, Any] = {
            "endpoint": endpoint,
            "schedule": settings.schedule,
            "instance_type": settings.instance_type,
            "instance_count": settings.instance_count,
            "volume_size_gb": settings.volume_size_gb,
            "max_runtime": Duration.minutes(settings.max_runtime_minutes),
            "vpc": network.vpc if settings.in_vpc else None,
            "subnets": network.private_subnets,
            "encryption_key": data.encryption_key,
            "alarm_topic": data.alarm_topic,
        }
        reports = ReportLocation(
            bucket=data.shared_bucket(self, "reports"), prefix=settings.reports_prefix
        )
        self.monitor = ModelMonitorSchedule(
            self,
            "Drift",
            baseline=Baseline.demo_model(),
            backend=_BACKENDS[settings.backend],
            drift_threshold=settings.drift_threshold,
            reports=reports,
            **common,
        )
        quality = settings.model_quality
        self.quality: ModelMonitorSchedule | None = None
        if quality.enabled:
            # Labels go to the capture bucket beside the capture, in the same path format.
            self.quality = ModelMonitorSchedule(
                self,
                "Quality",
                baseline=Baseline.demo_model_quality(),
                monitoring_type=MonitoringType.MODEL_QUALITY,
                problem_type=quality.problem_type,
                ground_truth=GroundTruth(
                    bucket=data.shared_bucket(self, "capture"), prefix=quality.ground_truth_prefix
                ),
                label_delay=Duration.hours(quality.label_delay_hours),
                probability_threshold=quality.probability_threshold,
                quality_alarm=QualityAlarm(metric=quality.metric, threshold=quality.threshold),
                reports=reports,
                **common,
            )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.project}-{config.name}-monitoring",
            widgets=[
                [widget]
                for monitor in (self.monitor, self.quality)
                if monitor is not None
                for widget in monitor.dashboard_widgets()
            ],
        )
        CfnOutput(
            self,
            "MonitoringScheduleName",
            value=self.monitor.schedule_name,
            description="MonitoringSchedule dimension of the drift metrics "
            "(aws/sagemaker/Endpoints/data-metrics)",
        )
