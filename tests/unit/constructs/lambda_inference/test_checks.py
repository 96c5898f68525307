"""Every bad LambdaInference input is rejected at synth time with a precise message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EnvironmentConfig, load_environment
from mlops_cdk.constructs import (
    ContainerImage,
    InferenceApi,
    LambdaAlarms,
    LambdaDeployment,
    LambdaInference,
    ModelData,
    ProvisionedConcurrency,
    S3Trigger,
)
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.cases import case_ids
from tests.helpers.config import with_changes, write_config

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
MODEL = ModelData.from_s3_uri("s3://models/churn/model.tar.gz")
PATH = "Test/Churn"
REASON = "Scores public demo data; nothing it calls is inside a VPC."


class Resources:
    """Collaborators that need a stack."""

    def __init__(self) -> None:
        self.stack = unit_stack(unit_app())
        self.vpc = ec2.Vpc(
            self.stack,
            "Vpc",
            max_azs=1,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
        )


def inference(**kwargs: Any) -> Callable[[Resources], LambdaInference]:
    """LambdaInference(stack, "Churn", model_data=MODEL, image=IMAGE, **kwargs); callable values
    receive the Resources."""

    def build(resources: Resources) -> LambdaInference:
        resolved = {k: v(resources) if callable(v) else v for k, v in kwargs.items()}
        resolved.setdefault("image", IMAGE)
        resolved.setdefault("model_data", MODEL)
        return LambdaInference(resources.stack, "Churn", **resolved)

    return build


def vpc(resources: Resources) -> ec2.IVpc:
    return resources.vpc


CONSTRUCT_CASES = [
    (
        inference(memory_size_mb=127),
        r"memory_size_mb must be between 128 and 10240 MB \(got 127\)",
    ),
    (
        inference(memory_size_mb=10241),
        r"memory_size_mb must be between 128 and 10240 MB \(got 10241\)",
    ),
    (
        inference(timeout=cdk.Duration.seconds(901)),
        r"timeout must be between 1 and 900 s \(got 901\)",
    ),
    (
        inference(timeout=cdk.Duration.seconds(30), api=InferenceApi()),
        r"timeout must be at most api\.integration_timeout \(29 s\): API Gateway answers 504 at "
        r"that point while the function would keep running \(got 30 s\)",
    ),
    (
        inference(
            timeout=cdk.Duration.seconds(15),
            api=InferenceApi(integration_timeout=cdk.Duration.seconds(10)),
        ),
        r"timeout must be at most api\.integration_timeout \(10 s\).* \(got 15 s\)",
    ),
    (
        inference(timeout=cdk.Duration.millis(1500)),
        r"timeout must be a whole number of seconds \(got 1500 ms\)",
    ),
    (inference(reserved_concurrency=0), r"reserved_concurrency must be at least 1 \(got 0\)"),
    (
        inference(
            reserved_concurrency=3,
            provisioned_concurrency=ProvisionedConcurrency(min_capacity=5, max_capacity=5),
        ),
        r"provisioned_concurrency\.min_capacity must be at most reserved_concurrency \(3\) "
        r"\(got 5\)",
    ),
    (
        inference(
            reserved_concurrency=3,
            provisioned_concurrency=ProvisionedConcurrency(min_capacity=1, max_capacity=4),
        ),
        r"provisioned_concurrency\.max_capacity must be at most reserved_concurrency \(3\) "
        r"\(got 4\)",
    ),
    (
        inference(vpc=vpc, outside_vpc_reason=REASON),
        r"outside_vpc_reason cannot be combined with vpc: the function runs in the VPC",
    ),
    (
        inference(subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)),
        r"subnets cannot be combined with no vpc",
    ),
    (
        inference(outside_vpc_reason="no VPC"),
        r"outside_vpc_reason must be a sentence a reviewer can check \(at least 20 characters\) "
        r"\(got 'no VPC'\)",
    ),
    (
        inference(model_sha256="ABC"),
        r"model_sha256 must be 64 lowercase hex characters \(got 'ABC'\)",
    ),
    (
        inference(environment={"1BAD": "x"}),
        r"environment must be a name of at least 2 letters, digits and _ starting with a letter "
        r".*\(got '1BAD'\)",
    ),
    (
        inference(environment={"MLOPS_MODEL_S3_URI": "s3://other/model.onnx"}),
        r"environment must be free of the variables the construct sets itself "
        r"\(got 'MLOPS_MODEL_S3_URI'\)",
    ),
    (
        inference(environment={"AWS_REGION": "us-east-1"}),
        r"environment must be a name other than Lambda's reserved runtime variables .*"
        r"\(got 'AWS_REGION'\)",
    ),
    (
        inference(environment={"BIG": "x" * 4100}),
        r"environment must be at most 4096 bytes in total \(Lambda's limit\) \(got 4111 bytes\)",
    ),
    (
        inference(
            image=ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1")
        ),
        r"image must be an ECR image in the stack's region eu-west-1 \(SageMaker, ECS and Lambda "
        r"pull from ECR in their own region; this one is in us-east-1\)",
    ),
    (
        inference(alarm_thresholds=LambdaAlarms(latency=cdk.Duration.seconds(30))),
        r"alarm_thresholds\.latency must be less than the function's timeout \(30 s\)"
        r": no invocation lasts longer, so the alarm could never fire \(got 30000 ms\)",
    ),
    (
        inference(
            api=InferenceApi(),
            alarm_thresholds=LambdaAlarms(latency=cdk.Duration.seconds(29)),
        ),
        r"alarm_thresholds\.latency must be less than the function's timeout \(29 s\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), CONSTRUCT_CASES, ids=case_ids(CONSTRUCT_CASES))
def test_construct_rule(build: Callable[[Resources], LambdaInference], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^" + PATH + r": .*" + message):
        build(Resources())


def bucket() -> s3.IBucket:
    return s3.Bucket.from_bucket_name(unit_stack(), "B", "batch-input")


OPTION_CASES: list[tuple[Callable[[], object], str]] = [
    (
        lambda: ProvisionedConcurrency(min_capacity=0),
        r"ProvisionedConcurrency: min_capacity must be at least 1 \(got 0\)",
    ),
    (
        lambda: ProvisionedConcurrency(min_capacity=5, max_capacity=4),
        r"ProvisionedConcurrency: min_capacity must be at most max_capacity \(4\) \(got 5\)",
    ),
    (
        lambda: ProvisionedConcurrency(target_utilization=0.95),
        r"target_utilization must be between 0\.1 and 0\.9 \(got 0\.95\)",
    ),
    (
        lambda: InferenceApi(auth="cognito"),  # type: ignore[arg-type]
        r"InferenceApi: auth must be one of 'iam', 'api_key' \(got 'cognito'\)",
    ),
    (
        lambda: InferenceApi(throttle_rate=0),
        r"InferenceApi: throttle_rate must be greater than 0 \(got 0\)",
    ),
    (
        lambda: InferenceApi(throttle_burst=-1),
        r"InferenceApi: throttle_burst must be greater than 0 \(got -1\)",
    ),
    (
        lambda: InferenceApi(integration_timeout=cdk.Duration.seconds(30)),
        r"integration_timeout must be between 50 and 29000 ms \(got 30000\)",
    ),
    (
        lambda: InferenceApi(integration_timeout=cdk.Duration.millis(10)),
        r"integration_timeout must be between 50 and 29000 ms \(got 10\)",
    ),
    (
        lambda: InferenceApi(stage_name="v 1"),
        r"stage_name must be 1-128 letters, digits, - or _ \(got 'v 1'\)",
    ),
    (
        lambda: InferenceApi(web_acl_arn="arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/b"),
        r"web_acl_arn must be a wafv2 regional/webacl ARN",
    ),
    (
        lambda: S3Trigger(bucket=bucket(), input_prefix="data/", output_prefix="data/"),
        r"S3Trigger: output_prefix must be outside input_prefix 'data/' when results go to the "
        r"same bucket \(results under it would invoke the function again: a recursive loop\) "
        r"\(got 'data/'\)",
    ),
    (
        lambda: S3Trigger(bucket=bucket(), input_prefix="data/", output_prefix="data/scored/"),
        r"output_prefix must be outside input_prefix 'data/'.*\(got 'data/scored/'\)",
    ),
    (
        lambda: S3Trigger(bucket=bucket(), input_prefix="data/in/", output_prefix="data/"),
        r"output_prefix must be a prefix that does not contain input_prefix 'data/in/'.*"
        r"\(got 'data/'\)",
    ),
    (
        lambda: S3Trigger(bucket=bucket(), input_prefix="/incoming", output_prefix="out/"),
        r"S3Trigger: input_prefix must be a key prefix",
    ),
    (
        lambda: S3Trigger(bucket=bucket(), input_prefix="in/", output_prefix="/out/"),
        r"S3Trigger: output_prefix must be a key prefix",
    ),
    (
        lambda: S3Trigger(
            bucket=bucket(), input_prefix="in/", output_prefix="out/", retry_attempts=3
        ),
        r"retry_attempts must be between 0 and 2 \(got 3\)",
    ),
    (
        lambda: S3Trigger(
            bucket=bucket(),
            input_prefix="in/",
            output_prefix="out/",
            max_event_age=cdk.Duration.seconds(30),
        ),
        r"max_event_age must be between 60 and 21600 s \(got 30\)",
    ),
    (
        lambda: LambdaAlarms(latency_percentile="p75"),  # type: ignore[arg-type]
        r"LambdaAlarms: latency_percentile must be one of 'p50', 'p90', 'p95', 'p99' "
        r"\(got 'p75'\)",
    ),
    (
        lambda: LambdaAlarms(latency=cdk.Duration.millis(0)),
        r"LambdaAlarms: latency must be greater than 0 \(got 0\)",
    ),
    (
        lambda: LambdaAlarms(error_rate_percent=0),
        r"LambdaAlarms: error_rate_percent must be between 0\.01 and 100 % \(got 0\)",
    ),
    (
        lambda: LambdaDeployment.canary(0),
        r"LambdaDeployment\.canary: percent must be between 1 and 99 % \(got 0\)",
    ),
    (
        lambda: LambdaDeployment.canary(100, cdk.Duration.minutes(5)),
        r"LambdaDeployment\.canary: percent must be between 1 and 99 % \(got 100\)",
    ),
    (
        lambda: LambdaDeployment.linear(10, cdk.Duration.seconds(0)),
        r"LambdaDeployment\.linear: wait must be between 1 and 2880 minutes \(got 0\)",
    ),
    (
        lambda: LambdaDeployment.canary(10, cdk.Duration.minutes(3000)),
        r"wait must be between 1 and 2880 minutes \(got 3000\)",
    ),
    (
        lambda: LambdaDeployment.linear(10, cdk.Duration.seconds(90)),
        r"LambdaDeployment\.linear: wait must be whole minutes \(CodeDeploy counts in minutes\) "
        r"\(got 90 s\)",
    ),
    (
        lambda: LambdaDeployment.linear(0),
        r"LambdaDeployment\.linear: step_percent must be between 1 and 99 % \(got 0\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), OPTION_CASES, ids=case_ids(OPTION_CASES))
def test_option_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_results_may_go_under_the_input_prefix_of_another_bucket() -> None:
    stack = unit_stack()
    trigger = S3Trigger(
        bucket=s3.Bucket.from_bucket_name(stack, "In", "raw-data"),
        input_prefix="data/",
        output_prefix="data/scored/",
        output_bucket=s3.Bucket.from_bucket_name(stack, "Out", "scored-data"),
    )
    assert trigger.results_bucket.bucket_name == "scored-data"


def test_a_valid_minimal_function_builds() -> None:
    resources = Resources()
    built = LambdaInference(resources.stack, "Churn", model_data=MODEL, image=IMAGE)
    assert built.timeout.to_seconds() == 30
    assert built.api is None
    assert built.function_url is None
    assert built.deployment_group is None


# --- config/<env>.yaml: the lambda_inference section -----------------------------------------

REASON_YAML = "dev is disposable; the function only reads its model from S3."
CONFIG_CASES = [
    (
        {"enabled": True},
        "lambda_inference: needs api, function_url: true or s3_trigger when enabled (callers "
        "need a way in) (got 'none')",
    ),
    (
        {"function_url": True, "in_vpc": False},
        "lambda_inference.outside_vpc_reason: must say why the function runs outside the VPC "
        "when in_vpc is false (it becomes the compliance acknowledgement) (got None)",
    ),
    (
        {"function_url": True, "outside_vpc_reason": REASON_YAML},
        "lambda_inference.outside_vpc_reason: must be left out when in_vpc is true",
    ),
    (
        {"api": {}, "timeout_seconds": 30},
        "lambda_inference.timeout_seconds: must be at most 29 with an api (API Gateway's "
        "integration timeout) (got 30)",
    ),
    (
        {"api": {}, "reserved_concurrency": 4, "provisioned_concurrency": {"max_capacity": 5}},
        "lambda_inference.provisioned_concurrency.max_capacity: must be at most "
        "reserved_concurrency (4) (got 5)",
    ),
    (
        {"api": {}, "provisioned_concurrency": {"min_capacity": 3, "max_capacity": 2}},
        "lambda_inference.provisioned_concurrency.max_capacity: must be at least min_capacity "
        "(3) (got 2)",
    ),
    (
        {"memory_size_mb": 20000},
        "lambda_inference.memory_size_mb: Input should be less than or equal to 10240",
    ),
    (
        {"api": {"auth": "cognito"}},
        "lambda_inference.api.auth: Input should be 'iam' or 'api_key'",
    ),
    (
        {"api": {"throttle_rate": 0}},
        "lambda_inference.api.throttle_rate: Input should be greater than 0",
    ),
    (
        {"deployment": {"strategy": "rolling"}},
        "lambda_inference.deployment.strategy: Input should be 'canary', 'linear' or 'all_at_once'",
    ),
]


@pytest.mark.parametrize(("section", "message"), CONFIG_CASES, ids=case_ids(CONFIG_CASES))
def test_config_rule(tmp_path: Path, section: dict[str, object], message: str) -> None:
    write_config(tmp_path, "qa", with_changes(lambda_inference=section))
    with pytest.raises(ConfigurationError) as raised:
        load_environment("qa", config_dir=tmp_path, environ={})
    assert f"qa.yaml: {message}" in str(raised.value)


def test_checked_in_environments_enable_lambda_inference(
    environment_configs: list[EnvironmentConfig],
) -> None:
    settings = {c.name: c.lambda_inference for c in environment_configs}
    assert settings["dev"].function_url
    assert not settings["dev"].in_vpc
    assert settings["dev"].outside_vpc_reason
    for name in ("staging", "prod"):
        assert settings[name].in_vpc
        api = settings[name].api
        assert api is not None
        assert api.auth == "iam"
        assert settings[name].deployment is not None
    # Only prod keeps warm execution environments (issue #19: staging tolerates cold starts).
    assert settings["prod"].provisioned_concurrency is not None
    assert settings["staging"].provisioned_concurrency is None


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        ProvisionedConcurrency(1, 4, 0.5)  # type: ignore[call-arg]
    assert ProvisionedConcurrency(
        min_capacity=1, max_capacity=4, target_utilization=0.5
    ) == ProvisionedConcurrency(min_capacity=1, max_capacity=4, target_utilization=0.5)
    assert InferenceApi(auth="api_key", throttle_rate=10, throttle_burst=20).throttle_burst == 20
    trigger = S3Trigger(bucket=bucket(), input_prefix="in/", output_prefix="out/")
    assert (trigger.input_prefix, trigger.output_prefix) == ("in/", "out/")
    five, three = cdk.Duration.minutes(5), cdk.Duration.minutes(3)
    assert LambdaDeployment.canary(10, five).predefined_name == "CANARY_10_PERCENT_5_MINUTES"
    assert LambdaDeployment.linear(10, three).predefined_name == "LINEAR_10_PERCENT_EVERY_3_MINUTES"
    assert LambdaDeployment.canary(20, five).predefined_name is None
    assert LambdaDeployment.canary().predefined_name == "CANARY_10_PERCENT_5_MINUTES"


def test_default_timeout_behind_a_fractional_integration_timeout_is_whole_seconds() -> None:
    resources = Resources()
    api = InferenceApi(integration_timeout=cdk.Duration.millis(12_500))
    built = LambdaInference(resources.stack, "Churn", model_data=MODEL, image=IMAGE, api=api)
    assert built.timeout.to_seconds() == 12
