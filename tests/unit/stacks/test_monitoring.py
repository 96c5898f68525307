"""The Monitoring stack per environment, and the model_monitor section of config/*.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import load_environment
from tests.helpers.apps import SynthesizedApp
from tests.helpers.config import VALID, write_config
from tests.helpers.paths import ROOT
from tests.helpers.wiring import bucket_name, joined_json, only, produced_by, resources

DEMO_MODEL = ROOT / "mlops_cdk" / "runtime" / "demo_model"

ENDPOINT = {
    "enabled": True,
    "mode": "instance",
    "instance_type": "ml.m5.large",
    "data_capture_percent": 50,
}


def test_monitoring_exists_where_the_endpoint_captures_traffic(
    synthesized_app: SynthesizedApp,
) -> None:
    assert synthesized_app.stages["dev"].monitoring is None  # serverless: no capture
    for name in ("staging", "prod"):
        stage = synthesized_app.stages[name]
        assert stage.monitoring is not None
        assert stage.monitoring.stack_name == f"mlops-{name}-monitoring"
        assert stage.serving in stage.monitoring.dependencies


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_monitoring_stack_resources(synthesized_app: SynthesizedApp, name: str) -> None:
    templates = synthesized_app.templates()
    template = templates[f"mlops-{name}-monitoring"]
    monitor = synthesized_app.stages[name].monitoring
    assert monitor is not None
    endpoint = synthesized_app.stages[name].serving.endpoint
    assert endpoint is not None
    assert monitor.monitor.endpoint_name == endpoint.endpoint_name
    # The features the drift job compares are the demo model's.
    features = json.loads((DEMO_MODEL / "features.json").read_text(encoding="utf-8"))
    assert monitor.monitor.features == features

    # In the templates: the monitor watches the Serving stack's endpoint ...
    serving = templates[f"mlops-{name}-serving"]
    (endpoint_name,) = [
        r["Properties"]["EndpointName"]
        for k, r in resources(serving, "AWS::SageMaker::Endpoint").items()
        if k.startswith("Endpoint")  # the RealtimeEndpoint, not a model host
    ]
    drift_alarm = resources(template, "AWS::CloudWatch::Alarm")[
        only_prefixed(template, "AWS::CloudWatch::Alarm", "DriftDriftAlarm")
    ]
    dimensions = [
        metric["MetricStat"]["Metric"]["Dimensions"]
        for metric in drift_alarm["Properties"]["Metrics"]
        if "MetricStat" in metric
    ]
    assert dimensions
    assert all({"Name": "Endpoint", "Value": endpoint_name} in d for d in dimensions)
    # ... reads what it captures into the Data stack's capture bucket ...
    capture = bucket_name(templates[f"mlops-{name}-data"], "DataCapture")
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    # Two monitors: drift (data quality) and model quality, both over the same capture.
    definitions = [joined_json(m["Properties"]["DefinitionString"]) for m in machines.values()]
    assert len(definitions) == 2
    environments = [
        d["States"]["CreateProcessingJob"]["Parameters"]["Environment"] for d in definitions
    ]
    for environment in environments:
        assert environment["sagemaker_endpoint_name"] == endpoint_name
        assert environment["dataset_source"] == f"s3://{capture}/data-capture/{endpoint_name}/"
    (quality,) = [e for e in environments if e.get("DRIFT_MONITORING_TYPE") == "ModelQuality"]
    # ... the model-quality monitor reads labels beside the capture, a day late ...
    assert quality["ground_truth_source"] == f"s3://{capture}/ground-truth/"
    assert quality["DRIFT_LABEL_DELAY_HOURS"] == "24"
    assert quality["problem_type"] == "BinaryClassification"
    # ... and alarms when AUC falls below the configured threshold (one alarm).
    (auc,) = [
        alarm
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "auc"
    ]
    assert auc["Properties"]["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    assert auc["Properties"]["ComparisonOperator"] == "LessThanThreshold"
    assert auc["Properties"]["Threshold"] == 0.8
    # ... and alarms the environment topic.
    topic = (
        f"mlops-{name}-data",
        {"Ref": only(templates[f"mlops-{name}-data"], "AWS::SNS::Topic")},
    )
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert produced_by(templates, action) == topic


def only_prefixed(template: dict[str, Any], kind: str, prefix: str) -> str:
    (key,) = [k for k in resources(template, kind) if k.startswith(prefix)]
    return key


def load(tmp_path: Path, **sections: Any) -> Any:
    write_config(tmp_path, "qa", {**VALID, **sections})
    return load_environment("qa", config_dir=tmp_path, environ={})


def test_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path).model_monitor
    assert settings.enabled is False
    assert settings.backend == "drift_job"
    assert settings.schedule == "hourly"
    assert settings.max_runtime_minutes == 50
    assert settings.drift_threshold == 0.1


def test_model_monitor_backend_accepts_every_n_hours(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        realtime_endpoint=ENDPOINT,
        model_monitor={
            "enabled": True,
            "backend": "model_monitor",
            "schedule": "cron(0 0/6 ? * * *)",
        },
    ).model_monitor
    assert settings.schedule == "cron(0 0/6 ? * * *)"


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"model_monitor": {"enabled": True}},
            "model_monitor.enabled: false unless realtime_endpoint is enabled in instance or "
            "async mode with data_capture_percent above 0",
        ),
        (
            {
                "realtime_endpoint": {**ENDPOINT, "data_capture_percent": None},
                "model_monitor": {"enabled": True},
            },
            "model_monitor.enabled: false unless",
        ),
        (
            {"model_monitor": {"schedule": "rate(1 hour)"}},
            "model_monitor.schedule: must be 'hourly', 'daily'",
        ),
        (
            {"model_monitor": {"schedule": "cron(0 0/6 ? * * *)"}},
            "model_monitor.schedule: must be 'hourly', 'daily', 'cron(0 * ? * * *)' or "
            "'cron(0 H ? * * *)'",
        ),
        (
            {"model_monitor": {"max_runtime_minutes": 60}},
            "model_monitor.max_runtime_minutes: must be less than the schedule interval "
            "(60 minutes)",
        ),
        ({"model_monitor": {"backend": "clarify"}}, "model_monitor.backend"),
        ({"model_monitor": {"volume_size_gb": 0}}, "model_monitor.volume_size_gb"),
        ({"model_monitor": {"drift_threshold": 0}}, "model_monitor.drift_threshold"),
        ({"model_monitor": {"reports_prefix": "/x"}}, "model_monitor.reports_prefix"),
        ({"model_monitor": {"unknown": 1}}, "model_monitor.unknown"),
    ],
    ids=[
        "no endpoint",
        "no capture",
        "rate schedule",
        "every-N-hours with the drift job",
        "runtime not below interval",
        "unknown backend",
        "volume 0",
        "threshold 0",
        "prefix",
        "unknown key",
    ],
)
def test_invalid_settings(tmp_path: Path, sections: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        load(tmp_path, **sections)
    assert message in str(error.value)
