"""ContainerImage and ModelData: each factory validates its input, resolves to the right
location and grants exactly the access that location needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.iam import ManagedPolicyRole
from mlops_cdk.constructs import ContainerImage, ModelData, ModelPackage
from tests.helpers.apps import unit_stack

DLC_URI = (
    "763104351884.dkr.ecr.eu-west-1.amazonaws.com/"
    "pytorch-inference:2.3.0-cpu-py311-ubuntu20.04-sagemaker"
)


def role_in(stack: cdk.Stack) -> ManagedPolicyRole:
    return ManagedPolicyRole(
        stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
    )


def statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


# --- ContainerImage -------------------------------------------------------------------------


def test_aws_owned_image_uri_grants_pull_on_exactly_that_repository() -> None:
    stack = unit_stack()
    bound = ContainerImage.from_uri(DLC_URI).bind(stack, role_in(stack))
    assert bound.image_uri == DLC_URI
    found = statements(stack)
    pull = next(s for s in found if "ecr:BatchGetImage" in actions(s))
    # The test stack's region is concrete, so CDK renders the partition as a literal.
    assert pull["Resource"] == "arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-inference"
    token = next(s for s in found if "ecr:GetAuthorizationToken" in actions(s))
    assert token["Resource"] == "*"  # GetAuthorizationToken has no resource-level permissions


def test_china_registry_uses_the_china_partition() -> None:
    stack = unit_stack()
    uri = "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.3.0-cpu"
    ContainerImage.from_uri(uri).bind(stack, role_in(stack))
    pull = next(s for s in statements(stack) if "ecr:BatchGetImage" in actions(s))
    assert pull["Resource"] == "arn:aws-cn:ecr:cn-north-1:727897471807:repository/pytorch-inference"


@pytest.mark.parametrize(
    "uri",
    [
        "nginx:latest",
        "docker.io/library/python:3.12",
        "123.dkr.ecr.eu-west-1.amazonaws.com/model:1",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/Model:1",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/model: 1",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + "m" * 250,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/model:1",
    ],
    ids=[
        "docker-hub-short",
        "docker-hub",
        "short-account",
        "upper-case-repository",
        "space-in-tag",
        "repository-too-long",
        "china-domain-outside-china",
    ],
)
def test_non_ecr_or_malformed_uris_are_rejected(uri: str) -> None:
    with pytest.raises(
        ConfigurationError, match=r"^ContainerImage\.from_uri: uri must be an ECR image URI"
    ):
        ContainerImage.from_uri(uri)


def test_an_aws_registry_outside_the_regions_it_serves_is_rejected() -> None:
    # 763104351884 hosts the deep-learning containers in most regions, but not af-south-1.
    uri = "763104351884.dkr.ecr.af-south-1.amazonaws.com/pytorch-inference:2.3.0-cpu"
    with pytest.raises(
        ConfigurationError,
        match=r"^ContainerImage\.from_uri: uri must be an image of an AWS registry that serves "
        r"af-south-1: account 763104351884 hosts SageMaker images in other regions only "
        r"\(accounts there: .*626614931356.*\) \(got '763104351884\.",
    ):
        ContainerImage.from_uri(uri)


def test_digest_pinned_uri_is_accepted() -> None:
    uri = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn@sha256:" + "a" * 64
    stack = unit_stack()
    assert ContainerImage.from_uri(uri).bind(stack, role_in(stack)).image_uri == uri


def test_repository_image_pins_tag_and_grants_pull() -> None:
    stack = unit_stack()
    repository = ecr.Repository.from_repository_name(stack, "Repo", "churn-model")
    bound = ContainerImage.from_ecr_repository(repository, "v3").bind(stack, role_in(stack))
    assert "churn-model:v3" in stack.resolve(bound.image_uri)["Fn::Join"][1][-1]
    pull = next(s for s in statements(stack) if "ecr:BatchGetImage" in actions(s))
    assert pull["Resource"] == "arn:aws:ecr:eu-west-1:123456789012:repository/churn-model"


def test_repository_tag_is_validated() -> None:
    stack = unit_stack()
    repository = ecr.Repository.from_repository_name(stack, "Repo", "churn-model")
    with pytest.raises(ConfigurationError, match=r"tag must be a Docker tag or a digest"):
        ContainerImage.from_ecr_repository(repository, "v 3")


def test_asset_image_needs_a_dockerfile(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"file must be a Dockerfile inside directory"):
        ContainerImage.from_asset(tmp_path)
    with pytest.raises(ConfigurationError, match=r"directory must be an existing directory"):
        ContainerImage.from_asset(tmp_path / "missing")


def test_asset_image_is_staged_once_per_scope_and_grants_pull(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM public.ecr.aws/docker/library/python:3.12-slim\n")
    image = ContainerImage.from_asset(tmp_path)
    stack = unit_stack()
    role = role_in(stack)
    first, second = image.bind(stack, role), image.bind(stack, role)
    assert first.asset is second.asset is not None
    assert any("ecr:BatchGetImage" in actions(s) for s in statements(stack))


# --- ModelData ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "data_type", "compression"),
    [
        ("s3://models/churn/model.tar.gz", "S3Object", "Gzip"),
        ("s3://models/churn/model.onnx", "S3Object", "None"),
        ("s3://models/churn/v3/", "S3Prefix", "None"),
    ],
    ids=["tar-gz-object", "onnx-object", "prefix"],
)
def test_s3_uri_layout_follows_the_key(uri: str, data_type: str, compression: str) -> None:
    stack = unit_stack()
    bound = ModelData.from_s3_uri(uri).bind(stack, role_in(stack))
    assert (bound.s3_uri, bound.s3_data_type, bound.compression) == (uri, data_type, compression)
    assert bound.to_model_data_source() == {
        "S3DataSource": {"S3Uri": uri, "S3DataType": data_type, "CompressionType": compression}
    }


def test_s3_object_grant_is_exactly_that_object() -> None:
    stack = unit_stack()
    ModelData.from_s3_uri("s3://models/churn/model.tar.gz").bind(stack, role_in(stack))
    (statement,) = statements(stack)
    assert actions(statement) == ["s3:GetObject"]
    assert statement["Resource"] == "arn:aws:s3:::models/churn/model.tar.gz"


def test_s3_prefix_grant_lists_only_under_the_prefix() -> None:
    stack = unit_stack()
    ModelData.from_s3_uri("s3://models/churn/v3/").bind(stack, role_in(stack))
    listing = next(s for s in statements(stack) if actions(s) == ["s3:ListBucket"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["churn/v3/*"]}}


@pytest.mark.parametrize(
    ("uri", "kwargs", "message"),
    [
        ("https://models.s3.amazonaws.com/m.tar.gz", {}, r"uri must be an s3://<bucket>/<key> URI"),
        ("ftp://models/m.tar.gz", {}, r"uri must be an s3://<bucket>/<key> URI"),
        ("s3://models/", {}, r"uri must be an s3://<bucket>/<key> URI"),
        ("s3://models/" + "k" * 1020, {}, r"uri must be at most 1024 characters long"),
        (
            "s3://models//m.tar.gz",
            {},
            r"uri must be an s3:// URI whose key is a key without a leading / "
            r"\(such as 'm\.tar\.gz'\) \(got 's3://models//m\.tar\.gz'\)$",
        ),
        (
            "s3://my..models/m.tar.gz",
            {},
            r"uri must be an s3://<bucket>/<key> URI whose bucket is 3-63 lowercase letters, "
            r"digits, \. and - \('my\.\.models' is not a bucket name\)",
        ),
        (
            "s3://models/model.zip",
            {"compressed": True},
            r"uri must be a key ending in \.tar\.gz when compressed=True",
        ),
        (
            "s3://models/model.tar.gz",
            {"compressed": False},
            r"compressed must be True for a \.tar\.gz",
        ),
    ],
    ids=[
        "https-url",
        "ftp-url",
        "no-key",
        "key-too-long",
        "key-leading-slash",
        "bucket-double-dot",
        "compressed-zip",
        "uncompressed-tar-gz",
    ],
)
def test_bad_s3_uris_are_rejected(uri: str, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^ModelData\.from_s3_uri: " + message):
        ModelData.from_s3_uri(uri, **kwargs)


def test_bucket_model_data_grants_read_on_the_key_and_its_kms_key() -> None:
    from aws_cdk import aws_kms as kms

    stack = unit_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    bound = ModelData.from_bucket(bucket, "churn/model.tar.gz").bind(stack, role_in(stack))
    assert bound.compressed
    found = statements(stack)
    assert any("kms:Decrypt" in actions(s) for s in found)
    read = next(s for s in found if actions(s) == ["s3:GetObject"])
    assert read["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "/churn/model.tar.gz"]]
    }
    assert not any(a.endswith("*") for s in found for a in actions(s))


def test_deploy_time_model_data_keeps_the_token_and_grants_its_prefix() -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Registry", "registry-artifacts")
    uri = cdk.Token.as_string(cdk.Fn.get_att("Described", "ModelDataUrl"))
    data = ModelData.from_deploy_time_uri(uri, bucket=bucket, prefix="runs", compressed=True)
    bound = data.bind(stack, role_in(stack))
    assert stack.resolve(bound.s3_uri) == {"Fn::GetAtt": ["Described", "ModelDataUrl"]}
    assert (bound.s3_data_type, bound.compression) == ("S3Object", "Gzip")
    found = statements(stack)
    read = next(s for s in found if actions(s) == ["s3:GetObject"])
    assert read["Resource"] == "arn:aws:s3:::registry-artifacts/runs/*"
    listing = next(s for s in found if actions(s) == ["s3:ListBucket"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["runs/*"]}}


@pytest.mark.parametrize(
    ("uri", "prefix", "message"),
    [
        ("https://models/m.tar.gz", "runs/", r"uri must be an s3://<bucket>/<key> URI"),
        ("s3://models/m.tar.gz", "/runs", r"prefix must be"),
    ],
    ids=["not-s3", "prefix-slash"],
)
def test_deploy_time_model_data_checks_what_is_known(uri: str, prefix: str, message: str) -> None:
    bucket = s3.Bucket.from_bucket_name(unit_stack(), "Registry", "registry-artifacts")
    with pytest.raises(ConfigurationError, match=message):
        ModelData.from_deploy_time_uri(uri, bucket=bucket, prefix=prefix, compressed=True)


def test_asset_model_data_accepts_files_only(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"path must be an existing file"):
        ModelData.from_asset(tmp_path)
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx")
    stack = unit_stack()
    bound = ModelData.from_asset(model).bind(stack, role_in(stack))
    assert (bound.s3_data_type, bound.compression) == ("S3Object", "None")
    (read,) = statements(stack)
    assert actions(read) == ["s3:GetObject"]  # exactly the uploaded object, no wildcards


def test_managed_policy_role_creates_its_policy_on_the_first_grant_only() -> None:
    untouched = unit_stack()
    role_in(untouched)
    Template.from_stack(untouched).resource_count_is("AWS::IAM::ManagedPolicy", 0)

    granted = unit_stack()
    role = role_in(granted)
    ModelData.from_s3_uri("s3://models/m.onnx").bind(granted, role)
    ModelData.from_s3_uri("s3://models/n.onnx").bind(granted, role)
    template = Template.from_stack(granted)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    template.resource_count_is("AWS::IAM::Policy", 0)
    assert role.policy is not None
    # The minimizePolicies feature flag merges the two grants into one statement.
    (statement,) = statements(granted)
    assert statement["Resource"] == ["arn:aws:s3:::models/m.onnx", "arn:aws:s3:::models/n.onnx"]


# --- ModelPackage ---------------------------------------------------------------------------

PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"


@pytest.mark.parametrize(
    "arn",
    [
        "churn/3",
        "arn:aws:sagemaker:eu-west-1:1:model/x",
        "arn:aws:s3:::models/churn",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/-churn/3",
    ],
    ids=["no-arn", "model-not-package", "other-service", "group-starting-with-hyphen"],
)
def test_model_package_arn_is_validated(arn: str) -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"^ModelPackage\.from_arn: arn must be a sagemaker model-package ARN "
        r"arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
    ):
        ModelPackage.from_arn(arn)


def test_model_package_grants_describe_only_when_it_names_nothing_else() -> None:
    stack = unit_stack()
    bound = ModelPackage.from_arn(PACKAGE_ARN).bind(stack, role_in(stack))
    assert bound.model_package_arn == PACKAGE_ARN
    (statement,) = statements(stack)
    assert actions(statement) == ["sagemaker:DescribeModelPackage"]
    assert statement["Resource"] == PACKAGE_ARN


def test_model_package_grants_its_artifacts_key_and_image_exactly() -> None:
    from aws_cdk import aws_kms as kms

    stack = unit_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    ModelPackage.from_arn(
        PACKAGE_ARN,
        artifact_bucket=bucket,
        artifact_prefix="training-runs/",
        image=ContainerImage.from_uri(DLC_URI),
    ).bind(stack, role_in(stack))
    found = statements(stack)
    granted = {a for s in found for a in actions(s)}
    assert {"sagemaker:DescribeModelPackage", "s3:GetObject", "s3:ListBucket", "kms:Decrypt"} <= (
        granted
    )
    assert "ecr:BatchGetImage" in granted
    read = next(s for s in found if actions(s) == ["s3:GetObject"])
    assert read["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "/training-runs/*"]]
    }
    listing = next(s for s in found if actions(s) == ["s3:ListBucket"])
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["training-runs/*"]}}


def test_from_bucket_rejects_an_s3_uri_given_as_key() -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Models", "models-bucket")
    with pytest.raises(
        ConfigurationError,
        match=r"^ModelData.from_bucket: key must be a key inside the bucket, not an s3:// URI "
        r"\(use ModelData.from_s3_uri for a URI\) \(got 's3://models-bucket/churn/model.tar.gz'\)",
    ):
        ModelData.from_bucket(bucket, "s3://models-bucket/churn/model.tar.gz")
