"""The rules an MLPipeline checks before it creates anything: S3 prefixes, instance types,
training runtimes, the gate metric and comparison, approval, hyperparameters of the shipped
training code, retraining triggers, the overlap policy and the pipeline name. Each raises a
ConfigurationError naming the construct path, keyword and reason."""

from __future__ import annotations

import json
from collections.abc import Mapping

from constructs import Construct

from mlops_cdk._internal.patterns import (
    APPROVAL_STATUSES,
    METRIC_NAME,
    METRIC_NAME_MEANING,
    OVERLAP_POLICIES,
)
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.validation import Checker, Said, is_unresolved
from mlops_cdk._internal.validators.schedules import schedule_problem
from mlops_cdk._internal.validators.time_zones import time_zone_problem
from mlops_cdk.constructs.container_image import check_image_region
from mlops_cdk.constructs.ml_pipeline._settings import RetrainTriggers, TrainingSettings
from mlops_cdk.constructs.ml_pipeline.steps import CONDITION_TYPES

# CreateTrainingJob: MaxRuntimeInSeconds and MaxWaitTimeInSeconds are at most 28 days.
MAX_TRAINING_SECONDS = 28 * 24 * 3600
PIPELINE_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
MAX_PIPELINE_NAME = 80
#: What the project's training image's train step accepts (runtime/training/train.py:
#: Hyperparameters); it fails the job on any other name (``sagemaker_*`` ones are ignored).
SHIPPED_HYPERPARAMETERS = ("C", "max_iter", "class_weight", "label")
CLASS_WEIGHTS = ("none", "balanced")


def check(
    check: Checker, scope: Construct, settings: TrainingSettings, triggers: RetrainTriggers
) -> None:
    """Every rule of an MLPipeline, in the order a reader meets its keywords."""
    check.key_prefixes(settings, "input_prefix", "output_prefix", "code_prefix")
    input_prefix, output_prefix, code_prefix = (
        settings.input_prefix,
        settings.output_prefix,
        settings.code_prefix,
    )
    # SageMaker jobs pull their images from ECR in the pipeline's own region.
    for keyword, image in (
        ("training_image", settings.training_image),
        ("processing_image", settings.processing_image),
        ("inference_image", settings.inference_image),
    ):
        check_image_region(scope, image, keyword)
    check_instance_type(
        check, "training_instance_type", settings.training_instance_type, api="training"
    )
    check_instance_type(
        check, "processing_instance_type", settings.processing_instance_type, api="processing"
    )
    use_spot, max_wait = settings.use_spot, settings.max_wait
    runtime = settings.max_runtime.to_seconds()
    for keyword, seconds in (("max_runtime", runtime), ("max_wait", max_wait.to_seconds())):
        if keyword == "max_wait" and not use_spot:
            continue
        check.require(
            1 <= seconds <= MAX_TRAINING_SECONDS,
            keyword,
            f"between 1 second and 28 days ({MAX_TRAINING_SECONDS} seconds)",
            Said(f"{seconds:.0f} seconds"),
        )
    if use_spot:
        check.require(
            max_wait.to_seconds() >= runtime,
            "max_wait",
            f"at least max_runtime ({runtime:g} seconds) for spot training",
            Said(f"{max_wait.to_seconds():g} seconds"),
        )
    check.matches("metric_name", settings.metric_name, METRIC_NAME, METRIC_NAME_MEANING)
    check.one_of("metric_comparison", settings.metric_comparison, CONDITION_TYPES)
    check.one_of("approval", settings.approval, APPROVAL_STATUSES)
    if settings.shipped_training_code:
        _check_hyperparameters(check, settings.hyperparameters)
    check.one_of("on_overlap", triggers.on_overlap, OVERLAP_POLICIES)
    # Retraining is started by an EventBridge Scheduler schedule.
    check.valid("retrain_schedule", triggers.schedule, schedule_problem, api="scheduler")
    check.valid("schedule_time_zone", triggers.time_zone, time_zone_problem)
    if triggers.on_new_data:
        for keyword, prefix in (("output_prefix", output_prefix), ("code_prefix", code_prefix)):
            if prefix.startswith(input_prefix) or input_prefix.startswith(prefix):
                check.fail(
                    keyword,
                    f"outside the watched input prefix {input_prefix!r} with "
                    "retrain_on_new_data (the pipeline's own writes would retrain it again)",
                    prefix,
                )
    pipeline_name = settings.pipeline_name
    if pipeline_name is not None:
        check.max_length("pipeline_name", pipeline_name, MAX_PIPELINE_NAME)
        check.matches(
            "pipeline_name",
            pipeline_name,
            PIPELINE_NAME,
            "letters, digits and hyphens, starting and ending with a letter or digit",
        )


def _decoded(text: str) -> object:
    """A hyperparameter as train reads it: JSON-encoded values decoded, others as they are."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text


def _check_hyperparameters(check: Checker, hyperparameters: Mapping[str, str]) -> None:
    """Names and values the shipped train step accepts (it would fail the job at run time)."""
    for name, text in hyperparameters.items():
        if is_unresolved(name) or is_unresolved(text) or name.startswith("sagemaker_"):
            continue
        check.require(
            name in SHIPPED_HYPERPARAMETERS,
            "hyperparameters",
            "names the project's training image accepts: "
            + ", ".join(repr(n) for n in SHIPPED_HYPERPARAMETERS),
            name,
        )
        value = _decoded(text)
        keyword = f"hyperparameters[{name!r}]"
        if name == "class_weight":
            check.one_of(keyword, value, CLASS_WEIGHTS)
        elif name in ("C", "max_iter"):
            check.require(
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and (name == "C" or isinstance(value, int))
                and value > 0,
                keyword,
                "a number above 0" if name == "C" else "a whole number of at least 1",
                text,
            )
