"""logged_state_machine: Standard, traced, every event logged to a vended-logs group."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk._internal.state_machines import VENDED_LOGS_PREFIX, logged_state_machine
from tests.helpers.apps import unit_stack


def test_state_machine_is_traced_and_logs_everything_to_a_vended_log_group() -> None:
    stack = unit_stack()
    scope = Construct(stack, "Runner")
    machine, log_group = logged_state_machine(
        scope,
        "Machine",
        log_group_id="MachineLogs",
        definition=sfn.Pass(scope, "Start"),
        role=iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com")),
        timeout=Duration.minutes(5),
        comment="Does things",
        encryption_key=kms.Key(stack, "Key"),
        removal_policy=RemovalPolicy.DESTROY,
        retention=logs.RetentionDays.ONE_WEEK,
    )
    assert (machine.node.id, log_group.node.id) == ("Machine", "MachineLogs")
    template = Template.from_stack(stack)
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    name = group["Properties"]["LogGroupName"]
    assert name.startswith(VENDED_LOGS_PREFIX)
    assert "Runner" in name
    assert group["Properties"]["RetentionInDays"] == 7
    assert group["DeletionPolicy"] == "Delete"
    assert "KmsKeyId" in group["Properties"]
    (props,) = [
        r["Properties"]
        for r in template.find_resources("AWS::StepFunctions::StateMachine").values()
    ]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
