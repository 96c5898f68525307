"""Every bad RealtimeEndpoint input is rejected at synth time with a precise message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    AsyncInference,
    AutoScaling,
    ContainerImage,
    DataCapture,
    DeploymentPolicy,
    EndpointAlarms,
    ModelData,
    ModelPackage,
    ProductionVariant,
    RealtimeEndpoint,
    ServerlessConfig,
)
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.cases import case_ids

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
PACKAGE = ModelPackage.from_arn("arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3")
PATH = "Test/Churn"


def variant(name: str, **kwargs: Any) -> ProductionVariant:
    return ProductionVariant(name=name, image=IMAGE, **kwargs)


class Resources:
    """Lazily made collaborators that need a stack."""

    def __init__(self) -> None:
        self.stack = unit_stack(unit_app())
        self.bucket = s3.Bucket(self.stack, "Bucket")
        self.vpc = ec2.Vpc(
            self.stack,
            "Vpc",
            max_azs=1,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
        )


def endpoint(**kwargs: Any) -> Callable[[Resources], RealtimeEndpoint]:
    """Build RealtimeEndpoint(stack, "Churn", image=IMAGE, **kwargs); values that are callables
    receive the Resources (for buckets and VPCs)."""

    def build(resources: Resources) -> RealtimeEndpoint:
        resolved = {k: v(resources) if callable(v) else v for k, v in kwargs.items()}
        if not {"image", "variants", "model_package"} & set(resolved):
            resolved["image"] = IMAGE
        return RealtimeEndpoint(resources.stack, "Churn", **resolved)

    return build


def capture(resources: Resources) -> DataCapture:
    return DataCapture(bucket=resources.bucket)


def vpc(resources: Resources) -> ec2.IVpc:
    return resources.vpc


def async_config(resources: Resources) -> AsyncInference:
    return AsyncInference(output_bucket=resources.bucket)


SERVERLESS = ServerlessConfig()

CONSTRUCT_CASES = [
    # model source
    (
        endpoint(instance_type="ml.c5n.xlarge"),
        r"instance_type must be an instance type CreateEndpointConfig accepts \(ml\.<family>\."
        r"<size>, families .*; ml\.c5n\.xlarge is for CreateTrainingJob only "
        r"\(got 'ml\.c5n\.xlarge'\)$",
    ),
    (
        endpoint(
            image=ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
        ),
        r"image must be an ECR image in the stack's region eu-west-1 \(SageMaker, ECS and Lambda "
        r"pull from ECR in their own region; this one is in us-east-1\) "
        r"\(got '123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/churn:1'\)$",
    ),
    (
        endpoint(
            variants=[
                variant("a"),
                ProductionVariant(
                    name="b",
                    image=ContainerImage.from_uri(
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:2"
                    ),
                ),
            ]
        ),
        r"image must be an ECR image in the stack's region eu-west-1 .*\(got "
        r"'123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/churn:2'\)$",
    ),
    (
        endpoint(
            model_package=ModelPackage.from_arn(
                "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3",
                image=ContainerImage.from_uri(
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:3"
                ),
            )
        ),
        r"model_package\.image must be an ECR image in the stack's region eu-west-1",
    ),
    (
        endpoint(instance_type="m5.large"),
        r"instance_type must be an instance type CreateEndpointConfig accepts \(ml\.<family>\.<size>, families .*\(did you mean 'ml\.m5\.large'\?\) \(got 'm5\.large'\)",
    ),
    (
        endpoint(model_package=PACKAGE, image=IMAGE),
        r"image or model_package must be given exactly once \(got image, model_package\)",
    ),
    (endpoint(image=None), r"image or model_package must be given exactly once \(got none\)"),
    (
        endpoint(
            model_package=PACKAGE, model_data=ModelData.from_s3_uri("s3://models/model.tar.gz")
        ),
        r"model_data cannot be combined with model_package",
    ),
    (
        endpoint(
            variants=[variant("a")],
            model_data=ModelData.from_s3_uri("s3://models/a.tar.gz"),
        ),
        r"variants cannot be combined with model_data",
    ),
    # variants
    (
        endpoint(variants=[variant(f"v{i}") for i in range(11)]),
        r"variants must be at most 10 production variants \(got 11\)",
    ),
    (endpoint(variants=[variant("a"), variant("a")]), r"variants must be uniquely named \(got a\)"),
    (
        endpoint(variants=[variant("a", weight=0), variant("b", weight=0)]),
        r"variants must be weighted so that at least one production variant has a weight above 0 \(got all weights 0\)",
    ),
    (
        endpoint(variants=[variant("a"), variant("b"), variant("c", shadow=True)]),
        r"exactly one production variant and one shadow variant when a shadow is used \(got 2 production, 1 shadow\)",
    ),
    (
        endpoint(variants=[variant("a"), variant("b", shadow=True), variant("c", shadow=True)]),
        r"\(got 1 production, 2 shadow\)",
    ),
    (
        endpoint(variants=[variant("a", shadow=True)]),
        r"variants must be at least one production variant",
    ),
    (endpoint(initial_instance_count=0), r"initial_instance_count must be at least 1 \(got 0\)"),
    # container environment (CreateModel: names [a-zA-Z_][a-zA-Z0-9_]*, at most 100)
    (
        endpoint(environment={"MODEL-NAME": "churn"}),
        r"environment must be a name of letters, digits and _ not starting with a digit, .*"
        r"\(got 'MODEL-NAME'\)",
    ),
    (
        endpoint(variants=[variant("a", environment={"1ST": "x"})]),
        r"variants\['a'\]\.environment must be a name .* \(got '1ST'\)",
    ),
    (
        endpoint(environment={f"V{i}": "x" for i in range(101)}),
        r"environment must be at most 100 variables \(got 101 variables\)",
    ),
    (
        endpoint(endpoint_name="churn_endpoint"),
        r"endpoint_name must be 1-63 letters, digits and hyphens",
    ),
    # serverless exclusions
    (
        endpoint(serverless=SERVERLESS, instance_type="ml.m5.large"),
        r"serverless cannot be combined with instance_type: serverless endpoints have no instances",
    ),
    (
        endpoint(serverless=SERVERLESS, instance_type="ml.g5.xlarge"),
        r"serverless cannot be combined with instance_type",
    ),
    (
        endpoint(serverless=SERVERLESS, initial_instance_count=2),
        r"serverless cannot be combined with initial_instance_count",
    ),
    (
        endpoint(serverless=SERVERLESS, variants=[variant("a", instance_type="ml.m5.large")]),
        r"serverless cannot be combined with variant instance_type",
    ),
    (
        endpoint(serverless=SERVERLESS, data_capture=capture),
        r"serverless cannot be combined with data_capture: serverless endpoints do not support data capture",
    ),
    (endpoint(serverless=SERVERLESS, vpc=vpc), r"serverless cannot be combined with vpc"),
    (
        endpoint(serverless=SERVERLESS, network_isolation=True),
        r"serverless cannot be combined with network_isolation=True",
    ),
    (
        endpoint(serverless=SERVERLESS, variants=[variant("a"), variant("b")]),
        r"serverless cannot be combined with multiple variants",
    ),
    (
        endpoint(serverless=SERVERLESS, async_inference=async_config),
        r"serverless cannot be combined with async_inference",
    ),
    (
        endpoint(serverless=SERVERLESS, autoscaling=AutoScaling()),
        r"serverless cannot be combined with autoscaling",
    ),
    # autoscaling and async
    (
        endpoint(instance_type="ml.t2.medium", autoscaling=AutoScaling()),
        r"autoscaling cannot be combined with instance type ml\.t2\.medium: burstable ml\.t\* instances cannot autoscale",
    ),
    (
        endpoint(async_inference=async_config, autoscaling=AutoScaling()),
        r"autoscaling cannot be combined with async_inference",
    ),
    (
        endpoint(async_inference=async_config, variants=[variant("a"), variant("b")]),
        r"async_inference cannot be combined with multiple variants",
    ),
    (
        endpoint(async_inference=async_config, variants=[variant("a"), variant("b", shadow=True)]),
        r"async_inference cannot be combined with a shadow variant: SageMaker shadow testing "
        r"excludes asynchronous inference",
    ),
    # deployments
    (
        endpoint(serverless=SERVERLESS, deployment=DeploymentPolicy.rolling()),
        r"deployment=rolling cannot be combined with serverless",
    ),
    (
        endpoint(variants=[variant("a"), variant("b")], deployment=DeploymentPolicy.rolling()),
        r"deployment=rolling cannot be combined with multiple variants",
    ),
    (
        endpoint(instance_type="ml.inf1.xlarge", deployment=DeploymentPolicy.canary()),
        r"deployment cannot be combined with instance type ml\.inf1\.xlarge",
    ),
]


@pytest.mark.parametrize(("build", "message"), CONSTRUCT_CASES, ids=case_ids(CONSTRUCT_CASES))
def test_construct_rule(build: Callable[[Resources], RealtimeEndpoint], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^" + PATH + r": .*" + message):
        build(Resources())


OPTION_CASES: list[tuple[Callable[[], object], str]] = [
    (
        lambda: ProductionVariant(name="churn_v2", image=IMAGE),
        r"ProductionVariant\('churn_v2'\): name must be 1-63 letters",
    ),
    (lambda: ProductionVariant(name="a" * 64, image=IMAGE), r"name must be 1-63 letters"),
    (
        lambda: ProductionVariant(name="a", image=IMAGE, weight=-1),
        r"weight must be at least 0 \(got -1\)",
    ),
    (
        lambda: ProductionVariant(name="a", image=IMAGE, initial_instance_count=0),
        r"initial_instance_count must be at least 1 \(got 0\)",
    ),
    (
        lambda: ProductionVariant(name="a", image=IMAGE, instance_type="ml.c5n.xlarge"),
        r"^ProductionVariant\('a'\): instance_type must be an instance type CreateEndpointConfig "
        r"accepts .*; ml\.c5n\.xlarge is for CreateTrainingJob only \(got 'ml\.c5n\.xlarge'\)$",
    ),
    (
        lambda: ProductionVariant(name="a", image=IMAGE, instance_type="ml.m5"),
        r"instance_type must be an instance type CreateEndpointConfig accepts",
    ),
    (
        lambda: ProductionVariant(name="a"),
        r"image or model_package must be given exactly once \(got none\)",
    ),
    (
        lambda: ServerlessConfig(memory_size_mb=3000, max_concurrency=5),
        r"ServerlessConfig: memory_size_mb must be one of 1024, 2048, 3072, 4096, 5120, 6144 \(got 3000\)",
    ),
    (
        lambda: ServerlessConfig(memory_size_mb=2048, max_concurrency=0),
        r"max_concurrency must be between 1 and 200 \(got 0\)",
    ),
    (
        lambda: ServerlessConfig(memory_size_mb=2048, max_concurrency=201),
        r"max_concurrency must be between 1 and 200 \(got 201\)",
    ),
    (
        lambda: ServerlessConfig(memory_size_mb=2048, max_concurrency=5, provisioned_concurrency=6),
        r"provisioned_concurrency must be at most max_concurrency \(5\) \(got 6\)",
    ),
    (
        lambda: AutoScaling(min_capacity=5, max_capacity=4),
        r"AutoScaling: min_capacity must be at most max_capacity \(4\) \(got 5\)",
    ),
    (lambda: AutoScaling(min_capacity=0), r"min_capacity must be at least 1 \(got 0\)"),
    (
        lambda: AutoScaling(target_invocations_per_instance=0),
        r"target_invocations_per_instance must be greater than 0 \(got 0\)",
    ),
    (lambda: AutoScaling(target_invocations_per_instance=-5), r"greater than 0 \(got -5\)"),
    (
        lambda: AutoScaling(scale_in_cooldown=cdk.Duration.hours(2)),
        r"scale_in_cooldown must be between 0 and 3600 s \(got 7200\)",
    ),
    (
        lambda: DeploymentPolicy.canary(60),
        r"DeploymentPolicy\.canary: percent must be between 1 and 50 % of capacity \(got 60\)",
    ),
    (
        lambda: DeploymentPolicy.linear(5),
        r"DeploymentPolicy\.linear: step_percent must be between 10 and 50 % of capacity \(got 5\)",
    ),
    (
        lambda: DeploymentPolicy.rolling(60),
        r"batch_percent must be between 5 and 50 % of capacity \(got 60\)",
    ),
    (
        lambda: DeploymentPolicy.canary(10, cdk.Duration.seconds(3601)),
        r"wait must be between 0 and 3600 s \(got 3601\)",
    ),
    (
        lambda: DeploymentPolicy.all_at_once(termination_wait=cdk.Duration.hours(2)),
        r"termination_wait must be between 0 and 3600 s",
    ),
    (
        lambda: DataCapture(sampling_percentage=101, bucket=s3.Bucket(unit_stack(), "B")),
        r"DataCapture: sampling_percentage must be between 0 and 100 % \(got 101\)",
    ),
    (
        lambda: DataCapture(sampling_percentage=-1, bucket=s3.Bucket(unit_stack(), "B")),
        r"sampling_percentage must be between 0 and 100 % \(got -1\)",
    ),
    (
        lambda: DataCapture(
            bucket=s3.Bucket(unit_stack(), "B"), capture_input=False, capture_output=False
        ),
        r"capture_input or capture_output must be True \(capture at least one side\) \(got both False\)",
    ),
    (
        lambda: DataCapture(),
        r"DataCapture: bucket must be the S3 bucket to capture into \(got None\)",
    ),
    (
        lambda: DataCapture(bucket=s3.Bucket(unit_stack(), "B"), prefix="/capture"),
        r"prefix must be a key prefix",
    ),
    (
        lambda: AsyncInference(
            output_bucket=s3.Bucket(unit_stack(), "B"), failure_prefix="async/output/"
        ),
        r"AsyncInference: failure_prefix must be different from output_prefix",
    ),
    (
        lambda: AsyncInference(
            output_bucket=s3.Bucket(unit_stack(), "B"), max_concurrent_invocations_per_instance=0
        ),
        r"max_concurrent_invocations_per_instance must be between 1 and 1000",
    ),
    (
        lambda: EndpointAlarms(latency_percentile="P95"),  # type: ignore[arg-type]
        r"EndpointAlarms: latency_percentile must be one of 'p50', 'p90', 'p95', 'p99' "
        r"\(got 'P95'\)",
    ),
    (
        lambda: EndpointAlarms(latency=cdk.Duration.millis(0)),
        r"EndpointAlarms: latency must be greater than 0 \(got 0\)",
    ),
    (
        lambda: EndpointAlarms(period=cdk.Duration.seconds(45)),
        r"EndpointAlarms: period must be one of 10, 30, 60, 300, 900, 3600 \(got 45\)",
    ),
    (
        lambda: ModelData.from_s3_uri("https://bucket.s3.amazonaws.com/model.tar.gz"),
        r"ModelData\.from_s3_uri: uri must be an s3://<bucket>/<key> URI",
    ),
    (
        lambda: ModelData.from_s3_uri("s3://models/model.zip", compressed=True),
        r"uri must be a key ending in \.tar\.gz when compressed=True",
    ),
]


@pytest.mark.parametrize(("build", "message"), OPTION_CASES, ids=case_ids(OPTION_CASES))
def test_option_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_a_valid_minimal_endpoint_builds() -> None:
    resources = Resources()
    built = RealtimeEndpoint(resources.stack, "Churn", image=IMAGE)
    assert built.network_isolation is True
    assert [v.name for v in built.variants] == ["AllTraffic"]


def existing(endpoint_name: str = "churn-team-b", **kwargs: Any) -> Callable[[Resources], object]:
    """RealtimeEndpoint.from_endpoint_name(stack, "Churn", endpoint_name, **kwargs); callables
    receive the Resources."""

    def build(resources: Resources) -> object:
        resolved = {k: v(resources) if callable(v) else v for k, v in kwargs.items()}
        return RealtimeEndpoint.from_endpoint_name(
            resources.stack, "Churn", endpoint_name, **resolved
        )

    return build


EXISTING_CASES = [
    (
        existing("churn_team_b"),
        r"endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a "
        r"letter or digit \(pattern .*\) \(got 'churn_team_b'\)$",
    ),
    (existing("-churn"), r"endpoint_name must be 1-63 letters.* \(got '-churn'\)$"),
    (existing("c" * 64), r"endpoint_name must be 1-63 letters.* \(got 'c{64}'\)$"),
    (existing(""), r"endpoint_name must be the name of a SageMaker endpoint \(got ''\)$"),
    (
        existing(variant_names="AllTraffic"),
        r"variant_names must be a list of variant names \(not one string\) \(got 'AllTraffic'\)$",
    ),
    (
        existing(variant_names=[]),
        r"variant_names must be 1-10 production variant names \(got 0 names\)$",
    ),
    (existing(variant_names=["a", "a"]), r"variant_names must be unique \(got a\)$"),
    (existing(variant_names=["blue_1"]), r"variant_names must be 1-63 letters.* \(got 'blue_1'\)$"),
    (
        existing(instance_type="m5.large"),
        r"instance_type must be an instance type CreateEndpointConfig accepts .*\(got 'm5\.large'\)$",
    ),
    (
        existing(serverless=True, instance_type="ml.m5.large"),
        r"serverless cannot be combined with instance_type: serverless endpoints have no instances$",
    ),
    (
        existing(serverless=True, data_capture=capture),
        r"serverless cannot be combined with data_capture: serverless endpoints do not support "
        r"data capture$",
    ),
    (
        existing(alarm_topic="arn:aws:sns:eu-west-1:123456789012:t"),
        r"alarm_topic must be an sns\.ITopic",
    ),
]


@pytest.mark.parametrize(("build", "message"), EXISTING_CASES, ids=case_ids(EXISTING_CASES))
def test_existing_endpoint_rule(build: Callable[[Resources], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^" + PATH + r": " + message):
        build(Resources())
