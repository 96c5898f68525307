"""The Training stack wires MLPipeline from each environment's config, the Data stack owns the
model registry, and the ml_pipeline config section rejects settings that cannot work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.config import MLPipelineSettings, load_environment
from tests.helpers.apps import SynthesizedApp
from tests.helpers.config import VALID

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture(scope="module")
def training(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {env: Template.from_json(templates[f"mlops-{env}-training"]) for env in ACCOUNTS}


@pytest.fixture(scope="module")
def data(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {env: Template.from_json(templates[f"mlops-{env}-data"]) for env in ACCOUNTS}


def body(template: Template) -> dict[str, Any]:
    (pipeline,) = template.find_resources("AWS::SageMaker::Pipeline").values()
    parts = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Join"][1]
    loaded: dict[str, Any] = json.loads(
        "".join(p if isinstance(p, str) else "<token>" for p in parts)
    )
    return loaded


@pytest.mark.parametrize("env", list(ACCOUNTS))
def test_the_data_stack_owns_a_retained_registry_the_pipeline_registers_in(
    data: dict[str, Template], training: dict[str, Template], env: str
) -> None:
    policy = "Delete" if env == "dev" else "Retain"
    data[env].has_resource(
        "AWS::SageMaker::ModelPackageGroup",
        {"DeletionPolicy": policy, "Properties": Match.object_like({"ModelPackageGroupName": "churn"})},
    )  # fmt: skip
    training[env].resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)
    definition = body(training[env])
    register = definition["Steps"][-1]["Arguments"]["IfSteps"][0]
    assert register["Arguments"]["ModelPackageGroupName"] == "churn"
    training[env].has_resource_properties(
        "AWS::SageMaker::Pipeline", {"PipelineName": f"mlops-{env}-training"}
    )


def test_dev_trains_by_hand_outside_the_vpc(training: dict[str, Template]) -> None:
    dev = training["dev"]
    dev.resource_count_is("AWS::Scheduler::Schedule", 0)
    dev.resource_count_is("AWS::StepFunctions::StateMachine", 0)
    dev.resource_count_is("AWS::EC2::SecurityGroup", 0)
    rules = dev.find_resources("AWS::Events::Rule")
    assert len(rules) == 2  # execution status and model package notifications only
    train = body(dev)["Steps"][1]["Arguments"]
    assert train["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert train["AlgorithmSpecification"]["TrainingImage"] == SKLEARN


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_retrain_weekly_and_on_new_data_through_the_guard(
    training: dict[str, Template], env: str
) -> None:
    template = training[env]
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine")))
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": "cron(0 4 ? * SUN *)", "Target": Match.object_like({"Arn": {"Ref": machine}})},
    )  # fmt: skip
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": {
                        "bucket": {"name": [f"mlops-{env}-artifacts-{ACCOUNTS[env]}-eu-west-1"]},
                        "object": {
                            "key": [{"prefix": "training/input/"}],
                            "size": [{"numeric": [">", 0]}],
                        },
                    }
                }
            ),
            "Targets": [Match.object_like({"Arn": {"Ref": machine}})],
        },
    )
    train = body(template)["Steps"][1]["Arguments"]
    assert "VpcConfig" in train


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_retrain_when_the_monitoring_drift_alarm_fires(
    training: dict[str, Template], env: str
) -> None:
    template = training[env]
    machine = next(iter(template.find_resources("AWS::StepFunctions::StateMachine")))
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [
                    {
                        "Fn::GetStackOutput": Match.object_like(
                            {"StackName": f"mlops-{env}-monitoring"}
                        )
                    }
                ],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "Targets": [Match.object_like({"Arn": {"Ref": machine}})],
        },
    )


@pytest.mark.parametrize("env", list(ACCOUNTS))
def test_outputs_name_the_pipeline(training: dict[str, Template], env: str) -> None:
    training[env].has_output("PipelineName", {"Value": f"mlops-{env}-training"})


def load(tmp_path: Path, section: dict[str, Any]) -> MLPipelineSettings:
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump({**VALID, "ml_pipeline": section}), encoding="utf-8")
    return load_environment("qa", config_dir=tmp_path, environ={}).ml_pipeline


def test_the_section_is_off_by_default_with_safe_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, {})
    assert settings.enabled is False
    assert settings.use_spot is True
    assert settings.approval == "PendingManualApproval"
    assert settings.on_overlap == "skip"
    assert settings.registry_group("mlops") == "mlops-models"
    assert settings.input_prefix == "training/input/"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"enabled": True},
         r"qa\.yaml: ml_pipeline\.training_image: is required when enabled"),
        ({"training_image": "docker.io/library/python:3.12"},
         r"qa\.yaml: ml_pipeline\.training_image: must be an ECR image URI"),
        ({"approval": "approved"}, r"qa\.yaml: ml_pipeline\.approval: "),
        ({"retrain_schedule": "weekly"}, r"qa\.yaml: ml_pipeline\.retrain_schedule: must be"),
        ({"group_name": "churn_models"}, r"qa\.yaml: ml_pipeline\.group_name: must be a model package group name"),
        ({"cross_account_readers": ["1234"]}, r"qa\.yaml: ml_pipeline\.cross_account_readers\[0\]: must be a 12-digit"),
        ({"retrain_on_new_data": True, "input_prefix": "training/"},
         r"qa\.yaml: ml_pipeline\.output_prefix: must be outside input_prefix 'training/' with "
         r"retrain_on_new_data"),
        ({"retrain_on_new_data": True, "input_prefix": "data/", "output_prefix": "out/",
          "code_prefix": "data/code/"},
         r"qa\.yaml: ml_pipeline\.code_prefix: must be outside input_prefix 'data/'"),
        ({"max_runtime_hours": 0}, r"qa\.yaml: ml_pipeline\.max_runtime_hours: "),
        ({"metric_name": "a b"}, r"qa\.yaml: ml_pipeline\.metric_name: must be 1-64 letters"),
        ({"on_overlap": "queue"}, r"qa\.yaml: ml_pipeline\.on_overlap: "),
        ({"retrain_on_drift": True},
         r"qa\.yaml: ml_pipeline\.retrain_on_drift: needs model_monitor\.enabled"),
    ],
    ids=["image-required", "image-not-ecr", "approval-case", "schedule", "group-name",
         "reader-account", "output-under-input", "code-under-input", "runtime", "metric-name",
         "overlap", "drift-without-monitor"],
)  # fmt: skip
def test_invalid_section_fails_precisely(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(tmp_path, section)
