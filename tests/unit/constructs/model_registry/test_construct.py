"""ModelRegistry: the retained model package group, cross-account read, grants, approval rules
and every validation rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs.model_registry.construct import ModelRegistry
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_stack
from tests.helpers.compliance import cfn_lint
from tests.helpers.templates import as_list

READERS = ["222222222222", "333333333333"]
SERVERS = ["555555555555"]


@pytest.fixture(scope="module")
def plain() -> tuple[ModelRegistry, Template]:
    stack = unit_stack()
    registry = ModelRegistry(stack, "Registry", group_name="Churn-Models", description="churn")
    return registry, Template.from_stack(stack)


@pytest.fixture(scope="module")
def shared() -> tuple[ModelRegistry, Template, cdk.Stack]:
    stack = unit_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    artifacts = s3.Bucket(stack, "Artifacts", bucket_name="churn-artifacts", encryption_key=key)
    registry = ModelRegistry(
        stack,
        "Registry",
        group_name="churn",
        cross_account_readers=READERS,
        serving_accounts=SERVERS,
        artifact_bucket=artifacts,
        artifact_prefix="runs",
        encryption_key=key,
    )
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    queue = sqs.Queue(stack, "DeadLetters", encryption_master_key=key, enforce_ssl=True)
    registry.on_approval(targets.SnsTopic(topic, dead_letter_queue=queue))
    registry.on_rejection(targets.SnsTopic(topic, dead_letter_queue=queue))
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    registry.grant_read(role)
    return registry, Template.from_stack(stack), stack


def test_group_is_retained_with_its_name_and_no_policy(
    plain: tuple[ModelRegistry, Template],
) -> None:
    registry, template = plain
    template.has_resource(
        "AWS::SageMaker::ModelPackageGroup",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "ModelPackageGroupName": "Churn-Models",
                "ModelPackageGroupDescription": "churn",
                "ModelPackageGroupPolicy": Match.absent(),
            },
        },
    )
    stack = cdk.Stack.of(registry)
    # SageMaker ARNs spell names in lower case.
    assert stack.resolve(registry.group_arns) == [
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/Churn-Models",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/churn-models",
    ]


def test_cross_account_readers_may_read_and_deploy_packages_only(
    shared: tuple[ModelRegistry, Template, cdk.Stack],
) -> None:
    _, template, _ = shared
    group = next(iter(template.find_resources("AWS::SageMaker::ModelPackageGroup").values()))
    statements = group["Properties"]["ModelPackageGroupPolicy"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {
        "CrossAccountDescribeGroup",
        "CrossAccountReadAndDeployPackages",
        "ServingAccountsDescribePackages",
    }
    assert by_sid["CrossAccountDescribeGroup"]["Action"] == "sagemaker:DescribeModelPackageGroup"
    assert sorted(by_sid["CrossAccountReadAndDeployPackages"]["Action"]) == [
        "sagemaker:CreateModel",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    ]
    readers = sorted(f"arn:aws:iam::{account}:root" for account in READERS)
    for sid in ("CrossAccountDescribeGroup", "CrossAccountReadAndDeployPackages"):
        assert sorted(as_list(by_sid[sid]["Principal"]["AWS"])) == readers
    packages = by_sid["CrossAccountReadAndDeployPackages"]["Resource"]
    assert packages == "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/*"
    serving = by_sid["ServingAccountsDescribePackages"]
    assert serving["Principal"] == {"AWS": "arn:aws:iam::555555555555:root"}
    assert (serving["Action"], serving["Resource"]) == ("sagemaker:DescribeModelPackage", packages)


def test_only_serving_accounts_may_get_the_artifacts_and_decrypt_them_through_s3(
    shared: tuple[ModelRegistry, Template, cdk.Stack],
) -> None:
    _, template, _ = shared
    key = next(iter(template.find_resources("AWS::KMS::Key").values()))
    granted = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if "Sid" in s
    ]  # the account-root admin statement has none
    bucket_arn = "arn:aws:s3:::churn-artifacts"
    assert granted == [
        {
            "Sid": "ServingAccountsDecryptPackageArtifactsThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::555555555555:root"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"},
                "ArnLike": {
                    "kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/runs/*"]
                },
            },
        }
    ]
    (policy,) = template.find_resources("AWS::S3::BucketPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Sid"], s["Action"], s["Principal"]) for s in statements] == [
        (sid, action, {"AWS": "arn:aws:iam::555555555555:root"})
        for sid, action in (
            ("ServingAccountsGetPackageArtifacts", "s3:GetObject"),
            ("ServingAccountsListPackageArtifacts", "s3:ListBucket"),
        )
    ]
    assert statements[1]["Condition"] == {"StringLike": {"s3:prefix": ["runs/*"]}}


def test_approval_and_rejection_rules_match_this_group_and_status(
    shared: tuple[ModelRegistry, Template, cdk.Stack],
) -> None:
    _, template, _ = shared
    for status in ("Approved", "Rejected"):
        template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Model Package State Change"],
                    "detail": {
                        "ModelPackageGroupName": ["churn"],
                        "ModelApprovalStatus": [status],
                    },
                },
                "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value()})],
            },
        )


def test_grant_read_describes_the_group_and_lists_its_packages(
    shared: tuple[ModelRegistry, Template, cdk.Stack],
) -> None:
    _, template, _ = shared
    policy = next(iter(template.find_resources("AWS::IAM::Policy").values()))
    actions = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert actions == {
        "sagemaker:DescribeModelPackageGroup",
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
    }


def test_imported_registry_names_the_same_arns() -> None:
    stack = unit_stack()
    imported = ModelRegistry.from_group_name(stack, "Imported", "Churn")
    assert imported.group_name == "Churn"
    assert stack.resolve(imported.packages_arns) == [
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/Churn/*",
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/*",
    ]
    rule = imported.on_approval()
    assert isinstance(rule.node.default_child, cdk.CfnResource)


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_registry_passes_the_nag_packs(
    shared: tuple[ModelRegistry, Template, cdk.Stack], pack: Any
) -> None:
    registry, _, _ = shared
    report = pack().validate_scope(registry)
    assert [v.rule_name for v in report.violations] == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"group_name": "churn_models"},
            r"^Test/Registry: group_name must be 1-63 letters, digits and hyphens.*"
            r"\(got 'churn_models'\)$",
        ),
        ({"group_name": "-churn"}, r"group_name must be 1-63 letters.*\(got '-churn'\)"),
        ({"group_name": "a" * 64}, r"group_name must be at most 63 characters long \(got 64"),
        (
            {"group_name": "churn", "cross_account_readers": ["12345"]},
            r"cross_account_readers must be 12-digit AWS account IDs \(got '12345'\)",
        ),
        (
            {"group_name": "churn", "cross_account_readers": ["2222222222a2"]},
            r"cross_account_readers must be 12-digit AWS account IDs",
        ),
        (
            {"group_name": "churn", "cross_account_readers": READERS[:1] * 2},
            r"cross_account_readers must be unique",
        ),
        (
            {"group_name": "churn", "description": "x" * 1025},
            r"description must be at most 1024 characters long",
        ),
        (
            {"group_name": "churn", "serving_accounts": ["33333333333"]},
            r"serving_accounts must be 12-digit AWS account IDs \(got '33333333333'\)",
        ),
        (
            {"group_name": "churn", "serving_accounts": SERVERS * 2},
            r"serving_accounts must be unique",
        ),
        (
            {"group_name": "churn", "artifact_bucket": "churn-artifacts"},
            r"artifact_bucket must be an s3\.IBucket",
        ),
        (
            {"group_name": "churn", "artifact_prefix": "/runs"},
            r"artifact_prefix must be",
        ),
    ],
    ids=["underscore", "leading-hyphen", "too-long", "short-account", "letter-in-account",
         "duplicate-account", "long-description", "short-serving-account",
         "duplicate-serving-account", "bucket-name-not-bucket", "prefix-leading-slash"],
)  # fmt: skip
def test_invalid_registry_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ModelRegistry(unit_stack(), "Registry", **kwargs)


def test_state_change_statuses_are_case_sensitive() -> None:
    registry = ModelRegistry(unit_stack(), "Registry", group_name="churn")
    with pytest.raises(
        ConfigurationError,
        match=r"statuses must be one of 'Approved', 'Rejected', 'PendingManualApproval' "
        r"\(got 'approved'\)",
    ):
        registry.on_state_change("Rule", statuses=["approved"])


def test_imported_group_name_is_checked() -> None:
    with pytest.raises(ConfigurationError, match=r"^Test/Bad: group_name must be"):
        ModelRegistry.from_group_name(unit_stack(), "Bad", "bad_name")


def test_registry_passes_cfn_lint(
    shared: tuple[ModelRegistry, Template, cdk.Stack], tmp_path: Path
) -> None:
    # The environments have no cross-account readers; the group policy is linted here.
    path = tmp_path / "registry.template.json"
    path.write_text(json.dumps(shared[1].to_json()), encoding="utf-8")
    result = cfn_lint([path])
    assert result.returncode == 0, result.stdout + result.stderr
