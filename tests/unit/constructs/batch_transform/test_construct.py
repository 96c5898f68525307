"""BatchTransformJob: a manual job with defaults, scheduled, new-data and VPC jobs, a fully
customised job, least privilege and compliance."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs import (
    BatchTransformJob,
    ContainerImage,
    ModelData,
    ModelPackage,
    TransformInput,
    TransformOutput,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import TEST_ENV, unit_app, unit_stack
from tests.helpers.templates import ASSET_IMAGE, as_list, assert_matches
from tests.helpers.templates import managed_policy_actions as actions
from tests.helpers.templates import managed_policy_statements as statements

IMAGE_URI = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3.0-cpu"
MODEL_URI = "s3://models/churn/model.tar.gz"
PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"


def buckets(stack: cdk.Stack) -> tuple[s3.IBucket, s3.IBucket]:
    return (
        s3.Bucket.from_bucket_name(stack, "InputBucket", "scoring-input"),
        s3.Bucket.from_bucket_name(stack, "OutputBucket", "scoring-output"),
    )


def job(stack: cdk.Stack, **kwargs: Any) -> BatchTransformJob:
    source, target = buckets(stack)
    kwargs.setdefault("model_data", ModelData.from_s3_uri(MODEL_URI))
    kwargs.setdefault("input", TransformInput(bucket=source, prefix="in/"))
    kwargs.setdefault("output", TransformOutput(bucket=target, prefix="out/"))
    return BatchTransformJob(stack, "Job", **kwargs)


@pytest.fixture(scope="module")
def manual() -> tuple[BatchTransformJob, Template]:
    stack = unit_stack()
    created = job(stack, manual=True)
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def scheduled() -> tuple[BatchTransformJob, Template]:
    stack = unit_stack()
    created = job(stack, schedule="cron(0 2 * * ? *)", schedule_time_zone="Europe/Dublin")
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def new_data() -> tuple[BatchTransformJob, Template]:
    stack = unit_stack()
    created = job(stack, run_on_new_data=True)
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def batched() -> tuple[BatchTransformJob, Template]:
    stack = unit_stack()
    created = job(
        stack,
        run_on_new_data=True,
        new_data_batch_window=cdk.Duration.minutes(2),
        new_data_batch_size=50,
    )
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def in_vpc() -> tuple[BatchTransformJob, Template]:
    stack = unit_stack()
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    created = job(stack, manual=True, vpc=vpc, image=ContainerImage.from_uri(IMAGE_URI))
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def customised() -> tuple[BatchTransformJob, Template, cdk.Stack]:
    stack = unit_stack()
    key = kms.Key(stack, "GivenKey", enable_key_rotation=True)
    topic = sns.Topic(stack, "GivenTopic", master_key=key, enforce_ssl=True)
    data = s3.Bucket.from_bucket_name(stack, "DataBucket", "shared-data")
    created = BatchTransformJob(
        stack,
        "Job",
        model_package=ModelPackage.from_arn(PACKAGE_ARN),
        input=TransformInput(
            bucket=data,
            prefix="scoring/in/",
            content_type="application/jsonlines",
            compression="Gzip",
        ),
        output=TransformOutput(
            bucket=data, prefix="scoring/out/", accept="application/jsonlines", assemble_with="Line"
        ),
        instance_type="ml.g4dn.xlarge",
        instance_count=3,
        max_concurrent_transforms=4,
        max_payload_mb=20,
        batch_strategy="MultiRecord",
        join_source="Input",
        input_filter="$.features",
        output_filter="$['id','SageMakerOutput']",
        schedule="rate(6 hours)",
        run_on_new_data=True,
        invocation_timeout=cdk.Duration.minutes(5),
        invocation_max_retries=1,
        max_runtime=cdk.Duration.hours(3),
        encryption_key=key,
        alarm_topic=topic,
        environment={"MODEL_THREADS": "4"},
        job_name_prefix="churn-scoring",
        notify_success=False,
    )
    return created, Template.from_stack(stack), stack


# --- defaults ----------------------------------------------------------------------------


def test_defaults_create_a_model_with_network_isolation_and_the_model_server(
    manual: tuple[BatchTransformJob, Template],
) -> None:
    _, template = manual
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    properties = model["Properties"]
    assert properties["EnableNetworkIsolation"] is True
    assert "VpcConfig" not in properties
    assert "ModelName" not in properties  # create-only: CloudFormation names it
    container = properties["PrimaryContainer"]
    # the runtime model server, built from the package's assets
    assert_matches(container["Image"], {"Fn::Sub": Match.string_like_regexp(ASSET_IMAGE)})
    assert container["ModelDataSource"]["S3DataSource"] == {
        "S3Uri": MODEL_URI,
        "S3DataType": "S3Object",
        "CompressionType": "Gzip",
    }


def test_defaults_log_everything_encrypted_and_trace(
    manual: tuple[BatchTransformJob, Template],
) -> None:
    _, template = manual
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": {
                "Level": "ALL",
                "IncludeExecutionData": True,
                "Destinations": Match.any_value(),
            },
        },
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "KmsKeyId": Match.any_value(),
            "RetentionInDays": 365,
            "LogGroupName": Match.string_like_regexp(r"^/aws/vendedlogs/states/"),
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_no_role_gets_an_aws_managed_policy_or_an_inline_policy(
    manual: tuple[BatchTransformJob, Template],
    customised: tuple[BatchTransformJob, Template, cdk.Stack],
) -> None:
    for template in (manual[1], customised[1]):
        for role in template.find_resources("AWS::IAM::Role").values():
            assert "ManagedPolicyArns" not in role["Properties"]  # no AmazonSageMakerFullAccess
            assert "Policies" not in role["Properties"]
        template.resource_count_is("AWS::IAM::Policy", 0)
        resources = template.to_json()["Resources"].values()
        assert [r for r in resources if "ManagedPolicyArns" in r.get("Properties", {})] == []


def test_state_machine_role_runs_jobs_and_passes_only_the_execution_role(
    manual: tuple[BatchTransformJob, Template],
) -> None:
    created, template = manual
    found = actions(template, "JobStateMachineRole")
    assert {
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:StopTransformJob",
        "sns:Publish",
        "iam:PassRole",
    } <= found
    assert not {a for a in found if a.endswith("*")}
    (pass_role,) = [
        s for s in statements(template, "JobStateMachineRole") if s["Action"] == "iam:PassRole"
    ]
    stack = cdk.Stack.of(created)
    assert pass_role["Resource"] == stack.resolve(created.role.role_arn)
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_execution_role_reads_the_input_prefix_and_writes_the_output_prefix_only(
    manual: tuple[BatchTransformJob, Template],
) -> None:
    _, template = manual
    found = statements(template, "JobExecutionRole")
    reads = [s for s in found if s["Action"] == "s3:GetObject"]
    assert any("arn:aws:s3:::scoring-input/in/*" in as_list(s["Resource"]) for s in reads)
    (listing,) = [s for s in found if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["in/*"]}}
    (writes,) = [s for s in found if "s3:PutObject" in s["Action"]]
    assert writes["Resource"] == "arn:aws:s3:::scoring-output/out/*"
    assert not any(a.startswith("s3:*") for s in found for a in as_list(s["Action"]))


def test_manual_job_has_no_triggers_and_three_alarms_with_actions(
    manual: tuple[BatchTransformJob, Template],
) -> None:
    created, template = manual
    assert created.schedule is None
    assert created.rule is None
    assert created.dead_letter_queue is None
    template.resource_count_is("AWS::Scheduler::Schedule", 0)
    template.resource_count_is("AWS::Events::Rule", 0)
    template.resource_count_is("AWS::SQS::Queue", 0)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert sorted(a["Properties"]["MetricName"] for a in alarms.values()) == [
        "ExecutionThrottled",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
    ]
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == alarm["Properties"]["OKActions"]
        assert len(alarm["Properties"]["AlarmActions"]) == 1
        assert alarm["Properties"]["Threshold"] == 1


def test_attributes(manual: tuple[BatchTransformJob, Template]) -> None:
    created, _ = manual
    assert created.state_machine.node.id == "StateMachine"
    assert created.model.node.id == "Model"
    assert created.role.node.id == "ExecutionRole"
    assert created.state_machine_role.node.id == "StateMachineRole"
    # <stack>-<id>, short enough for "<prefix>-<UUID>" to stay 8 characters under 63
    assert created.job_name_prefix == "Test-Job"


@pytest.mark.parametrize(
    "stack_name",
    ["mlops-prod-batch", "a" * 128, "mlops-" + "x" * 60 + "-batch", "M-" + "-" * 40 + "x"],
    ids=["prod", "longest-stack-name", "long-with-hyphens", "hyphen-runs"],
)
def test_generated_job_names_keep_a_margin_for_any_stack_name(stack_name: str) -> None:
    stack = cdk.Stack(unit_app(), stack_name, env=TEST_ENV)
    created = job(stack, manual=True)
    prefix = created.job_name_prefix
    name = f"{prefix}-{'0' * 36}"  # States.UUID() is 36 characters
    assert len(name) <= 63 - 8, name
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name)


def test_long_prefixes_that_share_a_start_stay_distinct() -> None:
    first = job(cdk.Stack(unit_app(), "mlops-" + "x" * 40 + "-one", env=TEST_ENV), manual=True)
    second = job(cdk.Stack(unit_app(), "mlops-" + "x" * 40 + "-two", env=TEST_ENV), manual=True)
    assert first.job_name_prefix != second.job_name_prefix


def test_grant_start_execution_allows_exactly_this_state_machine() -> None:
    stack = unit_stack()
    created = job(stack, manual=True)
    operator = iam.Role(stack, "Operator", assumed_by=iam.AccountRootPrincipal())
    created.grant_start_execution(operator)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "states:StartExecution",
                        "Effect": "Allow",
                        "Resource": {"Ref": Match.string_like_regexp("^JobStateMachine")},
                    }
                ]
            },
            "Roles": [{"Ref": Match.string_like_regexp("^Operator")}],
        },
    )


# --- triggers ----------------------------------------------------------------------------


def test_schedule_starts_runs_with_retries_and_an_encrypted_dead_letter_queue(
    scheduled: tuple[BatchTransformJob, Template],
) -> None:
    created, template = scheduled
    assert created.schedule is not None
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 2 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Dublin",
            "KmsKeyArn": Match.any_value(),
            "Target": {
                "Arn": Match.any_value(),
                "RoleArn": Match.any_value(),
                "Input": "{}",
                "DeadLetterConfig": {"Arn": Match.any_value()},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5},
            },
        },
    )
    template.has_resource_properties("AWS::SQS::Queue", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
                        }
                    )
                ]
            }
        },
    )
    found = actions(template, "JobSchedulerRole")
    assert {"states:StartExecution", "sqs:SendMessage", "kms:GenerateDataKey"} <= found
    metrics = [
        a["Properties"]["MetricName"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    ]
    assert "ApproximateNumberOfMessagesVisible" in metrics


def test_new_data_rule_matches_objects_under_the_input_prefix_and_passes_the_key(
    new_data: tuple[BatchTransformJob, Template],
) -> None:
    created, template = new_data
    assert created.rule is not None
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": ["scoring-input"]},
                    "object": {"key": [{"prefix": "in/"}], "size": [{"numeric": [">", 0]}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "InputTransformer": {
                            "InputPathsMap": {"detail-object-key": "$.detail.object.key"},
                            "InputTemplate": '{"key":<detail-object-key>}',
                        },
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                        "RetryPolicy": {
                            "MaximumEventAgeInSeconds": 3600,
                            "MaximumRetryAttempts": 5,
                        },
                        "RoleArn": Match.any_value(),
                    }
                )
            ],
        },
    )
    template.resource_count_is("AWS::Scheduler::Schedule", 0)
    assert actions(template, "JobRuleRole") == {"states:StartExecution"}


def test_vpc_job_runs_in_private_subnets_with_https_egress_only(
    in_vpc: tuple[BatchTransformJob, Template],
) -> None:
    created, template = in_vpc
    assert created.security_group is not None
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    config = model["Properties"]["VpcConfig"]
    assert len(config["Subnets"]) == 2
    assert len(config["SecurityGroupIds"]) == 1
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert model["Properties"]["PrimaryContainer"]["Image"] == IMAGE_URI
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Test/Job transform containers",
            "SecurityGroupEgress": [
                Match.object_like({"CidrIp": "0.0.0.0/0", "FromPort": 443, "ToPort": 443})
            ],
        },
    )
    assert "ec2:CreateNetworkInterface" in actions(template, "JobExecutionRole")


def test_batched_new_data_goes_through_a_queue_and_a_pipe_into_one_run(
    batched: tuple[BatchTransformJob, Template],
) -> None:
    created, template = batched
    assert created.new_data_queue is not None
    assert created.pipe is not None
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {
                            "Fn::GetAtt": [Match.string_like_regexp("^JobNewDataQueue"), "Arn"]
                        },
                        "InputTransformer": Match.object_like(
                            {"InputTemplate": '{"key":<detail-object-key>}'}
                        ),
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ]
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "KmsMasterKeyId": Match.any_value(),
            "VisibilityTimeout": 240,
            "RedrivePolicy": {
                "deadLetterTargetArn": {
                    "Fn::GetAtt": [Match.string_like_regexp("^JobTriggerDeadLetterQueue"), "Arn"]
                },
                "maxReceiveCount": 3,
            },
        },
    )
    template.has_resource_properties(
        "AWS::Pipes::Pipe",
        {
            "Source": {"Fn::GetAtt": [Match.string_like_regexp("^JobNewDataQueue"), "Arn"]},
            "SourceParameters": {
                "SqsQueueParameters": {"BatchSize": 50, "MaximumBatchingWindowInSeconds": 120}
            },
            "Target": {"Ref": Match.string_like_regexp("^JobStateMachine")},
            "TargetParameters": {
                "InputTemplate": '{"key": "<$.body.key>"}',
                "StepFunctionStateMachineParameters": {"InvocationType": "FIRE_AND_FORGET"},
            },
            "KmsKeyIdentifier": Match.any_value(),
        },
    )
    assert {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "states:StartExecution",
        "kms:Decrypt",
    } <= actions(template, "JobPipeRole")
    template.resource_count_is("AWS::SQS::Queue", 2)  # new data, dead letters
    # no direct start: no rule role, so nothing can refer to one
    assert [k for k in template.to_json()["Resources"] if k.startswith("JobRuleRole")] == []


def test_batched_runs_read_and_write_manifests_under_the_output_prefix_only(
    batched: tuple[BatchTransformJob, Template],
) -> None:
    _, template = batched
    writes = [
        s for s in statements(template, "JobStateMachineRole") if s["Action"] == "s3:PutObject"
    ]
    assert [w["Resource"] for w in writes] == ["arn:aws:s3:::scoring-output/out/manifests/*"]
    reads = [s for s in statements(template, "JobExecutionRole") if s["Action"] == "s3:GetObject"]
    assert any(
        "arn:aws:s3:::scoring-output/out/manifests/*" in as_list(s["Resource"]) for s in reads
    )


def test_batched_runs_alarm_when_new_objects_wait_too_long(
    batched: tuple[BatchTransformJob, Template],
) -> None:
    _, template = batched
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateAgeOfOldestMessage",
            "Threshold": 120 + 15 * 60,
            "AlarmActions": [Match.any_value()],
        },
    )


# --- customised --------------------------------------------------------------------------


def test_customised_job_uses_the_given_key_topic_and_model_package(
    customised: tuple[BatchTransformJob, Template, cdk.Stack],
) -> None:
    created, template, stack = customised
    template.resource_count_is("AWS::KMS::Key", 1)  # only the given one
    template.resource_count_is("AWS::SNS::Topic", 1)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    assert model["Properties"]["PrimaryContainer"] == {"ModelPackageName": PACKAGE_ARN}
    assert "sagemaker:DescribeModelPackage" in actions(template, "JobExecutionRole")
    assert stack.resolve(created.encryption_key.key_arn)["Fn::GetAtt"][0].startswith("GivenKey")
    assert stack.resolve(created.alarm_topic.topic_arn)["Ref"].startswith("GivenTopic")
    # The state machine may use the topic's key to publish encrypted notifications.
    assert "kms:GenerateDataKey" in actions(template, "JobStateMachineRole")
    template.resource_count_is("AWS::Scheduler::Schedule", 1)
    template.resource_count_is("AWS::Events::Rule", 1)
    template.resource_count_is("AWS::SQS::Queue", 1)  # one dead-letter queue for both


def test_same_bucket_with_separate_prefixes_is_allowed(
    customised: tuple[BatchTransformJob, Template, cdk.Stack],
) -> None:
    created, _, _ = customised
    assert created.input.bucket is created.output.bucket


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_every_scenario_passes_the_nag_packs(
    pack: Any,
    manual: tuple[BatchTransformJob, Template],
    scheduled: tuple[BatchTransformJob, Template],
    new_data: tuple[BatchTransformJob, Template],
    batched: tuple[BatchTransformJob, Template],
    in_vpc: tuple[BatchTransformJob, Template],
    customised: tuple[BatchTransformJob, Template, cdk.Stack],
) -> None:
    scenarios = (manual, scheduled, new_data, batched, in_vpc, customised)
    for created in (scenario[0] for scenario in scenarios):
        report = pack().validate_scope(created)
        found = [
            f"{v.rule_name} [{r.construct_path}]"
            for v in report.violations
            for r in v.violating_resources
        ]
        assert found == []
