"""Time zones, S3 keys and prefixes, environment variable names, ARNs, image URIs and regions:
valid and invalid cases for each shared validator, and the messages they give."""

from __future__ import annotations

import re

import pytest

from mlops_cdk._internal.validators.arns import arn_problem, arn_service
from mlops_cdk._internal.validators.environment import environment_name_problem
from mlops_cdk._internal.validators.images import (
    image_uri_problem,
    is_aws_owned,
    parse_image_uri,
)
from mlops_cdk._internal.validators.regions import region_problem
from mlops_cdk._internal.validators.s3 import (
    normalise_prefix,
    prefix_problem,
    s3_key_problem,
    s3_uri_problem,
)
from mlops_cdk._internal.validators.time_zones import time_zone_problem, time_zones

UUID = "11111111-2222-3333-4444-555555555555"


def problem_matches(problem: str | None, message: str | None) -> None:
    if message is None:
        assert problem is None
    else:
        assert problem is not None
        assert re.search(message, problem), problem


# Time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        pytest.param("UTC", None, id="utc"),
        pytest.param("Europe/Dublin", None, id="dublin"),
        pytest.param("America/Argentina/Buenos_Aires", None, id="three-levels"),
        pytest.param(
            "Europe/Londn", r"IANA time zone .*\(did you mean 'Europe/London'\?\)$", id="misspelled"
        ),
        pytest.param("europe/london", r"did you mean 'Europe/London'", id="wrong-case"),
        pytest.param("CEST", r"^an IANA time zone name such as 'UTC'", id="abbreviation"),
        pytest.param("", r"IANA time zone", id="empty"),
    ],
)
def test_time_zones(zone: str, message: str | None) -> None:
    problem_matches(time_zone_problem(zone), message)


def test_time_zones_come_from_tzdata() -> None:
    assert len(time_zones()) > 400
    assert "Europe/London" in time_zones()


# S3 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind", "message"),
    [
        pytest.param("models/model.tar.gz", "key", None, id="key"),
        pytest.param("models/", "key or prefix", None, id="folder-as-key"),
        pytest.param("ü" * 512, "key", None, id="1024-bytes"),
        pytest.param(
            "ü" * 513, "key", r"at most 1024 bytes in UTF-8 \(1026 bytes given\)", id="1026-bytes"
        ),
        pytest.param(
            "s3://bucket/models/model.tar.gz",
            "key",
            r"an S3 key, not an s3:// URI .*pass 'models/model.tar.gz'",
            id="uri-as-key",
        ),
        pytest.param(
            "/models/model.tar.gz",
            "key",
            r"without a leading / \(such as 'models/model.tar.gz'\)",
            id="leading-slash",
        ),
        pytest.param("", "key", r"a non-empty S3 key", id="empty"),
        pytest.param("capture", "prefix", None, id="prefix-without-slash"),
        pytest.param("date=2026-01-01/", "prefix", None, id="hive-partition"),
        pytest.param(
            "capture/*", "prefix", r"letters, digits and \. _ = - /", id="prefix-wildcard"
        ),
        pytest.param("a//b/", "prefix", r"letters, digits", id="prefix-double-slash"),
        pytest.param("S3://b/p/", "prefix", r"not an s3:// URI", id="prefix-uri-any-case"),
    ],
)
def test_s3_keys_and_prefixes(key: str, kind: str, message: str | None) -> None:
    problem_matches(s3_key_problem(key, kind=kind), message)  # type: ignore[arg-type]


def test_prefixes_are_normalised_to_one_trailing_slash() -> None:
    assert prefix_problem("capture") is None
    assert normalise_prefix("capture") == "capture/"
    assert normalise_prefix("capture/") == "capture/"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        pytest.param("s3://my-bucket/models/model.tar.gz", None, id="object"),
        pytest.param("s3://my-bucket", r"with a key", id="bucket-only"),
        pytest.param("s3://My_Bucket/k", r"'My_Bucket' is not a bucket name", id="bad-bucket"),
        pytest.param(
            "https://my-bucket.s3.amazonaws.com/k", r"^an s3://<bucket>/<key> URI$", id="https"
        ),
        pytest.param("s3://my-bucket/" + "k" * 1025, r"at most 1024 bytes", id="long-key"),
    ],
)
def test_s3_uris(uri: str, message: str | None) -> None:
    problem_matches(s3_uri_problem(uri), message)


# Environment variable names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "api", "message"),
    [
        pytest.param("_PRIVATE", "sagemaker", None, id="sagemaker-underscore-first"),
        pytest.param("A", "sagemaker", None, id="sagemaker-one-char"),
        pytest.param("1ABC", "sagemaker", r"not starting with a digit", id="sagemaker-digit-first"),
        pytest.param("MY-VAR", "sagemaker", r"letters, digits and _", id="sagemaker-hyphen"),
        pytest.param("A" * 1025, "sagemaker", r"at most 1024", id="sagemaker-too-long"),
        pytest.param("MODEL_NAME", "lambda", None, id="lambda-ok"),
        pytest.param("_PRIVATE", "lambda", r"starting with a letter", id="lambda-underscore-first"),
        pytest.param("A", "lambda", r"at least 2", id="lambda-one-char"),
        pytest.param(
            "AWS_REGION",
            "lambda",
            r"other than Lambda's reserved .*AWS_REGION",
            id="lambda-reserved",
        ),
        pytest.param("AWS_REGION", "sagemaker", None, id="sagemaker-has-no-reserved-list"),
        pytest.param("MY VAR", "ecs", r"letters, digits and _", id="ecs-space"),
    ],
)
def test_environment_names(name: str, api: str, message: str | None) -> None:
    problem_matches(environment_name_problem(name, api=api), message)  # type: ignore[arg-type]


# ARNs ---------------------------------------------------------------------------------------

ACL = f"arn:aws:wafv2:eu-west-1:444444444444:regional/webacl/api-acl/{UUID}"


@pytest.mark.parametrize(
    ("value", "service", "resource_type", "message"),
    [
        pytest.param(ACL, "wafv2", "regional/webacl", None, id="waf-acl"),
        pytest.param(
            "api-acl",
            "wafv2",
            "regional/webacl",
            r"a wafv2 regional/webacl ARN arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>, not a name or ID$",
            id="waf-acl-name",
        ),
        pytest.param(
            ACL.replace("regional", "global"),
            "wafv2",
            "regional/webacl",
            r"resource part 'global/webacl/.*' is not one",
            id="waf-global-acl",
        ),
        pytest.param(
            f"arn:aws:kms:eu-west-1:444444444444:key/{UUID}", "kms", "key", None, id="kms-key"
        ),
        pytest.param(
            "arn:aws:kms:eu-west-1:444444444444:key/mrk-0123456789abcdef0123456789abcdef",
            "kms",
            "key",
            None,
            id="kms-multi-region-key",
        ),
        pytest.param(
            "arn:aws:kms:eu-west-1:444444444444:alias/data",
            "kms",
            "key",
            r"resource part 'alias/data' is not one",
            id="kms-alias-for-key",
        ),
        pytest.param(UUID, "kms", "key", r"not a name or ID", id="kms-key-id"),
        pytest.param(
            f"arn:aws:acm:eu-west-1:444444444444:certificate/{UUID}",
            "acm",
            "certificate",
            None,
            id="acm",
        ),
        pytest.param(
            f"arn:aws:acm:eu-west-1:444444444444:certificate/{UUID}",
            "acm",
            "certificate",
            None,
            id="acm-region-ok",
        ),
        pytest.param(
            "arn:aws:sagemaker:eu-west-1:444444444444:model-package/churn/3",
            "sagemaker",
            "model-package",
            None,
            id="model-package",
        ),
        pytest.param(
            "arn:aws:sagemaker:eu-west-1:444444444444:model-package-group/churn",
            "sagemaker",
            "model-package",
            r"is not one",
            id="group-for-package",
        ),
        pytest.param(
            "arn:aws:iam::444444444444:role/service/ml-exec",
            "iam",
            "role",
            None,
            id="iam-role-path",
        ),
        pytest.param(
            "arn:aws:iam:eu-west-1:444444444444:role/ml",
            "iam",
            "role",
            r"without a region \(iam is global\)",
            id="iam-role-region",
        ),
        pytest.param(
            "arn:aws:iam::444444444444:user/ml",
            "iam",
            "role",
            r"is not one",
            id="iam-user-for-role",
        ),
        pytest.param(
            f"arn:aws:codeconnections:eu-west-1:444444444444:connection/{UUID}",
            ("codeconnections", "codestar-connections"),
            "connection",
            None,
            id="codeconnections",
        ),
        pytest.param(
            f"arn:aws:codestar-connections:eu-west-1:444444444444:connection/{UUID}",
            ("codeconnections", "codestar-connections"),
            "connection",
            None,
            id="codestar-connections",
        ),
        pytest.param(
            f"arn:aws:codestar:eu-west-1:444444444444:connection/{UUID}",
            ("codeconnections", "codestar-connections"),
            "connection",
            r"this is a codestar ARN",
            id="codestar-is-not-connections",
        ),
        pytest.param("arn:aws:sns:eu-west-1:444444444444:alarms", "sns", "topic", None, id="sns"),
        pytest.param(
            "arn:aws:sns:eu-west-1::alarms",
            "sns",
            "topic",
            r"^an sns topic ARN",
            id="sns-no-account",
        ),
    ],
)
def test_arns(
    value: str, service: str | tuple[str, ...], resource_type: str, message: str | None
) -> None:
    problem_matches(arn_problem(value, service=service, resource_type=resource_type), message)


def test_arn_region_is_checked_when_known() -> None:
    problem = arn_problem(ACL, service="wafv2", resource_type="regional/webacl", region="us-east-1")
    assert problem is not None
    assert problem.endswith("in region us-east-1 (this one is in eu-west-1)")
    assert arn_service(ACL) == "wafv2"


def test_an_unknown_resource_type_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="no ARN rule for s3:bucket"):
        arn_problem("arn:aws:s3:::b", service="s3", resource_type="bucket")


# Image URIs ---------------------------------------------------------------------------------

DLC = "763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-inference:2.3-gpu-py311"
OWN = "444444444444.dkr.ecr.eu-west-1.amazonaws.com/churn@sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("uri", "region", "message"),
    [
        pytest.param(OWN, "eu-west-1", None, id="own-digest"),
        pytest.param(OWN, None, None, id="region-unknown"),
        pytest.param(DLC.format(region="us-east-1"), "us-east-1", None, id="dlc"),
        pytest.param(
            "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.3",
            None,
            None,
            id="china",
        ),
        pytest.param(
            OWN,
            "us-east-1",
            r"in the stack's region us-east-1 .*this one is in eu-west-1\)$",
            id="other-region",
        ),
        pytest.param(
            DLC.format(region="af-south-1"),
            None,
            r"account 763104351884 hosts SageMaker images in other regions only \(accounts there: .*626614931356",
            id="dlc-account-not-in-region",
        ),
        pytest.param(
            "docker.io/library/python:3.11",
            None,
            r"^an ECR image URI <account>\.dkr\.ecr\.<region>\.amazonaws\.com/<repository>",
            id="docker-hub",
        ),
        pytest.param(
            "444444444444.dkr.ecr.cn-north-1.amazonaws.com/x",
            None,
            r"with domain amazonaws\.com\.cn for region cn-north-1",
            id="china-without-cn",
        ),
        pytest.param(
            OWN.split("@")[0] + ":" + "t" * 250, None, r"at most 255 characters", id="too-long"
        ),
        pytest.param(
            "444444444444.dkr.ecr.eu-west-1.amazonaws.com/Churn:1",
            None,
            r"ECR image URI",
            id="upper-case-repo",
        ),
    ],
)
def test_image_uris(uri: str, region: str | None, message: str | None) -> None:
    problem_matches(image_uri_problem(uri, region=region), message)


def test_image_uri_parts_and_ownership() -> None:
    parsed = parse_image_uri(DLC.format(region="eu-west-1"))
    assert parsed is not None
    assert (parsed.account, parsed.region, parsed.repository, parsed.tag) == (
        "763104351884",
        "eu-west-1",
        "pytorch-inference",
        "2.3-gpu-py311",
    )
    assert is_aws_owned(DLC.format(region="eu-west-1"))
    assert not is_aws_owned(OWN)


# Regions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "message"),
    [
        pytest.param("eu-west-1", None, id="eu-west-1"),
        pytest.param("us-gov-west-1", None, id="gov"),
        pytest.param("cn-northwest-1", None, id="china"),
        pytest.param(
            "eu-wset-1",
            r"such as eu-west-1, one botocore [\d.]+ knows \(did you mean 'eu-west-1'\?\)$",
            id="typo",
        ),
        pytest.param("EU-WEST-1", r"did you mean 'eu-west-1'", id="upper-case"),
        pytest.param("eu-west-1a", r"did you mean 'eu-west-1'", id="zone-for-region"),
    ],
)
def test_regions(region: str, message: str | None) -> None:
    problem_matches(region_problem(region), message)
