"""Monitoring schedules, the Model Monitor image map (package data) and the demo baseline."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from mlops_cdk._internal.monitor_schedules import DAY, HOUR, MonitorSchedule, parse_schedule
from mlops_cdk.constructs import MonitoringType
from mlops_cdk.constructs.model_monitor import monitor_image_uri
from tests.helpers.paths import ROOT

REPO = ROOT
DEMO_BASELINE = REPO / "mlops_cdk" / "runtime" / "demo_model" / "baseline"


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("hourly", MonitorSchedule("cron(0 * ? * * *)", HOUR, "previous-hour")),
        ("daily", MonitorSchedule("cron(0 0 ? * * *)", DAY, "previous-day")),
        ("cron(0 * ? * * *)", MonitorSchedule("cron(0 * ? * * *)", HOUR, "previous-hour")),
        ("cron(0 12 ? * * *)", MonitorSchedule("cron(0 12 ? * * *)", DAY, "previous-day")),
        ("cron(0 17/12 ? * * *)", MonitorSchedule("cron(0 17/12 ? * * *)", 12 * HOUR, None)),
        ("cron(0 0/2 ? * * *)", MonitorSchedule("cron(0 0/2 ? * * *)", 2 * HOUR, None)),
        ("cron(0 1/10 ? * * *)", MonitorSchedule("cron(0 1/10 ? * * *)", 10 * HOUR, None)),
        ("cron(0 5/24 ? * * *)", MonitorSchedule("cron(0 5/24 ? * * *)", DAY, None)),
    ],
    ids=[
        "hourly",
        "daily",
        "cron-every-hour",
        "cron-noon-daily",
        "cron-every-12-hours",
        "cron-every-2-hours",
        "cron-every-10-hours",
        "cron-every-24-hours",
    ],
)
def test_accepted_schedules(schedule: str, expected: MonitorSchedule) -> None:
    assert parse_schedule(schedule) == expected


@pytest.mark.parametrize(
    "schedule",
    [
        "NOW",
        "rate(1 hour)",
        "cron(0 * * * ? *)",
        "cron(5 * ? * * *)",
        "cron(0 24 ? * * *)",
        "cron(0 */2 ? * * *)",
        "cron(0 3/0 ? * * *)",
        "cron(0 3/25 ? * * *)",
        "Hourly",
    ],
)
def test_rejected_schedules(schedule: str) -> None:
    assert parse_schedule(schedule) is None


def test_image_map_ships_as_package_data_and_keeps_its_source() -> None:
    text = resources.files("mlops_cdk._internal.data").joinpath("sagemaker-monitor-images.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    assert "SageMaker Python SDK" in data["_source"]
    assert data == json.loads(
        (REPO / "mlops_cdk/_internal/data/sagemaker-monitor-images.json").read_text()
    )


@pytest.mark.parametrize(
    ("kind", "region", "uri"),
    [
        (
            MonitoringType.DATA_QUALITY,
            "us-east-1",
            "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer:latest",
        ),
        (
            MonitoringType.MODEL_QUALITY,
            "cn-north-1",
            "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer:latest",
        ),
        (
            MonitoringType.MODEL_BIAS,
            "eu-central-1",
            "017069133835.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-clarify-processing:1.0",
        ),
        (
            MonitoringType.MODEL_EXPLAINABILITY,
            "us-gov-west-1",
            "598674086554.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-clarify-processing:1.0",
        ),
        (MonitoringType.DATA_QUALITY, "us-gov-west-1", None),
        (MonitoringType.MODEL_BIAS, "il-central-1", None),
        # Isolated partitions use another DNS suffix the map does not hold.
        (MonitoringType.DATA_QUALITY, "us-isof-east-1", None),
    ],
    ids=[
        "data-quality-us-east-1",
        "model-quality-china",
        "model-bias-eu-central-1",
        "model-explainability-govcloud",
        "data-quality-govcloud-missing",
        "model-bias-il-central-1-missing",
        "isolated-partition-missing",
    ],
)
def test_image_uri_per_region(kind: MonitoringType, region: str, uri: str | None) -> None:
    assert monitor_image_uri(kind, region) == uri


def test_demo_baseline_is_reproduced_by_its_script(tmp_path: Path) -> None:
    from scripts.make_demo_baseline import main

    assert main(["--out", str(tmp_path)]) == 0
    for name in ("statistics.json", "constraints.json"):
        assert (tmp_path / name).read_bytes() == (DEMO_BASELINE / name).read_bytes(), name
    features = [
        f["name"] for f in json.loads((DEMO_BASELINE / "constraints.json").read_text())["features"]
    ]
    assert features == json.loads((REPO / "mlops_cdk/runtime/demo_model/features.json").read_text())
