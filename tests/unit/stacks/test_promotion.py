"""Promotion across accounts: staging trains and approves, prod serves staging's approved package.

Staging's registry, artifacts bucket and key admit exactly the serving account (prod); prod's
roles get exactly the reads they need in staging's account; drift is measured against the
served package's own baselines; the smoke-test roles are assumable by the delivery account's
smoke-test role only. The checked-in configs, synthesized with and without
``-c approved_model_package`` (the session's ``approved_app`` and ``synthesized_app``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import APPROVED_PACKAGE
from tests.helpers.apps import SynthesizedApp

Template = dict[str, Any]
STAGING, PROD, DELIVERY = "222222222222", "333333333333", "444444444444"
ARTIFACTS = f"mlops-staging-artifacts-{STAGING}-eu-west-1"
RUNS = f"arn:aws:s3:::{ARTIFACTS}/training/runs/*"
# Elastic Load Balancing's log-delivery account of eu-west-1 (the ALB's access logs).
ELB_LOG_DELIVERY = "156460612806"
BASELINE_FIELDS = [
    "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri",
    "DriftCheckBaselines.ModelDataQuality.Constraints.S3Uri",
]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resources(template: Template, kind: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def statements(template: Template, kind: str, prop: str = "PolicyDocument") -> list[Any]:
    return [
        s for r in resources(template, kind).values() for s in r["Properties"][prop]["Statement"]
    ]


def role_statements(template: Template, role_prefix: str) -> list[Any]:
    """The statements of the managed policies attached to roles whose ID starts with
    ``role_prefix``."""
    found = []
    for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
        roles = [r["Ref"] for r in policy["Properties"].get("Roles", [])]
        if any(r.startswith(role_prefix) for r in roles):
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    return found


def cross_account(statement: dict[str, Any]) -> bool:
    """An Allow for principals of another account (the TLS-only Deny names ``*``)."""
    principal = statement.get("Principal", {})
    return (
        statement["Effect"] == "Allow"
        and isinstance(principal, dict)
        and any(STAGING not in str(p) for p in as_list(principal.get("AWS", [])))
    )


@pytest.fixture(scope="module")
def staging_data(synthesized_app: SynthesizedApp) -> Template:
    return synthesized_app.templates()["mlops-staging-data"]


@pytest.fixture(scope="module")
def approved(approved_app: SynthesizedApp) -> dict[str, Template]:
    return approved_app.templates()


# --- staging admits prod, exactly ------------------------------------------------------------


def test_staging_registry_lets_prod_describe_packages_and_delivery_list_them(
    staging_data: Template,
) -> None:
    (group,) = resources(staging_data, "AWS::SageMaker::ModelPackageGroup").values()
    policy = group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
    packages = f"arn:aws:sagemaker:eu-west-1:{STAGING}:model-package/churn/*"
    by_sid = {s["Sid"]: s for s in policy}
    assert by_sid["ServingAccountsDescribePackages"] == {
        "Sid": "ServingAccountsDescribePackages",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Action": "sagemaker:DescribeModelPackage",
        "Resource": packages,
    }
    readers = {s["Principal"]["AWS"] for sid, s in by_sid.items() if sid.startswith("CrossAccount")}
    assert readers == {f"arn:aws:iam::{DELIVERY}:root"}
    assert len(policy) == 3


def test_staging_artifacts_bucket_lets_prod_get_and_list_the_training_runs_only(
    staging_data: Template,
) -> None:
    granted = [
        s
        for s in statements(staging_data, "AWS::S3::BucketPolicy")
        if cross_account(s) and ELB_LOG_DELIVERY not in json.dumps(s)
    ]
    bucket = {"Fn::GetAtt": ["Artifacts82DD59A1", "Arn"]}
    assert granted == [
        {
            "Sid": "ServingAccountsGetPackageArtifacts",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Join": ["", [bucket, "/training/runs/*"]]},
        },
        {
            "Sid": "ServingAccountsListPackageArtifacts",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": ["training/runs/*"]}},
        },
    ]


def test_staging_key_lets_prod_decrypt_through_s3_objects_of_the_artifacts_bucket_only(
    staging_data: Template,
) -> None:
    granted = [
        s for s in statements(staging_data, "AWS::KMS::Key", "KeyPolicy") if cross_account(s)
    ]
    assert granted == [
        {
            "Sid": "ServingAccountsDecryptPackageArtifactsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
                "ArnLike": {
                    "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{ARTIFACTS}", RUNS]
                },
            },
        }
    ]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_other_data_stacks_admit_no_other_account(
    synthesized_app: SynthesizedApp, env: str
) -> None:
    template = synthesized_app.templates()[f"mlops-{env}-data"]
    text = json.dumps(template)
    others = {STAGING, PROD, DELIVERY, "111111111111"} - {template_account(text)}
    assert not any(f"iam::{account}:root" in text for account in others)


def template_account(text: str) -> str:
    return next(a for a in ("111111111111", PROD) if f"iam::{a}:root" in text)


# --- prod serves the promoted package ---------------------------------------------------------


def test_prod_serves_the_package_data_with_its_own_model_server_build(
    approved: dict[str, Template],
) -> None:
    template = approved["mlops-prod-serving"]
    (model,) = endpoint_models(template)
    container = model["Properties"]["PrimaryContainer"]
    assert "ModelPackageName" not in container
    assert f"cdk-hnb659fds-container-assets-{PROD}-eu-west-1:" in container["Image"]["Fn::Sub"]
    (described,) = resources(template, "Custom::AWS")
    assert container["ModelDataSource"]["S3DataSource"] == {
        "S3Uri": {"Fn::GetAtt": [described, "InferenceSpecification.Containers.0.ModelDataUrl"]},
        "S3DataType": "S3Object",
        "CompressionType": "Gzip",
    }
    call = json.loads(template["Resources"][described]["Properties"]["Update"])
    assert (call["service"], call["action"], call["parameters"]) == (
        "SageMaker",
        "describeModelPackage",
        {"ModelPackageName": APPROVED_PACKAGE},
    )
    assert template["Outputs"]["ServedPackageImage"]["Value"] == {
        "Fn::GetAtt": [described, "InferenceSpecification.Containers.0.Image"]
    }


def test_prod_endpoint_role_reads_exactly_the_package_objects_in_staging(
    approved: dict[str, Template],
) -> None:
    granted = role_statements(approved["mlops-prod-serving"], "EndpointExecutionRole")
    in_staging = [s for s in granted if STAGING in json.dumps(s)]
    assert in_staging == [
        {"Action": "s3:GetObject", "Effect": "Allow", "Resource": RUNS},
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": ["training/runs/*"]}},
            "Effect": "Allow",
            "Resource": f"arn:aws:s3:::{ARTIFACTS}",
        },
        {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
                "ArnLike": {
                    "kms:EncryptionContext:aws:s3:arn": [f"arn:aws:s3:::{ARTIFACTS}", RUNS]
                },
            },
            "Effect": "Allow",
            "Resource": f"arn:aws:kms:eu-west-1:{STAGING}:key/*",
        },
    ]
    # No image of staging's account is pulled (its asset repository admits no one else).
    assert not any("ecr:" in json.dumps(s["Action"]) and STAGING in json.dumps(s) for s in granted)


@pytest.mark.parametrize("stack", ["mlops-prod-serving", "mlops-prod-monitoring"])
def test_the_describe_calls_may_read_exactly_the_served_package(
    approved: dict[str, Template], stack: str
) -> None:
    assert statements(approved[stack], "AWS::IAM::Policy") == [
        {
            "Action": "sagemaker:DescribeModelPackage",
            "Effect": "Allow",
            "Resource": APPROVED_PACKAGE,
        }
    ]


def endpoint_models(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The RealtimeEndpoint's models (staging also runs a model host, with its own)."""
    models = resources(template, "AWS::SageMaker::Model")
    return [m for logical_id, m in models.items() if logical_id.startswith("Endpoint")]


def test_staging_serves_its_own_package_as_registered(approved: dict[str, Template]) -> None:
    template = approved["mlops-staging-serving"]
    (model,) = endpoint_models(template)
    assert model["Properties"]["PrimaryContainer"] == {"ModelPackageName": APPROVED_PACKAGE}
    assert not resources(template, "Custom::AWS")


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_without_an_approved_package_the_demo_model_is_served(
    synthesized_app: SynthesizedApp, env: str
) -> None:
    template = synthesized_app.templates()[f"mlops-{env}-serving"]
    (model,) = endpoint_models(template)
    source = model["Properties"]["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert "cdk-hnb659fds-assets" in json.dumps(source["S3Uri"])
    assert not resources(template, "Custom::AWS")


# --- drift against the served package's baselines ---------------------------------------------


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_drift_is_measured_against_the_served_package_baselines(
    approved: dict[str, Template], env: str
) -> None:
    template = approved[f"mlops-{env}-monitoring"]
    (described,) = resources(template, "Custom::AWS")
    call = json.loads(template["Resources"][described]["Properties"]["Create"])
    assert call["parameters"] == {"ModelPackageName": APPROVED_PACKAGE}
    assert call["outputPaths"] == BASELINE_FIELDS
    (machine,) = [
        m
        for logical_id, m in resources(template, "AWS::StepFunctions::StateMachine").items()
        if logical_id.startswith("Drift")  # not the model-quality monitor's
    ]
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    for field in BASELINE_FIELDS:
        assert json.dumps({"Fn::GetAtt": [described, field]}) in definition
    # The drift job reads the baselines in the package's account: its own, or staging's.
    granted = role_statements(template, "DriftExecutionRole")
    assert {"Action": "s3:GetObject", "Effect": "Allow", "Resource": RUNS} in [
        {**s, "Resource": r} for s in granted for r in as_list(s["Resource"])
    ]
    decrypt_in_staging = [s for s in granted if f"kms:eu-west-1:{STAGING}" in json.dumps(s)]
    assert len(decrypt_in_staging) == (1 if env == "prod" else 0)


def test_without_an_approved_package_drift_uses_the_demo_baseline(
    synthesized_app: SynthesizedApp,
) -> None:
    template = synthesized_app.templates()["mlops-prod-monitoring"]
    assert not resources(template, "Custom::AWS")
    (machine,) = [
        m
        for logical_id, m in resources(template, "AWS::StepFunctions::StateMachine").items()
        if logical_id.startswith("Drift")  # not the model-quality monitor's
    ]
    assert "cdk-hnb659fds-assets" in json.dumps(machine["Properties"]["DefinitionString"])


# --- smoke-test roles -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "actions"),
    [
        ("dev", ["sagemaker:InvokeEndpoint", "lambda:InvokeFunction"]),
        (
            "staging",
            [
                "sagemaker:InvokeEndpoint",
                "lambda:InvokeFunction",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
        ),
        (
            "prod",
            [
                "sagemaker:InvokeEndpoint",
                "lambda:InvokeFunction",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
        ),
    ],
)
def test_smoke_test_role_is_assumable_by_the_delivery_smoke_role_only_and_calls_the_targets(
    synthesized_app: SynthesizedApp, env: str, actions: list[str]
) -> None:
    template = synthesized_app.templates()[f"mlops-{env}-serving"]
    (role_id, role), *others = [
        (k, r)
        for k, r in resources(template, "AWS::IAM::Role").items()
        if r["Properties"].get("RoleName") == f"mlops-{env}-smoke-test"
    ]
    assert not others
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnEquals": {
                    "aws:PrincipalArn": f"arn:aws:iam::{DELIVERY}:role/mlops-delivery-smoke-test"
                }
            },
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DELIVERY}:root"},
        }
    ]
    granted = role_statements(template, role_id)
    assert [s["Action"] for s in granted] == actions
    by_action = {s["Action"]: s["Resource"] for s in granted}
    # Ref of an AWS::SageMaker::Endpoint is its ARN; staging's model host adds its endpoint and
    # each inference component (one statement: CDK merges statements of one action).
    endpoints = resources(template, "AWS::SageMaker::Endpoint")
    components = resources(template, "AWS::SageMaker::InferenceComponent")
    expected = [{"Ref": e} for e in endpoints] + [
        {"Fn::GetAtt": [c, "InferenceComponentArn"]} for c in components
    ]
    invoked = as_list(by_action["sagemaker:InvokeEndpoint"])
    assert sorted(map(json.dumps, invoked)) == sorted(map(json.dumps, expected))
    assert len(components) == (2 if env == "staging" else 0)
    assert by_action["lambda:InvokeFunction"] == {"Ref": next(iter(alias_ids(template)))}
    if "elasticloadbalancing:DescribeTargetHealth" in by_action:
        assert by_action["elasticloadbalancing:DescribeTargetHealth"] == "*"


def alias_ids(template: Template) -> list[str]:
    return list(resources(template, "AWS::Lambda::Alias"))


def test_prod_builds_the_model_server_tag_staging_registers_with_its_packages(
    approved: dict[str, Template],
) -> None:
    """Design B's premise: the image staging's pipeline registers with each package and the
    one prod's endpoint runs are one asset (same source, same hash, same tag), built in each
    account. CheckPackageImage verifies it again per package before prod."""
    import re

    definition = json.dumps(approved["mlops-staging-training"])
    registered = definition[definition.index("InferenceSpecification") :]
    registered_tag = re.search(r"container-assets-\d{12}-eu-west-1:([0-9a-f]{64})", registered)
    assert registered_tag is not None
    (model,) = resources(approved["mlops-prod-serving"], "AWS::SageMaker::Model").values()
    served_tag = model["Properties"]["PrimaryContainer"]["Image"]["Fn::Sub"].rsplit(":", 1)[1]
    assert registered_tag.group(1) == served_tag
