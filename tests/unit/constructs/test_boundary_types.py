"""A wrong type at the public boundary (a bucket name for an IBucket, a key ARN for an IKey, a
number for a Duration) is named at once: construct path, keyword, expected type, what was
given. Before, each raised a bare AttributeError deep inside CDK."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.validation import BUCKET, DURATION, KEY
from mlops_cdk.constructs import (
    AsyncInference,
    BatchTransformJob,
    ContainerImage,
    DataCapture,
    EcsModelService,
    LambdaInference,
    ModelData,
    ModelMonitorSchedule,
    ModelRegistry,
    RealtimeEndpoint,
    S3Trigger,
    TransformInput,
    TransformOutput,
)
from tests.helpers.apps import unit_stack
from tests.helpers.scenarios import SERVER_IMAGE, captured_endpoint, pipeline

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IMAGE = ContainerImage.from_uri(SERVER_IMAGE)
MODEL = ModelData.from_s3_uri("s3://models/churn/model.onnx")


def data(stack: cdk.Stack) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(stack, "Data", "data-bucket")


def vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip


Build = Callable[[cdk.Stack], object]

CASES: list[tuple[str, Build, str]] = [
    (
        "endpoint-key-arn",
        lambda s: RealtimeEndpoint(s, "Churn", image=IMAGE, encryption_key=KEY_ARN),  # type: ignore[arg-type]
        "Test/Churn: encryption_key must be a kms.IKey (got str 'arn:aws:kms:eu-west-1:",
    ),
    (
        "endpoint-vpc-id",
        lambda s: RealtimeEndpoint(s, "Churn", image=IMAGE, vpc="vpc-0123"),  # type: ignore[arg-type]
        "Test/Churn: vpc must be an ec2.IVpc (got str 'vpc-0123')",
    ),
    (
        "batch-max-runtime-int",
        lambda s: BatchTransformJob(
            s,
            "Batch",
            image=IMAGE,
            manual=True,
            max_runtime=3600,  # type: ignore[arg-type]
            input=TransformInput(bucket=data(s), prefix="in/"),
            output=TransformOutput(bucket=s3.Bucket(s, "Out"), prefix="out/"),
        ),
        "Test/Batch: max_runtime must be a Duration (such as Duration.minutes(5)) (got int 3600)",
    ),
    (
        "lambda-timeout-int",
        lambda s: LambdaInference(
            s,
            "Fn",
            model_data=MODEL,
            timeout=30,  # type: ignore[arg-type]
            outside_vpc_reason="a reason for the test",
        ),
        "Test/Fn: timeout must be a Duration (such as Duration.minutes(5)) (got int 30)",
    ),
    (
        "ecs-access-logs-name",
        lambda s: EcsModelService(s, "Svc", vpc=vpc(s), model_data=MODEL, access_logs="logs"),  # type: ignore[arg-type]
        "Test/Svc: access_logs must be an s3.IBucket (got str 'logs')",
    ),
    (
        "monitor-topic-arn",
        lambda s: ModelMonitorSchedule(
            s,
            "Monitor",
            endpoint=captured_endpoint(s),
            baseline=_baseline(),
            alarm_topic="arn:aws:sns:eu-west-1:123456789012:alarms",  # type: ignore[arg-type]
        ),
        "Test/Monitor: alarm_topic must be an sns.ITopic (got str 'arn:aws:sns:",
    ),
    (
        "pipeline-bucket-name",
        lambda s: pipeline(s, data_bucket="data-bucket"),
        "Test/Pipeline: data_bucket must be an s3.IBucket (got str 'data-bucket')",
    ),
    (
        "registry-key-arn",
        lambda s: ModelRegistry(s, "Registry", group_name="churn", encryption_key=KEY_ARN),  # type: ignore[arg-type]
        "Test/Registry: encryption_key must be a kms.IKey (got str",
    ),
    (
        "data-capture-bucket-name",
        lambda s: DataCapture(bucket="capture-bucket"),  # type: ignore[arg-type]
        "DataCapture: bucket must be an s3.IBucket (got str 'capture-bucket')",
    ),
    (
        "async-output-bucket-name",
        lambda s: AsyncInference(output_bucket="out"),  # type: ignore[arg-type]
        "AsyncInference: output_bucket must be an s3.IBucket (got str 'out')",
    ),
    (
        "transform-input-bucket-name",
        lambda s: TransformInput(bucket="in", prefix="in/"),  # type: ignore[arg-type]
        "TransformInput: bucket must be an s3.IBucket (got str 'in')",
    ),
    (
        "s3-trigger-event-age-int",
        lambda s: S3Trigger(
            bucket=data(s),
            input_prefix="in/",
            output_prefix="out/",
            max_event_age=60,  # type: ignore[arg-type]
        ),
        "S3Trigger: max_event_age must be a Duration (such as Duration.minutes(5)) (got int 60)",
    ),
    (
        "model-data-bucket-name",
        lambda s: ModelData.from_bucket("models", "churn/model.tar.gz"),  # type: ignore[arg-type]
        "ModelData.from_bucket: bucket must be an s3.IBucket (got str 'models')",
    ),
]


def _baseline() -> Any:
    from mlops_cdk.constructs import Baseline

    return Baseline.demo_model()


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_wrong_types_are_named(build: Build, message: str) -> None:
    with pytest.raises(ConfigurationError, match="^" + re.escape(message)):
        build(unit_stack())


def test_l2_imported_and_proxied_resources_are_accepted() -> None:
    stack = unit_stack()
    assert BUCKET.admits(s3.Bucket(stack, "L2"))
    assert BUCKET.admits(s3.Bucket.from_bucket_name(stack, "Imported", "data-bucket"))
    assert KEY.admits(kms.Key(stack, "Key"))
    assert KEY.admits(kms.Key.from_key_arn(stack, "ImportedKey", KEY_ARN))  # a dynamic proxy
    assert DURATION.admits(cdk.Duration.seconds(1))
    assert not BUCKET.admits("data-bucket")
    assert not KEY.admits(s3.Bucket(stack, "NotAKey"))
    assert not DURATION.admits(60)
