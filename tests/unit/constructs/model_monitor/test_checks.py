"""Every bad ModelMonitorSchedule input is rejected at synth time with a precise message."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    Baseline,
    ContainerImage,
    DataCapture,
    ExistingEndpoint,
    GroundTruth,
    ModelData,
    ModelMonitorSchedule,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
    RealtimeEndpoint,
    ReportLocation,
    ServerlessConfig,
)
from tests.helpers.apps import TEST_ENV, unit_app

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
PATH = "Test/Monitor"
NATIVE = MonitorBackend.MODEL_MONITOR


class Resources:
    def __init__(self, env: cdk.Environment | None = TEST_ENV) -> None:
        self.stack = cdk.Stack(unit_app(), "Test", env=env)
        self.bucket = s3.Bucket.from_bucket_name(self.stack, "Bucket", "capture-bucket")
        region = env.region if env is not None and env.region else "eu-west-1"
        # SageMaker pulls the model's image from ECR in the endpoint's region.
        image = ContainerImage.from_uri(f"123456789012.dkr.ecr.{region}.amazonaws.com/churn:1")
        self.endpoint = RealtimeEndpoint(
            self.stack,
            "Churn",
            image=image,
            endpoint_name="churn",
            data_capture=DataCapture(bucket=self.bucket),
        )
        self.baseline = Baseline.from_bucket(self.bucket, "baseline/", features=["a"])
        self.constraints_only = Baseline(
            constraints=ModelData.from_bucket(self.bucket, "b/constraints.json")
        )
        self.truth = GroundTruth(bucket=self.bucket, prefix="truth/")
        self.config = ModelData.from_bucket(self.bucket, "clarify/analysis_config.json")


Build = Callable[[Resources], ModelMonitorSchedule]


def monitor(**kwargs: Any) -> Build:
    """ModelMonitorSchedule(stack, "Monitor", endpoint=<capturing endpoint>, baseline=...,
    **kwargs); callables receive the Resources."""

    def build(resources: Resources) -> ModelMonitorSchedule:
        resolved = {k: v(resources) if callable(v) else v for k, v in kwargs.items()}
        resolved.setdefault("endpoint", resources.endpoint)
        resolved.setdefault("baseline", resources.baseline)
        return ModelMonitorSchedule(resources.stack, "Monitor", **resolved)

    return build


def no_capture(resources: Resources) -> RealtimeEndpoint:
    return RealtimeEndpoint(resources.stack, "Plain", image=IMAGE)


def serverless(resources: Resources) -> RealtimeEndpoint:
    return RealtimeEndpoint(
        resources.stack, "Serverless", image=IMAGE, serverless=ServerlessConfig()
    )


def output_only(resources: Resources) -> RealtimeEndpoint:
    return RealtimeEndpoint(
        resources.stack,
        "OutputOnly",
        image=IMAGE,
        data_capture=DataCapture(bucket=resources.bucket, capture_input=False),
    )


def existing_without_capture(resources: Resources) -> ExistingEndpoint:
    return RealtimeEndpoint.from_endpoint_name(resources.stack, "Existing", "churn-team-b")


def truth(resources: Resources) -> GroundTruth:
    return resources.truth


def config(resources: Resources) -> ModelData:
    return resources.config


def constraints_only(resources: Resources) -> Baseline:
    return resources.constraints_only


def reports_under_capture(resources: Resources) -> ReportLocation:
    return ReportLocation(bucket=resources.bucket, prefix="data-capture/reports/")


MINUTES_50 = cdk.Duration.minutes(50)

CASES: list[tuple[str, Build, str]] = [
    # The endpoint.
    (
        "no data capture",
        monitor(endpoint=no_capture),
        f"{PATH}: endpoint must be an endpoint with data capture "
        "(RealtimeEndpoint(data_capture=DataCapture(...)); for an ExistingEndpoint, "
        "data_capture=DataCapture(...) naming where its capture, already on, writes) "
        "(got Test/Plain without data capture)",
    ),
    (
        "existing endpoint without data capture",
        monitor(endpoint=existing_without_capture),
        "already on, writes) (got Test/Existing without data capture)",
    ),
    (
        "serverless endpoint",
        monitor(endpoint=serverless),
        f"{PATH}: endpoint cannot be combined with a serverless endpoint: serverless endpoints "
        "have no data capture, so there is nothing to monitor",
    ),
    (
        "capture without input",
        monitor(endpoint=output_only),
        f"{PATH}: endpoint must be an endpoint that captures its input",
    ),
    (
        "not an endpoint",
        monitor(endpoint="churn"),
        f"{PATH}: endpoint must be a RealtimeEndpoint, an ExistingEndpoint or a "
        "MonitoredEndpoint (got str)",
    ),
    # Schedules.
    (
        "rate expression",
        monitor(schedule="rate(1 hour)"),
        f"{PATH}: schedule must be 'hourly', 'daily', 'cron(0 * ? * * *)'",
    ),
    (
        "minute-level cron",
        monitor(schedule="cron(0/5 * ? * * *)", backend=NATIVE),
        f"{PATH}: schedule must be 'hourly', 'daily'",
    ),
    (
        "hour out of range",
        monitor(schedule="cron(0 24 ? * * *)", backend=NATIVE),
        "(got 'cron(0 24 ? * * *)')",
    ),
    (
        "step out of range",
        monitor(schedule="cron(0 1/25 ? * * *)", backend=NATIVE),
        "(got 'cron(0 1/25 ? * * *)')",
    ),
    (
        "every-N-hours with the drift job",
        monitor(schedule="cron(0 0/6 ? * * *)"),
        f"{PATH}: schedule must be 'hourly', 'daily', 'cron(0 * ? * * *)' or 'cron(0 H ? * * *)' "
        "with H 0-23 (the drift job analyzes the previous hour or the previous day) "
        "(got 'cron(0 0/6 ? * * *)')",
    ),
    # Runtime against the schedule.
    (
        "runtime equal to the hourly interval",
        monitor(max_runtime=cdk.Duration.minutes(60)),
        f"{PATH}: max_runtime must be shorter than the schedule interval (60 minutes for "
        "'hourly') so a run ends before the next one starts (got 60 minutes)",
    ),
    (
        "runtime longer than a 6-hour interval",
        monitor(backend=NATIVE, schedule="cron(0 0/6 ? * * *)", max_runtime=cdk.Duration.hours(7)),
        "shorter than the schedule interval (360 minutes",
    ),
    (
        "runtime longer than a 12-hour interval starting at 17 h",
        # Model Monitor documents cron(0 17/12 ? * * *) as every 12 hours from 5 PM UTC.
        monitor(
            backend=NATIVE, schedule="cron(0 17/12 ? * * *)", max_runtime=cdk.Duration.hours(13)
        ),
        "shorter than the schedule interval (720 minutes",
    ),
    ("runtime zero", monitor(max_runtime=cdk.Duration.seconds(0)), "max_runtime must be greater"),
    # Types and their inputs.
    (
        "bias with the drift job",
        monitor(
            monitoring_type=MonitoringType.MODEL_BIAS,
            analysis_config=config,
            ground_truth=truth,
            baseline=constraints_only,
        ),
        f"{PATH}: monitoring_type must be MonitoringType.DATA_QUALITY or MODEL_QUALITY with "
        "MonitorBackend.DRIFT_JOB",
    ),
    (
        "label delay in minutes",
        monitor(
            monitoring_type=MonitoringType.MODEL_QUALITY,
            problem_type="Regression",
            ground_truth=truth,
            baseline=constraints_only,
            label_delay=cdk.Duration.minutes(90),
        ),
        f"{PATH}: label_delay must be whole hours from 0 to 720 (got 1.5 hours)",
    ),
    (
        "label delay over 30 days",
        monitor(
            monitoring_type=MonitoringType.MODEL_QUALITY,
            problem_type="Regression",
            ground_truth=truth,
            baseline=constraints_only,
            label_delay=cdk.Duration.days(31),
        ),
        f"{PATH}: label_delay must be whole hours from 0 to 720 (got 744 hours)",
    ),
    (
        "label delay for data quality",
        monitor(label_delay=cdk.Duration.hours(2)),
        f"{PATH}: label_delay cannot be combined with MonitoringType.DATA_QUALITY",
    ),
    (
        "quality alarm for data quality",
        monitor(quality_alarm=QualityAlarm(metric="auc", threshold=0.8)),
        f"{PATH}: quality_alarm cannot be combined with MonitoringType.DATA_QUALITY",
    ),
    (
        "quality alarm metric of another problem type",
        monitor(
            monitoring_type=MonitoringType.MODEL_QUALITY,
            problem_type="Regression",
            ground_truth=truth,
            baseline=constraints_only,
            quality_alarm=QualityAlarm(metric="auc", threshold=0.8),
        ),
        f"{PATH}: quality_alarm.metric must be one of 'mae', 'mse', 'rmse', 'r2' (got 'auc')",
    ),
    (
        "model quality without problem type",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_QUALITY,
            ground_truth=truth,
            baseline=constraints_only,
        ),
        f"{PATH}: problem_type must be given for model quality: BinaryClassification, "
        "MulticlassClassification, Regression (got None)",
    ),
    (
        "unknown problem type",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_QUALITY,
            ground_truth=truth,
            baseline=constraints_only,
            problem_type="binary",
        ),
        f"{PATH}: problem_type must be one of 'BinaryClassification', "
        "'MulticlassClassification', 'Regression' (got 'binary')",
    ),
    (
        "model quality without ground truth",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_QUALITY,
            problem_type="Regression",
            baseline=constraints_only,
        ),
        f"{PATH}: ground_truth must be given for model quality and bias",
    ),
    (
        "bias without ground truth",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_BIAS,
            analysis_config=config,
            baseline=constraints_only,
        ),
        f"{PATH}: ground_truth must be given for model quality and bias",
    ),
    (
        "bias without analysis config",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_BIAS,
            ground_truth=truth,
            baseline=constraints_only,
        ),
        f"{PATH}: analysis_config must be given for bias and explainability",
    ),
    (
        "explainability without analysis config",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_EXPLAINABILITY,
            baseline=constraints_only,
        ),
        f"{PATH}: analysis_config must be given for bias and explainability",
    ),
    (
        "problem type on data quality",
        monitor(problem_type="Regression"),
        f"{PATH}: problem_type cannot be combined with MonitoringType.DATA_QUALITY",
    ),
    (
        "ground truth on explainability",
        monitor(
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_EXPLAINABILITY,
            analysis_config=config,
            ground_truth=truth,
            baseline=constraints_only,
        ),
        f"{PATH}: ground_truth cannot be combined with MonitoringType.MODEL_EXPLAINABILITY",
    ),
    (
        "analysis config on data quality",
        monitor(analysis_config=config),
        f"{PATH}: analysis_config cannot be combined with MonitoringType.DATA_QUALITY",
    ),
    (
        "data quality without statistics",
        monitor(baseline=constraints_only),
        f"{PATH}: baseline.statistics must be given for data quality",
    ),
    # Resources.
    (
        "instance count 0",
        monitor(backend=NATIVE, instance_count=0),
        f"{PATH}: instance_count must be between 1 and 100 (got 0)",
    ),
    (
        "instance count 101",
        monitor(backend=NATIVE, instance_count=101),
        f"{PATH}: instance_count must be between 1 and 100 (got 101)",
    ),
    (
        "several instances leave no time for the reduce step",
        monitor(instance_count=2, max_runtime=cdk.Duration.minutes(56)),
        "less the reduce step's 5 minutes on 2 instances) so a run ends before the next",
    ),
    (
        "volume 0",
        monitor(volume_size_gb=0),
        f"{PATH}: volume_size_gb must be between 1 and 16384 GB (got 0)",
    ),
    (
        "volume 16385",
        monitor(volume_size_gb=16385),
        f"{PATH}: volume_size_gb must be between 1 and 16384 GB (got 16385)",
    ),
    (
        "instance type endpoint-only",
        monitor(instance_type="ml.m5d.large"),
        f"{PATH}: instance_type must be an instance type CreateProcessingJob accepts "
        "(ml.<family>.<size>, families",
    ),
    (
        "instance type without ml.",
        monitor(instance_type="m5.large"),
        f"{PATH}: instance_type must be an instance type CreateProcessingJob accepts "
        "(ml.<family>.<size>, families",
    ),
    # Everything else.
    (
        "threshold 0",
        monitor(drift_threshold=0),
        f"{PATH}: drift_threshold must be greater than 0 (got 0)",
    ),
    ("empty features", monitor(features=[]), f"{PATH}: features must be a non-empty list"),
    (
        "schedule name with underscore",
        monitor(schedule_name="churn_drift"),
        f"{PATH}: schedule_name must be 1-63 letters, digits and hyphens",
    ),
    (
        "reports under the capture prefix",
        monitor(reports=reports_under_capture),
        f"{PATH}: reports.prefix must be outside the capture prefix 'data-capture/' of the same "
        "bucket (got 'data-capture/reports/')",
    ),
    (
        "record minimum with Model Monitor",
        monitor(backend=NATIVE, min_records_per_run=10),
        f"{PATH}: min_records_per_run cannot be combined with MonitorBackend.MODEL_MONITOR",
    ),
    (
        "drift job image from another region",
        monitor(
            image=ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/drift:1")
        ),
        f"{PATH}: image must be an ECR image in the stack's region eu-west-1 (SageMaker, ECS and "
        "Lambda pull from ECR in their own region; this one is in us-east-1) "
        "(got '123456789012.dkr.ecr.us-east-1.amazonaws.com/drift:1')",
    ),
    (
        "record minimum 0",
        monitor(min_records_per_run=0),
        f"{PATH}: min_records_per_run must be at least 1 (got 0)",
    ),
    (
        "custom image with Model Monitor",
        monitor(backend=NATIVE, image=IMAGE),
        f"{PATH}: image cannot be combined with MonitorBackend.MODEL_MONITOR",
    ),
    (
        "on_drift that cannot be started",
        monitor(on_drift="arn:aws:states:eu-west-1:123456789012:stateMachine:x"),
        f"{PATH}: on_drift must be a Step Functions state machine, a Lambda function or an "
        "EventBridge rule target (got str)",
    ),
]


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected(build: Build, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build(Resources())


def test_region_without_a_model_monitor_image() -> None:
    resources = Resources(cdk.Environment(account="123456789012", region="ap-southeast-5"))
    with pytest.raises(
        ConfigurationError,
        match=re.escape(
            f"{PATH}: region must be a region with a Model Monitor analyzer image (af-south-1, "
        ),
    ) as raised:
        monitor(backend=NATIVE)(resources)
    assert str(raised.value).endswith("(got 'ap-southeast-5')")


def test_region_without_a_clarify_image() -> None:
    # il-central-1 has the analyzer but no Clarify image in the package data.
    resources = Resources(cdk.Environment(account="123456789012", region="il-central-1"))
    monitor(backend=NATIVE)(resources)  # data quality works there
    with pytest.raises(ConfigurationError, match="region must be a region with a Clarify image"):
        ModelMonitorSchedule(
            resources.stack,
            "Explain",
            endpoint=resources.endpoint,
            baseline=resources.constraints_only,
            backend=NATIVE,
            monitoring_type=MonitoringType.MODEL_EXPLAINABILITY,
            analysis_config=resources.config,
        )


def test_environment_agnostic_stack_with_model_monitor() -> None:
    resources = Resources(env=None)
    with pytest.raises(
        ConfigurationError,
        match=re.escape(
            f"{PATH}: region must be a concrete region (set the stack's env) so the Model "
            "Monitor image can be chosen (got unresolved (environment-agnostic stack))"
        ),
    ):
        monitor(backend=NATIVE)(resources)


def test_drift_job_needs_no_region() -> None:
    monitor()(Resources(env=None))


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda b: GroundTruth(bucket=b, prefix="/labels"),
            "GroundTruth: prefix must be a key prefix",
        ),
        (
            lambda b: ReportLocation(bucket=b, prefix="reports*"),
            "ReportLocation: prefix must be a key prefix",
        ),
        (
            lambda b: MonitoredEndpoint(endpoint_name="bad_name", bucket=b),
            "MonitoredEndpoint: endpoint_name must be 1-63 letters",
        ),
        (
            lambda b: MonitoredEndpoint(endpoint_name="ok", bucket=b, prefix="capture data"),
            "MonitoredEndpoint: prefix must be a key prefix",
        ),
        (
            lambda b: Baseline.from_bucket(b, "/baseline"),
            "Baseline.from_bucket: prefix must be a key prefix",
        ),
        (
            lambda b: Baseline(constraints="s3://b/constraints.json"),  # type: ignore[arg-type]
            "Baseline: constraints must be a ModelData location",
        ),
        (
            lambda b: Baseline(constraints=ModelData.from_bucket(b, "c.json"), features=[]),
            "Baseline: features must be a non-empty list of feature names (got [])",
        ),
        (
            lambda b: Baseline.from_directory("/nonexistent"),
            "Baseline.from_directory: path must be a folder holding constraints.json",
        ),
    ],
    ids=[
        "ground truth prefix",
        "report prefix",
        "monitored endpoint name",
        "monitored endpoint prefix",
        "baseline prefix",
        "baseline constraints type",
        "baseline features",
        "baseline folder",
    ],
)
def test_option_types_check_themselves(factory: Callable[[Any], Any], message: str) -> None:
    stack = cdk.Stack(unit_app(), "Options", env=TEST_ENV)
    bucket = s3.Bucket.from_bucket_name(stack, "B", "bucket")
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        factory(bucket)


# --- a threshold nothing would compare against is said out loud -------------------------


def drift_warnings(stack: cdk.Stack) -> list[str]:
    found = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("drift_threshold")
    )
    return [str(w.entry.data) for w in found]


@pytest.mark.parametrize(
    ("kwargs", "warned"),
    [
        (
            {"drift_threshold": 0.3, "baseline": lambda r: Baseline.from_bucket(r.bucket, "b/")},
            True,
        ),
        ({"baseline": lambda r: Baseline.from_bucket(r.bucket, "b/")}, False),
        ({"drift_threshold": 0.3}, False),
    ],
    ids=["threshold-without-features", "default-without-features", "threshold-with-features"],
)
def test_drift_threshold_without_feature_names_warns(kwargs: dict[str, Any], warned: bool) -> None:
    resources = Resources()
    monitor(**kwargs)(resources)
    warnings = drift_warnings(resources.stack)
    assert bool(warnings) is warned
    if warned:
        assert "drift_threshold=0.3 has no effect" in warnings[0]
        assert "give features=[...]" in warnings[0]


def test_quality_alarm_rejects_unknown_metrics_and_non_numbers() -> None:
    with pytest.raises(ConfigurationError, match=r"QualityAlarm: metric must be one of 'accuracy'"):
        QualityAlarm(metric="AUC", threshold=0.8)
    with pytest.raises(ConfigurationError, match="QualityAlarm: threshold must be a number"):
        QualityAlarm(metric="auc", threshold="0.8")  # type: ignore[arg-type]
