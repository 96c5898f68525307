"""BatchTransformJob validation: one precise ConfigurationError per rule, raised at synth time,
before anything reaches SageMaker."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.validators.schedules import schedule_problem
from mlops_cdk.constructs import (
    BatchTransformJob,
    ContainerImage,
    ModelData,
    ModelPackage,
    TransformInput,
    TransformOutput,
)
from tests.helpers.apps import unit_stack

MODEL = "s3://models/churn/model.tar.gz"
PACKAGE = ModelPackage.from_arn("arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3")
IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3.0-cpu"


def build(**changes: Any) -> BatchTransformJob:
    """A valid manual job with ``changes``; callables receive the stack (for buckets)."""
    stack = unit_stack()
    source = s3.Bucket.from_bucket_name(stack, "In", "scoring-input")
    target = s3.Bucket.from_bucket_name(stack, "Out", "scoring-output")
    props: dict[str, Any] = {
        "model_data": ModelData.from_s3_uri(MODEL),
        "input": TransformInput(bucket=source, prefix="in/"),
        "output": TransformOutput(bucket=target, prefix="out/"),
        "manual": True,
    }
    for key, value in changes.items():
        props[key] = value(stack) if callable(value) and key in {"input", "output"} else value
    return BatchTransformJob(stack, "Job", **props)


def same_bucket(input_prefix: str, output_prefix: str) -> dict[str, Callable[[cdk.Stack], Any]]:
    def bucket(stack: cdk.Stack) -> s3.IBucket:
        found = stack.node.try_find_child("Shared")
        if found is None:
            return s3.Bucket.from_bucket_name(stack, "Shared", "shared-data")
        return found  # type: ignore[return-value]

    return {
        "input": lambda stack: TransformInput(bucket=bucket(stack), prefix=input_prefix),
        "output": lambda stack: TransformOutput(bucket=bucket(stack), prefix=output_prefix),
    }


JOB = re.escape("Test/Job: ")

CASES: list[tuple[str, dict[str, Any], str]] = [
    # the model
    (
        "no-model",
        {"model_data": None},
        JOB + r"model_data, image or model_package must be given: a transform job needs",
    ),
    (
        "data-and-package",
        {"model_package": PACKAGE},
        JOB + "model_data cannot be combined with model_package: a registry package",
    ),
    (
        "image-and-package",
        {"model_data": None, "image": ContainerImage.from_uri(IMAGE), "model_package": PACKAGE},
        JOB + "image or model_package must be given exactly once",
    ),
    # resources
    (
        "instance-type-without-ml",
        {"instance_type": "m5.large"},
        JOB + r"instance_type must be an instance type CreateTransformJob accepts "
        r"\(ml\.<family>\.<size>, families .*\(did you mean 'ml\.m5\.large'\?\) \(got 'm5\.large'\)$",
    ),
    (
        "instance-type-unknown-size",
        {"instance_type": "ml.m5.huge"},
        JOB + "instance_type must be an instance type CreateTransformJob accepts",
    ),
    (
        "instance-type-endpoint-only",
        {"instance_type": "ml.c5d.xlarge"},
        JOB + r"instance_type must be an instance type CreateTransformJob accepts \(ml\.<family>\."
        r"<size>, families .*; ml\.c5d\.xlarge is for CreateEndpointConfig only "
        r"\(got 'ml\.c5d\.xlarge'\)$",
    ),
    (
        "image-from-another-region",
        {
            "model_data": None,
            "image": ContainerImage.from_uri(IMAGE.replace("eu-west-1", "us-east-1")),
        },
        JOB + r"image must be an ECR image in the stack's region eu-west-1 \(SageMaker, ECS and "
        r"Lambda pull from ECR in their own region; this one is in us-east-1\) "
        r"\(got '763104351884\.dkr\.ecr\.us-east-1\.",
    ),
    (
        "instance-count-0",
        {"instance_count": 0},
        JOB + r"instance_count must be at least 1 \(got 0\)",
    ),
    (
        "concurrency-negative",
        {"max_concurrent_transforms": -1},
        JOB + "max_concurrent_transforms must be at least 0",
    ),
    # payload and strategy
    (
        "payload-101",
        {"max_payload_mb": 101},
        JOB + r"max_payload_mb must be between 0 and 100 MB \(got 101\)",
    ),
    ("payload-negative", {"max_payload_mb": -1}, JOB + "max_payload_mb must be between 0 and 100"),
    (
        "payload-times-concurrency",
        {"max_concurrent_transforms": 4, "max_payload_mb": 30},
        JOB + r"max_concurrent_transforms x max_payload_mb must be at most 100 MB "
        r"\(got 4 x 30 = 120 MB\)",
    ),
    (
        "batch-strategy",
        {"batch_strategy": "Multi"},
        JOB + r"batch_strategy must be one of 'MultiRecord', 'SingleRecord' \(got 'Multi'\)",
    ),
    (
        "multi-record-without-split",
        {
            "input": lambda stack: TransformInput(
                bucket=s3.Bucket.from_bucket_name(stack, "In2", "scoring-input"),
                prefix="in/",
                split_type=None,
            )
        },
        JOB + r"batch_strategy='MultiRecord' cannot be combined with input\.split_type=None",
    ),
    (
        "join-source",
        {"join_source": "Output"},
        JOB + r"join_source must be one of 'Input', 'None' \(got 'Output'\)",
    ),
    (
        "input-filter-not-jsonpath",
        {"input_filter": "features"},
        JOB + "input_filter must be a JSONPath expression starting with",
    ),
    (
        "output-filter-too-long",
        {"output_filter": "$" + "x" * 63},
        JOB + "output_filter must be at most 63 characters long",
    ),
    # prefixes
    (
        "output-equals-input",
        same_bucket("data/", "data/"),
        JOB + r"output\.prefix must be outside the input prefix 'data/' in the same bucket",
    ),
    (
        "output-under-input",
        same_bucket("data/", "data/scored/"),
        JOB + r"output\.prefix must be outside the input prefix",
    ),
    (
        "input-under-output",
        same_bucket("data/in/", "data/"),
        JOB + r"input\.prefix must be outside the output prefix 'data/'",
    ),
    # triggers
    (
        "no-trigger",
        {"manual": False},
        JOB + "schedule, run_on_new_data or manual must be given: a job nobody can start",
    ),
    (
        "cron-five-fields",
        {"schedule": "cron(0 2 * * ?)"},
        JOB + r"schedule must be a cron expression with six fields.*got 'cron\(0 2 \* \* \?\)'",
    ),
    (
        "cron-without-question-mark",
        {"schedule": "cron(0 2 * * * *)"},
        JOB + r"schedule must be a cron expression with \? in exactly one of day-of-month",
    ),
    (
        "rate-plural-for-one",
        {"schedule": "rate(1 days)"},
        JOB + "schedule must be a rate with a singular unit for 1",
    ),
    (
        "rate-singular-for-many",
        {"schedule": "rate(5 minute)"},
        JOB + "schedule must be a rate with a singular unit for 1",
    ),
    ("rate-zero", {"schedule": "rate(0 minutes)"}, JOB + "schedule must be a rate of at least 1"),
    (
        "not-an-expression",
        {"schedule": "every night"},
        JOB + "schedule must be an EventBridge Scheduler expression",
    ),
    (
        "at-without-seconds",
        {"schedule": "at(2026-12-01T02:00)"},
        JOB + "schedule must be an EventBridge Scheduler expression",
    ),
    (
        "cron-hour-25",
        {"schedule": "cron(0 25 * * ? *)"},
        JOB + r"schedule must be a cron expression whose hours field is 0-23 with , - \* / "
        r"\(25 is out of range\) \(got 'cron\(0 25 \* \* \? \*\)'\)$",
    ),
    (
        "at-february-30",
        {"schedule": "at(2026-02-30T00:00:00)"},
        JOB + r"schedule must be a one-time schedule at\(yyyy-mm-ddThh:mm:ss\) naming a real date "
        r"and time \(2026-02-30T00:00:00 is not one\)",
    ),
    (
        "time-zone-misspelled",
        {"schedule": "cron(0 2 * * ? *)", "schedule_time_zone": "Europe/Londn"},
        JOB + r"schedule_time_zone must be an IANA time zone name such as 'UTC', 'Europe/Dublin' "
        r"or 'America/New_York' \(did you mean 'Europe/London'\?\) \(got 'Europe/Londn'\)$",
    ),
    (
        "batch-window-without-new-data",
        {"new_data_batch_window": cdk.Duration.minutes(1)},
        JOB + "new_data_batch_window cannot be combined with run_on_new_data=False",
    ),
    (
        "batch-window-0",
        {"run_on_new_data": True, "new_data_batch_window": cdk.Duration.seconds(0)},
        JOB + r"new_data_batch_window must be between 1 and 300 seconds",
    ),
    (
        "batch-window-6-minutes",
        {"run_on_new_data": True, "new_data_batch_window": cdk.Duration.minutes(6)},
        JOB + r"new_data_batch_window must be between 1 and 300 seconds .*\(got 360\)",
    ),
    (
        "batch-size-201",
        {
            "run_on_new_data": True,
            "new_data_batch_window": cdk.Duration.minutes(1),
            "new_data_batch_size": 201,
        },
        JOB + r"new_data_batch_size must be between 1 and 200 objects",
    ),
    # model client and runtime
    (
        "invocation-timeout-0",
        {"invocation_timeout": cdk.Duration.seconds(0)},
        JOB + r"invocation_timeout must be between 1 and 3600 seconds \(got 0\)",
    ),
    (
        "invocation-timeout-too-long",
        {"invocation_timeout": cdk.Duration.minutes(61)},
        JOB + r"invocation_timeout must be between 1 and 3600 seconds \(got 3660\)",
    ),
    (
        "retries-4",
        {"invocation_max_retries": 4},
        JOB + r"invocation_max_retries must be between 0 and 3 \(got 4\)",
    ),
    (
        "retries-negative",
        {"invocation_max_retries": -1},
        JOB + "invocation_max_retries must be between 0 and 3",
    ),
    (
        "max-runtime-0",
        {"max_runtime": cdk.Duration.seconds(0)},
        JOB + r"max_runtime must be greater than 0 \(got 0\)",
    ),
    (
        "max-runtime-over-a-year",
        {"max_runtime": cdk.Duration.days(400)},
        JOB + "max_runtime must be at most 365 days",
    ),
    # environment and naming
    (
        "environment-17",
        {"environment": {f"V{i}": "x" for i in range(17)}},
        JOB + r"environment must be at most 16 variables \(got 17 variables\)",
    ),
    (
        "environment-key",
        {"environment": {"1ST": "x"}},
        JOB + "environment must be a name of letters, digits and _",
    ),
    (
        "job-name-prefix-too-long",
        {"job_name_prefix": "a" * 27},
        JOB + "job_name_prefix must be at most 26 characters long",
    ),
    (
        "job-name-prefix-underscore",
        {"job_name_prefix": "churn_scoring"},
        JOB + "job_name_prefix must be letters, digits and hyphens",
    ),
]


@pytest.mark.parametrize(("changes", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_with_a_precise_message(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"^{message}"):
        build(**changes)


OPTION_CASES: list[tuple[str, Callable[[s3.IBucket], object], str]] = [
    (
        "prefix-with-a-space",
        lambda b: TransformInput(bucket=b, prefix="in put"),
        r"TransformInput: prefix must be a key prefix .*\(got 'in put'\)",
    ),
    (
        "prefix-leading-slash",
        lambda b: TransformInput(bucket=b, prefix="/in/"),
        "TransformInput: prefix must be",
    ),
    (
        "prefix-space",
        lambda b: TransformOutput(bucket=b, prefix="my out/"),
        "TransformOutput: prefix must be",
    ),
    (
        "prefix-wildcard",
        lambda b: TransformInput(bucket=b, prefix="in/*/"),
        "TransformInput: prefix must be",
    ),
    (
        "prefix-too-long",
        lambda b: TransformInput(bucket=b, prefix="p/" * 500),
        "TransformInput: prefix must be at most 891 characters long",
    ),
    (
        "split-type",
        lambda b: TransformInput(bucket=b, prefix="in/", split_type="Lines"),  # type: ignore[arg-type]
        r"TransformInput: split_type must be one of 'None', 'Line', 'RecordIO', 'TFRecord'",
    ),
    (
        "compression",
        lambda b: TransformInput(bucket=b, prefix="in/", compression="zip"),  # type: ignore[arg-type]
        r"TransformInput: compression must be one of 'None', 'Gzip' \(got 'zip'\)",
    ),
    (
        "content-type-too-long",
        lambda b: TransformInput(bucket=b, prefix="in/", content_type="x" * 257),
        "TransformInput: content_type must be at most 256 characters long",
    ),
    (
        "assemble-with",
        lambda b: TransformOutput(bucket=b, prefix="out/", assemble_with="Newline"),  # type: ignore[arg-type]
        r"TransformOutput: assemble_with must be one of 'None', 'Line' \(got 'Newline'\)",
    ),
    (
        "accept-too-long",
        lambda b: TransformOutput(bucket=b, prefix="out/", accept="x" * 257),
        "TransformOutput: accept must be at most 256 characters long",
    ),
]


@pytest.mark.parametrize(
    ("create", "message"), [c[1:] for c in OPTION_CASES], ids=[c[0] for c in OPTION_CASES]
)
def test_bad_options_are_rejected_where_they_are_made(
    create: Callable[[s3.IBucket], object], message: str
) -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "scoring")
    with pytest.raises(ConfigurationError, match=f"^{message}"):
        create(bucket)


@pytest.mark.parametrize(
    "changes",
    [
        {"schedule": "cron(0 2 * * ? *)", "manual": False},
        {"schedule": "cron(0/15 8-18 ? * MON-FRI *)"},
        {"schedule": "rate(1 day)"},
        {"schedule": "rate(12 hours)"},
        {"schedule": "at(2026-12-01T02:00:00)"},
        {"run_on_new_data": True, "manual": False},
        {
            "run_on_new_data": True,
            "new_data_batch_window": cdk.Duration.minutes(5),
            "new_data_batch_size": 200,
        },
        {"max_payload_mb": 0},  # chunked encoding
        {"max_concurrent_transforms": 0},  # ask the container
        {"max_concurrent_transforms": 10, "max_payload_mb": 10},
        {"batch_strategy": "SingleRecord"},
        {"join_source": "None"},
        {"instance_type": "ml.g5.2xlarge"},
        {"invocation_timeout": cdk.Duration.hours(1), "invocation_max_retries": 0},
        {"max_runtime": cdk.Duration.days(365)},
        {"environment": {f"V{i}": "x" for i in range(16)}},
        {"job_name_prefix": "a" * 26},
        same_bucket("data/in/", "data/out/"),
        same_bucket("in/", "input/"),  # "in/" is not a prefix of "input/"
    ],
    ids=lambda changes: ",".join(changes),
)
def test_valid_edge_cases_are_accepted(changes: dict[str, Any]) -> None:
    assert build(**changes).state_machine is not None


def test_the_same_prefix_in_different_buckets_is_fine() -> None:
    built = build(
        input=lambda stack: TransformInput(
            bucket=s3.Bucket.from_bucket_name(stack, "A", "bucket-a"), prefix="data/"
        ),
        output=lambda stack: TransformOutput(
            bucket=s3.Bucket.from_bucket_name(stack, "B", "bucket-b"), prefix="data/"
        ),
    )
    assert built.output.prefix == built.input.prefix


def test_single_record_without_splitting_sends_each_object_whole() -> None:
    built = build(
        input=lambda stack: TransformInput(
            bucket=s3.Bucket.from_bucket_name(stack, "Images", "images"),
            prefix="in/",
            content_type="image/jpeg",
            split_type=None,
        ),
        batch_strategy="SingleRecord",
    )
    assert not built.input.splits


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 2 * * ? *)", None),
        ("rate(30 minutes)", None),
        ("rate(1 hour)", None),
        ("at(2027-01-01T00:00:00)", None),
        ("cron(0 2 * * ? * *)", "six fields"),
        ("cron(0 2 ? * ? *)", "exactly one of"),
        ("rate(2 hour)", "singular unit for 1"),
        ("rate(1 weeks)", "EventBridge Scheduler expression"),
        ("Cron(0 2 * * ? *)", "EventBridge Scheduler expression"),
    ],
    ids=[
        "cron-ok",
        "rate-minutes-ok",
        "rate-one-hour-ok",
        "at-ok",
        "cron-seven-fields",
        "cron-two-question-marks",
        "rate-plural-unit-for-two",
        "rate-weeks",
        "capitalised-cron",
    ],
)
def test_schedule_problem(expression: str, problem: str | None) -> None:
    found = schedule_problem(expression)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found
