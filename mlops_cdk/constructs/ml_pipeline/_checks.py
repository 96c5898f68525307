"""The rules an MLPipeline checks before it creates anything: S3 prefixes, instance types,
training runtimes, the gate metric and comparison, approval, retraining triggers, the overlap
policy and the pipeline name. Each raises a ConfigurationError naming the construct path,
keyword and reason."""

from __future__ import annotations

from mlops_cdk._internal.patterns import (
    APPROVAL_STATUSES,
    METRIC_NAME,
    METRIC_NAME_MEANING,
    OVERLAP_POLICIES,
)
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.schedules import schedule_problem
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk.constructs.ml_pipeline._settings import RetrainTriggers, TrainingSettings
from mlops_cdk.constructs.ml_pipeline.steps import CONDITION_TYPES

# CreateTrainingJob: MaxRuntimeInSeconds and MaxWaitTimeInSeconds are at most 28 days.
MAX_TRAINING_SECONDS = 28 * 24 * 3600
PIPELINE_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
MAX_PIPELINE_NAME = 80


def check(check: Checker, settings: TrainingSettings, triggers: RetrainTriggers) -> None:
    """Every rule of an MLPipeline, in the order a reader meets its keywords."""
    check.key_prefixes(settings, "input_prefix", "output_prefix", "code_prefix")
    input_prefix, output_prefix, code_prefix = (
        settings.input_prefix,
        settings.output_prefix,
        settings.code_prefix,
    )
    check_instance_type(check, "training_instance_type", settings.training_instance_type)
    check_instance_type(check, "processing_instance_type", settings.processing_instance_type)
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
    check.one_of("on_overlap", triggers.on_overlap, OVERLAP_POLICIES)
    if triggers.schedule is not None:
        problem = schedule_problem(triggers.schedule)
        if problem is not None:
            check.fail("retrain_schedule", problem, triggers.schedule)
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
