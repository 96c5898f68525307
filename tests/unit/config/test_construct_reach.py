"""The config keys that reach the constructs' capabilities (issue #13): async notifications and
concurrency, A/B and shadow variants, serverless provisioned concurrency, the Lambda S3 trigger,
GPU ECS, alarm thresholds with their latency percentile, and batch tuning.

Every key has a valid case (it loads, with the value given) and an invalid one (one line naming
the file, the dotted path, what is allowed and what was given)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EnvironmentConfig, load_environment
from tests.helpers.config import with_changes, write_config

GROUP_ARN = "arn:aws:sagemaker:eu-west-1:444444444444:model-package/churn"
TOPIC = "arn:aws:sns:eu-west-1:444444444444:async-results"
INSTANCE = {"mode": "instance", "instance_type": "ml.m5.large"}
PACKAGE = {"group": "churn", "pinned_arn": f"{GROUP_ARN}/3"}
ECS_NETWORK = {"availability_zones": ["eu-west-1a", "eu-west-1b"], "interface_endpoints": True}
GPU = {"enabled": True, "gpu_count": 1, "gpu_instance_type": "g5.xlarge", "cpu": 4096}


def endpoint(**settings: Any) -> dict[str, object]:
    return with_changes(realtime_endpoint={"enabled": True, **settings})


def async_endpoint(**queued: Any) -> dict[str, object]:
    return endpoint(mode="async", async_inference=queued)


def lambda_function(**settings: Any) -> dict[str, object]:
    return with_changes(lambda_inference={"enabled": True, "function_url": True, **settings})


def ecs(**settings: Any) -> dict[str, object]:
    return with_changes(network=ECS_NETWORK, ecs_model_service={"enabled": True, **settings})


def batch(**settings: Any) -> dict[str, object]:
    return with_changes(batch_transform={"enabled": True, "manual": True, **settings})


def load(tmp_path: Path, data: dict[str, object]) -> EnvironmentConfig:
    write_config(tmp_path, "qa", data)
    return load_environment("qa", config_dir=tmp_path, environ={})


VALID: list[tuple[str, dict[str, object], Callable[[EnvironmentConfig], object], object]] = [
    # realtime_endpoint.async_inference
    (
        "async-concurrency",
        async_endpoint(max_concurrent_invocations_per_instance=10),
        lambda c: c.realtime_endpoint.async_inference.max_concurrent_invocations_per_instance,  # type: ignore[union-attr]
        10,
    ),
    (
        "async-success-topic",
        async_endpoint(success_topic_arn=TOPIC),
        lambda c: c.realtime_endpoint.async_inference.success_topic_arn,  # type: ignore[union-attr]
        TOPIC,
    ),
    (
        "async-error-topic",
        async_endpoint(error_topic_arn=TOPIC, scale_to_zero=True),
        lambda c: c.realtime_endpoint.async_inference.error_topic_arn,  # type: ignore[union-attr]
        TOPIC,
    ),
    # realtime_endpoint.provisioned_concurrency
    (
        "serverless-provisioned-concurrency",
        endpoint(max_concurrency=10, provisioned_concurrency=10),
        lambda c: c.realtime_endpoint.provisioned_concurrency,
        10,
    ),
    # realtime_endpoint.variants
    (
        "ab-variants",
        endpoint(
            **INSTANCE,
            variants=[
                {"name": "champion", "weight": 9},
                {"name": "challenger", "weight": 1, "instance_type": "ml.c5.large"},
            ],
        ),
        lambda c: [(v.name, v.weight, v.instance_type) for v in c.realtime_endpoint.variants or []],
        [("champion", 9, None), ("challenger", 1, "ml.c5.large")],
    ),
    (
        "shadow-variant",
        endpoint(
            **INSTANCE,
            variants=[{"name": "live"}, {"name": "candidate", "shadow": True}],
        ),
        lambda c: [v.shadow for v in c.realtime_endpoint.variants or []],
        [False, True],
    ),
    (
        "variant-instance-count",
        endpoint(**INSTANCE, variants=[{"name": "live", "initial_instance_count": 2}]),
        lambda c: c.realtime_endpoint.variants[0].initial_instance_count,  # type: ignore[index]
        2,
    ),
    (
        "variant-package",
        endpoint(
            **INSTANCE,
            model_package=PACKAGE,
            variants=[{"name": "live"}, {"name": "next", "model_package_arn": f"{GROUP_ARN}/4"}],
        ),
        lambda c: c.realtime_endpoint.variants[1].model_package_arn,  # type: ignore[index]
        f"{GROUP_ARN}/4",
    ),
    # realtime_endpoint.alarms
    (
        "endpoint-p95-200ms",
        endpoint(**INSTANCE, alarms={"latency_percentile": "p95", "latency_ms": 200}),
        lambda c: (
            c.realtime_endpoint.alarms.latency_percentile,  # type: ignore[union-attr]
            c.realtime_endpoint.alarms.latency_ms,  # type: ignore[union-attr]
        ),
        ("p95", 200),
    ),
    (
        "endpoint-error-and-utilisation-thresholds",
        endpoint(
            **INSTANCE,
            alarms={
                "error_5xx_rate_percent": 0.5,
                "error_4xx_rate_percent": 20,
                "cpu_percent": 75,
                "memory_percent": 80,
                "async_oldest_request_minutes": 30,
            },
        ),
        lambda c: c.realtime_endpoint.alarms.model_dump(),  # type: ignore[union-attr]
        {
            "latency_percentile": "p99",
            "latency_ms": 1000,
            "error_5xx_rate_percent": 0.5,
            "error_4xx_rate_percent": 20,
            "cpu_percent": 75,
            "memory_percent": 80,
            "async_oldest_request_minutes": 30,
        },
    ),
    # lambda_inference.s3_trigger
    (
        "lambda-s3-trigger",
        with_changes(
            lambda_inference={
                "enabled": True,
                "s3_trigger": {
                    "input_prefix": "score/in/",
                    "output_prefix": "score/out/",
                    "retry_attempts": 0,
                    "max_event_age_minutes": 360,
                },
            }
        ),
        lambda c: c.lambda_inference.s3_trigger.model_dump(),  # type: ignore[union-attr]
        {
            "input_prefix": "score/in/",
            "output_prefix": "score/out/",
            "retry_attempts": 0,
            "max_event_age_minutes": 360,
        },
    ),
    (
        "lambda-trigger-beside-batch-on-other-prefix",
        {
            **lambda_function(s3_trigger={}),
            "batch_transform": {"enabled": True, "run_on_new_data": True},
        },
        lambda c: c.lambda_inference.s3_trigger.input_prefix,  # type: ignore[union-attr]
        "lambda/input/",
    ),
    # lambda_inference.alarms
    (
        "lambda-p90-duration",
        lambda_function(
            timeout_seconds=10,
            alarms={"latency_percentile": "p90", "latency_ms": 9999, "error_rate_percent": 5},
        ),
        lambda c: c.lambda_inference.alarms.model_dump(),  # type: ignore[union-attr]
        {"latency_percentile": "p90", "latency_ms": 9999, "error_rate_percent": 5},
    ),
    # ecs_model_service GPU and alarms
    (
        "ecs-gpu",
        ecs(**GPU, memory_mib=15360),
        lambda c: (c.ecs_model_service.gpu_count, c.ecs_model_service.gpu_instance_type),
        (1, "g5.xlarge"),
    ),
    (
        "ecs-gpu-larger-than-fargate",
        ecs(gpu_count=4, gpu_instance_type="g5.12xlarge", cpu=16384, memory_mib=122880),
        lambda c: c.ecs_model_service.memory_mib,
        122880,
    ),
    (
        "ecs-alarms",
        ecs(
            alarms={
                "latency_percentile": "p50",
                "latency_ms": 150,
                "error_5xx_rate_percent": 2,
                "cpu_percent": 70,
                "memory_percent": 85,
            }
        ),
        lambda c: c.ecs_model_service.alarms.model_dump(),  # type: ignore[union-attr]
        {
            "latency_percentile": "p50",
            "latency_ms": 150,
            "error_5xx_rate_percent": 2,
            "cpu_percent": 70,
            "memory_percent": 85,
        },
    ),
    # batch_transform tuning
    (
        "batch-concurrency-and-payload",
        batch(max_concurrent_transforms=4, max_payload_mb=25),
        lambda c: (c.batch_transform.max_concurrent_transforms, c.batch_transform.max_payload_mb),
        (4, 25),
    ),
    (
        "batch-whole-objects",
        batch(split_type="None", batch_strategy="SingleRecord", assemble_with="None"),
        lambda c: (
            c.batch_transform.split_type,
            c.batch_transform.batch_strategy,
            c.batch_transform.assemble_with,
        ),
        ("None", "SingleRecord", "None"),
    ),
    (
        "batch-recordio",
        batch(split_type="RecordIO"),
        lambda c: c.batch_transform.split_type,
        "RecordIO",
    ),
]


@pytest.mark.parametrize(
    ("data", "read", "expected"), [c[1:] for c in VALID], ids=[c[0] for c in VALID]
)
def test_valid_key_loads(
    tmp_path: Path,
    data: dict[str, object],
    read: Callable[[EnvironmentConfig], object],
    expected: object,
) -> None:
    assert read(load(tmp_path, data)) == expected


def test_defaults_leave_the_constructs_defaults() -> None:
    settings = EnvironmentConfig.model_validate(with_changes())
    endpoint_settings = settings.realtime_endpoint
    assert endpoint_settings.variants is None
    assert endpoint_settings.provisioned_concurrency is None
    assert endpoint_settings.alarms is None
    assert settings.lambda_inference.s3_trigger is None
    assert settings.lambda_inference.alarms is None
    assert (settings.ecs_model_service.gpu_count, settings.ecs_model_service.alarms) == (0, None)
    job = settings.batch_transform
    assert (job.max_concurrent_transforms, job.max_payload_mb) == (None, 6)
    assert (job.split_type, job.batch_strategy, job.assemble_with) == (
        "Line",
        "MultiRecord",
        "Line",
    )


INVALID: list[tuple[str, dict[str, object], str]] = [
    # realtime_endpoint.variants with a package promoted from another account: its image is in
    # that account's CDK asset repository, which this account cannot pull from.
    (
        "variants-foreign-package",
        endpoint(
            **INSTANCE,
            model_package={
                "group": "churn",
                "pinned_arn": "arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/3",
                "artifact_bucket": "registry-artifacts",
            },
            variants=[{"name": "champion"}, {"name": "challenger"}],
        ),
        r"realtime_endpoint\.variants\[0\]: must serve packages of this environment's account "
        r"444444444444 \(a package of account 222222222222 is served without variants\) "
        r"\(got 'arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/3'\)$",
    ),
    # realtime_endpoint.async_inference
    (
        "async-concurrency-above-1000",
        async_endpoint(max_concurrent_invocations_per_instance=1001),
        r"realtime_endpoint\.async_inference\.max_concurrent_invocations_per_instance: Input "
        r"should be less than or equal to 1000 \(got 1001\)$",
    ),
    (
        "async-success-topic-not-an-arn",
        async_endpoint(success_topic_arn="async-results"),
        r"realtime_endpoint\.async_inference\.success_topic_arn: must be an sns topic ARN "
        r"arn:aws:sns:<region>:<account>:<topic-name>, not a name or ID \(got 'async-results'\)$",
    ),
    (
        "async-error-topic-other-region",
        async_endpoint(error_topic_arn="arn:aws:sns:us-east-1:444444444444:async-errors"),
        r"realtime_endpoint\.async_inference\.error_topic_arn: must be an sns topic ARN .*"
        r"eu-west-1.* \(got 'arn:aws:sns:us-east-1:444444444444:async-errors'\)$",
    ),
    # realtime_endpoint.provisioned_concurrency
    (
        "provisioned-concurrency-above-max-concurrency",
        endpoint(max_concurrency=5, provisioned_concurrency=6),
        r"realtime_endpoint\.provisioned_concurrency: must be at most max_concurrency \(5\) "
        r"\(got 6\)$",
    ),
    (
        "provisioned-concurrency-on-instances",
        endpoint(**INSTANCE, provisioned_concurrency=1),
        r"realtime_endpoint\.provisioned_concurrency: must be left out unless mode is serverless "
        r"\(instances are always warm\) \(got 1\)$",
    ),
    (
        "provisioned-concurrency-zero",
        endpoint(provisioned_concurrency=0),
        r"realtime_endpoint\.provisioned_concurrency: Input should be greater than or equal to 1 "
        r"\(got 0\)$",
    ),
    # realtime_endpoint.variants
    (
        "variants-on-serverless",
        endpoint(variants=[{"name": "a"}, {"name": "b"}]),
        r"realtime_endpoint\.variants: must be left out unless mode is instance \(serverless and "
        r"async endpoints serve one variant\) \(got 'serverless'\)$",
    ),
    (
        "variant-name-underscore",
        endpoint(**INSTANCE, variants=[{"name": "new_model"}]),
        r"realtime_endpoint\.variants\[0\]\.name: must be 1-63 letters, digits and hyphens, "
        r"starting and ending with a letter or digit .*\(got 'new_model'\)$",
    ),
    (
        "variant-names-repeat",
        endpoint(**INSTANCE, variants=[{"name": "a"}, {"name": "a"}]),
        r"realtime_endpoint\.variants\[1\]\.name: must be unique \(got 'a'\)$",
    ),
    (
        "variant-unknown-key",
        endpoint(**INSTANCE, variants=[{"name": "a", "wieght": 2}]),
        r"realtime_endpoint\.variants\[0\]\.wieght: unknown key \(allowed keys here: name, "
        r"weight, instance_type, initial_instance_count, shadow, model_package_arn\)$",
    ),
    (
        "variant-negative-weight",
        endpoint(**INSTANCE, variants=[{"name": "a", "weight": -1}]),
        r"realtime_endpoint\.variants\[0\]\.weight: Input should be greater than or equal to 0 "
        r"\(got -1\)$",
    ),
    (
        "variant-weights-all-zero",
        endpoint(**INSTANCE, variants=[{"name": "a", "weight": 0}, {"name": "b", "weight": 0}]),
        r"realtime_endpoint\.variants: must give at least one production variant a weight above "
        r"0 \(got 'all 0'\)$",
    ),
    (
        "variant-instance-type-without-ml",
        endpoint(**INSTANCE, variants=[{"name": "a", "instance_type": "c5.large"}]),
        r"realtime_endpoint\.variants\[0\]\.instance_type: must be an instance type "
        r"CreateEndpointConfig accepts .*\(got 'c5\.large'\)$",
    ),
    (
        "variant-instance-count-zero",
        endpoint(**INSTANCE, variants=[{"name": "a", "initial_instance_count": 0}]),
        r"realtime_endpoint\.variants\[0\]\.initial_instance_count: Input should be greater than "
        r"or equal to 1 \(got 0\)$",
    ),
    (
        "shadow-beside-two-production-variants",
        endpoint(
            **INSTANCE,
            variants=[{"name": "a"}, {"name": "b"}, {"name": "c", "shadow": True}],
        ),
        r"realtime_endpoint\.variants: must hold exactly one production variant and one shadow "
        r"when a shadow is used .* \(got '2 production, 1 shadow'\)$",
    ),
    (
        "only-a-shadow",
        endpoint(**INSTANCE, variants=[{"name": "a", "shadow": True}]),
        r"realtime_endpoint\.variants: must hold 1-10 production variants \(shadow: false\) "
        r"\(got '0 production'\)$",
    ),
    (
        "shadow-not-boolean",
        endpoint(**INSTANCE, variants=[{"name": "a"}, {"name": "b", "shadow": "maybe"}]),
        r"realtime_endpoint\.variants\[1\]\.shadow: Input should be a valid boolean.* "
        r"\(got 'maybe'\)$",
    ),
    (
        "variant-package-of-another-group",
        endpoint(
            **INSTANCE,
            model_package=PACKAGE,
            variants=[
                {
                    "name": "a",
                    "model_package_arn": "arn:aws:sagemaker:eu-west-1:444444444444:"
                    "model-package/fraud/1",
                }
            ],
        ),
        r"realtime_endpoint\.variants\[0\]\.model_package_arn: must be a package of group "
        r"'churn' \(got 'arn:aws:sagemaker:eu-west-1:444444444444:model-package/fraud/1'\)$",
    ),
    (
        "variant-package-without-model-package",
        endpoint(**INSTANCE, variants=[{"name": "a", "model_package_arn": f"{GROUP_ARN}/4"}]),
        r"realtime_endpoint\.variants\[0\]\.model_package_arn: needs "
        r"realtime_endpoint\.model_package \(its group, artifacts and image\)",
    ),
    (
        "variants-with-rolling-deployment",
        endpoint(
            **INSTANCE,
            variants=[{"name": "a"}, {"name": "b"}],
            deployment={"strategy": "rolling", "percent": 20},
        ),
        r"realtime_endpoint\.deployment\.strategy: must not be rolling with more than one "
        r"variant \(rolling updates support one\) \(got 'rolling'\)$",
    ),
    # realtime_endpoint.alarms
    (
        "endpoint-percentile-p75",
        endpoint(**INSTANCE, alarms={"latency_percentile": "p75"}),
        r"realtime_endpoint\.alarms\.latency_percentile: Input should be 'p50', 'p90', 'p95' or "
        r"'p99' \(got 'p75'\)$",
    ),
    (
        "endpoint-latency-zero",
        endpoint(**INSTANCE, alarms={"latency_ms": 0}),
        r"realtime_endpoint\.alarms\.latency_ms: Input should be greater than 0 \(got 0\)$",
    ),
    (
        "endpoint-5xx-rate-above-100",
        endpoint(**INSTANCE, alarms={"error_5xx_rate_percent": 150}),
        r"realtime_endpoint\.alarms\.error_5xx_rate_percent: Input should be less than or equal "
        r"to 100 \(got 150\)$",
    ),
    (
        "endpoint-4xx-rate-zero",
        endpoint(**INSTANCE, alarms={"error_4xx_rate_percent": 0}),
        r"realtime_endpoint\.alarms\.error_4xx_rate_percent: Input should be greater than or "
        r"equal to 0\.01 \(got 0\)$",
    ),
    (
        "endpoint-cpu-above-100",
        endpoint(**INSTANCE, alarms={"cpu_percent": 101}),
        r"realtime_endpoint\.alarms\.cpu_percent: Input should be less than or equal to 100 "
        r"\(got 101\)$",
    ),
    (
        "endpoint-memory-negative",
        endpoint(**INSTANCE, alarms={"memory_percent": -5}),
        r"realtime_endpoint\.alarms\.memory_percent: Input should be greater than or equal to "
        r"0\.01 \(got -5\)$",
    ),
    (
        "endpoint-async-age-zero",
        endpoint(**INSTANCE, alarms={"async_oldest_request_minutes": 0}),
        r"realtime_endpoint\.alarms\.async_oldest_request_minutes: Input should be greater than "
        r"or equal to 1 \(got 0\)$",
    ),
    (
        "endpoint-alarms-unknown-key",
        endpoint(**INSTANCE, alarms={"latency_p95_ms": 200}),
        r"realtime_endpoint\.alarms\.latency_p95_ms: unknown key \(allowed keys here: "
        r"latency_percentile, latency_ms, error_5xx_rate_percent, error_4xx_rate_percent, "
        r"cpu_percent, memory_percent, async_oldest_request_minutes\)$",
    ),
    # lambda_inference.s3_trigger
    (
        "lambda-trigger-input-prefix-absolute",
        lambda_function(s3_trigger={"input_prefix": "/incoming/"}),
        r"lambda_inference\.s3_trigger\.input_prefix: must be .*\(got '/incoming/'\)$",
    ),
    (
        "lambda-trigger-output-prefix-absolute",
        lambda_function(s3_trigger={"output_prefix": "/scored/"}),
        r"lambda_inference\.s3_trigger\.output_prefix: must be .*\(got '/scored/'\)$",
    ),
    (
        "lambda-trigger-three-retries",
        lambda_function(s3_trigger={"retry_attempts": 3}),
        r"lambda_inference\.s3_trigger\.retry_attempts: Input should be less than or equal to 2 "
        r"\(got 3\)$",
    ),
    (
        "lambda-trigger-event-age-above-6-hours",
        lambda_function(s3_trigger={"max_event_age_minutes": 361}),
        r"lambda_inference\.s3_trigger\.max_event_age_minutes: Input should be less than or "
        r"equal to 360 \(got 361\)$",
    ),
    (
        "lambda-trigger-overlaps-batch-new-data",
        {
            **lambda_function(s3_trigger={"input_prefix": "transform/input/new/"}),
            "batch_transform": {"enabled": True, "run_on_new_data": True},
        },
        r"lambda_inference\.s3_trigger\.input_prefix: must not overlap "
        r"batch_transform\.input_prefix 'transform/input/' while batch_transform\.run_on_new_data "
        r"is true .* \(got 'transform/input/new/'\)$",
    ),
    (
        "lambda-without-any-way-in",
        with_changes(lambda_inference={"enabled": True}),
        r"lambda_inference: needs api, function_url: true or s3_trigger when enabled \(callers "
        r"need a way in\) \(got 'none'\)$",
    ),
    # lambda_inference.alarms
    (
        "lambda-percentile-p100",
        lambda_function(alarms={"latency_percentile": "p100"}),
        r"lambda_inference\.alarms\.latency_percentile: Input should be 'p50', 'p90', 'p95' or "
        r"'p99' \(got 'p100'\)$",
    ),
    (
        "lambda-latency-at-the-timeout",
        lambda_function(alarms={"latency_ms": 30000}),
        r"lambda_inference\.alarms\.latency_ms: must be less than the function's timeout "
        r"\(30000 ms\): no invocation lasts longer, so the alarm could never fire \(got 30000\.0\)$",
    ),
    (
        "lambda-latency-above-the-api-timeout",
        with_changes(
            lambda_inference={"enabled": True, "api": {}, "alarms": {"latency_ms": 29500}}
        ),
        r"lambda_inference\.alarms\.latency_ms: must be less than the function's timeout "
        r"\(29000 ms\)",
    ),
    (
        "lambda-error-rate-zero",
        lambda_function(alarms={"error_rate_percent": 0}),
        r"lambda_inference\.alarms\.error_rate_percent: Input should be greater than or equal to "
        r"0\.01 \(got 0\)$",
    ),
    # ecs_model_service GPU
    (
        "gpu-count-above-16",
        ecs(gpu_count=17, gpu_instance_type="p4d.24xlarge"),
        r"ecs_model_service\.gpu_count: Input should be less than or equal to 16 \(got 17\)$",
    ),
    (
        "gpu-count-above-the-instance",
        ecs(**{**GPU, "gpu_count": 2}, memory_mib=8192),
        r"ecs_model_service\.gpu_count: must be at most 1, the NVIDIA GPUs of one g5\.xlarge "
        r"\(1 nvidia accelerators\) \(got 2\)$",
    ),
    (
        "gpu-without-instance-type",
        ecs(gpu_count=1),
        r"ecs_model_service\.gpu_instance_type: is required when gpu_count is 1 \(Fargate has no "
        r"GPUs\): an EC2 GPU instance type such as g5\.xlarge \(got None\)$",
    ),
    (
        "gpu-instance-type-unknown",
        ecs(gpu_count=1, gpu_instance_type="g5.xlage"),
        r"ecs_model_service\.gpu_instance_type: must be an accelerated EC2 instance type with "
        r"known capacity .*\(got 'g5\.xlage'\)$",
    ),
    (
        "gpu-instance-type-on-fargate",
        ecs(gpu_instance_type="g5.xlarge"),
        r"ecs_model_service\.gpu_instance_type: must be left out when gpu_count is 0 \(tasks run "
        r"on Fargate\) \(got 'g5\.xlarge'\)$",
    ),
    (
        "gpu-task-memory-of-the-whole-instance",
        ecs(**GPU, memory_mib=16384),
        r"ecs_model_service\.memory_mib: must be less than the 16384 MiB of one g5\.xlarge .* "
        r"\(got 16384\)$",
    ),
    (
        "gpu-task-cpu-above-the-instance",
        ecs(**{**GPU, "cpu": 8192}, memory_mib=8192),
        r"ecs_model_service\.cpu: must be at most 4096 units \(4 vCPUs of one g5\.xlarge\) "
        r"\(got 8192\)$",
    ),
    # ecs_model_service.alarms
    (
        "ecs-percentile-p999",
        ecs(alarms={"latency_percentile": "p99.9"}),
        r"ecs_model_service\.alarms\.latency_percentile: Input should be 'p50', 'p90', 'p95' or "
        r"'p99' \(got 'p99\.9'\)$",
    ),
    (
        "ecs-latency-negative",
        ecs(alarms={"latency_ms": -200}),
        r"ecs_model_service\.alarms\.latency_ms: Input should be greater than 0 \(got -200\)$",
    ),
    (
        "ecs-5xx-rate-above-100",
        ecs(alarms={"error_5xx_rate_percent": 101}),
        r"ecs_model_service\.alarms\.error_5xx_rate_percent: Input should be less than or equal "
        r"to 100 \(got 101\)$",
    ),
    (
        "ecs-cpu-zero",
        ecs(alarms={"cpu_percent": 0}),
        r"ecs_model_service\.alarms\.cpu_percent: Input should be greater than or equal to 1 "
        r"\(got 0\)$",
    ),
    (
        "ecs-memory-above-100",
        ecs(alarms={"memory_percent": 120}),
        r"ecs_model_service\.alarms\.memory_percent: Input should be less than or equal to 100 "
        r"\(got 120\)$",
    ),
    # batch_transform tuning
    (
        "batch-concurrency-negative",
        batch(max_concurrent_transforms=-1),
        r"batch_transform\.max_concurrent_transforms: Input should be greater than or equal to 0 "
        r"\(got -1\)$",
    ),
    (
        "batch-concurrency-times-payload-above-100",
        batch(max_concurrent_transforms=8, max_payload_mb=20),
        r"batch_transform\.max_concurrent_transforms: must keep max_concurrent_transforms x "
        r"max_payload_mb at most 100 MB \(x 20 MB = 160 MB\) \(got 8\)$",
    ),
    (
        "batch-payload-above-100",
        batch(max_payload_mb=101),
        r"batch_transform\.max_payload_mb: Input should be less than or equal to 100 \(got 101\)$",
    ),
    (
        "batch-split-type-lowercase",
        batch(split_type="line"),
        r"batch_transform\.split_type: Input should be 'None', 'Line', 'RecordIO' or 'TFRecord' "
        r"\(got 'line'\)$",
    ),
    (
        "batch-strategy-unknown",
        batch(batch_strategy="Multi"),
        r"batch_transform\.batch_strategy: Input should be 'MultiRecord' or 'SingleRecord' "
        r"\(got 'Multi'\)$",
    ),
    (
        "batch-multirecord-on-whole-objects",
        batch(split_type="None"),
        r"batch_transform\.batch_strategy: must be SingleRecord when split_type is None \(records "
        r"are only batched when objects are split into them\) \(got 'MultiRecord'\)$",
    ),
    (
        "batch-assemble-with-newline",
        batch(assemble_with="Newline"),
        r"batch_transform\.assemble_with: Input should be 'None' or 'Line' \(got 'Newline'\)$",
    ),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_key_fails_with_file_path_allowed_and_given(
    tmp_path: Path, data: dict[str, object], message: str
) -> None:
    write_config(tmp_path, "qa", data)
    with pytest.raises(ConfigurationError) as error:
        load_environment("qa", config_dir=tmp_path, environ={})
    lines = str(error.value).splitlines()
    assert len(lines) == 1, lines
    prefix = str(tmp_path / "qa.yaml") + ": "
    assert lines[0].startswith(prefix), lines[0]
    assert re.search(message, lines[0].removeprefix(prefix)), lines[0]
