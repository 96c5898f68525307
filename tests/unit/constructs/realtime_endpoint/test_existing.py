"""An endpoint deployed elsewhere, by name: the same metrics, alarms, grants and widgets as a
RealtimeEndpoint, usable where CDK takes an IEndpoint and by ModelMonitorSchedule."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from mlops_cdk._internal.patterns import SAGEMAKER_NAME
from mlops_cdk.constructs import (
    Baseline,
    ContainerImage,
    DataCapture,
    EndpointAlarms,
    ExistingEndpoint,
    ModelMonitorSchedule,
    RealtimeEndpoint,
)
from tests.helpers.apps import unit_stack

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")


@pytest.fixture(scope="module")
def built() -> tuple[cdk.Stack, ExistingEndpoint, RealtimeEndpoint, dict[str, Any]]:
    stack = unit_stack()
    topic = sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:eu-west-1:123456789012:alarms")
    bucket = s3.Bucket.from_bucket_name(stack, "Capture", "team-b-capture")
    existing = RealtimeEndpoint.from_endpoint_name(
        stack,
        "TeamB",
        "Churn-TeamB",
        variant_names=["Blue", "Green"],
        instance_type="ml.m5.xlarge",
        data_capture=DataCapture(bucket=bucket, prefix="capture/"),
        alarm_topic=topic,
    )
    ours = RealtimeEndpoint(
        stack,
        "Ours",
        image=IMAGE,
        instance_type="ml.m5.xlarge",
        alarm_topic=topic,
        endpoint_name="ours",
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    existing.grant_invoke(caller)
    ModelMonitorSchedule(stack, "Drift", endpoint=existing, baseline=Baseline.demo_model())
    template = dict(Template.from_stack(stack).to_json())
    return stack, existing, ours, template


def alarms_of(template: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"]["AlarmDescription"].startswith(f"Test/{path}: ")
    ]


def test_the_same_alarm_set_as_a_realtime_endpoint_per_variant(built: Any) -> None:
    _, existing, _, template = built
    existing_alarms = alarms_of(template, "TeamB")
    ours = alarms_of(template, "Ours")
    # Ours has one variant: 5XX, p99, 4XX, CPU, memory; the existing endpoint the same twice.
    assert len(ours) == 5
    assert len(existing_alarms) == 2 * len(ours) == len(existing.alarms)
    for alarm in existing_alarms:
        assert alarm["AlarmActions"] == ["arn:aws:sns:eu-west-1:123456789012:alarms"]
        assert alarm["OKActions"] == alarm["AlarmActions"]
        assert alarm["EvaluationPeriods"] == 5
        assert alarm["DatapointsToAlarm"] == 3
    descriptions = sorted(a["AlarmDescription"] for a in existing_alarms)
    assert "Test/TeamB: Green: CPU above 90.0 % of 4 vCPUs" in descriptions
    cpu = [a for a in existing_alarms if "CPU" in a["AlarmDescription"]]
    assert {a["Threshold"] for a in cpu} == {EndpointAlarms().cpu_percent_of_capacity * 4}
    assert len(existing.rollback_alarms) == 4  # 5XX and latency of each variant


def test_metrics_name_the_endpoint_and_variant(built: Any) -> None:
    stack, existing, _, _ = built
    latency = existing.metric_model_latency("Green", statistic="p90")
    assert stack.resolve(latency.dimensions) == {
        "EndpointName": "Churn-TeamB",
        "VariantName": "Green",
    }
    assert latency.statistic == "p90"
    first = existing.metric_invocations()
    assert stack.resolve(first.dimensions)["VariantName"] == "Blue"
    assert existing.metric_cpu_utilization().namespace == "/aws/sagemaker/Endpoints"
    assert len(existing.dashboard_widgets()) == 6  # traffic, latency, utilisation per variant


def test_grant_invoke_uses_the_lower_case_arn_sagemaker_reports(built: Any) -> None:
    _, _, _, template = built
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "sagemaker:InvokeEndpoint" in s["Action"]
    ]
    (statement,) = statements
    resource = statement["Resource"]
    assert resource == "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-teamb"


def test_monitor_reads_the_existing_capture(built: Any) -> None:
    stack, existing, _, _ = built
    monitor = next(c for c in stack.node.children if isinstance(c, ModelMonitorSchedule))
    assert monitor.endpoint_name == "Churn-TeamB"
    assert monitor.capture_uri == "s3://team-b-capture/capture/Churn-TeamB/"
    assert monitor.alarm_topic is existing.alarm_topic


def test_goes_where_cdk_takes_an_iendpoint() -> None:
    stack = unit_stack()
    existing = RealtimeEndpoint.from_endpoint_name(
        stack, "TeamB", "churn-b", serverless=True, alarm_thresholds=EndpointAlarms()
    )
    typed: sagemaker.IEndpoint = existing
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method("POST", apigateway.SagemakerIntegration(typed))
    template = Template.from_stack(stack)
    (method,) = template.find_resources("AWS::ApiGateway::Method").values()
    assert method["Properties"]["Integration"]["Uri"].endswith("/endpoints/churn-b/invocations")
    # Serverless: no instance alarms; a topic of its own (with a key) when none is given.
    assert len(existing.alarms) == 3
    template.resource_count_is("AWS::SNS::Topic", 1)
    assert len(existing.dashboard_widgets()) == 2


def test_the_name_pattern_is_botocores() -> None:
    """One SageMaker name rule: the pattern the validators use is the EndpointName and
    VariantName pattern of AWS's own service model."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    for shape in ("EndpointName", "VariantName"):
        metadata = model.shape_for(shape).metadata
        assert metadata["pattern"] == SAGEMAKER_NAME
        assert metadata["max"] == 63
