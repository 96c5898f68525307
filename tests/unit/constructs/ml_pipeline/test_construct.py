"""MLPipeline: the generated definition (structure, dependencies, parameter references, role and
KMS wiring), least privilege, notifications, triggers with and without the overlap guard, VPC,
custom graphs and the nag packs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from mlops_cdk.constructs import ContainerImage
from mlops_cdk.constructs.ml_pipeline.construct import MLPipeline
from mlops_cdk.constructs.ml_pipeline.steps import PipelineSteps
from mlops_cdk.runtime import codecs
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_stack
from tests.helpers.compliance import cfn_lint
from tests.helpers.images import asset_hash, image_tag
from tests.helpers.scenarios import SKLEARN, pipeline
from tests.helpers.templates import as_list
from tests.helpers.templates import managed_policy_actions as actions
from tests.helpers.templates import managed_policy_statements as statements

DRIFT_ALARM = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:churn-drift"
USER_SERVER = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-server:7"


def definition(created: MLPipeline) -> dict[str, Any]:
    """The definition with tokens resolved to CloudFormation expressions."""
    resolved: dict[str, Any] = cdk.Stack.of(created).resolve(created.definition)
    return resolved


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def steps_by_name(resolved: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            found[step["Name"]] = step
            if step["Type"] == "Condition":
                visit(step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"])

    visit(resolved["Steps"])
    return found


@pytest.fixture(scope="module")
def manual() -> tuple[MLPipeline, Template]:
    stack = unit_stack()
    created = pipeline(stack)
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def guarded() -> tuple[MLPipeline, Template]:
    stack = unit_stack()
    alarm = cloudwatch.Alarm.from_alarm_arn(stack, "Drift", DRIFT_ALARM)
    created = pipeline(
        stack,
        retrain_schedule="cron(0 3 ? * MON *)",
        schedule_time_zone="Europe/Dublin",
        retrain_on_new_data=True,
        retrain_on_alarms=[alarm],
    )
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def direct() -> tuple[MLPipeline, Template]:
    stack = unit_stack()
    created = pipeline(
        stack,
        retrain_schedule="rate(7 days)",
        retrain_on_new_data=True,
        on_overlap="allow",
        use_spot=False,
        training_instance_type="ml.r5d.xlarge",
        approval="Approved",
        pipeline_name="churn-training",
        training_image=ContainerImage.from_uri(SKLEARN),
        inference_image=ContainerImage.from_uri(USER_SERVER),
        hyperparameters={"C": "0.5", "class_weight": "balanced"},
    )
    return created, Template.from_stack(stack)


@pytest.fixture(scope="module")
def in_vpc() -> tuple[MLPipeline, Template]:
    stack = unit_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])  # fmt: skip
    created = pipeline(stack, vpc=vpc, drift_baselines=False)
    return created, Template.from_stack(stack)


# --- the definition -------------------------------------------------------------------


def test_definition_is_the_standard_graph(manual: tuple[MLPipeline, Template]) -> None:
    resolved = definition(manual[0])
    assert resolved["Version"] == "2020-12-01"
    assert [s["Name"] for s in resolved["Steps"]] == [
        "Preprocess",
        "Train",
        "Evaluate",
        "DriftBaseline",
        "CheckMetric",
    ]
    check = resolved["Steps"][-1]
    assert [s["Name"] for s in check["Arguments"]["IfSteps"]] == ["Register"]
    assert [s["Name"] for s in check["Arguments"]["ElseSteps"]] == ["MetricBelowThreshold"]
    assert {s["Name"]: s["Type"] for s in steps_by_name(resolved).values()} == {
        "Preprocess": "Processing",
        "Train": "Training",
        "Evaluate": "Processing",
        "DriftBaseline": "Processing",
        "CheckMetric": "Condition",
        "Register": "RegisterModel",
        "MetricBelowThreshold": "Fail",
    }


def test_parameters_can_be_overridden_per_execution(manual: tuple[MLPipeline, Template]) -> None:
    resolved = definition(manual[0])
    assert resolved["Parameters"] == [
        {"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://data-bucket/churn/input/"},
        {"Name": "ProcessingInstanceType", "Type": "String", "DefaultValue": "ml.m5.large"},
        {"Name": "TrainingInstanceType", "Type": "String", "DefaultValue": "ml.m5.xlarge"},
        {"Name": "MetricThreshold", "Type": "Float", "DefaultValue": 0.8},
        {"Name": "ModelApprovalStatus", "Type": "String", "DefaultValue": "PendingManualApproval"},
        {"Name": "Trigger", "Type": "String", "DefaultValue": "manual"},
    ]  # fmt: skip
    steps = steps_by_name(resolved)
    preprocess = steps["Preprocess"]["Arguments"]
    assert preprocess["ProcessingInputs"][0]["S3Input"]["S3Uri"] == {
        "Get": "Parameters.InputDataUrl"
    }
    assert preprocess["ProcessingResources"]["ClusterConfig"]["InstanceType"] == {
        "Get": "Parameters.ProcessingInstanceType"
    }
    train = steps["Train"]["Arguments"]
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    condition = steps["CheckMetric"]["Arguments"]["Conditions"]
    assert condition == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                    "Path": "metrics.accuracy.value",
                }
            },
            "RightValue": {"Get": "Parameters.MetricThreshold"},
        }
    ]
    assert steps["Register"]["Arguments"]["ModelApprovalStatus"] == {
        "Get": "Parameters.ModelApprovalStatus"
    }


def test_steps_depend_on_each_other_through_their_properties(
    manual: tuple[MLPipeline, Template],
) -> None:
    created = manual[0]
    edges = {step.name: step.references() for step in created.steps.steps}
    assert edges == {
        "Preprocess": set(),
        "Train": {"Preprocess"},
        "Evaluate": {"Preprocess", "Train"},
        "DriftBaseline": {"Preprocess"},
        "CheckMetric": {"Evaluate"},
        "Register": {"Train", "Evaluate", "DriftBaseline"},
        "MetricBelowThreshold": set(),
    }
    steps = steps_by_name(definition(created))
    train_input = steps["Train"]["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert train_input["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    evaluate_inputs = {
        i["InputName"]: i["S3Input"]["S3Uri"] for i in steps["Evaluate"]["Arguments"]["ProcessingInputs"]
    }  # fmt: skip
    assert evaluate_inputs["model"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert steps["Evaluate"]["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]


def test_spot_training_checkpoints_and_waits_longer_than_it_runs(
    manual: tuple[MLPipeline, Template],
) -> None:
    train = steps_by_name(definition(manual[0]))["Train"]["Arguments"]
    assert train["EnableManagedSpotTraining"] is True
    assert train["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 7200,
        "MaxWaitTimeInSeconds": 14400,
    }
    checkpoint = train["CheckpointConfig"]
    assert checkpoint["LocalPath"] == "/opt/ml/checkpoints"
    assert checkpoint["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://data-bucket/ml-pipeline/runs",
                {"Get": "Execution.PipelineExecutionId"},
                "checkpoints",
            ],
        }
    }


def test_jobs_run_the_code_baked_into_the_training_image(
    manual: tuple[MLPipeline, Template],
) -> None:
    created, template = manual
    steps = steps_by_name(definition(created))
    training = asset_hash(ContainerImage.training())
    train = steps["Train"]["Arguments"]
    assert image_tag(train["AlgorithmSpecification"]["TrainingImage"]) == training
    # No script mode: no hyperparameters at all by default, and the container needs no network.
    assert "HyperParameters" not in train
    assert train["EnableNetworkIsolation"] is True
    for name, module in (("Preprocess", "preprocess"), ("Evaluate", "evaluate")):
        app = steps[name]["Arguments"]["AppSpecification"]
        assert image_tag(app["ImageUri"]) == training
        assert app["ContainerEntrypoint"] == ["python3", "-m", f"mlops_runtime.training.{module}"]
        inputs = [i["InputName"] for i in steps[name]["Arguments"]["ProcessingInputs"]]
        assert "code" not in inputs
    outputs = {
        o["OutputName"]: o["S3Output"]["LocalPath"]
        for o in steps["Preprocess"]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    }
    assert outputs == {
        "train": "/opt/ml/processing/train",
        "test": "/opt/ml/processing/test",
        "features": "/opt/ml/processing/features",
    }
    # Nothing reads the code prefix, so the role may not either.
    readable = {
        resource
        for s in statements(template, "PipelineExecutionRole")
        if "s3:GetObject" in as_list(s["Action"])
        for resource in as_list(s["Resource"])
    }
    assert readable == {
        "arn:aws:s3:::data-bucket/churn/input/*",
        "arn:aws:s3:::data-bucket/ml-pipeline/runs/*",
    }


def test_jobs_run_as_the_execution_role_and_encrypt_with_the_key(
    manual: tuple[MLPipeline, Template],
) -> None:
    created, template = manual
    steps = steps_by_name(definition(created))
    role = {"Fn::GetAtt": [_logical_id(template, "AWS::IAM::Role", "PipelineExecutionRole"), "Arn"]}
    key = {"Fn::GetAtt": [_logical_id(template, "AWS::KMS::Key", "PipelineKey"), "Arn"]}
    for name in ("Preprocess", "Evaluate", "DriftBaseline"):
        arguments = steps[name]["Arguments"]
        assert arguments["RoleArn"] == role
        assert arguments["ProcessingOutputConfig"]["KmsKeyId"] == key
        assert arguments["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == key
    train = steps["Train"]["Arguments"]
    assert train["RoleArn"] == role
    assert train["OutputDataConfig"]["KmsKeyId"] == key
    assert train["ResourceConfig"]["VolumeKmsKeyId"] == key
    template.has_resource_properties(
        "AWS::SageMaker::Pipeline",
        {
            "RoleArn": role,
            "PipelineName": created.pipeline_name,
            "ParallelismConfiguration": {"MaxParallelExecutionSteps": 2},
        },
    )


def test_registration_carries_metrics_and_drift_baselines(
    manual: tuple[MLPipeline, Template],
) -> None:
    register = steps_by_name(definition(manual[0]))["Register"]["Arguments"]
    assert register["ModelPackageGroupName"] == "churn"
    specification = register["InferenceSpecification"]
    (container,) = specification["Containers"]
    assert image_tag(container["Image"]) == asset_hash(ContainerImage.model_server())
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    # What the model server reads and answers.
    assert specification["SupportedContentTypes"] == [codecs.JSON, codecs.CSV, codecs.JSONLINES]
    assert specification["SupportedResponseMIMETypes"] == list(codecs.SUPPORTED_OUTPUTS)
    statistics = register["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"},
                "statistics.json",
            ],
        }
    }  # fmt: skip
    # evaluate's model-quality statistics and constraints: the package's quality and the
    # drift job's model-quality baseline.
    assert (
        register["DriftCheckBaselines"]["ModelQuality"] == register["ModelMetrics"]["ModelQuality"]
    )
    quality = register["ModelMetrics"]["ModelQuality"]["Constraints"]["S3Uri"]
    assert quality["Std:Join"]["Values"][-1] == "constraints.json"
    baselines = register["DriftCheckBaselines"]["ModelDataQuality"]
    assert baselines["Constraints"]["S3Uri"]["Std:Join"]["Values"][-1] == "constraints.json"
    assert baselines["Statistics"]["S3Uri"]["Std:Join"]["Values"][-1] == "statistics.json"
    baseline = steps_by_name(definition(manual[0]))["DriftBaseline"]["Arguments"]
    assert baseline["AppSpecification"]["ContainerEntrypoint"] == [
        "python", "-m", "mlops_runtime.drift", "baseline",
        "--train", "/opt/ml/processing/input/features/train.csv",
        "--out", "/opt/ml/processing/baseline",
    ]  # fmt: skip
    # The request columns only (preprocess's features output), never the labelled split.
    (features,) = baseline["ProcessingInputs"]
    assert features["S3Input"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['features'].S3Output.S3Uri"
    }
    assert features["S3Input"]["LocalPath"] == "/opt/ml/processing/input/features"


def test_template_body_is_the_definition(manual: tuple[MLPipeline, Template]) -> None:
    created, template = manual
    body = next(iter(template.find_resources("AWS::SageMaker::Pipeline").values()))["Properties"][
        "PipelineDefinition"
    ]["PipelineDefinitionBody"]
    text = "".join(part if isinstance(part, str) else "TOKEN" for part in body["Fn::Join"][1])
    parsed = json.loads(text)
    assert [s["Name"] for s in parsed["Steps"]] == [s["Name"] for s in created.definition["Steps"]]


# --- permissions ----------------------------------------------------------------------


def test_execution_role_is_least_privilege(manual: tuple[MLPipeline, Template]) -> None:
    _, template = manual
    assert actions(template, "PipelineExecutionRole") == {
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
        "logs:DescribeLogStreams", "cloudwatch:PutMetricData",
        "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey",
        "s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:AbortMultipartUpload",
        "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob",
        "sagemaker:StopProcessingJob", "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob", "sagemaker:AddTags",
        "sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages", "sagemaker:CreateModelPackage",
        "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken", "iam:PassRole",
    }  # fmt: skip
    passing = [
        s for s in statements(template, "PipelineExecutionRole") if s["Action"] == "iam:PassRole"
    ]
    role = _logical_id(template, "AWS::IAM::Role", "PipelineExecutionRole")
    assert passing == [
        {
            "Sid": "PassOnlyItself",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": [role, "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    ]  # fmt: skip
    writes = [
        s for s in statements(template, "PipelineExecutionRole") if "s3:PutObject" in s["Action"]
    ]
    assert writes[0]["Resource"] == "arn:aws:s3:::data-bucket/ml-pipeline/runs/*"


def test_no_role_has_an_aws_managed_or_inline_policy(manual: tuple[MLPipeline, Template]) -> None:
    _, template = manual
    for role in template.find_resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
        assert "Policies" not in role["Properties"]
    assert template.find_resources("AWS::IAM::Policy") == {}


# --- notifications and triggers -------------------------------------------------------


def test_executions_and_packages_notify_the_topic(manual: tuple[MLPipeline, Template]) -> None:
    created, template = manual
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Building Pipeline Execution Status Change"],
                "detail": {
                    "pipelineArn": [Match.any_value()],
                    "currentPipelineExecutionStatus": ["Failed", "Succeeded"],
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": _logical_id(template, "AWS::SNS::Topic", "PipelineAlarmTopic")},
                        "RoleArn": Match.any_value(),
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelPackageGroupName": ["churn"]},
            }
        },
    )
    assert created.state_machine is None
    assert created.schedule is None
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)


def test_guarded_triggers_go_through_the_state_machine(
    guarded: tuple[MLPipeline, Template],
) -> None:
    created, template = guarded
    machine = _logical_id(template, "AWS::StepFunctions::StateMachine", "PipelineGuard")
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 3 ? * MON *)",
            "ScheduleExpressionTimezone": "Europe/Dublin",
            "Target": {
                "Arn": {"Ref": machine},
                "Input": compact(
                    {"trigger": "schedule", "parameters": [{"Name": "Trigger", "Value": "schedule"}]}
                ),
                "DeadLetterConfig": Match.any_value(),
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 5},
            },
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": ["data-bucket"]},
                    "object": {"key": [{"prefix": "churn/input/"}], "size": [{"numeric": [">", 0]}]},
                },
            },
            "Targets": [Match.object_like({"Arn": {"Ref": machine}})],
        },
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [DRIFT_ALARM],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": machine},
                        "Input": compact(
                            {"trigger": "alarm", "parameters": [{"Name": "Trigger", "Value": "alarm"}]}
                        ),
                    }
                )
            ],
        },
    )  # fmt: skip
    assert created.state_machine is not None


def test_guard_skips_when_an_execution_is_executing(guarded: tuple[MLPipeline, Template]) -> None:
    created, template = guarded
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine").values()))
    text = "".join(
        p if isinstance(p, str) else "TOKEN"
        for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    )
    states = json.loads(text)["States"]
    assert states["ListExecutions"]["Resource"].endswith(":sagemaker:listPipelineExecutions")
    assert states["ListExecutions"]["ResultSelector"] == {
        "running.$": "$.PipelineExecutionSummaries[?(@.PipelineExecutionStatus == 'Executing')]"
        ".PipelineExecutionArn"
    }
    assert states["AlreadyRunning?"]["Choices"][0] == {
        "Variable": "$.guard.running[0]",
        "IsPresent": True,
        "Next": "AlreadyRunning",
    }
    assert states["AlreadyRunning"]["Type"] == "Succeed"
    assert states["StartExecution"]["Parameters"]["PipelineParameters.$"] == "$.parameters"
    assert actions(template, "PipelineGuardRole") >= {
        "sagemaker:ListPipelineExecutions",
        "sagemaker:StartPipelineExecution",
    }
    guard_sagemaker = [
        s for s in statements(template, "PipelineGuardRole") if any(a.startswith("sagemaker:") for a in as_list(s["Action"]))
    ]  # fmt: skip
    assert all(
        s["Resource"] == "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/" + created.pipeline_name
        for s in guard_sagemaker
    )  # fmt: skip


def test_direct_triggers_start_the_pipeline_with_parameters(
    direct: tuple[MLPipeline, Template],
) -> None:
    created, template = direct
    arn = "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/churn-training"
    assert created.pipeline_arn == arn
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(7 days)",
            "Target": Match.object_like(
                {
                    "Arn": arn,
                    "SageMakerPipelineParameters": {
                        "PipelineParameterList": [{"Name": "Trigger", "Value": "schedule"}]
                    },
                }
            ),
        },
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like({"source": ["aws.s3"]}),
            "Targets": [
                Match.object_like(
                    {
                        "Arn": arn,
                        "RoleArn": Match.any_value(),
                        "DeadLetterConfig": Match.any_value(),
                        "SageMakerPipelineParameters": {
                            "PipelineParameterList": [{"Name": "Trigger", "Value": "new-data"}]
                        },
                    }
                )
            ],
        },
    )
    events_starts = [
        s for s in statements(template, "PipelineEventsRole") if s["Action"] == "sagemaker:StartPipelineExecution"
    ]  # fmt: skip
    assert [s["Resource"] for s in events_starts] == [arn]
    scheduler_starts = [
        s for s in statements(template, "PipelineSchedulerRole") if s["Action"] == "sagemaker:StartPipelineExecution"
    ]  # fmt: skip
    assert [s["Resource"] for s in scheduler_starts] == [arn]
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)


def test_direct_options_shape_the_definition(direct: tuple[MLPipeline, Template]) -> None:
    steps = steps_by_name(definition(direct[0]))
    train = steps["Train"]["Arguments"]
    assert "EnableManagedSpotTraining" not in train
    assert "CheckpointConfig" not in train
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 7200}
    # ml.r5d has NVMe instance storage: SageMaker rejects a volume key there.
    assert "VolumeKmsKeyId" not in train["ResourceConfig"]
    assert definition(direct[0])["Parameters"][4]["DefaultValue"] == "Approved"
    # A user's images and hyperparameters are used as given.
    assert train["AlgorithmSpecification"]["TrainingImage"] == SKLEARN
    assert train["HyperParameters"] == {"C": "0.5", "class_weight": "balanced"}
    assert steps["Evaluate"]["Arguments"]["AppSpecification"]["ImageUri"] == SKLEARN
    register = steps["Register"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert register["Image"] == USER_SERVER


def test_vpc_jobs_use_private_subnets_and_https_egress(in_vpc: tuple[MLPipeline, Template]) -> None:
    created, template = in_vpc
    steps = steps_by_name(definition(created))
    assert "DriftBaseline" not in steps
    # Without the drift-baseline step only evaluate's model-quality baseline is registered.
    assert list(steps["Register"]["Arguments"]["DriftCheckBaselines"]) == ["ModelQuality"]
    vpc_config = steps["Train"]["Arguments"]["VpcConfig"]
    assert len(vpc_config["Subnets"]) == 2
    assert steps["Preprocess"]["Arguments"]["NetworkConfig"]["VpcConfig"] == vpc_config
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": [Match.object_like({"FromPort": 443, "ToPort": 443})]},
    )
    assert "ec2:CreateNetworkInterface" in actions(template, "PipelineExecutionRole")


def test_custom_graph_replaces_the_standard_one() -> None:
    stack = unit_stack()
    steps = PipelineSteps()
    steps.processing("Only", arguments={"AppSpecification": {"ImageUri": SKLEARN}})
    created = pipeline(stack, steps=steps, retrain_on_new_data=True, on_overlap="allow")
    assert [s["Name"] for s in created.definition["Steps"]] == ["Only"]
    assert created.definition["Parameters"] == []
    template = Template.from_stack(stack)
    # A custom graph may read scripts under code_prefix.
    assert any(
        "arn:aws:s3:::data-bucket/ml-pipeline/code/*" in as_list(s["Resource"])
        for s in statements(template, "PipelineExecutionRole")
        if "s3:GetObject" in as_list(s["Action"])
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Targets": [
                Match.object_like({"SageMakerPipelineParameters": {"PipelineParameterList": []}})
            ]
        },
    )


def test_grant_start_uses_the_guard_when_there_is_one(
    guarded: tuple[MLPipeline, Template], direct: tuple[MLPipeline, Template]
) -> None:
    for created, action in (
        (guarded[0], "states:StartExecution"),
        (direct[0], "sagemaker:StartPipelineExecution"),
    ):
        stack = cdk.Stack.of(created)
        user = cdk.aws_iam.User(stack, f"Operator{action.split(':')[0]}")
        created.grant_start(user)
        resolved = stack.resolve(user.node.find_child("DefaultPolicy").document)  # type: ignore[attr-defined]
        assert resolved["Statement"][0]["Action"] == action


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
@pytest.mark.parametrize("scenario", ["manual", "guarded", "direct", "in_vpc"])
def test_every_scenario_passes_the_nag_packs(
    request: pytest.FixtureRequest, scenario: str, pack: Any
) -> None:
    created, _ = request.getfixturevalue(scenario)
    report = pack().validate_scope(created)
    found = [
        f"{v.rule_name} [{c.construct_path}]"
        for v in report.violations
        for c in v.violating_resources
    ]
    assert found == []


def _logical_id(template: Template, kind: str, prefix: str) -> str:
    matches = [key for key in template.find_resources(kind) if key.startswith(prefix)]
    assert len(matches) == 1, matches
    return matches[0]


def test_scenarios_pass_cfn_lint(
    manual: tuple[MLPipeline, Template],
    guarded: tuple[MLPipeline, Template],
    direct: tuple[MLPipeline, Template],
    in_vpc: tuple[MLPipeline, Template],
    tmp_path: Path,
) -> None:
    # The environments synthesize the guarded shape only; the direct targets (the rule target's
    # SageMakerPipelineParameters escape hatch, the Scheduler's SageMaker target), the alarm
    # trigger and the VPC shape are linted here.
    files = []
    scenarios = {"manual": manual, "guarded": guarded, "direct": direct, "in_vpc": in_vpc}
    for name, (_, template) in scenarios.items():
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(template.to_json()), encoding="utf-8")
        files.append(path)
    result = cfn_lint(files)
    assert result.returncode == 0, result.stdout + result.stderr
