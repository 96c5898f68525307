"""The rules a ModelMonitorSchedule checks before it creates anything: the monitored endpoint
and its data capture, then backend, monitoring type, schedule, sizes, runtime and the inputs each
monitoring type needs. Each raises a ConfigurationError naming the construct path, keyword and
reason."""

from __future__ import annotations

from aws_cdk import Duration

from mlops_cdk._internal.monitor_schedules import (
    DRIFT_JOB_SCHEDULE_MEANING,
    SCHEDULE_MEANING,
    MonitorSchedule,
    parse_schedule,
)
from mlops_cdk._internal.patterns import SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk.constructs.model_monitor._images import CLARIFY_TYPES
from mlops_cdk.constructs.model_monitor._settings import Capture, MonitorSettings
from mlops_cdk.constructs.model_monitor.options import (
    PROBLEM_TYPES,
    Baseline,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
)
from mlops_cdk.constructs.realtime_endpoint.construct import RealtimeEndpoint
from mlops_cdk.constructs.realtime_endpoint.existing import ExistingEndpoint

MAX_INSTANCE_COUNT = 100  # MonitoringResources.ClusterConfig.InstanceCount 1-100
MAX_VOLUME_GB = 16384  # ClusterConfig.VolumeSizeInGB 1-16384
MAX_MONITOR_RUNTIME = Duration.hours(24)  # StoppingCondition for monitoring jobs: 1-86400 s


def check(
    check: Checker,
    endpoint: RealtimeEndpoint | ExistingEndpoint | MonitoredEndpoint,
    settings: MonitorSettings,
) -> MonitorSchedule:
    """Every rule of a ModelMonitorSchedule, endpoint first; returns the parsed schedule."""
    _check_endpoint(check, endpoint)
    parsed = _check_settings(check, settings)
    if settings.schedule_name is not None:
        check.matches(
            "schedule_name", settings.schedule_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING
        )
    capture = Capture.of(endpoint)
    reports = settings.reports_in(capture)
    if reports.bucket is capture.bucket and reports.prefix.startswith(capture.prefix):
        check.fail(
            "reports.prefix",
            f"outside the capture prefix {capture.prefix!r} of the same bucket",
            reports.prefix,
        )
    return parsed


def _check_endpoint(
    check: Checker, endpoint: RealtimeEndpoint | ExistingEndpoint | MonitoredEndpoint
) -> None:
    if isinstance(endpoint, MonitoredEndpoint):
        return
    if not isinstance(endpoint, RealtimeEndpoint | ExistingEndpoint):
        check.fail(
            "endpoint",
            "a RealtimeEndpoint, an ExistingEndpoint or a MonitoredEndpoint",
            Said(type(endpoint).__name__),
        )
    if endpoint.serverless:
        check.not_together(
            "endpoint",
            "a serverless endpoint",
            "serverless endpoints have no data capture, so there is nothing to monitor",
        )
    capture = endpoint.data_capture
    if capture is None or capture.bucket is None:
        check.fail(
            "endpoint",
            "an endpoint with data capture (RealtimeEndpoint(data_capture=DataCapture(...)); "
            "for an ExistingEndpoint, data_capture=DataCapture(...) naming where its capture, "
            "already on, writes)",
            Said(f"{endpoint.node.path} without data capture"),
        )
    if not capture.capture_input:
        check.fail(
            "endpoint",
            "an endpoint that captures its input (DataCapture(capture_input=True))",
            Said("capture_input=False"),
        )


def _check_settings(check: Checker, settings: MonitorSettings) -> MonitorSchedule:
    backend, monitoring_type, baseline = (
        settings.backend,
        settings.monitoring_type,
        settings.baseline,
    )
    schedule, instance_count = settings.schedule, settings.instance_count
    problem_type, ground_truth = settings.problem_type, settings.ground_truth
    analysis_config, features = settings.analysis_config, settings.features
    min_records_per_run = settings.min_records_per_run
    check.require(
        isinstance(backend, MonitorBackend),
        "backend",
        "MonitorBackend.DRIFT_JOB or MonitorBackend.MODEL_MONITOR",
        backend,
    )
    check.require(
        isinstance(monitoring_type, MonitoringType),
        "monitoring_type",
        "a MonitoringType (DATA_QUALITY, MODEL_QUALITY, MODEL_BIAS, MODEL_EXPLAINABILITY)",
        monitoring_type,
    )
    check.require(isinstance(baseline, Baseline), "baseline", "a Baseline", baseline)
    drift_job = backend is MonitorBackend.DRIFT_JOB
    if drift_job and monitoring_type is not MonitoringType.DATA_QUALITY:
        check.fail(
            "monitoring_type",
            "MonitoringType.DATA_QUALITY with MonitorBackend.DRIFT_JOB (the drift job checks "
            "data quality; use MonitorBackend.MODEL_MONITOR for the other types)",
            Said(f"MonitoringType.{monitoring_type.name}"),
        )
    if min_records_per_run is not None:
        if not drift_job:
            check.not_together(
                "min_records_per_run",
                "MonitorBackend.MODEL_MONITOR",
                "only the drift job publishes drift_job_records_analyzed",
            )
        check.at_least("min_records_per_run", min_records_per_run, 1)
    if not drift_job and settings.image is not None:
        check.not_together(
            "image", "MonitorBackend.MODEL_MONITOR", "Model Monitor runs its own images"
        )
    parsed = parse_schedule(schedule) if isinstance(schedule, str) else None
    if parsed is None:
        check.fail("schedule", SCHEDULE_MEANING, schedule)
    if drift_job and parsed.window is None:
        check.fail("schedule", DRIFT_JOB_SCHEDULE_MEANING, schedule)
    check_instance_type(check, "instance_type", settings.instance_type, api="processing")
    check.in_range("instance_count", instance_count, 1, MAX_INSTANCE_COUNT)
    if drift_job:
        check.require(
            instance_count == 1,
            "instance_count",
            "1 with MonitorBackend.DRIFT_JOB (the drift job runs on one instance)",
            instance_count,
        )
    check.in_range("volume_size_gb", settings.volume_size_gb, 1, MAX_VOLUME_GB, "GB")
    runtime = settings.max_runtime.to_seconds()
    check.positive("max_runtime", runtime)
    check.require(
        runtime < parsed.interval_seconds,
        "max_runtime",
        f"shorter than the schedule interval ({parsed.interval_seconds // 60} minutes for "
        f"{schedule!r}) so a run ends before the next one starts",
        Said(f"{runtime / 60:g} minutes"),
    )
    check.require(
        runtime <= MAX_MONITOR_RUNTIME.to_seconds(),
        "max_runtime",
        "at most 24 hours",
        Said(f"{runtime / 3600:g} hours"),
    )
    check.positive("drift_threshold", settings.drift_threshold)
    if monitoring_type is MonitoringType.DATA_QUALITY:
        check.require(
            baseline.statistics is not None,
            "baseline.statistics",
            "given for data quality (statistics.json next to constraints.json)",
            None,
        )
    if monitoring_type is MonitoringType.MODEL_QUALITY:
        if problem_type is None:
            check.fail("problem_type", "given for model quality: " + ", ".join(PROBLEM_TYPES), None)
        check.one_of("problem_type", problem_type, PROBLEM_TYPES)
    elif problem_type is not None:
        check.not_together(
            "problem_type", f"MonitoringType.{monitoring_type.name}", "it is for model quality"
        )
    needs_truth = (MonitoringType.MODEL_QUALITY, MonitoringType.MODEL_BIAS)
    if monitoring_type in needs_truth and ground_truth is None:
        check.fail(
            "ground_truth",
            "given for model quality and bias (GroundTruth(bucket=..., prefix=...))",
            None,
        )
    if monitoring_type not in needs_truth and ground_truth is not None:
        check.not_together(
            "ground_truth",
            f"MonitoringType.{monitoring_type.name}",
            "only model quality and bias merge ground truth",
        )
    if monitoring_type in CLARIFY_TYPES and analysis_config is None:
        check.fail(
            "analysis_config",
            "given for bias and explainability (a Clarify analysis_config.json as ModelData)",
            None,
        )
    if monitoring_type not in CLARIFY_TYPES and analysis_config is not None:
        check.not_together(
            "analysis_config",
            f"MonitoringType.{monitoring_type.name}",
            "only bias and explainability use a Clarify analysis config",
        )
    if features is not None:
        check.require(
            len(features) > 0 and all(isinstance(f, str) and f for f in features),
            "features",
            "a non-empty list of feature names",
            Said(repr(list(features))),
        )
    return parsed
