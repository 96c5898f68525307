"""The Training stack wires MLPipeline from each environment's config, the Data stack owns the
model registry, and the ml_pipeline config section rejects settings that cannot work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Capture, Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EnvironmentConfig, MLPipelineSettings, RemovalPolicy, load_environment
from mlops_cdk.constructs import ContainerImage
from tests.helpers.apps import SynthesizedApp
from tests.helpers.config import VALID
from tests.helpers.images import asset_hash, image_tag
from tests.helpers.wiring import bucket_name, joined_json, only, private_subnets, produced_by

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def templates(synthesized_app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    return synthesized_app.templates()


@pytest.fixture(scope="module")
def training(templates: dict[str, dict[str, Any]]) -> dict[str, Template]:
    return {env: Template.from_json(templates[f"mlops-{env}-training"]) for env in ENVIRONMENTS}


@pytest.fixture(scope="module")
def data(templates: dict[str, dict[str, Any]]) -> dict[str, Template]:
    return {env: Template.from_json(templates[f"mlops-{env}-data"]) for env in ENVIRONMENTS}


def body(template: Template) -> dict[str, Any]:
    (pipeline,) = template.find_resources("AWS::SageMaker::Pipeline").values()
    loaded: dict[str, Any] = joined_json(
        pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    )
    return loaded


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_data_stack_owns_a_retained_registry_the_pipeline_registers_in(
    data: dict[str, Template],
    training: dict[str, Template],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    group = configs[env].ml_pipeline.group_name
    policy = "Retain" if configs[env].removal_policy is RemovalPolicy.RETAIN else "Delete"
    data[env].has_resource(
        "AWS::SageMaker::ModelPackageGroup",
        {"DeletionPolicy": policy, "Properties": Match.object_like({"ModelPackageGroupName": group})},
    )  # fmt: skip
    training[env].resource_count_is("AWS::SageMaker::ModelPackageGroup", 0)
    definition = body(training[env])
    register = definition["Steps"][-1]["Arguments"]["IfSteps"][0]
    assert register["Arguments"]["ModelPackageGroupName"] == group
    training[env].has_resource_properties(
        "AWS::SageMaker::Pipeline", {"PipelineName": f"mlops-{env}-training"}
    )


def test_dev_trains_by_hand_outside_the_vpc(
    training: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    settings = configs["dev"].ml_pipeline
    assert (settings.retrain_schedule, settings.retrain_on_new_data) == (None, False)
    dev = training["dev"]
    dev.resource_count_is("AWS::Scheduler::Schedule", 0)
    dev.resource_count_is("AWS::StepFunctions::StateMachine", 0)
    dev.resource_count_is("AWS::EC2::SecurityGroup", 0)
    rules = dev.find_resources("AWS::Events::Rule")
    assert len(rules) == 2  # execution status and model package notifications only
    train = body(dev)["Steps"][1]["Arguments"]
    runtime = settings.max_runtime_hours * 3600
    assert settings.use_spot is True  # so the job may wait for capacity: twice the runtime
    assert train["StoppingCondition"] == {
        "MaxRuntimeInSeconds": runtime,
        "MaxWaitTimeInSeconds": 2 * runtime,
    }
    assert "VpcConfig" not in train


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_project_images_train_and_serve_and_the_gate_is_the_configs(
    synthesized_app: SynthesizedApp, configs: dict[str, EnvironmentConfig], env: str
) -> None:
    settings = configs[env].ml_pipeline
    assert settings.training_image is None  # no framework image: the code is in ours
    pipeline = synthesized_app.stages[env].training.pipeline
    assert pipeline is not None
    steps = {s.name: s.arguments for s in pipeline.steps.steps}
    resolve = synthesized_app.stages[env].training.resolve
    training, server = (
        asset_hash(ContainerImage.training()),
        asset_hash(ContainerImage.model_server()),
    )
    assert image_tag(resolve(steps["Train"]["AlgorithmSpecification"]["TrainingImage"])) == training
    for name in ("Preprocess", "Evaluate"):
        assert image_tag(resolve(steps[name]["AppSpecification"]["ImageUri"])) == training
    (container,) = steps["Register"]["InferenceSpecification"]["Containers"]
    assert image_tag(resolve(container["Image"])) == server
    assert (settings.metric_name, settings.metric_threshold) == ("auc", 0.85)
    (gate,) = pipeline.steps.step("CheckMetric").conditions
    assert gate.left["Std:JsonGet"]["Path"] == "metrics.auc.value"
    assert [p.default for p in pipeline.steps.parameters if p.name == "MetricThreshold"] == [0.85]


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_retrain_weekly_and_on_new_data_through_the_guard(
    training: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].ml_pipeline
    assert settings.retrain_on_new_data is True
    template = training[env]
    machine = only(templates[f"mlops-{env}-training"], "AWS::StepFunctions::StateMachine")
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": settings.retrain_schedule, "Target": Match.object_like({"Arn": {"Ref": machine}})},
    )  # fmt: skip
    # New training data in the Data stack's artifacts bucket starts the guard too.
    artifacts = bucket_name(templates[f"mlops-{env}-data"], "Artifacts")
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": {
                        "bucket": {"name": [artifacts]},
                        "object": {
                            "key": [{"prefix": settings.input_prefix}],
                            "size": [{"numeric": [">", 0]}],
                        },
                    }
                }
            ),
            "Targets": [Match.object_like({"Arn": {"Ref": machine}})],
        },
    )
    # Jobs run in the Network stack's private subnets.
    train = body(template)["Steps"][1]["Arguments"]
    assert train["VpcConfig"]["Subnets"] == ["<token>"] * len(
        configs[env].network.availability_zones
    )
    network = templates[f"mlops-{env}-network"]
    (pipeline,) = template.find_resources("AWS::SageMaker::Pipeline").values()
    parts = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]["Fn::Join"][1]
    subnets = {
        produced_by(templates, part)[1]["Ref"]
        for part in parts
        if isinstance(part, dict)
        and "Fn::GetStackOutput" in part
        and part["Fn::GetStackOutput"]["StackName"] == f"mlops-{env}-network"
    }
    assert subnets == {subnet["Ref"] for subnet in private_subnets(network)}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_retrain_when_the_monitoring_drift_alarm_fires(
    training: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    synthesized_app: SynthesizedApp,
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    assert configs[env].ml_pipeline.retrain_on_drift is True
    template = training[env]
    machine = only(templates[f"mlops-{env}-training"], "AWS::StepFunctions::StateMachine")
    alarms = Capture()
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": alarms,
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "Targets": [Match.object_like({"Arn": {"Ref": machine}})],
        },
    )
    # The alarms are the Monitoring stack's drift alarm (the one watching the drift metrics)
    # and its model-quality alarm (AUC below the configured threshold).
    monitoring = synthesized_app.stages[env].monitoring
    assert monitoring is not None
    assert monitoring.quality is not None
    expected = [
        monitoring.resolve(monitoring.monitor.drift_alarm.alarm_arn),
        monitoring.resolve(monitoring.quality.drift_alarm.alarm_arn),
    ]
    produced = [produced_by(templates, alarm) for alarm in alarms.as_array()]
    assert sorted(map(json.dumps, produced)) == sorted(
        json.dumps((f"mlops-{env}-monitoring", alarm)) for alarm in expected
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
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
    # Enabled without an image: the project's training image; the gate the demo data passes.
    enabled = load(tmp_path, {"enabled": True})
    assert enabled.training_image is None
    assert (enabled.metric_name, enabled.metric_threshold) == ("auc", 0.85)


@pytest.mark.parametrize(
    ("section", "message"),
    [
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
    ids=["image-not-ecr", "approval-case", "schedule", "group-name",
         "reader-account", "output-under-input", "code-under-input", "runtime", "metric-name",
         "overlap", "drift-without-monitor"],
)  # fmt: skip
def test_invalid_section_fails_precisely(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(tmp_path, section)
