"""Every AWS API request the deployed templates embed matches botocore's model of its operation
(required members, types, lengths, ranges, enumerations, patterns), and the checker catches a
planted defect of each kind."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template as CdkTemplate

from mlops_cdk.constructs import add_pipeline_target
from tests.helpers.apps import SynthesizedApp, unit_stack
from tests.helpers.aws_models import BOTOCORE_VERSION
from tests.helpers.aws_requests import embedded_requests, request_findings

Template = Mapping[str, Any]
STACK_GROUPS = ("mlops-dev-", "mlops-staging-", "mlops-prod-", "mlops-delivery")

# What each environment must be seen to embed: proves the extraction did not silently miss a
# source (a checker that finds no requests passes vacuously).
EXPECTED_OPERATIONS = {
    "mlops-dev-": {"sagemaker:createTransformJob", "sns:publish", "events:PutTargets"},
    "mlops-staging-": {
        "sagemaker:createTransformJob",
        "sagemaker:stopTransformJob",
        "sagemaker:createProcessingJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateModelPackage",
        "sagemaker:startPipelineExecution",
        "events:PutTargets",
        "scheduler:CreateSchedule",
    },
    "mlops-prod-": {
        "sagemaker:createTransformJob",
        "sagemaker:createProcessingJob",
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateModelPackage",
        "sagemaker:listPipelineExecutions",
        "events:PutTargets",
    },
    # ListModelPackages is app.py's (ModelPackage.latest_approved's lookup), no longer a CLI
    # command in the buildspec: tests/unit/constructs/test_latest_approved.py checks that
    # request against botocore's model with its Stubber.
    "mlops-delivery": {
        "sts:AssumeRole",
        "sagemaker-runtime:InvokeEndpoint",
        "lambda:Invoke",
        "elbv2:DescribeTargetHealth",
        "events:PutTargets",
    },
}


def group(templates: Mapping[str, Template], prefix: str) -> dict[str, Template]:
    return {name: t for name, t in templates.items() if name.startswith(prefix)}


@pytest.mark.parametrize("prefix", STACK_GROUPS, ids=lambda p: p.strip("-"))
def test_every_embedded_request_matches_its_aws_model(
    deployed_templates: dict[str, Template], prefix: str
) -> None:
    stacks = group(deployed_templates, prefix)
    assert stacks
    findings = [
        f"{name}/{finding}"
        for name, template in stacks.items()
        for finding in request_findings(template, deployed_templates)
    ]
    assert findings == [], f"botocore {BOTOCORE_VERSION}:\n" + "\n".join(findings)


@pytest.mark.parametrize("prefix", STACK_GROUPS, ids=lambda p: p.strip("-"))
def test_the_checker_sees_every_kind_of_request(
    deployed_templates: dict[str, Template], prefix: str
) -> None:
    seen = {
        request.name
        for template in group(deployed_templates, prefix).values()
        for request in embedded_requests(template, deployed_templates)
    }
    assert EXPECTED_OPERATIONS[prefix] <= seen


def test_requests_match_their_aws_model_when_serving_an_approved_package(
    approved_app: SynthesizedApp,
) -> None:
    """The drift job's request with the package's baselines (deploy-time S3 URIs), and the
    custom resources' DescribeModelPackage calls."""
    templates = approved_app.templates()
    seen = {
        request.name
        for template in templates.values()
        for request in embedded_requests(template, templates)
    }
    assert "sagemaker:describeModelPackage" in seen
    findings = [
        f"{name}/{finding}"
        for name, template in templates.items()
        for finding in request_findings(template, templates)
    ]
    assert findings == [], f"botocore {BOTOCORE_VERSION}:\n" + "\n".join(findings)


def test_generated_job_names_are_checked_at_their_run_time_length(
    deployed_templates: dict[str, Template],
) -> None:
    """The transform job name is built in a Pass state (prefix + States.UUID()); the checker
    evaluates it, so the name member is validated with its real 36-character suffix."""
    names = [
        request.params["TransformJobName"]
        for template in group(deployed_templates, "mlops-prod-").values()
        for request in embedded_requests(template, deployed_templates)
        if request.operation == "createTransformJob"
    ]
    assert names
    assert all(isinstance(name, str) and len(name) > 36 for name in names), names


# Planted defects: one real template, one change each, and what the checker must say.
PLANTED = [
    (
        "misspelled-task-member",
        "mlops-prod-batch",
        '\\"TransformInput\\":{',
        '\\"TransformInptu\\":{',
        "TransformInptu: unknown member",
    ),
    (
        "transform-instance-type-not-in-job-enum",
        "mlops-prod-batch",
        '\\"InstanceType\\":\\"ml.m5.large\\"',
        '\\"InstanceType\\":\\"ml.c5d.xlarge\\"',
        "TransformResources.InstanceType: 'ml.c5d.xlarge' is not one of",
    ),
    (
        "over-long-generated-job-name",
        "mlops-prod-batch",
        "States.Format('mlops-prod-712ba4-{}'",
        "States.Format('mlops-prod-batch-TransformNightlyScoring-{}'",
        "TransformJobName: 'mlops-prod-batch-TransformNightlyScoring-",
    ),
    (
        "scheduler-target-processing-instance-type",
        "mlops-prod-monitoring",
        '\\"InstanceType\\":\\"ml.m5.large\\"',
        '\\"InstanceType\\":\\"ml.m5d.large\\"',
        "ProcessingResources.ClusterConfig.InstanceType: 'ml.m5d.large' is not one of",
    ),
    (
        "drift-job-name-with-uuid-too-long",
        "mlops-prod-monitoring",
        "States.Format('mlopsrift-",
        "States.Format('mlopsprodng-drifts-",
        "has 64 characters, more than the maximum 63",
    ),
    (
        "pipeline-parameter-default-not-in-training-enum",
        "mlops-prod-training",
        '\\"DefaultValue\\":\\"ml.m5.xlarge\\"',
        '\\"DefaultValue\\":\\"ml.m5d.xlarge\\"',
        "ResourceConfig.InstanceType: 'ml.m5d.xlarge' is not one of",
    ),
    (
        "pipeline-step-missing-required-member",
        "mlops-prod-training",
        '\\"TrainingInputMode\\":\\"File\\"',
        '\\"TrainingInputMod\\":\\"File\\"',
        "AlgorithmSpecification.TrainingInputMode: required member missing",
    ),
    (
        "sdk-integration-unknown-operation",
        "mlops-prod-training",
        "aws-sdk:sagemaker:startPipelineExecution",
        "aws-sdk:sagemaker:startPipelineExecutions",
        "sagemaker:startPipelineExecutions: no such operation",
    ),
    (
        "rule-target-retry-out-of-range",
        "mlops-prod-training",
        '"MaximumRetryAttempts": 5',
        '"MaximumRetryAttempts": 500',
        "RetryPolicy.MaximumRetryAttempts: 500 is more than the maximum 185",
    ),
    (
        "cli-missing-required-option-in-buildspec",
        "mlops-delivery",
        "--endpoint-name ",
        "--target-variant ",
        "EndpointName: required member missing",
    ),
    (
        "cli-misspelled-option-in-buildspec",
        "mlops-delivery",
        "--content-type application/json",
        "--content-types application/json",
        "--content-types: unknown member",
    ),
    (
        "cli-smoke-test-misspelled-option",
        "mlops-delivery",
        "--target-group-arn",
        "--target-group-arns",
        "--target-group-arns: unknown member",
    ),
    (
        "cli-smoke-test-assume-role-unknown-option",
        "mlops-delivery",
        "--role-session-name",
        "--session-name",
        "--session-name: unknown member",
    ),
]


@pytest.mark.parametrize(
    ("stack", "old", "new", "expected"),
    [case[1:] for case in PLANTED],
    ids=[case[0] for case in PLANTED],
)
def test_checker_catches_a_planted_defect(
    deployed_templates: dict[str, Template], stack: str, old: str, new: str, expected: str
) -> None:
    text = json.dumps(deployed_templates[stack])
    assert old in text, "the planted change no longer applies: update the case"
    planted = json.loads(text.replace(old, new, 1))
    assert request_findings(deployed_templates[stack], deployed_templates) == []
    findings = request_findings(planted, deployed_templates)
    assert any(expected in finding for finding in findings), findings


def pipeline_rule_template(parameters: dict[str, str]) -> dict[str, Any]:
    """A stack with one rule that starts a SageMaker pipeline through ``add_pipeline_target``."""
    stack = unit_stack(name="PipelineTarget")
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["aws.sagemaker"]))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    add_pipeline_target(
        rule,
        pipeline_arn=stack.format_arn(service="sagemaker", resource="pipeline", resource_name="p"),
        role=role,
        parameters=parameters,
    )
    return dict(CdkTemplate.from_stack(stack).to_json())


def test_rule_target_with_pipeline_parameters_is_checked() -> None:
    template = pipeline_rule_template({"Trigger": "new-data"})
    (request,) = embedded_requests(template)
    (target,) = request.params["Targets"]
    assert target["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [{"Name": "Trigger", "Value": "new-data"}]
    }
    assert request_findings(template) == []
    broken = copy.deepcopy(template)
    (resource,) = [r for r in broken["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    resource["Properties"]["Targets"][0]["SageMakerPipelineParameters"]["PipelineParameterList"][
        0
    ] = {"Name": "Trigger", "Valeu": "new-data"}
    findings = request_findings(broken)
    assert any("PipelineParameterList[0].Valeu: unknown member" in f for f in findings), findings
    assert any("PipelineParameterList[0].Value: required member missing" in f for f in findings)


def test_pipeline_parameter_names_follow_the_model() -> None:
    findings = request_findings(pipeline_rule_template({"bad name!": "x"}))
    assert any("PipelineParameterList[0].Name: 'bad name!' does not match" in f for f in findings)


def test_a_misspelled_member_of_a_custom_resource_sdk_call_is_caught(
    approved_app: SynthesizedApp,
) -> None:
    templates = approved_app.templates()
    text = json.dumps(templates["mlops-prod-serving"])
    old = '\\"ModelPackageName\\"'
    assert old in text, "the planted change no longer applies: update the case"
    planted = json.loads(text.replace(old, '\\"ModelPackageNames\\"', 1))
    findings = request_findings(planted, templates)
    assert any("ModelPackageNames" in finding for finding in findings), findings
