"""Scheduled drift monitoring of an endpoint: :class:`ModelMonitorSchedule` and its options."""

from mlops_cdk.constructs.model_monitor._images import monitor_image_uri
from mlops_cdk.constructs.model_monitor.construct import ModelMonitorSchedule
from mlops_cdk.constructs.model_monitor.options import (
    Baseline,
    GroundTruth,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
    ReportLocation,
)

__all__ = [
    "Baseline",
    "GroundTruth",
    "ModelMonitorSchedule",
    "MonitorBackend",
    "MonitoredEndpoint",
    "MonitoringType",
    "QualityAlarm",
    "ReportLocation",
    "monitor_image_uri",
]
