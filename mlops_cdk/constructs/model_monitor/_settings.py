"""The settings of one ModelMonitorSchedule, bundled once from its keywords so that the checks
and both backends read them from one place, and where the monitored capture is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_monitor.options import (
    Baseline,
    GroundTruth,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
    ReportLocation,
)
from mlops_cdk.constructs.realtime_endpoint.construct import RealtimeEndpoint
from mlops_cdk.constructs.realtime_endpoint.existing import ExistingEndpoint


@dataclass(frozen=True, kw_only=True)
class MonitorSettings:
    """What is monitored how, on which resources, and what the alarms watch."""

    backend: MonitorBackend
    monitoring_type: MonitoringType
    baseline: Baseline
    schedule: str
    instance_type: str
    instance_count: int
    volume_size_gb: int
    max_runtime: Duration
    problem_type: str | None
    ground_truth: GroundTruth | None
    analysis_config: ModelData | None
    inference_attribute: str | None
    probability_attribute: str | None
    probability_threshold: float | None
    features_attribute: str | None
    drift_threshold: float | None
    features: Sequence[str] | None
    reports: ReportLocation | None
    schedule_name: str | None
    image: ContainerImage | None
    min_records_per_run: int | None
    label_delay: Duration | None
    quality_alarm: QualityAlarm | None

    def reports_in(self, capture: Capture) -> ReportLocation:
        """Where reports go: ``reports``, by default ``monitoring/`` of the capture bucket."""
        return self.reports or ReportLocation(bucket=capture.bucket)


@dataclass(frozen=True)
class Capture:
    """Where an endpoint's captured requests are: ``s3://<bucket>/<prefix><endpoint name>/``,
    and the key they are encrypted with (if known)."""

    endpoint_name: str
    bucket: s3.IBucket
    prefix: str
    key: kms.IKey | None

    @classmethod
    def of(cls, endpoint: RealtimeEndpoint | ExistingEndpoint | MonitoredEndpoint) -> Capture:
        """The capture of a checked endpoint (a RealtimeEndpoint or ExistingEndpoint with data
        capture, or a MonitoredEndpoint)."""
        if isinstance(endpoint, MonitoredEndpoint):
            key = endpoint.encryption_key or endpoint.bucket.encryption_key
            return cls(endpoint.endpoint_name, endpoint.bucket, endpoint.prefix, key)
        capture = endpoint.data_capture
        assert capture is not None  # noqa: S101 - checked: the endpoint captures
        assert capture.bucket is not None  # noqa: S101 - checked: the endpoint captures
        key = endpoint.encryption_key or capture.bucket.encryption_key
        return cls(endpoint.endpoint_name, capture.bucket, capture.prefix, key)
