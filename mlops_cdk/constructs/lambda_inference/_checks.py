"""The rules a LambdaInference checks before it creates anything: its timeout (against the REST
API's integration timeout), memory, concurrency, VPC placement, the model hash and the caller's
environment variables. Each raises a ConfigurationError naming the construct path, keyword and
reason."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2

from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.environment import environment_name_problem
from mlops_cdk.constructs.lambda_inference.options import (
    InferenceApi,
    LambdaAlarms,
    ProvisionedConcurrency,
)

MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
MAX_TIMEOUT_S = 900
MAX_ENVIRONMENT_BYTES = 4096
# Set by the construct from its own props; the caller's environment may not override them.
OWN_VARIABLES = (
    "MLOPS_MODEL_S3_URI",
    "MLOPS_MODEL_SHA256",
    "MLOPS_INPUT_PREFIX",
    "MLOPS_OUTPUT_PREFIX",
    "MLOPS_OUTPUT_BUCKET",
)
SHA256 = r"[0-9a-f]{64}"


def check(
    check: Checker,
    *,
    timeout: Duration | None,
    api: InferenceApi | None,
    memory_size_mb: int,
    reserved_concurrency: int | None,
    provisioned_concurrency: ProvisionedConcurrency | None,
    vpc: ec2.IVpc | None,
    subnets: ec2.SubnetSelection | None,
    outside_vpc_reason: str | None,
    environment: Mapping[str, str],
    model_sha256: str | None,
    alarm_thresholds: LambdaAlarms | None = None,
    effective_timeout: Duration | None = None,
) -> None:
    """Every rule of a LambdaInference, timeout first."""
    if timeout is not None:
        _check_timeout(check, timeout, api)
    latency = alarm_thresholds.latency if alarm_thresholds else None
    if latency is not None and effective_timeout is not None:
        limit_ms = effective_timeout.to_milliseconds()
        check.require(
            latency.to_milliseconds() < limit_ms,
            "alarm_thresholds.latency",
            f"less than the function's timeout ({limit_ms / 1000:g} s): no invocation lasts "
            "longer, so the alarm could never fire",
            Said(f"{latency.to_milliseconds():g} ms"),
        )
    check.in_range("memory_size_mb", memory_size_mb, MIN_MEMORY_MB, MAX_MEMORY_MB, "MB")
    check.at_least("reserved_concurrency", reserved_concurrency, 1)
    if provisioned_concurrency is not None and reserved_concurrency is not None:
        for keyword in ("min_capacity", "max_capacity"):
            value = getattr(provisioned_concurrency, keyword)
            check.require(
                value <= reserved_concurrency,
                f"provisioned_concurrency.{keyword}",
                f"at most reserved_concurrency ({reserved_concurrency})",
                value,
            )
    if vpc is not None and outside_vpc_reason is not None:
        check.not_together("outside_vpc_reason", "vpc", "the function runs in the VPC")
    if subnets is not None and vpc is None:
        check.not_together("subnets", "no vpc", "subnets select where in vpc the function runs")
    if outside_vpc_reason is not None:
        check.require(
            len(outside_vpc_reason.strip()) >= 20,
            "outside_vpc_reason",
            "a sentence a reviewer can check (at least 20 characters)",
            outside_vpc_reason,
        )
    check.matches("model_sha256", model_sha256, SHA256, "64 lowercase hex characters")
    for name in environment:
        if name in OWN_VARIABLES:
            check.fail("environment", "free of the variables the construct sets itself", name)
        # Lambda's name rule and reserved runtime variables: the shared validator.
        check.valid("environment", name, environment_name_problem, api="lambda")
    size = len(json.dumps(dict(environment)).encode())
    check.require(
        size <= MAX_ENVIRONMENT_BYTES,
        "environment",
        f"at most {MAX_ENVIRONMENT_BYTES} bytes in total (Lambda's limit)",
        Said(f"{size} bytes"),
    )


def _check_timeout(check: Checker, timeout: Duration, api: InferenceApi | None) -> None:
    limit_ms = api.integration_timeout.to_milliseconds() if api is not None else None
    milliseconds = timeout.to_milliseconds()
    check.require(
        milliseconds % 1000 == 0,
        "timeout",
        "a whole number of seconds",
        Said(f"{milliseconds:g} ms"),
    )
    seconds = milliseconds // 1000
    check.in_range("timeout", seconds, 1, MAX_TIMEOUT_S, "s")
    if limit_ms is not None and milliseconds > limit_ms:
        check.fail(
            "timeout",
            f"at most api.integration_timeout ({limit_ms / 1000:g} s): API Gateway answers "
            "504 at that point while the function would keep running",
            Said(f"{seconds:g} s"),
        )
