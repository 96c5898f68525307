"""MLPipeline: one ConfigurationError case per rule, and the edge cases that must pass."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import ContainerImage
from mlops_cdk.constructs.ml_pipeline.construct import MLPipeline, add_pipeline_target
from mlops_cdk.constructs.ml_pipeline.steps import PipelineCondition, PipelineSteps
from mlops_cdk.constructs.model_registry.construct import ModelRegistry
from tests.helpers.apps import unit_stack

SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def build(**kwargs: Any) -> MLPipeline:
    stack = unit_stack()
    kwargs.setdefault("registry", ModelRegistry.from_group_name(stack, "Registry", "churn"))
    kwargs.setdefault("data_bucket", s3.Bucket.from_bucket_name(stack, "Data", "data-bucket"))
    kwargs.setdefault("input_prefix", "churn/input/")
    kwargs.setdefault("training_image", ContainerImage.from_uri(SKLEARN))
    kwargs.setdefault("metric_name", "accuracy")
    kwargs.setdefault("metric_threshold", 0.8)
    return MLPipeline(stack, "Pipeline", **kwargs)


def cyclic() -> PipelineSteps:
    steps = PipelineSteps()
    steps.processing("A", arguments={}, depends_on=["B"])
    steps.processing("B", arguments={}, depends_on=["A"])
    return steps


def unknown_metric() -> PipelineSteps:
    steps = PipelineSteps()
    steps.processing("Evaluate", arguments={})
    steps.fail("Stop", error_message="x")
    steps.condition(
        "Gate",
        conditions=[
            PipelineCondition(
                type="GreaterThan", left=steps.metric("Evaluate", "Report", "f1"), right=0.5
            )
        ],
        else_steps=["Stop"],
    )
    return steps


def spot_without_checkpoint() -> PipelineSteps:
    steps = PipelineSteps()
    steps.training(
        "Train",
        arguments={
            "EnableManagedSpotTraining": True,
            "StoppingCondition": {"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 60},
        },
    )
    return steps


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("approval-case", {"approval": "approved"},
     r"approval must be one of 'Approved', 'Rejected', 'PendingManualApproval' \(got 'approved'\)"),
    ("approval-unknown", {"approval": "Pending"}, r"approval must be one of"),
    ("schedule-malformed", {"retrain_schedule": "every day"},
     r"retrain_schedule must be an EventBridge Scheduler expression.*\(got 'every day'\)"),
    ("schedule-five-fields", {"retrain_schedule": "cron(0 3 * * ?)"},
     r"retrain_schedule must be a cron expression with six fields"),
    ("schedule-rate-plural", {"retrain_schedule": "rate(1 days)"},
     r"retrain_schedule must be a rate with a singular unit for 1"),
    ("spot-wait-below-runtime", {"max_runtime": cdk.Duration.hours(2), "max_wait": cdk.Duration.hours(1)},
     r"max_wait must be at least max_runtime \(7200 seconds\) for spot training \(got 3600 seconds\)"),
    ("runtime-over-28-days", {"max_runtime": cdk.Duration.days(29), "use_spot": False},
     r"max_runtime must be between 1 second and 28 days \(2419200 seconds\) "
     r"\(got 2505600 seconds\)"),
    ("new-data-output-under-input", {"retrain_on_new_data": True, "input_prefix": "ml-pipeline/"},
     r"output_prefix must be outside the watched input prefix 'ml-pipeline/' with "
     r"retrain_on_new_data .*\(got 'ml-pipeline/runs/'\)"),
    ("new-data-input-under-output", {"retrain_on_new_data": True, "input_prefix": "ml-pipeline/runs/new/"},
     r"output_prefix must be outside the watched input prefix"),
    ("new-data-code-under-input", {"retrain_on_new_data": True, "input_prefix": "data/",
                                   "code_prefix": "data/code/"},
     r"code_prefix must be outside the watched input prefix 'data/'"),
    ("training-instance-type", {"training_instance_type": "m5.xlarge"},
     r"training_instance_type must be an instance type CreateTrainingJob accepts "
     r"\(ml\.<family>\.<size>, .*\(got 'm5.xlarge'\)"),
    ("processing-instance-type", {"processing_instance_type": "ml.m5"},
     r"processing_instance_type must be an instance type CreateProcessingJob accepts"),
    ("training-instance-type-endpoint-only", {"training_instance_type": "ml.m5d.xlarge"},
     r"training_instance_type must be an instance type CreateTrainingJob accepts .*; "
     r"ml\.m5d\.xlarge is for CreateEndpointConfig only \(got 'ml\.m5d\.xlarge'\)$"),
    ("processing-instance-type-endpoint-only", {"processing_instance_type": "ml.m5d.large"},
     r"processing_instance_type must be an instance type CreateProcessingJob accepts "
     r"\(ml\.<family>\.<size>, families .*\(got 'ml\.m5d\.large'\)$"),
    ("retrain-schedule-hour-25", {"retrain_schedule": "cron(0 25 * * ? *)"},
     r"retrain_schedule must be a cron expression whose hours field is 0-23 .*"
     r"\(25 is out of range\) \(got 'cron\(0 25 \* \* \? \*\)'\)$"),
    ("retrain-schedule-february-30", {"retrain_schedule": "at(2026-02-30T00:00:00)"},
     r"retrain_schedule must be a one-time schedule at\(yyyy-mm-ddThh:mm:ss\) naming a real "
     r"date and time \(2026-02-30T00:00:00 is not one\)"),
    ("schedule-time-zone-misspelled",
     {"retrain_schedule": "rate(7 days)", "schedule_time_zone": "Europe/Londn"},
     r"schedule_time_zone must be an IANA time zone name .*\(did you mean 'Europe/London'\?\) "
     r"\(got 'Europe/Londn'\)$"),
    ("training-image-from-another-region",
     {"training_image": ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/train:1")},
     r"training_image must be an ECR image in the stack's region eu-west-1 \(SageMaker, ECS and Lambda "
     r"pull from ECR in their own region; this one is in us-east-1\) "
     r"\(got '123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/train:1'\)$"),
    ("inference-image-from-another-region",
     {"inference_image": ContainerImage.from_uri("123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1")},
     r"inference_image must be an ECR image in the stack's region eu-west-1 "),
    ("metric-name", {"metric_name": "accuracy score"},
     r"metric_name must be 1-64 letters, digits, hyphens or underscores \(got 'accuracy score'\)"),
    ("metric-comparison", {"metric_comparison": "AtLeast"}, r"metric_comparison must be one of 'GreaterThan'"),
    ("input-prefix", {"input_prefix": "/churn"}, r"input_prefix must be a key prefix"),
    ("output-prefix", {"output_prefix": "runs{id}"}, r"output_prefix must be a key prefix"),
    ("on-overlap", {"on_overlap": "queue"}, r"on_overlap must be one of 'skip', 'allow' \(got 'queue'\)"),
    ("pipeline-name-characters", {"pipeline_name": "churn_training"},
     r"pipeline_name must be letters, digits and hyphens"),
    ("pipeline-name-length", {"pipeline_name": "p" * 81},
     r"pipeline_name must be at most 80 characters long \(got 81 characters\)"),
    # training_image=None: the project's training image, whose train step fails on these.
    ("hyperparameter-unknown", {"training_image": None, "hyperparameters": {"c": "1.0"}},
     r"hyperparameters must be names the project's training image accepts: 'C', 'max_iter', "
     r"'class_weight', 'label' \(got 'c'\)"),
    ("hyperparameter-class-weight", {"training_image": None, "hyperparameters": {"class_weight": "Balanced"}},
     r"hyperparameters\['class_weight'\] must be one of 'none', 'balanced' \(got 'Balanced'\)"),
    ("hyperparameter-c", {"training_image": None, "hyperparameters": {"C": "0"}},
     r"hyperparameters\['C'\] must be a number above 0 \(got '0'\)"),
    ("hyperparameter-max-iter", {"training_image": None, "hyperparameters": {"max_iter": "1e3"}},
     r"hyperparameters\['max_iter'\] must be a whole number of at least 1 \(got '1e3'\)"),
    ("steps-cycle", {"steps": cyclic()}, r"steps must be an acyclic graph \(got a cycle"),
    ("steps-unknown-metric", {"steps": unknown_metric()},
     r"steps\['Gate'\]\.conditions must be Std:JsonGet of a property file a step declares"),
    ("steps-spot-no-checkpoint", {"steps": spot_without_checkpoint()},
     r"steps\['Train'\]\.arguments\.CheckpointConfig\.S3Uri must be set for managed spot"),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_pipeline_is_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^Test/Pipeline: " + message):
        build(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_runtime": cdk.Duration.hours(1), "max_wait": cdk.Duration.hours(1)},
        {"use_spot": False, "max_wait": cdk.Duration.minutes(1)},
        {"retrain_on_new_data": True, "input_prefix": "data/", "output_prefix": "out/"},
        {"retrain_on_new_data": False, "input_prefix": "ml-pipeline/"},
        {"approval": "Approved"},
        {"metric_comparison": "LessThanOrEqualTo", "metric_name": "rmse"},
        {"retrain_schedule": "at(2027-01-01T03:00:00)"},
        {"training_image": None, "hyperparameters": {
            "C": "0.5", "max_iter": "200", "class_weight": '"balanced"', "label": "churn",
            "sagemaker_program": '"train.py"'}},
        {"hyperparameters": {"n_estimators": "100"}},
    ],
    ids=["wait-equals-runtime", "no-spot-ignores-wait", "separate-prefixes",
         "overlap-without-new-data", "approved", "loss-metric", "one-time-schedule",
         "shipped-hyperparameters", "own-image-own-hyperparameters"],
)  # fmt: skip
def test_valid_edge_cases_pass(kwargs: dict[str, Any]) -> None:
    build(**kwargs)


def test_rule_targets_take_at_most_200_parameters() -> None:
    stack = unit_stack()
    rule = events.Rule(stack, "Rule", event_pattern=events.EventPattern(source=["aws.s3"]))
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("events.amazonaws.com"))
    with pytest.raises(
        ConfigurationError,
        match=r"^Test/Rule: parameters must be at most 200 pipeline parameters "
        r"\(got 201 parameters\)$",
    ):
        add_pipeline_target(
            rule,
            pipeline_arn="arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p",
            role=role,
            parameters={f"P{i}": "x" for i in range(201)},
        )
