"""Instance settings every SageMaker variant shares (VariantSettings, InstanceScaling,
EndpointMetrics) on a RealtimeEndpoint: rendering, accelerated-instance alarms, each rule, and
the enumerations against AWS's own models (botocore and the CloudFormation schema)."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk.assertions import Template

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.patterns import (
    INFERENCE_AMI_VERSIONS,
    METRIC_PUBLISH_SECONDS,
    ROUTING_STRATEGIES,
)
from mlops_cdk.constructs import (
    AutoScaling,
    ContainerImage,
    EndpointAlarms,
    EndpointMetrics,
    InstanceScaling,
    RealtimeEndpoint,
    ServerlessConfig,
    VariantSettings,
)
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.cases import case_ids

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")


def endpoint(**kwargs: Any) -> Callable[[], RealtimeEndpoint]:
    return lambda: RealtimeEndpoint(unit_stack(unit_app()), "Churn", image=IMAGE, **kwargs)


@pytest.fixture(scope="module")
def gpu_template() -> Template:
    stack = unit_stack(unit_app())
    RealtimeEndpoint(
        stack,
        "Llm",
        image=IMAGE,
        instance_type="ml.g5.12xlarge",
        variant_settings=VariantSettings(
            model_data_download_timeout=cdk.Duration.minutes(30),
            container_startup_timeout=cdk.Duration.minutes(15),
            inference_ami_version="al2-ami-sagemaker-inference-gpu-3-1",
            routing_strategy="LEAST_OUTSTANDING_REQUESTS",
        ),
        instance_scaling=InstanceScaling(min_instances=1, max_instances=3),
        metrics=EndpointMetrics(),
        alarm_thresholds=EndpointAlarms(period=cdk.Duration.seconds(10)),
    )
    RealtimeEndpoint(stack, "Cpu", image=IMAGE, variant_settings=VariantSettings(volume_size_gb=50))
    return Template.from_stack(stack)


def _props(template: Template, kind: str, prefix: str) -> dict[str, Any]:
    (found,) = [r for k, r in template.find_resources(kind).items() if k.startswith(prefix)]
    result: dict[str, Any] = found["Properties"]
    return result


def test_large_model_settings_reach_the_variant(gpu_template: Template) -> None:
    config = _props(gpu_template, "AWS::SageMaker::EndpointConfig", "Llm")
    (variant,) = config["ProductionVariants"]
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1800
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] == 900
    assert variant["InferenceAmiVersion"] == "al2-ami-sagemaker-inference-gpu-3-1"
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 1,
        "MaxInstanceCount": 3,
    }
    assert config["MetricsConfig"] == {
        "EnableEnhancedMetrics": True,
        "MetricPublishFrequencyInSeconds": 10,
    }
    cpu = _props(gpu_template, "AWS::SageMaker::EndpointConfig", "Cpu")["ProductionVariants"][0]
    assert cpu["VolumeSizeInGB"] == 50
    assert "RoutingConfig" not in cpu  # SageMaker's default unless asked


def test_accelerated_instances_get_gpu_and_disk_alarms(gpu_template: Template) -> None:
    alarms = {
        k: a["Properties"]
        for k, a in gpu_template.find_resources("AWS::CloudWatch::Alarm").items()
        if k.startswith("Llm")
    }

    def by_metric(name: str) -> dict[str, Any]:
        (found,) = [a for a in alarms.values() if a.get("MetricName") == name]
        return dict(found)

    # ml.g5.12xlarge: 4 GPUs; GPU metrics are summed over them (0-400 %).
    assert by_metric("GPUUtilization")["Threshold"] == 360
    assert by_metric("GPUMemoryUtilization")["Threshold"] == 360
    assert by_metric("DiskUtilization")["Threshold"] == 90
    assert by_metric("GPUUtilization")["Namespace"] == "/aws/sagemaker/Endpoints"
    assert all(a["AlarmActions"] for a in alarms.values())
    cpu_metrics = {
        a.get("MetricName")
        for k, a in gpu_template.find_resources("AWS::CloudWatch::Alarm").items()
        if k.startswith("Cpu")
    }
    assert not {"GPUUtilization", "GPUMemoryUtilization", "DiskUtilization"} & cpu_metrics


CASES: list[tuple[Callable[[], object], str]] = [
    (
        endpoint(serverless=ServerlessConfig(), variant_settings=VariantSettings()),
        r"^Test/Churn: serverless cannot be combined with variant_settings: serverless "
        r"endpoints have no instances",
    ),
    (
        endpoint(instance_scaling=InstanceScaling(min_instances=0)),
        r"instance_scaling\.min_instances must be at least 1 \(only an endpoint that hosts "
        r"inference components, a ModelHost, can scale to zero instances\) \(got 0\)",
    ),
    (
        endpoint(instance_scaling=InstanceScaling(), autoscaling=AutoScaling()),
        r"instance_scaling cannot be combined with autoscaling: give one scaler per variant",
    ),
    (
        endpoint(initial_instance_count=3, instance_scaling=InstanceScaling(max_instances=2)),
        r"initial_instance_count must be at most instance_scaling\.max_instances \(2\)",
    ),
    (
        endpoint(instance_type="ml.m5d.large", variant_settings=VariantSettings(volume_size_gb=30)),
        r"variant_settings\.volume_size_gb cannot be combined with instance type ml\.m5d\.large",
    ),
    (
        endpoint(
            instance_type="ml.inf2.xlarge",
            variant_settings=VariantSettings(
                inference_ami_version="al2023-ami-sagemaker-inference-gpu-4-1"
            ),
        ),
        r"inference_ami_version must be a Neuron image or none on ml\.inf2\.xlarge",
    ),
    (
        endpoint(alarm_thresholds=EndpointAlarms(period=cdk.Duration.seconds(30))),
        r"alarm_thresholds\.period must be at least 60 s, how often invocation metrics are "
        r"published .* \(got 30 s\)",
    ),
    (
        endpoint(
            metrics=EndpointMetrics(enhanced=False),
            alarm_thresholds=EndpointAlarms(period=cdk.Duration.seconds(10)),
        ),
        r"alarm_thresholds\.period must be at least 60 s",
    ),
    (
        endpoint(
            metrics=EndpointMetrics(publish_every=cdk.Duration.seconds(30)),
            alarm_thresholds=EndpointAlarms(period=cdk.Duration.seconds(10)),
        ),
        r"alarm_thresholds\.period must be at least 30 s",
    ),
    (
        lambda: VariantSettings(volume_size_gb=1000),
        r"VariantSettings: volume_size_gb must be between 1 and 512 GB \(got 1000\)",
    ),
    (
        lambda: VariantSettings(model_data_download_timeout=cdk.Duration.seconds(30)),
        r"model_data_download_timeout must be between 60 and 3600 s \(got 30\)",
    ),
    (
        lambda: VariantSettings(container_startup_timeout=cdk.Duration.hours(2)),
        r"container_startup_timeout must be between 60 and 3600 s \(got 7200\)",
    ),
    (
        lambda: VariantSettings(inference_ami_version="al2-gpu"),  # type: ignore[arg-type]
        r"inference_ami_version must be one of 'al2-ami-sagemaker-inference-gpu-2'",
    ),
    (
        lambda: VariantSettings(routing_strategy="ROUND_ROBIN"),  # type: ignore[arg-type]
        r"routing_strategy must be one of 'LEAST_OUTSTANDING_REQUESTS', 'RANDOM', 'PREFIX_AWARE'",
    ),
    (
        lambda: EndpointMetrics(publish_every=cdk.Duration.seconds(15)),
        r"EndpointMetrics: publish_every must be one of 10, 30, 60, 120, 180, 240, 300 "
        r"\(got 15\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), CASES, ids=case_ids(CASES))
def test_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


# --- the enumerations are AWS's -----------------------------------------------------------


def _variant_shape() -> Any:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.shape_for("ProductionVariant")


def _schema_definitions() -> dict[str, Any]:
    """The CloudFormation schema's definitions of AWS::SageMaker::EndpointConfig (cfn-lint's
    copy of the registry schemas)."""
    schemas = resources.files("cfnlint") / "data" / "schemas"
    providers = json.loads((schemas / "providers" / "eu-west-1.json").read_text("utf-8"))
    key = providers["AWS::SageMaker::EndpointConfig"]
    schema = json.loads((schemas / "resources" / f"{key}.json").read_text("utf-8"))
    definitions: dict[str, Any] = schema["definitions"]
    return definitions


def test_inference_ami_versions_are_botocores() -> None:
    assert tuple(_variant_shape().members["InferenceAmiVersion"].enum) == INFERENCE_AMI_VERSIONS


def test_routing_strategies_are_accepted_by_both_models() -> None:
    botocore_values = _variant_shape().members["RoutingConfig"].members["RoutingStrategy"].enum
    schema_values = _schema_definitions()["RoutingConfig"]["properties"]["RoutingStrategy"]["enum"]
    assert set(ROUTING_STRATEGIES) == set(botocore_values) & set(schema_values)


def test_metric_frequencies_are_the_schemas() -> None:
    schema = _schema_definitions()["MetricsConfig"]["properties"]
    assert list(METRIC_PUBLISH_SECONDS) == schema["MetricPublishFrequencyInSeconds"]["enum"]


def test_volume_and_timeout_ranges_are_botocores() -> None:
    from mlops_cdk.constructs.variant_settings import STARTUP_SECONDS, VOLUME_GB

    members = _variant_shape().members
    volume = members["VolumeSizeInGB"].metadata
    assert (volume["min"], volume["max"]) == VOLUME_GB
    for name in (
        "ModelDataDownloadTimeoutInSeconds",
        "ContainerStartupHealthCheckTimeoutInSeconds",
    ):
        limits = members[name].metadata
        assert (limits["min"], limits["max"]) == STARTUP_SECONDS
