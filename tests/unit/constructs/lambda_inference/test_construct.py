"""LambdaInference: defaults, each way in (API, function URL, S3 events), a fully customised
function, least privilege and the five compliance packs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs import (
    ContainerImage,
    InferenceApi,
    LambdaAlarms,
    LambdaDeployment,
    LambdaInference,
    ModelData,
    ProvisionedConcurrency,
    S3Trigger,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.templates import ASSET_IMAGE, as_list, assert_matches, get_att, ref, resolve_join
from tests.helpers.templates import managed_policy_statements as statements

MODEL_URI = "s3://models/churn/model.tar.gz"
IMAGE_URI = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-lambda:1.4.0"
OUTSIDE = "Unit-test scaffolding: these functions call nothing inside a VPC."
SHA = "ab" * 32


def model() -> ModelData:
    return ModelData.from_s3_uri(MODEL_URI)


def image() -> ContainerImage:
    return ContainerImage.from_uri(IMAGE_URI)


def resources_of(template: Template, kind: str, prefix: str) -> dict[str, dict[str, Any]]:
    return {k: dict(r) for k, r in template.find_resources(kind).items() if k.startswith(prefix)}


def one(template: Template, kind: str, prefix: str) -> dict[str, Any]:
    ((_, found),) = resources_of(template, kind, prefix).items()
    return found


def actions_of(found: list[dict[str, Any]]) -> list[str]:
    return sorted(a for s in found for a in as_list(s["Action"]))


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    """Every scenario in one stack, synthesized once."""
    stack = unit_stack(unit_app(), "Inference")
    key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    batch = s3.Bucket.from_bucket_attributes(
        stack, "BatchBucket", bucket_name="batch-input", encryption_key=key
    )
    results = s3.Bucket.from_bucket_attributes(
        stack, "ResultsBucket", bucket_name="batch-results", encryption_key=key
    )
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    shared: dict[str, Any] = {"encryption_key": key, "alarm_topic": topic}
    built = {
        "Basic": LambdaInference(stack, "Basic", model_data=model()),
        "Api": LambdaInference(
            stack,
            "Api",
            model_data=model(),
            image=image(),
            api=InferenceApi(),
            outside_vpc_reason=OUTSIDE,
            **shared,
        ),
        "Keyed": LambdaInference(
            stack,
            "Keyed",
            model_data=model(),
            image=image(),
            api=InferenceApi(
                auth="api_key",
                throttle_rate=5,
                throttle_burst=10,
                integration_timeout=cdk.Duration.seconds(10),
                stage_name="prod",
                web_acl_arn="arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/api/"
                "a1b2c3d4-5678-90ab-cdef-0123456789ab",
                configure_account_logging=False,
            ),
            deployment=LambdaDeployment.linear(10, cdk.Duration.minutes(1)),
            outside_vpc_reason=OUTSIDE,
            **shared,
        ),
        "Url": LambdaInference(
            stack,
            "Url",
            model_data=model(),
            image=image(),
            function_url=True,
            deployment=LambdaDeployment.all_at_once(),
            outside_vpc_reason=OUTSIDE,
            **shared,
        ),
        "Scoring": LambdaInference(
            stack,
            "Scoring",
            model_data=model(),
            image=image(),
            s3_trigger=S3Trigger(
                bucket=batch,
                input_prefix="scoring/input/",
                output_prefix="scoring/output/",
                retry_attempts=1,
                max_event_age=cdk.Duration.minutes(30),
            ),
            outside_vpc_reason=OUTSIDE,
            **shared,
        ),
        "Full": LambdaInference(
            stack,
            "Full",
            model_data=model(),
            image=image(),
            model_sha256=SHA,
            memory_size_mb=3008,
            timeout=cdk.Duration.seconds(20),
            architecture=lambda_.Architecture.ARM_64,
            reserved_concurrency=50,
            provisioned_concurrency=ProvisionedConcurrency(
                min_capacity=2, max_capacity=10, target_utilization=0.6
            ),
            api=InferenceApi(),
            function_url=True,
            s3_trigger=S3Trigger(
                bucket=batch, input_prefix="in/", output_prefix="out/", output_bucket=results
            ),
            deployment=LambdaDeployment.canary(25, cdk.Duration.minutes(7)),
            alarm_thresholds=LambdaAlarms(
                error_rate_percent=2.5,
                latency_percentile="p95",
                latency=cdk.Duration.millis(200),
            ),
            vpc=vpc,
            environment={"MLOPS_LOG_LEVEL": "DEBUG"},
            log_retention=cdk.aws_logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            **shared,
        ),
    }
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    built["Full"].grant_invoke(caller)
    return {"stack": stack, "template": Template.from_stack(stack), "built": built}


# --- defaults -----------------------------------------------------------------------------


def test_default_function_runs_the_runtime_image_with_tracing_and_encrypted_environment(
    scenario: dict[str, Any],
) -> None:
    function = one(scenario["template"], "AWS::Lambda::Function", "BasicFunction")["Properties"]
    assert function["PackageType"] == "Image"
    assert_matches(function["Code"]["ImageUri"], {"Fn::Sub": Match.string_like_regexp(ASSET_IMAGE)})
    assert function["Architectures"] == ["x86_64"]
    assert (function["MemorySize"], function["Timeout"]) == (2048, 30)
    assert function["TracingConfig"] == {"Mode": "Active"}
    assert function["KmsKeyArn"] == get_att(scenario["template"], "AWS::KMS::Key", "BasicKey")
    assert function["Environment"]["Variables"] == {"MLOPS_MODEL_S3_URI": MODEL_URI}
    assert "ReservedConcurrentExecutions" not in function  # see docs: new accounts have 10
    assert "VpcConfig" not in function
    assert "FunctionName" not in function


def test_default_logs_are_encrypted_retained_and_kept(scenario: dict[str, Any]) -> None:
    group = one(scenario["template"], "AWS::Logs::LogGroup", "BasicLogs")
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"] == get_att(
        scenario["template"], "AWS::KMS::Key", "BasicKey"
    )
    assert group["DeletionPolicy"] == "Retain"
    function = one(scenario["template"], "AWS::Lambda::Function", "BasicFunction")
    logs = ref(scenario["template"], "AWS::Logs::LogGroup", "BasicLogs")
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == logs


def test_default_alias_and_async_failures_go_to_an_encrypted_queue(
    scenario: dict[str, Any],
) -> None:
    template = scenario["template"]
    alias = one(template, "AWS::Lambda::Alias", "BasicLiveAlias")["Properties"]
    assert alias["Name"] == "live"
    assert "ProvisionedConcurrencyConfig" not in alias
    config = one(template, "AWS::Lambda::EventInvokeConfig", "Basic")["Properties"]
    assert config["Qualifier"] == "live"
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 21600)
    failures = get_att(template, "AWS::SQS::Queue", "BasicFailureQueue")
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == failures
    queue = one(template, "AWS::SQS::Queue", "BasicFailureQueue")["Properties"]
    assert queue["KmsMasterKeyId"] == get_att(template, "AWS::KMS::Key", "BasicKey")
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_default_role_is_least_privilege_in_a_managed_policy(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    role = one(template, "AWS::IAM::Role", "BasicRole")["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"
    }
    found = statements(template, "BasicRole")
    assert actions_of(found) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "sqs:SendMessage",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    read = next(s for s in found if s["Action"] == "s3:GetObject")
    assert read["Resource"] == "arn:aws:s3:::models/churn/model.tar.gz"
    inline = [k for k in template.find_resources("AWS::IAM::Policy") if not k.startswith("Caller")]
    assert inline == []


def test_default_alarms_have_actions(scenario: dict[str, Any]) -> None:
    built = scenario["built"]["Basic"]
    assert sorted(a.node.id for a in built.alarms) == [
        "DurationP99",
        "Errors",
        "FailedAsyncInvocations",
        "Throttles",
    ]
    assert sorted(a.node.id for a in built.rollback_alarms) == ["DurationP99", "Errors"]
    alarms = resources_of(scenario["template"], "AWS::CloudWatch::Alarm", "Basic")
    assert len(alarms) == 4
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == alarm["Properties"]["OKActions"]
        topic = ref(scenario["template"], "AWS::SNS::Topic", "BasicAlarmTopic")
        assert alarm["Properties"]["AlarmActions"] == [topic]
    duration = next(a for a in alarms.values() if a["Properties"].get("MetricName") == "Duration")
    assert duration["Properties"]["Threshold"] == 24_000  # 80 % of 30 s
    assert duration["Properties"]["ExtendedStatistic"] == "p99"


def test_custom_alarm_thresholds_and_latency_percentile(scenario: dict[str, Any]) -> None:
    built = scenario["built"]["Full"]
    assert sorted(a.node.id for a in built.rollback_alarms) == ["Api5xx", "DurationP95", "Errors"]
    alarms = resources_of(scenario["template"], "AWS::CloudWatch::Alarm", "Full")
    duration = next(a for a in alarms.values() if a["Properties"].get("MetricName") == "Duration")
    assert duration["Properties"]["ExtendedStatistic"] == "p95"
    assert duration["Properties"]["Threshold"] == 200  # Lambda Duration is in milliseconds
    assert "p95 duration above 200 ms" in duration["Properties"]["AlarmDescription"]
    (errors,) = [a for k, a in alarms.items() if k.startswith("FullErrors")]
    assert errors["Properties"]["Threshold"] == 2.5


def test_without_vpc_or_reason_only_the_vpc_rules_report_the_function(
    scenario: dict[str, Any],
) -> None:
    findings = sorted(
        violation.rule_name
        for pack in NAG_PACKS
        for violation in pack().validate_scope(scenario["stack"]).violations
        for r in violation.violating_resources
        if (r.construct_path or "").startswith("Inference/Basic/")
    )
    assert findings == [
        "HIPAA.Security-LambdaInsideVPC",
        "NIST.800.53.R5-LambdaInsideVPC",
        "PCI.DSS.321-LambdaInsideVPC",
    ]


# --- REST API -----------------------------------------------------------------------------


def test_api_default_timeout_fits_the_integration_timeout(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    function = one(template, "AWS::Lambda::Function", "ApiFunction")["Properties"]
    assert function["Timeout"] == 29
    post = next(
        m["Properties"]
        for m in resources_of(template, "AWS::ApiGateway::Method", "Api").values()
        if m["Properties"]["HttpMethod"] == "POST"
    )
    assert post["Integration"]["TimeoutInMillis"] == 29_000
    assert post["Integration"]["Type"] == "AWS_PROXY"
    alias = ref(template, "AWS::Lambda::Alias", "ApiLiveAlias")
    assert_matches(post["Integration"]["Uri"], {"Fn::Join": ["", Match.array_with([alias])]})


def test_api_methods_require_iam_and_validate_the_body(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    methods = {
        m["Properties"]["HttpMethod"]: m["Properties"]
        for m in resources_of(template, "AWS::ApiGateway::Method", "Api").values()
    }
    assert sorted(methods) == ["GET", "POST"]
    for method in methods.values():
        assert method["AuthorizationType"] == "AWS_IAM"
        assert method.get("ApiKeyRequired") is not True
        assert method["RequestValidatorId"] == ref(
            template, "AWS::ApiGateway::RequestValidator", "ApiRequestValidator"
        )
    request_model = ref(template, "AWS::ApiGateway::Model", "ApiInferenceRequest")
    assert methods["POST"]["RequestModels"]["application/json"] == request_model
    validator = one(template, "AWS::ApiGateway::RequestValidator", "Api")["Properties"]
    assert (validator["ValidateRequestBody"], validator["ValidateRequestParameters"]) == (
        True,
        True,
    )
    schema = one(template, "AWS::ApiGateway::Model", "Api")["Properties"]["Schema"]
    assert schema["required"] == ["instances"]
    rows = schema["properties"]["instances"]
    assert rows["type"] == "array"
    assert rows["items"]["items"] == {"type": "number"}
    endpoint = one(template, "AWS::ApiGateway::RestApi", "Api")["Properties"]
    assert endpoint["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_api_stage_logs_json_traces_and_throttles(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    stage = one(template, "AWS::ApiGateway::Stage", "Api")
    props = stage["Properties"]
    assert props["StageName"] == "v1"
    assert props["TracingEnabled"] is True
    assert props["AccessLogSetting"]["Format"].startswith('{"requestId":"$context.requestId"')
    access_logs = ref(template, "AWS::Logs::LogGroup", "ApiApiAccessLogs")
    assert_matches(
        props["AccessLogSetting"]["DestinationArn"],
        {"Fn::Join": ["", Match.array_with([access_logs])]},
    )
    (settings,) = props["MethodSettings"]
    assert settings == {
        "DataTraceEnabled": False,
        "HttpMethod": "*",
        "LoggingLevel": "ERROR",
        "MetricsEnabled": True,
        "ResourcePath": "/*",
        "ThrottlingBurstLimit": 100,
        "ThrottlingRateLimit": 50,
    }
    assert any("ApiGatewayAccount" in d for d in stage["DependsOn"])
    logs = one(template, "AWS::Logs::LogGroup", "ApiApiAccessLogs")["Properties"]
    assert logs["KmsKeyId"] == get_att(template, "AWS::KMS::Key", "SharedKey")


def test_api_gateway_account_role_is_customer_managed_and_scoped(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    (account,) = template.find_resources("AWS::ApiGateway::Account").values()
    assert account["Properties"]["CloudWatchRoleArn"] == get_att(
        template, "AWS::IAM::Role", "ApiGatewayAccountCloudWatchRole"
    )
    role = one(template, "AWS::IAM::Role", "ApiGatewayAccountCloudWatchRole")
    assert "ManagedPolicyArns" not in role["Properties"]  # not AmazonAPIGatewayPushToCloudWatchLogs
    assert role["DeletionPolicy"] == "Retain"
    write, describe = statements(template, "ApiGatewayAccount")
    assert sorted(write["Action"]) == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:FilterLogEvents",
        "logs:GetLogEvents",
        "logs:PutLogEvents",
    ]
    # This account's and region's log groups, not "*".
    assert [r["Fn::Join"][1][-1] for r in write["Resource"]] == [
        ":log-group:*",
        ":log-group:*:log-stream:*",
    ]
    # DescribeLogGroups takes no resource type: only Resource "*" ever allows it.
    assert describe == {"Action": "logs:DescribeLogGroups", "Effect": "Allow", "Resource": "*"}


def test_api_key_mode_has_a_usage_plan_and_no_iam(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    for method in resources_of(template, "AWS::ApiGateway::Method", "Keyed").values():
        assert method["Properties"]["AuthorizationType"] == "NONE"
        assert method["Properties"]["ApiKeyRequired"] is True
    plan = one(template, "AWS::ApiGateway::UsagePlan", "Keyed")["Properties"]
    assert plan["Throttle"] == {"BurstLimit": 10, "RateLimit": 5}
    assert len(resources_of(template, "AWS::ApiGateway::UsagePlanKey", "Keyed")) == 1
    assert scenario["built"]["Keyed"].api_key is not None
    function = one(template, "AWS::Lambda::Function", "KeyedFunction")["Properties"]
    assert function["Timeout"] == 10  # follows the shorter integration timeout
    stage = one(template, "AWS::ApiGateway::Stage", "Keyed")
    assert stage["Properties"]["StageName"] == "prod"
    assert "DependsOn" not in stage  # configure_account_logging=False
    association = one(template, "AWS::WAFv2::WebACLAssociation", "Keyed")["Properties"]
    assert association["WebACLArn"].startswith("arn:aws:wafv2:eu-west-1:123456789012:regional")


def test_only_one_api_gateway_account_per_stack(scenario: dict[str, Any]) -> None:
    assert len(scenario["template"].find_resources("AWS::ApiGateway::Account")) == 1


# --- function URL, S3 trigger ---------------------------------------------------------------


def test_function_url_is_iam_on_the_alias(scenario: dict[str, Any]) -> None:
    url = one(scenario["template"], "AWS::Lambda::Url", "Url")["Properties"]
    assert url["AuthType"] == "AWS_IAM"
    assert url["Qualifier"] == "live"
    assert scenario["built"]["Url"].url is not None
    assert scenario["built"]["Basic"].url is None
    permissions = resources_of(scenario["template"], "AWS::Lambda::Permission", "Url")
    assert permissions == {}  # nothing public: callers are granted with grant_invoke


def test_s3_trigger_is_an_eventbridge_rule_on_the_prefix(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    rule = one(template, "AWS::Events::Rule", "Scoring")["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["batch-input"]},
            "object": {"key": [{"prefix": "scoring/input/"}], "size": [{"numeric": [">", 0]}]},
        },
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == ref(template, "AWS::Lambda::Alias", "ScoringLiveAlias")
    failures = get_att(template, "AWS::SQS::Queue", "ScoringFailureQueue")
    assert target["DeadLetterConfig"]["Arn"] == failures
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 8}
    config = one(template, "AWS::Lambda::EventInvokeConfig", "Scoring")["Properties"]
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (1, 1800)
    function = one(template, "AWS::Lambda::Function", "ScoringFunction")["Properties"]
    assert function["Environment"]["Variables"] == {
        "MLOPS_MODEL_S3_URI": MODEL_URI,
        "MLOPS_INPUT_PREFIX": "scoring/input/",
        "MLOPS_OUTPUT_PREFIX": "scoring/output/",
    }
    assert not template.find_resources("Custom::S3BucketNotifications")


def test_s3_trigger_reads_the_input_prefix_and_writes_the_output_prefix_only(
    scenario: dict[str, Any],
) -> None:
    found = statements(scenario["template"], "ScoringRole")
    reads = [s for s in found if s["Action"] == "s3:GetObject"]
    assert sorted(r for s in reads for r in as_list(s["Resource"])) == [
        "arn:aws:s3:::batch-input/scoring/input/*",
        "arn:aws:s3:::models/churn/model.tar.gz",
    ]
    (write,) = [s for s in found if "s3:PutObject" in as_list(s["Action"])]
    assert write["Resource"] == "arn:aws:s3:::batch-input/scoring/output/*"
    assert sorted(write["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]


# --- fully customised -----------------------------------------------------------------------


def test_custom_function_settings(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    function = one(template, "AWS::Lambda::Function", "FullFunction")["Properties"]
    assert function["Code"]["ImageUri"]["Fn::Join"][1][-1] == "/churn-lambda:1.4.0"
    assert function["Architectures"] == ["arm64"]
    assert (function["MemorySize"], function["Timeout"]) == (3008, 20)
    assert function["ReservedConcurrentExecutions"] == 50
    assert function["Environment"]["Variables"] == {
        "MLOPS_LOG_LEVEL": "DEBUG",
        "MLOPS_MODEL_S3_URI": MODEL_URI,
        "MLOPS_MODEL_SHA256": SHA,
        "MLOPS_INPUT_PREFIX": "in/",
        "MLOPS_OUTPUT_PREFIX": "out/",
        "MLOPS_OUTPUT_BUCKET": "batch-results",
    }
    logs = one(template, "AWS::Logs::LogGroup", "FullLogs")
    assert logs["Properties"]["RetentionInDays"] == 30
    assert logs["DeletionPolicy"] == "Delete"


def test_custom_vpc_placement_allows_https_out_only(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    function = one(template, "AWS::Lambda::Function", "FullFunction")["Properties"]
    assert len(function["VpcConfig"]["SubnetIds"]) == 2
    group = one(template, "AWS::EC2::SecurityGroup", "FullSecurityGroup")["Properties"]
    assert group["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs through VPC endpoints",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "ec2:CreateNetworkInterface" in actions_of(statements(template, "FullRole"))


def test_custom_provisioned_concurrency_scales_on_utilisation(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    alias = one(template, "AWS::Lambda::Alias", "FullLiveAlias")["Properties"]
    assert alias["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget", "Full")["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 10)
    assert target["ScalableDimension"] == "lambda:function:ProvisionedConcurrency"
    assert "AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency" in target["RoleARN"]
    policy = one(template, "AWS::ApplicationAutoScaling::ScalingPolicy", "Full")["Properties"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 0.6
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"
    }


def test_custom_canary_rolls_back_on_the_rollback_alarms(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    config = one(template, "AWS::CodeDeploy::DeploymentConfig", "Full")["Properties"]
    assert config["TrafficRoutingConfig"] == {
        "Type": "TimeBasedCanary",
        "TimeBasedCanary": {"CanaryInterval": 7, "CanaryPercentage": 25},
    }
    group = one(template, "AWS::CodeDeploy::DeploymentGroup", "Full")
    alarms = [a["Name"]["Ref"] for a in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    assert [a[len("Full") : -8] for a in alarms] == ["Errors", "DurationP95", "Api5xx"]
    assert sorted(group["Properties"]["AutoRollbackConfiguration"]["Events"]) == [
        "DEPLOYMENT_FAILURE",
        "DEPLOYMENT_STOP_ON_ALARM",
        "DEPLOYMENT_STOP_ON_REQUEST",
    ]
    assert any("FullDeploymentRolePermissions" in d for d in group["DependsOn"])
    alias = one(template, "AWS::Lambda::Alias", "FullLiveAlias")
    assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]


def test_deployment_role_has_exact_actions_and_no_managed_policy(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    role = one(template, "AWS::IAM::Role", "FullDeploymentRole")["Properties"]
    assert "ManagedPolicyArns" not in role  # not AWSCodeDeployRoleForLambdaLimited
    assert actions_of(statements(template, "FullDeploymentRole")) == [
        "cloudwatch:DescribeAlarms",
        "lambda:GetAlias",
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:UpdateAlias",
    ]


@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("Keyed", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
        ("Url", "CodeDeployDefault.LambdaAllAtOnce"),
    ],
    ids=["linear-10-percent", "all-at-once"],
)
def test_predefined_deployment_configs_are_used_when_they_match(
    scenario: dict[str, Any], prefix: str, name: str
) -> None:
    group = one(scenario["template"], "AWS::CodeDeploy::DeploymentGroup", prefix)
    assert group["Properties"]["DeploymentConfigName"] == name
    assert not resources_of(scenario["template"], "AWS::CodeDeploy::DeploymentConfig", prefix)


def test_custom_results_go_to_the_output_bucket(scenario: dict[str, Any]) -> None:
    found = statements(scenario["template"], "FullRole")
    (write,) = [s for s in found if "s3:PutObject" in as_list(s["Action"])]
    assert write["Resource"] == "arn:aws:s3:::batch-results/out/*"


def test_grant_invoke_covers_alias_url_and_api(scenario: dict[str, Any]) -> None:
    policy = one(scenario["template"], "AWS::IAM::Policy", "CallerDefaultPolicy")
    found = policy["Properties"]["PolicyDocument"]["Statement"]
    assert actions_of(found) == [
        "execute-api:Invoke",
        "lambda:InvokeFunction",
        "lambda:InvokeFunction",
        "lambda:InvokeFunctionUrl",
    ]
    for statement in found:
        if statement["Action"].startswith("lambda:"):
            assert statement["Resource"] == ref(
                scenario["template"], "AWS::Lambda::Alias", "FullLiveAlias"
            )
    api = next(s for s in found if s["Action"] == "execute-api:Invoke")
    paths = sorted(r["Fn::Join"][1][-1] for r in api["Resource"])
    assert paths == ["/GET/ping", "/POST/invocations"]


def test_metrics_and_widgets(scenario: dict[str, Any]) -> None:
    built = scenario["built"]["Full"]
    metric = built.metric_invocations()
    assert metric.namespace == "AWS/Lambda"
    assert set(scenario["stack"].resolve(metric.dimensions)) == {"FunctionName", "Resource"}
    assert built.metric_duration().statistic == "p99"
    assert len(built.dashboard_widgets()) == 3
    custom = built.metric_errors(statistic="Average", label="errors", dimensions_map={"X": "y"})
    assert (custom.statistic, custom.label) == ("Average", "errors")
    assert set(scenario["stack"].resolve(custom.dimensions)) == {"FunctionName", "Resource", "X"}


# --- compliance -----------------------------------------------------------------------------


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_every_scenario_passes_the_compliance_packs(scenario: dict[str, Any], pack: Any) -> None:
    report = pack().validate_scope(scenario["stack"])
    findings = [
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
        # The fixture's own VPC, key, topic and caller are scaffolding; Basic is checked above.
        if not r.construct_path.startswith(
            (
                "Inference/Vpc",
                "Inference/SharedKey",
                "Inference/Topic",
                "Inference/Caller",
                "Inference/Basic/Function",
            )
        )
    ]
    assert findings == []


def test_repository_images_keep_their_digest_and_assets_follow_the_architecture() -> None:
    app = unit_app()
    stack = unit_stack(app, "Images")
    repository = ecr.Repository.from_repository_name(stack, "Repo", "churn-lambda")
    digest = "sha256:" + "0" * 64
    pinned = LambdaInference(
        stack,
        "Pinned",
        model_data=model(),
        image=ContainerImage.from_ecr_repository(repository, digest),
        outside_vpc_reason=OUTSIDE,
    )
    code = stack.resolve(cast(lambda_.CfnFunction, pinned.function.node.default_child).code)
    assert resolve_join(code["imageUri"]).endswith(f"/churn-lambda@{digest}")
    LambdaInference(
        stack,
        "Arm",
        model_data=model(),
        architecture=lambda_.Architecture.ARM_64,
        outside_vpc_reason=OUTSIDE,
    )
    manifest = json.loads(
        (Path(app.synth().directory) / "Images.assets.json").read_text(encoding="utf-8")
    )
    (image_asset,) = manifest["dockerImages"].values()
    assert image_asset["source"]["platform"] == "linux/arm64"
    assert image_asset["source"]["dockerFile"] == "Dockerfile.lambda"
