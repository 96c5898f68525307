"""CloudWatch metrics with Model Monitor's data-quality contract, via an injected client."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from .checks import FeatureResult

#: Namespace of Model Monitor's data-quality metrics for real-time endpoints (the spelling
#: used by AWS's drift-detection sample alarms; AWS pages also show ``/aws/sagemaker/...``).
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
NON_NULL_METRIC_PREFIX = "feature_non_null_"
RECORDS_METRIC = "drift_job_records_analyzed"
VIOLATIONS_METRIC = "drift_job_violations"
SKIPPED_METRIC = "drift_job_events_skipped"

#: PutMetricData limits (CloudWatch API reference): at most 1000 metrics and 1 MB per request.
MAX_METRICS_PER_CALL = 1000
MAX_REQUEST_BYTES = 1_000_000
_MAX_NAME = 255

MetricDatum = dict[str, Any]


class MetricsClient(Protocol):
    """The one CloudWatch call we make; a boto3 ``cloudwatch`` client satisfies it."""

    def put_metric_data(self, *, Namespace: str, MetricData: list[MetricDatum]) -> object:  # noqa: N803
        """Publish up to 1000 metric data."""
        ...


class Boto3MetricsClient:
    """A real client: boto3 ``cloudwatch`` created on first use (boto3 is imported lazily)."""

    def __init__(self, region_name: str | None = None) -> None:
        self._region = region_name
        self._client: Any = None

    def put_metric_data(self, *, Namespace: str, MetricData: list[MetricDatum]) -> object:  # noqa: N803
        """Forward to ``boto3.client("cloudwatch").put_metric_data``."""
        if self._client is None:
            import boto3

            self._client = boto3.client("cloudwatch", region_name=self._region)
        return self._client.put_metric_data(Namespace=Namespace, MetricData=MetricData)


def _datum(
    name: str, value: float, unit: str, dimensions: list[dict[str, str]], timestamp: datetime
) -> MetricDatum:
    return {
        "MetricName": name[:_MAX_NAME],
        "Dimensions": dimensions,
        "Timestamp": timestamp,
        "Value": float(value),
        "Unit": unit,
    }


def build_metric_data(
    results: Sequence[FeatureResult],
    *,
    endpoint: str,
    schedule: str,
    timestamp: datetime,
    records: int,
    violations: int,
    skipped: int = 0,
) -> list[MetricDatum]:
    """Per-feature drift and completeness, then job-level metrics; drops non-finite values."""
    dimensions = [
        {"Name": "Endpoint", "Value": endpoint},
        {"Name": "MonitoringSchedule", "Value": schedule},
    ]
    data = []
    for result in results:
        if result.drift is not None and math.isfinite(result.drift):
            data.append(
                _datum(
                    DRIFT_METRIC_PREFIX + result.name, result.drift, "None", dimensions, timestamp
                )
            )
        if math.isfinite(result.completeness):
            data.append(
                _datum(
                    NON_NULL_METRIC_PREFIX + result.name,
                    result.completeness,
                    "None",
                    dimensions,
                    timestamp,
                )
            )
    data.append(_datum(RECORDS_METRIC, records, "Count", dimensions, timestamp))
    data.append(_datum(VIOLATIONS_METRIC, violations, "Count", dimensions, timestamp))
    data.append(_datum(SKIPPED_METRIC, skipped, "Count", dimensions, timestamp))
    return data


def _size(datum: MetricDatum) -> int:
    return len(json.dumps(datum, default=str))


def batches(
    data: Sequence[MetricDatum],
    max_items: int = MAX_METRICS_PER_CALL,
    max_bytes: int = MAX_REQUEST_BYTES // 2,
) -> Iterator[list[MetricDatum]]:
    """Split into requests of at most ``max_items`` data and about ``max_bytes`` of JSON."""
    batch: list[MetricDatum] = []
    size = 0
    for datum in data:
        datum_size = _size(datum)
        if batch and (len(batch) >= max_items or size + datum_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(datum)
        size += datum_size
    if batch:
        yield batch


def publish(
    client: MetricsClient, data: Sequence[MetricDatum], namespace: str = DATA_METRICS_NAMESPACE
) -> int:
    """Send all data in batches; returns the number of PutMetricData calls."""
    calls = 0
    for batch in batches(data):
        client.put_metric_data(Namespace=namespace, MetricData=batch)
        calls += 1
    return calls


#: Our model-quality counters, published beside Model Monitor's metric names.
PREDICTIONS_UNMATCHED_METRIC = "model_quality_predictions_unmatched"
LABELS_UNMATCHED_METRIC = "model_quality_labels_unmatched"


def build_quality_metric_data(
    values: dict[str, float],
    *,
    endpoint: str,
    schedule: str,
    timestamp: datetime,
    matched: int,
    violations: int,
    skipped: int,
    predictions_unmatched: int,
    labels_unmatched: int,
) -> list[MetricDatum]:
    """Model Monitor's model-quality metric names (``accuracy``, ``auc``, ``mae``, ...) with
    their values, then the job-level counters (``drift_job_records_analyzed`` = matched pairs);
    non-finite values are dropped."""
    dimensions = [
        {"Name": "Endpoint", "Value": endpoint},
        {"Name": "MonitoringSchedule", "Value": schedule},
    ]
    data = [
        _datum(name, value, "None", dimensions, timestamp)
        for name, value in values.items()
        if math.isfinite(value)
    ]
    for name, count in (
        (RECORDS_METRIC, matched),
        (VIOLATIONS_METRIC, violations),
        (SKIPPED_METRIC, skipped),
        (PREDICTIONS_UNMATCHED_METRIC, predictions_unmatched),
        (LABELS_UNMATCHED_METRIC, labels_unmatched),
    ):
        data.append(_datum(name, count, "Count", dimensions, timestamp))
    return data
