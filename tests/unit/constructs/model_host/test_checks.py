"""Every bad ModelHost / HostedModel input is rejected at synth time with a precise message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    ComponentDeployment,
    ComputeResources,
    ContainerImage,
    CopyScaling,
    EndpointAlarms,
    InstanceScaling,
    ModelHost,
    ModelPackage,
    VariantSettings,
)
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.cases import case_ids

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
PACKAGE = ModelPackage.from_arn("arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3")
TEN_SECONDS = EndpointAlarms(period=cdk.Duration.seconds(10))


def host(**kwargs: Any) -> Callable[[], ModelHost]:
    return lambda: ModelHost(unit_stack(unit_app()), "Host", **kwargs)


def models(*specs: dict[str, Any], **host_kwargs: Any) -> Callable[[], object]:
    """A host with ``host_kwargs`` and one model per spec (image IMAGE unless given)."""

    def build() -> object:
        made = ModelHost(unit_stack(unit_app()), "Host", **host_kwargs)
        for index, spec in enumerate(specs):
            spec = dict(spec)
            if "model_package" not in spec:
                spec.setdefault("image", IMAGE)
            made.add_model(f"M{index}", **spec)
        return made

    return build


def resources(**kwargs: Any) -> ComputeResources:
    return ComputeResources(**kwargs)


CONSTRUCT_CASES: list[tuple[Callable[[], object], str]] = [
    # the host
    (
        host(instance_type="ml.c5n.xlarge"),
        r"^Test/Host: instance_type must be an instance type CreateEndpointConfig accepts .*"
        r"ml\.c5n\.xlarge is for CreateTrainingJob only",
    ),
    (host(initial_instance_count=0), r"initial_instance_count must be at least 1 \(got 0\)"),
    (
        host(initial_instance_count=3, instance_scaling=InstanceScaling(max_instances=2)),
        r"initial_instance_count must be at most instance_scaling\.max_instances \(2\) \(got 3\)",
    ),
    (
        host(instance_type="ml.g5.xlarge", variant_settings=VariantSettings(volume_size_gb=100)),
        r"variant_settings\.volume_size_gb cannot be combined with instance type ml\.g5\.xlarge: "
        r"it stores the model on its local NVMe instance storage",
    ),
    (
        host(
            variant_settings=VariantSettings(
                inference_ami_version="al2-ami-sagemaker-inference-gpu-3-1"
            )
        ),
        r"variant_settings\.inference_ami_version must be a Neuron image or none on ml\.m5\.large: "
        r"the GPU images hold NVIDIA drivers",
    ),
    (
        host(
            instance_type="ml.g5.xlarge",
            variant_settings=VariantSettings(
                inference_ami_version="al2-ami-sagemaker-inference-neuron-2"
            ),
        ),
        r"inference_ami_version must be a GPU image or none on ml\.g5\.xlarge: the Neuron image "
        r"needs an Inferentia2 or Trainium instance",
    ),
    (
        host(alarm_thresholds=TEN_SECONDS),
        r"alarm_thresholds\.period must be at least 60 s, how often invocation metrics are "
        r"published .* \(got 10 s\)",
    ),
    (host(endpoint_name="my_host"), r"endpoint_name must be 1-63 letters, digits and hyphens"),
    # one copy on one instance (ml.m5.large: 2 vCPUs, 8192 MiB)
    (
        models({"resources": resources(min_memory_mb=16384)}),
        r"^Test/Host/M0: resources\.min_memory_mb must be at most 8192 MB, the memory of one "
        r"ml\.m5\.large \(got 16384\)",
    ),
    (
        models({"resources": resources(cpu_cores=4)}),
        r"resources\.cpu_cores must be at most 2, the vCPUs of one ml\.m5\.large \(got 4\)",
    ),
    (
        models({"resources": resources(accelerators=1)}),
        r"resources\.accelerators must be at most 0, the accelerators of one ml\.m5\.large "
        r"\(it has none: host the model on an ml\.g\*, ml\.p\* or ml\.inf\* type\) \(got 1\)",
    ),
    (
        models({"resources": resources(accelerators=8)}, instance_type="ml.g5.12xlarge"),
        r"resources\.accelerators must be at most 4, the accelerators of one ml\.g5\.12xlarge",
    ),
    # copies on the host's instances
    (
        models({"resources": resources(cpu_cores=2), "copy_count": 3}),
        r"^Test/Host/M0: copies must be at most 2: 1 per ml\.m5\.large times the host's 2 "
        r"instances at most .* \(got 3 copies",
    ),
    (
        models(
            {
                "resources": resources(cpu_cores=0.5),
                "autoscaling": CopyScaling(max_copies=9),
            }
        ),
        r"copies must be at most 8: 4 per ml\.m5\.large times the host's 2 instances",
    ),
    (
        models(
            {"resources": resources(cpu_cores=2), "copy_count": 1},
            {"resources": resources(cpu_cores=1), "copy_count": 2},
            {"resources": resources(cpu_cores=1), "copy_count": 1},
        ),
        r"^Test/Host/M2: copies must be within the host's capacity: every hosted model's copies "
        r"together reserve 5 vCPUs, and 2 x ml\.m5\.large offer 4 \(got Test/Host/M0: 1, "
        r"Test/Host/M1: 2, Test/Host/M2: 1\)",
    ),
    # the model itself
    (
        models({"copy_count": 5, "autoscaling": CopyScaling(max_copies=4)}),
        r"copy_count must be between autoscaling\.min_copies \(1\) and autoscaling\.max_copies "
        r"\(4\) \(got 5\)",
    ),
    (models({"copy_count": 0}), r"copy_count must be at least 1 \(got 0\)"),
    (
        models({"model_package": PACKAGE, "image": IMAGE}),
        r"image or model_package must be given exactly once \(got image, model_package\)",
    ),
    (
        models({"environment": {"MODEL-NAME": "x"}}),
        r"M0: environment must be a name of letters, digits and _",
    ),
    (
        models({"model_data_download_timeout": cdk.Duration.seconds(30)}),
        r"model_data_download_timeout must be between 60 and 3600 s \(got 30\)",
    ),
    (
        models({"component_name": "churn_v2"}),
        r"component_name must be 1-63 letters, digits and hyphens",
    ),
    (
        models({"alarm_thresholds": TEN_SECONDS}),
        r"M0: alarm_thresholds\.period must be at least 60 s",
    ),
]


@pytest.mark.parametrize(("build", "message"), CONSTRUCT_CASES, ids=case_ids(CONSTRUCT_CASES))
def test_construct_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


OPTION_CASES: list[tuple[Callable[[], object], str]] = [
    (
        lambda: ComputeResources(min_memory_mb=64),
        r"ComputeResources: min_memory_mb must be at least 128 MB \(got 64\)",
    ),
    (
        lambda: ComputeResources(min_memory_mb=2048, max_memory_mb=1024),
        r"max_memory_mb must be at least min_memory_mb \(2048\) \(got 1024\)",
    ),
    (lambda: ComputeResources(cpu_cores=0.1), r"cpu_cores must be at least 0\.25 \(got 0\.1\)"),
    (lambda: ComputeResources(accelerators=0), r"accelerators must be at least 1 \(got 0\)"),
    (
        lambda: CopyScaling(min_copies=3, max_copies=2),
        r"CopyScaling: min_copies must be at most max_copies \(2\) \(got 3\)",
    ),
    (lambda: CopyScaling(min_copies=-1), r"min_copies must be at least 0 \(got -1\)"),
    (
        lambda: CopyScaling(target_invocations_per_copy=0),
        r"target_invocations_per_copy must be greater than 0",
    ),
    (
        lambda: CopyScaling(target_concurrent_requests_per_copy=0),
        r"target_concurrent_requests_per_copy must be greater than 0 \(got 0\)",
    ),
    (
        lambda: ComponentDeployment.rolling_percent(60),
        r"ComponentDeployment: batch_size must be between 5 and 50 % of copies \(got 60\)",
    ),
    (
        lambda: ComponentDeployment.rolling(0),
        r"batch_size must be at least 1 copies \(got 0\)",
    ),
    (
        lambda: ComponentDeployment.rolling(wait=cdk.Duration.hours(2)),
        r"wait must be between 0 and 3600 s \(got 7200\)",
    ),
    (
        lambda: ComponentDeployment.rolling(max_execution_timeout=cdk.Duration.minutes(5)),
        r"max_execution_timeout must be between 600 and 28800 s \(got 300\)",
    ),
    (
        lambda: InstanceScaling(min_instances=3, max_instances=2),
        r"InstanceScaling: min_instances must be at most max_instances \(2\) \(got 3\)",
    ),
    (lambda: InstanceScaling(min_instances=-1), r"min_instances must be at least 0"),
]


@pytest.mark.parametrize(("build", "message"), OPTION_CASES, ids=case_ids(OPTION_CASES))
def test_option_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_models_that_fit_exactly_are_accepted() -> None:
    # 2 instances x 2 vCPUs: 4 one-vCPU copies across three models fill the host exactly.
    built = models(
        {"copy_count": 2},
        {"copy_count": 1},
        {"autoscaling": CopyScaling(min_copies=0, max_copies=1)},
    )()
    assert isinstance(built, ModelHost)
    assert [d.copies for d in built.demands] == [2, 1, 1]


def test_instance_types_without_capacity_data_are_not_guessed() -> None:
    # ml.g7 is in SageMaker's enumeration but not in the capacity data: no fit check.
    built = models({"resources": resources(accelerators=64)}, instance_type="ml.g7.2xlarge")()
    assert isinstance(built, ModelHost)
