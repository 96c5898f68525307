"""The rules a ModelMonitorSchedule checks before it creates anything: the monitored endpoint
and its data capture, then backend, monitoring type, schedule, sizes, runtime and the inputs each
monitoring type needs. Each raises a ConfigurationError naming the construct path, keyword and
reason."""

from __future__ import annotations

from aws_cdk import Duration

from mlops_cdk._internal.model_quality import PROBLEM_TYPES, QUALITY_METRICS
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
    Baseline,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
)
from mlops_cdk.constructs.realtime_endpoint.construct import RealtimeEndpoint
from mlops_cdk.constructs.realtime_endpoint.existing import ExistingEndpoint

MAX_INSTANCE_COUNT = 100  # MonitoringResources.ClusterConfig.InstanceCount 1-100
MAX_VOLUME_GB = 16384  # ClusterConfig.VolumeSizeInGB 1-16384
MAX_MONITOR_RUNTIME = Duration.hours(24)  # StoppingCondition for monitoring jobs: 1-86400 s
# The drift job's reduce step (merging the hosts' partials; seconds of work) may run this long.
REDUCE_MAX_RUNTIME = Duration.minutes(5)
# The drift job reads labels from the window's start to the run: at most 31 days of hour
# folders (runtime/drift/s3source.py MAX_HOURS), so the delay stays under 30 days.
MAX_LABEL_DELAY_HOURS = 24 * 30
DRIFT_JOB_TYPES = (MonitoringType.DATA_QUALITY, MonitoringType.MODEL_QUALITY)


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
    if drift_job and monitoring_type not in DRIFT_JOB_TYPES:
        check.fail(
            "monitoring_type",
            "MonitoringType.DATA_QUALITY or MODEL_QUALITY with MonitorBackend.DRIFT_JOB (the "
            "drift job checks data and model quality; use MonitorBackend.MODEL_MONITOR for bias "
            "and explainability)",
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
    check.in_range("volume_size_gb", settings.volume_size_gb, 1, MAX_VOLUME_GB, "GB")
    runtime = settings.max_runtime.to_seconds()
    check.positive("max_runtime", runtime)
    # On several instances the drift job's reduce step runs after the map job.
    reduce_step = REDUCE_MAX_RUNTIME.to_seconds() if drift_job and instance_count > 1 else 0
    check.require(
        runtime + reduce_step < parsed.interval_seconds,
        "max_runtime",
        f"shorter than the schedule interval ({parsed.interval_seconds // 60} minutes for "
        f"{schedule!r}"
        + (
            f", less the reduce step's {reduce_step // 60:g} minutes on {instance_count} instances"
            if reduce_step
            else ""
        )
        + ") so a run ends before the next one starts",
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
    _check_quality(check, settings, drift_job)
    if features is not None:
        check.require(
            len(features) > 0 and all(isinstance(f, str) and f for f in features),
            "features",
            "a non-empty list of feature names",
            Said(repr(list(features))),
        )
    return parsed


def _check_quality(check: Checker, settings: MonitorSettings, drift_job: bool) -> None:
    """label_delay and quality_alarm: model quality only, in whole hours / for the problem
    type's metrics."""
    quality = settings.monitoring_type is MonitoringType.MODEL_QUALITY
    delay = settings.label_delay
    if delay is not None:
        if not (quality and drift_job):
            check.not_together(
                "label_delay",
                f"MonitoringType.{settings.monitoring_type.name} with "
                f"MonitorBackend.{settings.backend.name}",
                "it is for model quality with the drift job (Model Monitor offsets its window "
                "itself)",
            )
        hours = delay.to_seconds() / 3600
        check.require(
            hours == int(hours) and 0 <= hours <= MAX_LABEL_DELAY_HOURS,
            "label_delay",
            f"whole hours from 0 to {MAX_LABEL_DELAY_HOURS}",
            Said(f"{hours:g} hours"),
        )
    alarm = settings.quality_alarm
    if alarm is None:
        return
    if not quality:
        check.not_together(
            "quality_alarm",
            f"MonitoringType.{settings.monitoring_type.name}",
            "it watches a model-quality metric",
        )
    check.require(
        isinstance(alarm, QualityAlarm),
        "quality_alarm",
        "a QualityAlarm(metric=..., threshold=...)",
        Said(type(alarm).__name__),
    )
    problem = settings.problem_type or ""
    check.one_of("quality_alarm.metric", alarm.metric, QUALITY_METRICS.get(problem, ()))
