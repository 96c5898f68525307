"""Every environment passes the five cdk-nag packs with zero unacknowledged findings, and a
canary proves the packs (and our acknowledgement helper) really run."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal import nag
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import SynthesizedApp, unit_app, unit_stack
from tests.helpers.compliance import findings

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_has_no_unacknowledged_findings(
    synthesized_app: SynthesizedApp, environment: str, pack: Any
) -> None:
    assert findings(pack, synthesized_app.stages[environment]) == []


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_environment_serving_an_approved_package_has_no_unacknowledged_findings(
    approved_app: SynthesizedApp, environment: str, pack: Any
) -> None:
    assert findings(pack, approved_app.stages[environment]) == []


@pytest.fixture(scope="module")
def canary_stack() -> cdk.Stack:
    """A stack inside a stage (as in the real app) with a bucket that breaks most rules, one of
    which is acknowledged."""
    stage = cdk.Stage(unit_app(), "CanaryStage")
    stack = cdk.Stack(stage, "Canary")
    bucket = s3.Bucket(stack, "PlainBucket")
    nag.acknowledge(bucket, "AwsSolutions-S10", "canary: this acknowledgement must be honoured")
    return stack


@pytest.mark.parametrize(
    ("pack", "expected_rule"),
    [
        (NAG_PACKS[0], "AwsSolutions-S1"),
        (NAG_PACKS[1], "HIPAA.Security-S3DefaultEncryptionKMS"),
        (NAG_PACKS[2], "NIST.800.53.R5-S3BucketVersioningEnabled"),
        (NAG_PACKS[3], "PCI.DSS.321-S3BucketSSLRequestsOnly"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_canary_bucket_is_caught_by_every_pack(
    canary_stack: cdk.Stack, pack: Any, expected_rule: str
) -> None:
    stage = canary_stack.node.scope
    assert isinstance(stage, cdk.Stage)
    rules = {finding.split(" ")[0] for finding in findings(pack, stage)}
    assert expected_rule in rules


def test_canary_serverless_pack_catches_a_function_without_tracing() -> None:
    from aws_cdk import aws_lambda as lambda_

    stack = unit_stack(unit_app(), "ServerlessCanary")
    lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    rules = {finding.split(" ")[0] for finding in findings(NAG_PACKS[4], stack)}
    assert "Serverless-LambdaTracing" in rules


def test_acknowledged_rule_is_suppressed_and_only_that_rule(canary_stack: cdk.Stack) -> None:
    rules = {finding.split(" ")[0] for finding in findings(NAG_PACKS[0], canary_stack)}
    assert "AwsSolutions-S10" not in rules
    assert "AwsSolutions-S1" in rules


def test_acknowledgement_needs_a_real_reason() -> None:
    stack = unit_stack(unit_app(), "Reasonless")
    with pytest.raises(ValueError, match="needs a real reason"):
        nag.acknowledge(stack, "AwsSolutions-S1", "ok")


def test_no_role_in_any_environment_uses_an_aws_managed_policy(
    synthesized_app: SynthesizedApp,
) -> None:
    """cdk-nag's IAM4 cannot see roles written as plain CfnResources (CDK's custom-resource
    providers); check every template directly."""
    managed = [
        f"{stack}/{logical_id}"
        for stack, template in synthesized_app.templates().items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        and ":iam::aws:policy/" in json.dumps(resource["Properties"].get("ManagedPolicyArns", []))
    ]
    assert managed == []


def test_no_policy_in_any_environment_grants_every_action_of_a_service(
    synthesized_app: SynthesizedApp,
) -> None:
    wildcards = [
        f"{stack}/{logical_id}: {action}"
        for stack, template in synthesized_app.templates().items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if statement["Effect"] == "Allow" and (action == "*" or action.endswith(":*"))
    ]
    assert wildcards == []
