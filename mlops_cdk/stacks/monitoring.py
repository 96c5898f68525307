"""The monitoring part of an environment: drift detection on the Serving stack's endpoint, and
a dashboard of its metrics."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import defaults
from mlops_cdk._internal.iam import grant_decrypt_through_s3
from mlops_cdk._internal.model_packages import CONSTRAINTS_URI, STATISTICS_URI, PackageDescription
from mlops_cdk.constructs import (
    Baseline,
    GroundTruth,
    ModelData,
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
        package = config.realtime_endpoint.model_package
        arn = package.arn if package else None
        baselines = (
            PackageBaselines(self, package, arn, config, data)
            if package is not None and arn is not None
            else None
        )
        self.monitor = ModelMonitorSchedule(
            self,
            "Drift",
            baseline=baselines.baseline if baselines else Baseline.demo_model(),
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
        if baselines is not None:
            baselines.grant_decrypt(self.monitor.role)
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


class PackageBaselines:
    """The drift baselines the served package was registered with (``DriftCheckBaselines.
    ModelDataQuality``: the statistics and constraints of its own training data), read at
    deploy time, so drift is measured against the model actually deployed.

    They are under the package's ``artifact_prefix`` in the artifacts bucket of the package's
    account: this environment's own, or the registry account's (``artifact_bucket``) for a
    promoted package. The feature names (for the per-feature drift alarm) are the demo
    baseline's: the pipeline trains on the same request schema.
    """

    def __init__(
        self,
        scope: Construct,
        package: cfg.ModelPackageSettings,
        arn: str,
        config: cfg.EnvironmentConfig,
        data: DataStack,
    ) -> None:
        self.description = PackageDescription(
            scope,
            "ServedPackageBaselines",
            package_arn=arn,
            fields=[STATISTICS_URI, CONSTRAINTS_URI],
            encryption_key=data.encryption_key,
            log_retention=defaults.retention(config.log_retention_days),
        )
        self.foreign_account: str | None = None
        bucket: s3.IBucket
        if cfg.package_account(arn) == config.account:
            bucket = data.shared_bucket(scope, "artifacts")
        else:
            assert package.artifact_bucket is not None  # noqa: S101 - checked by the config
            self.foreign_account = cfg.package_account(arn)
            bucket = s3.Bucket.from_bucket_name(
                scope, "RegistryArtifactsBucket", package.artifact_bucket
            )
        self.bucket, self.prefix = bucket, package.artifact_prefix

        def location(path: str) -> ModelData:
            return ModelData.from_deploy_time_uri(
                self.description.field(path),
                bucket=bucket,
                prefix=package.artifact_prefix,
                compressed=False,
            )

        self.baseline = Baseline(
            statistics=location(STATISTICS_URI),
            constraints=location(CONSTRAINTS_URI),
            features=Baseline.demo_model().features,
        )

    def grant_decrypt(self, grantee: iam.IGrantable) -> None:
        """Decrypt through S3 with the registry account's key (a promoted package only; the
        environment's own key is granted when the baselines are bound)."""
        if self.foreign_account is not None:
            grant_decrypt_through_s3(
                grantee,
                key_account=self.foreign_account,
                bucket_arn=self.bucket.bucket_arn,
                prefix=self.prefix,
            )
