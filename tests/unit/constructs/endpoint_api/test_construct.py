"""EndpointApi: API Gateway calls InvokeEndpoint directly (AWS integration, no Lambda) with the
same API as LambdaInference's (one implementation), an integration role with exactly
sagemaker:InvokeEndpoint on the endpoint, for a RealtimeEndpoint and an ExistingEndpoint."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    ContainerImage,
    EndpointApi,
    InferenceApi,
    LambdaInference,
    ModelData,
    RealtimeEndpoint,
)
from tests.helpers.apps import unit_stack

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")
LOWER_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-teamb"


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    stack = unit_stack()
    ours = RealtimeEndpoint(stack, "Churn", image=IMAGE, endpoint_name="churn")
    api = EndpointApi(stack, "ChurnApi", endpoint=ours)
    existing = RealtimeEndpoint.from_endpoint_name(stack, "TeamB", "Churn-TeamB")
    keyed = EndpointApi(
        stack,
        "TeamBApi",
        endpoint=existing,
        api=InferenceApi(auth="api_key", throttle_rate=5, throttle_burst=10),
        validate_instances=False,
    )
    LambdaInference(
        stack,
        "Lambda",
        model_data=ModelData.demo_model(archive=False),
        api=InferenceApi(),
        outside_vpc_reason="A unit-test function that calls nothing inside a VPC.",
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    api.grant_invoke(caller)
    return {
        "stack": stack,
        "api": api,
        "keyed": keyed,
        "template": Template.from_stack(stack).to_json(),
    }


def of_type(template: dict[str, Any], kind: str, prefix: str) -> dict[str, Any]:
    return {
        k: r["Properties"]
        for k, r in template["Resources"].items()
        if r["Type"] == kind and k.startswith(prefix)
    }


def test_post_invocations_is_an_aws_integration_with_runtime_sagemaker(scenario: Any) -> None:
    stack, api = scenario["stack"], scenario["api"]
    (method,) = of_type(scenario["template"], "AWS::ApiGateway::Method", "ChurnApi").values()
    assert method["HttpMethod"] == "POST"
    assert method["AuthorizationType"] == "AWS_IAM"
    assert method["RequestParameters"] == {"method.request.header.Content-Type": True}
    assert "RequestModels" in method
    integration = method["Integration"]
    assert integration["Type"] == "AWS"
    assert integration["IntegrationHttpMethod"] == "POST"
    assert integration["PassthroughBehavior"] == "NEVER"
    assert integration["RequestTemplates"] == {
        "application/json": "$input.body",
        "text/csv": "$input.body",
    }
    assert integration["RequestParameters"] == {
        "integration.request.header.Content-Type": "method.request.header.Content-Type"
    }
    uri = stack.resolve(integration["Uri"])
    assert ":runtime.sagemaker:path/endpoints/churn/invocations" in str(uri)
    assert integration["Credentials"] == {
        "Fn::GetAtt": [stack.get_logical_id(api.integration_role.node.default_child), "Arn"]
    }
    assert [
        (r["StatusCode"], r.get("SelectionPattern")) for r in integration["IntegrationResponses"]
    ] == [
        ("200", None),
        ("400", r"4\d{2}"),
        ("500", r"5\d{2}"),
    ]
    assert integration["TimeoutInMillis"] == 29000


def invoke_statements(template: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [
        s
        for k, r in template["Resources"].items()
        if k.startswith(prefix) and r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_integration_role_may_invoke_exactly_this_endpoint(scenario: Any) -> None:
    stack = scenario["stack"]
    template = scenario["template"]
    (ours,) = invoke_statements(template, "ChurnApiIntegrationRole")
    assert ours["Action"] == "sagemaker:InvokeEndpoint"
    assert ours["Resource"] == {"Ref": stack.get_logical_id(scenario["api"].endpoint.endpoint)}
    (theirs,) = invoke_statements(template, "TeamBApiIntegrationRole")
    assert theirs == {
        "Action": "sagemaker:InvokeEndpoint",
        "Effect": "Allow",
        "Resource": LOWER_ARN,
    }


def test_the_stage_is_the_lambda_apis_stage(scenario: Any) -> None:
    """One implementation: logging, tracing and throttling are set the same way."""
    template = scenario["template"]
    (ours,) = of_type(template, "AWS::ApiGateway::Stage", "ChurnApi").values()
    (lambdas,) = of_type(template, "AWS::ApiGateway::Stage", "Lambda").values()
    for key in ("AccessLogSetting", "DeploymentId", "RestApiId"):
        assert (key in ours) == (key in lambdas)
    assert ours["AccessLogSetting"]["Format"] == lambdas["AccessLogSetting"]["Format"]
    assert ours["MethodSettings"] == lambdas["MethodSettings"]
    assert ours["TracingEnabled"] is lambdas["TracingEnabled"] is True
    assert ours["StageName"] == "v1"
    # The account's logging role is made once for the stack, whoever asks first.
    assert (
        len([r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Account"])
        == 1
    )


def test_api_key_auth_makes_a_usage_plan_and_no_model_without_validation(scenario: Any) -> None:
    template = scenario["template"]
    (method,) = of_type(template, "AWS::ApiGateway::Method", "TeamBApi").values()
    assert method["AuthorizationType"] == "NONE"
    assert method["ApiKeyRequired"] is True
    assert "RequestModels" not in method
    assert not of_type(template, "AWS::ApiGateway::Model", "TeamBApi")
    (plan,) = of_type(template, "AWS::ApiGateway::UsagePlan", "TeamBApi").values()
    assert plan["Throttle"] == {"BurstLimit": 10, "RateLimit": 5}
    assert of_type(template, "AWS::ApiGateway::ApiKey", "TeamBApi")
    assert scenario["keyed"].api_key is not None


def test_grant_invoke_allows_the_one_method(scenario: Any) -> None:
    statements = [
        s
        for s in invoke_statements(scenario["template"], "CallerDefaultPolicy")
        if s["Action"] == "execute-api:Invoke"
    ]
    (statement,) = statements
    parts = statement["Resource"]["Fn::Join"][1]
    assert parts[-1] == "/POST/invocations"
    assert parts[1] == {
        "Ref": scenario["stack"].get_logical_id(scenario["api"].api.node.default_child)
    }


def test_alarm_on_server_errors_notifies_the_endpoints_topic(scenario: Any) -> None:
    stack, api = scenario["stack"], scenario["api"]
    (alarm,) = api.alarms
    assert stack.resolve(alarm.alarm_arn)
    (props,) = of_type(scenario["template"], "AWS::CloudWatch::Alarm", "ChurnApiApi5xx").values()
    assert props["AlarmActions"] == [stack.resolve(api.endpoint.alarm_topic.topic_arn)]
    assert api.url


def test_removal_policy_reaches_the_log_group() -> None:
    stack = unit_stack()
    endpoint = RealtimeEndpoint(stack, "Churn", image=IMAGE)
    EndpointApi(stack, "Api", endpoint=endpoint, removal_policy=cdk.RemovalPolicy.DESTROY)
    groups = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup")
    assert {g["DeletionPolicy"] for g in groups.values()} == {"Delete"}
