"""The rules a BatchTransformJob checks before it builds anything: the model source, the
CreateTransformJob settings and their SageMaker limits, the triggers (schedule, new data,
manual), new-data batching, and input and output prefixes that must not overlap. Each raises a
ConfigurationError naming the construct path, keyword and reason."""

from __future__ import annotations

from typing import get_args

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk._internal.patterns import TRANSFORM_MAX_PAYLOAD_MB, TransformBatchStrategy
from mlops_cdk._internal.sagemaker import (
    TRANSFORM_ENVIRONMENT,
    check_container_environment,
    check_instance_type,
)
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.schedules import schedule_problem
from mlops_cdk._internal.validators.time_zones import time_zone_problem
from mlops_cdk.constructs._sagemaker_model import ModelSource
from mlops_cdk.constructs.batch_transform._settings import JobSettings, Triggers
from mlops_cdk.constructs.batch_transform.options import TransformInput, TransformOutput

BATCH_STRATEGIES: tuple[str, ...] = get_args(TransformBatchStrategy)
JOIN_SOURCES = ("Input", "None")
# CreateTransformJob limits (SageMaker API reference).
MAX_PAYLOAD_MB = TRANSFORM_MAX_PAYLOAD_MB  # also caps MaxConcurrentTransforms x MaxPayloadInMB
MAX_INVOCATION_RETRIES = 3  # ModelClientConfig.InvocationsMaxRetries 0-3
MAX_INVOCATION_TIMEOUT_SECONDS = 3600  # ModelClientConfig.InvocationsTimeoutInSeconds 1-3600
MAX_FILTER_LENGTH = 63  # DataProcessing.InputFilter / OutputFilter
# Standard workflows run for at most one year.
MAX_RUNTIME_LIMIT = Duration.days(365)
# EventBridge Pipes batch an SQS source for at most 5 minutes. A batch reaches Step Functions as
# one JSON array of at most 256 KiB: 200 keys of up to 1024 bytes fit.
MAX_BATCH_WINDOW_SECONDS = 300
MAX_BATCH_SIZE = 200
# Transform job names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}. Each run is named
# "<prefix>-<UUID>": a 36-character UUID and a hyphen leave 26 characters for the prefix.
UUID_LENGTH = 36
MAX_JOB_NAME = 63
MAX_JOB_NAME_PREFIX = MAX_JOB_NAME - UUID_LENGTH - 1
JOB_NAME_PREFIX = r"[a-zA-Z0-9](-*[a-zA-Z0-9])*"


def check(
    check: Checker,
    scope: Construct,
    *,
    source: ModelSource,
    job: JobSettings,
    triggers: Triggers,
) -> None:
    """Every rule of a BatchTransformJob, in the order a reader meets its keywords."""
    if source == ModelSource():
        check.fail(
            "model_data, image or model_package",
            "given: a transform job needs a model",
            Said("none"),
        )
    if source.image is not None or source.model_package is not None:
        source.check(check)  # an artifact alone runs on the default model server
    _check_job(check, job)
    _check_triggers(check, triggers)
    _check_batching(check, triggers)
    if same_bucket(scope, job.input.bucket, job.output.bucket):
        _check_prefixes(check, job.input.prefix, job.output.prefix)
    if job.name_prefix is not None:
        check.max_length("job_name_prefix", job.name_prefix, MAX_JOB_NAME_PREFIX)
        check.matches(
            "job_name_prefix",
            job.name_prefix,
            JOB_NAME_PREFIX,
            "letters, digits and hyphens, starting and ending with a letter or digit",
        )


def _check_job(check: Checker, job: JobSettings) -> None:
    input, output = job.input, job.output
    check.require(isinstance(input, TransformInput), "input", "a TransformInput", input)
    check.require(isinstance(output, TransformOutput), "output", "a TransformOutput", output)
    check_instance_type(check, "instance_type", job.instance_type, api="transform")
    check.at_least("instance_count", job.instance_count, 1)
    concurrent, payload = job.max_concurrent_transforms, job.max_payload_mb
    check.at_least("max_concurrent_transforms", concurrent, 0)
    check.in_range("max_payload_mb", payload, 0, MAX_PAYLOAD_MB, "MB")
    if concurrent:
        total = concurrent * payload
        check.require(
            total <= MAX_PAYLOAD_MB,
            "max_concurrent_transforms x max_payload_mb",
            f"at most {MAX_PAYLOAD_MB} MB",
            Said(f"{concurrent} x {payload} = {total} MB"),
        )
    check.one_of("batch_strategy", job.batch_strategy, BATCH_STRATEGIES)
    if job.batch_strategy == "MultiRecord" and not input.splits:
        check.not_together(
            "batch_strategy='MultiRecord'",
            "input.split_type=None",
            "records are only batched when objects are split (Line, RecordIO or TFRecord); "
            "use batch_strategy='SingleRecord' to send each object whole",
        )
    if job.join_source is not None:
        check.one_of("join_source", job.join_source, JOIN_SOURCES)
    for keyword, value in (
        ("input_filter", job.input_filter),
        ("output_filter", job.output_filter),
    ):
        check.max_length(keyword, value, MAX_FILTER_LENGTH)
        check.matches(keyword, value, r"\$.*", "a JSONPath expression starting with $")
    check.in_range(
        "invocation_timeout",
        job.invocation_timeout.to_seconds(),
        1,
        MAX_INVOCATION_TIMEOUT_SECONDS,
        "seconds",
    )
    check.in_range("invocation_max_retries", job.invocation_max_retries, 0, MAX_INVOCATION_RETRIES)
    runtime = job.max_runtime.to_seconds()
    check.positive("max_runtime", runtime)
    check.require(
        runtime <= MAX_RUNTIME_LIMIT.to_seconds(),
        "max_runtime",
        "at most 365 days (the longest a Standard workflow runs)",
        Said(f"{runtime / 86400:g} days"),
    )
    check_container_environment(check, "environment", job.environment, TRANSFORM_ENVIRONMENT)


def _check_triggers(check: Checker, triggers: Triggers) -> None:
    schedule = triggers.schedule
    if schedule is None and not triggers.run_on_new_data and not triggers.manual:
        check.fail(
            "schedule, run_on_new_data or manual",
            "given: a job nobody can start is a mistake (use manual=True for "
            "StartExecution-only jobs)",
            Said("none"),
        )
    # Runs are started by an EventBridge Scheduler schedule (at() one-time runs included).
    check.valid("schedule", schedule, schedule_problem, api="scheduler")
    check.valid("schedule_time_zone", triggers.time_zone, time_zone_problem)


def _check_batching(check: Checker, triggers: Triggers) -> None:
    window, size = triggers.batch_window, triggers.batch_size
    if window is None:
        return
    if not triggers.run_on_new_data:
        check.not_together(
            "new_data_batch_window",
            "run_on_new_data=False",
            "the window batches new-data runs; set run_on_new_data=True",
        )
    check.in_range(
        "new_data_batch_window",
        window.to_seconds(),
        1,
        MAX_BATCH_WINDOW_SECONDS,
        "seconds (EventBridge Pipes batch an SQS source for at most 5 minutes)",
    )
    check.in_range(
        "new_data_batch_size",
        size,
        1,
        MAX_BATCH_SIZE,
        "objects (a batch reaches Step Functions as one input of at most 256 KiB)",
    )


def _check_prefixes(check: Checker, input_prefix: str, output_prefix: str) -> None:
    if output_prefix.startswith(input_prefix):
        check.fail(
            "output.prefix",
            f"outside the input prefix {input_prefix!r} in the same bucket (results written "
            "there would be transformed again, and trigger new runs with run_on_new_data)",
            output_prefix,
        )
    if input_prefix.startswith(output_prefix):
        check.fail(
            "input.prefix",
            f"outside the output prefix {output_prefix!r} in the same bucket (the job may "
            "write everywhere under its output prefix, including over its input)",
            input_prefix,
        )


def same_bucket(scope: Construct, first: s3.IBucket, second: s3.IBucket) -> bool:
    """True when ``first`` and ``second`` are (or name) the same bucket."""
    if first is second:
        return True
    stack = Stack.of(scope)
    return bool(stack.resolve(first.bucket_name) == stack.resolve(second.bucket_name))
