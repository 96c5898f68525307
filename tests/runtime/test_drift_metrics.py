"""Metric contract: namespace, names, dimensions, exact PutMetricData calls and batching."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from mlops_cdk.runtime.drift.checks import FeatureResult
from mlops_cdk.runtime.drift.metrics import (
    DATA_METRICS_NAMESPACE,
    MAX_METRICS_PER_CALL,
    batches,
    build_metric_data,
    publish,
)

from .drift_fixtures import FakeCloudWatch

WHEN = datetime(2026, 11, 21, 6, tzinfo=UTC)
DIMENSIONS = [
    {"Name": "Endpoint", "Value": "churn-prod"},
    {"Name": "MonitoringSchedule", "Value": "churn-hourly"},
]


def datum(name: str, value: float, unit: str = "None") -> dict[str, object]:
    return {
        "MetricName": name,
        "Dimensions": DIMENSIONS,
        "Timestamp": WHEN,
        "Value": value,
        "Unit": unit,
    }


def test_namespace_is_model_monitors_data_metrics_namespace() -> None:
    assert DATA_METRICS_NAMESPACE == "aws/sagemaker/Endpoints/data-metrics"
    assert MAX_METRICS_PER_CALL == 1000


def test_exact_put_metric_data_call() -> None:
    results = [
        FeatureResult("income", 1.0, drift=0.25),
        FeatureResult("color", 0.75, drift=None),
        FeatureResult("age", 0.5, drift=math.nan),
    ]
    data = build_metric_data(
        results,
        endpoint="churn-prod",
        schedule="churn-hourly",
        timestamp=WHEN,
        records=42,
        violations=3,
        skipped=2,
    )
    client = FakeCloudWatch()
    assert publish(client, data) == 1
    assert client.calls == [
        {
            "Namespace": "aws/sagemaker/Endpoints/data-metrics",
            "MetricData": [
                datum("feature_baseline_drift_income", 0.25),
                datum("feature_non_null_income", 1.0),
                datum("feature_non_null_color", 0.75),
                datum("feature_non_null_age", 0.5),
                datum("drift_job_records_analyzed", 42.0, "Count"),
                datum("drift_job_violations", 3.0, "Count"),
                datum("drift_job_events_skipped", 2.0, "Count"),
            ],
        }
    ]


def test_publish_batches_at_most_1000_metric_data_per_call() -> None:
    results = [FeatureResult(f"f{i}", 1.0, drift=i / 2000) for i in range(1250)]
    data = build_metric_data(
        results, endpoint="e", schedule="s", timestamp=WHEN, records=1, violations=0
    )
    assert len(data) == 2503
    client = FakeCloudWatch()
    assert publish(client, data, namespace="custom") == 3
    assert [len(call["MetricData"]) for call in client.calls] == [1000, 1000, 503]
    assert {call["Namespace"] for call in client.calls} == {"custom"}
    sent = [d for call in client.calls for d in call["MetricData"]]
    assert sent == data


def test_batches_also_respect_a_byte_budget() -> None:
    data = [datum(f"m{i}", 1.0) for i in range(10)]
    sizes = [len(batch) for batch in batches(data, max_items=1000, max_bytes=600)]
    assert sum(sizes) == 10
    assert max(sizes) < 10
    assert list(batches([])) == []


def test_long_feature_names_are_cut_to_cloudwatch_limit() -> None:
    data = build_metric_data(
        [FeatureResult("x" * 300, 1.0, drift=0.1)],
        endpoint="e",
        schedule="s",
        timestamp=WHEN,
        records=1,
        violations=0,
    )
    assert len(data[0]["MetricName"]) == 255
