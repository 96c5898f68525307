"""Option groups of :class:`~mlops_cdk.constructs.RealtimeEndpoint`.

Each is a frozen dataclass that checks its own invariants when it is created; rules that
involve the endpoint as a whole (serverless with data capture, canary size against capacity...)
are checked by the endpoint, with its construct path in the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns

from mlops_cdk._internal.alarms import check_latency
from mlops_cdk._internal.patterns import SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING, LatencyPercentile
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.validation import BUCKET, TOPIC, Checker, Said
from mlops_cdk.constructs._sagemaker_model import ModelSource
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_package import ModelPackage

SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_WAIT_SECONDS = 3600
ONE_SECOND, ONE_MINUTE, FIFTEEN_MINUTES = (
    Duration.seconds(1),
    Duration.minutes(1),
    Duration.minutes(15),
)


def _seconds(value: Duration) -> float:
    return value.to_seconds()


@dataclass(frozen=True, kw_only=True)
class ProductionVariant:
    """One model behind the endpoint, receiving ``weight / sum(weights)`` of the traffic.

    :param name: variant name, stable across deployments (autoscaling and guardrails key on it).
    :param image: model server image. Give it (with optional ``model_data``) or
        ``model_package``.
    :param model_data: model artifact for ``image``. Default: none (baked into the image).
    :param model_package: a registry package to deploy instead of an image.
    :param instance_type: Default: the endpoint's ``instance_type``.
    :param initial_instance_count: Default: the endpoint's ``initial_instance_count``.
    :param weight: relative traffic weight. Default: 1.
    :param shadow: receive a copy of the traffic; responses are discarded. Default: False.
    :param environment: container environment variables. Default: the endpoint's.
    """

    name: str
    image: ContainerImage | None = None
    model_data: ModelData | None = None
    model_package: ModelPackage | None = None
    instance_type: str | None = None
    initial_instance_count: int | None = None
    weight: float = 1.0
    shadow: bool = False
    environment: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        check = Checker(f"ProductionVariant({self.name!r})")
        check.matches("name", self.name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
        self.source.check(check)
        if self.instance_type is not None:
            check_instance_type(check, "instance_type", self.instance_type, api="endpoint")
        check.at_least("initial_instance_count", self.initial_instance_count, 1)
        check.at_least("weight", self.weight, 0)

    @property
    def source(self) -> ModelSource:
        """The model this variant runs."""
        return ModelSource(self.image, self.model_data, self.model_package)


@dataclass(frozen=True, kw_only=True)
class AutoScaling:
    """Target tracking on ``SageMakerVariantInvocationsPerInstance`` for every variant.

    :param min_capacity: Default: 1 (instance variants cannot scale to zero).
    :param max_capacity: Default: 4.
    :param target_invocations_per_instance: invocations per instance per minute to hold.
        Default: 100; measure your model with a load test and set it to ~70 % of the rate one
        instance sustains at your latency target.
    :param scale_in_cooldown: Default: 5 minutes (scale in slowly).
    :param scale_out_cooldown: Default: 1 minute (scale out quickly).
    """

    min_capacity: int = 1
    max_capacity: int = 4
    target_invocations_per_instance: float = 100.0
    scale_in_cooldown: Duration = field(default_factory=lambda: Duration.minutes(5))
    scale_out_cooldown: Duration = field(default_factory=lambda: Duration.minutes(1))

    def __post_init__(self) -> None:
        check = Checker("AutoScaling")
        check.at_least("min_capacity", self.min_capacity, 1)
        check.require(
            self.min_capacity <= self.max_capacity,
            "min_capacity",
            f"at most max_capacity ({self.max_capacity})",
            self.min_capacity,
        )
        check.positive("target_invocations_per_instance", self.target_invocations_per_instance)
        check.in_range("scale_in_cooldown", _seconds(self.scale_in_cooldown), 0, 3600, "s")
        check.in_range("scale_out_cooldown", _seconds(self.scale_out_cooldown), 0, 3600, "s")


@dataclass(frozen=True, kw_only=True)
class ServerlessConfig:
    """A serverless endpoint: no instances, pay per request, scales to zero.

    :param memory_size_mb: one of 1024, 2048, 3072, 4096, 5120, 6144.
    :param max_concurrency: 1-200 concurrent invocations.
    :param provisioned_concurrency: warm capacity, 1-``max_concurrency``. Default: none.
    """

    memory_size_mb: int = 2048
    max_concurrency: int = 5
    provisioned_concurrency: int | None = None

    def __post_init__(self) -> None:
        check = Checker("ServerlessConfig")
        check.one_of("memory_size_mb", self.memory_size_mb, SERVERLESS_MEMORY_MB)
        check.in_range("max_concurrency", self.max_concurrency, 1, 200)
        if self.provisioned_concurrency is not None:
            check.in_range("provisioned_concurrency", self.provisioned_concurrency, 1, 200)
            check.require(
                self.provisioned_concurrency <= self.max_concurrency,
                "provisioned_concurrency",
                f"at most max_concurrency ({self.max_concurrency})",
                self.provisioned_concurrency,
            )

    def render(self) -> sagemaker.CfnEndpointConfig.ServerlessConfigProperty:
        """The ``ServerlessConfig`` property of a production variant."""
        return sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
            memory_size_in_mb=self.memory_size_mb,
            max_concurrency=self.max_concurrency,
            provisioned_concurrency=self.provisioned_concurrency,
        )


@dataclass(frozen=True, kw_only=True)
class AsyncInference:
    """Queue requests and write results to S3; scales to zero when the queue is empty.

    :param output_bucket: where results and failures are written (KMS-encrypted).
    :param output_prefix: Default: ``async/output/``.
    :param failure_prefix: Default: ``async/failure/``.
    :param max_concurrent_invocations_per_instance: Default: 4.
    :param success_topic: notified per success. Default: none.
    :param error_topic: notified per failure. Default: none.
    :param max_capacity: instances at most. Default: 2.
    :param target_backlog_per_instance: queued requests per instance to hold. Default: 5.
    :param scale_to_zero: let the instance count fall to 0 when idle. Default: True.
    """

    output_bucket: s3.IBucket
    output_prefix: str = "async/output/"
    failure_prefix: str = "async/failure/"
    max_concurrent_invocations_per_instance: int = 4
    success_topic: sns.ITopic | None = None
    error_topic: sns.ITopic | None = None
    max_capacity: int = 2
    target_backlog_per_instance: float = 5.0
    scale_to_zero: bool = True

    def __post_init__(self) -> None:
        check = Checker("AsyncInference")
        check.types(
            (
                ("output_bucket", self.output_bucket, BUCKET),
                ("success_topic", self.success_topic, TOPIC),
                ("error_topic", self.error_topic, TOPIC),
            )
        )
        check.key_prefixes(self, "output_prefix", "failure_prefix")
        check.require(
            self.output_prefix != self.failure_prefix,
            "failure_prefix",
            "different from output_prefix",
            self.failure_prefix,
        )
        check.in_range(
            "max_concurrent_invocations_per_instance",
            self.max_concurrent_invocations_per_instance,
            1,
            1000,
        )
        check.at_least("max_capacity", self.max_capacity, 1)
        check.positive("target_backlog_per_instance", self.target_backlog_per_instance)


@dataclass(frozen=True, kw_only=True)
class DataCapture:
    """Capture requests and responses to S3 (KMS-encrypted) for monitoring and retraining.

    :param sampling_percentage: 0-100. Default: 100.
    :param bucket: destination bucket (required).
    :param prefix: Default: ``data-capture/``.
    :param capture_input: Default: True.
    :param capture_output: Default: True.
    :param csv_content_types: Default: ``text/csv``.
    :param json_content_types: Default: ``application/json``.
    """

    sampling_percentage: int = 100
    bucket: s3.IBucket | None = None
    prefix: str = "data-capture/"
    capture_input: bool = True
    capture_output: bool = True
    csv_content_types: Sequence[str] = ("text/csv",)
    json_content_types: Sequence[str] = ("application/json",)

    def __post_init__(self) -> None:
        check = Checker("DataCapture")
        check.instance_of("bucket", self.bucket, BUCKET)
        check.in_range("sampling_percentage", self.sampling_percentage, 0, 100, "%")
        check.require(self.bucket is not None, "bucket", "the S3 bucket to capture into", None)
        check.key_prefixes(self, "prefix")
        check.require(
            self.capture_input or self.capture_output,
            "capture_input or capture_output",
            "True (capture at least one side)",
            Said("both False"),
        )

    @property
    def capture_modes(self) -> list[str]:
        """``Input`` and/or ``Output``."""
        return [
            m for m, on in (("Input", self.capture_input), ("Output", self.capture_output)) if on
        ]


DeploymentKind = Literal["CANARY", "LINEAR", "ALL_AT_ONCE", "ROLLING"]


@dataclass(frozen=True, kw_only=True)
class DeploymentPolicy:
    """How an update reaches traffic: blue/green (canary, linear, all at once) or rolling, with
    automatic rollback when the endpoint's alarms fire.

    Use the factories; the endpoint renders ``DeploymentConfig`` and wires its alarms in.
    """

    kind: DeploymentKind
    wait: Duration
    percent: int | None = None
    termination_wait: Duration = field(default_factory=lambda: Duration.minutes(5))
    max_execution_timeout: Duration | None = None

    @staticmethod
    def canary(
        percent: int = 10,
        wait: Duration | None = None,
        *,
        termination_wait: Duration | None = None,
    ) -> DeploymentPolicy:
        """Shift ``percent`` of capacity first, bake for ``wait`` (default 10 minutes), then
        the rest."""
        return DeploymentPolicy(
            kind="CANARY",
            wait=wait or Duration.minutes(10),
            percent=percent,
            termination_wait=_termination(termination_wait),
        )

    @staticmethod
    def linear(
        step_percent: int = 20,
        wait: Duration | None = None,
        *,
        termination_wait: Duration | None = None,
    ) -> DeploymentPolicy:
        """Shift ``step_percent`` of capacity at a time (10-50 %), baking ``wait`` between
        steps (default 5 minutes)."""
        return DeploymentPolicy(
            kind="LINEAR",
            wait=wait or Duration.minutes(5),
            percent=step_percent,
            termination_wait=_termination(termination_wait),
        )

    @staticmethod
    def all_at_once(
        wait: Duration | None = None, *, termination_wait: Duration | None = None
    ) -> DeploymentPolicy:
        """Shift everything, then bake for ``wait`` (default 10 minutes) before removing the
        old fleet."""
        return DeploymentPolicy(
            kind="ALL_AT_ONCE",
            wait=wait or Duration.minutes(10),
            termination_wait=_termination(termination_wait),
        )

    @staticmethod
    def rolling(batch_percent: int = 20, wait: Duration | None = None) -> DeploymentPolicy:
        """Replace ``batch_percent`` of instances at a time (5-50 %) without a second fleet,
        baking ``wait`` (default 5 minutes) per batch. Not for serverless or multi-variant."""
        return DeploymentPolicy(
            kind="ROLLING", wait=wait or Duration.minutes(5), percent=batch_percent
        )

    def __post_init__(self) -> None:
        check = Checker(f"DeploymentPolicy.{self.kind.lower()}")
        check.in_range("wait", _seconds(self.wait), 0, MAX_WAIT_SECONDS, "s")
        check.in_range(
            "termination_wait", _seconds(self.termination_wait), 0, MAX_WAIT_SECONDS, "s"
        )
        limits = {"CANARY": (1, 50), "LINEAR": (10, 50), "ROLLING": (5, 50)}
        if self.kind in limits:
            low, high = limits[self.kind]
            keyword = {"CANARY": "percent", "LINEAR": "step_percent", "ROLLING": "batch_percent"}
            check.in_range(keyword[self.kind], self.percent, low, high, "% of capacity")

    def render(self, alarm_names: Sequence[str]) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        """The endpoint's ``DeploymentConfig`` with auto-rollback on ``alarm_names``."""
        endpoint = sagemaker.CfnEndpoint
        wait = int(_seconds(self.wait))
        rollback = (
            endpoint.AutoRollbackConfigProperty(
                alarms=[endpoint.AlarmProperty(alarm_name=name) for name in alarm_names]
            )
            if alarm_names
            else None
        )
        if self.kind == "ROLLING":
            return endpoint.DeploymentConfigProperty(
                rolling_update_policy=endpoint.RollingUpdatePolicyProperty(
                    maximum_batch_size=_percent(self.percent),
                    wait_interval_in_seconds=wait,
                ),
                auto_rollback_configuration=rollback,
            )
        routing = endpoint.TrafficRoutingConfigProperty(
            type=self.kind,
            wait_interval_in_seconds=wait,
            canary_size=_percent(self.percent) if self.kind == "CANARY" else None,
            linear_step_size=_percent(self.percent) if self.kind == "LINEAR" else None,
        )
        timeout = self.max_execution_timeout
        return endpoint.DeploymentConfigProperty(
            blue_green_update_policy=endpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=int(_seconds(self.termination_wait)),
                maximum_execution_timeout_in_seconds=int(_seconds(timeout)) if timeout else None,
            ),
            auto_rollback_configuration=rollback,
        )


def _percent(value: int | None) -> sagemaker.CfnEndpoint.CapacitySizeProperty:
    return sagemaker.CfnEndpoint.CapacitySizeProperty(type="CAPACITY_PERCENT", value=value or 0)


def _termination(value: Duration | None) -> Duration:
    return value or Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class EndpointAlarms:
    """Alarm thresholds. Every alarm notifies the endpoint's alarm topic.

    Example (p95 model latency above 200 ms): ``EndpointAlarms(latency_percentile="p95",
    latency=Duration.millis(200))``.

    :param error_5xx_rate_percent: model 5XX responses per invocation. Default: 1 %.
    :param error_4xx_rate_percent: client errors per invocation (often bad callers or a
        changed input contract). Default: 10 %.
    :param latency: model latency at ``latency_percentile`` that fires the latency alarm.
        Default: 1 second.
    :param latency_percentile: ``p50``, ``p90``, ``p95`` or ``p99``. Default: ``p99``.
    :param latency_p99: the older name of ``latency`` (p99 only). Default: none.
    :param cpu_percent_of_capacity: CPU across all vCPUs of an instance. Default: 90 %.
    :param memory_percent: Default: 90 %.
    :param disk_percent: disk of an accelerated instance (large models fill it with weights
        and caches). Default: 90 %.
    :param gpu_percent_of_capacity: GPU across all GPUs of an NVIDIA instance. Default: 90 %.
    :param gpu_memory_percent_of_capacity: GPU memory across all GPUs. Default: 90 %.
    :param async_oldest_request_age: age of the oldest queued async request. Default: 15 min.
    :param period: evaluation period; 1 minute so deployment rollbacks act within minutes
        (10 or 30 seconds with high-resolution ``EndpointMetrics``).
    """

    error_5xx_rate_percent: float = 1.0
    error_4xx_rate_percent: float = 10.0
    latency: Duration | None = None
    latency_percentile: LatencyPercentile = "p99"
    latency_p99: Duration | None = None
    cpu_percent_of_capacity: float = 90.0
    memory_percent: float = 90.0
    disk_percent: float = 90.0
    gpu_percent_of_capacity: float = 90.0
    gpu_memory_percent_of_capacity: float = 90.0
    async_oldest_request_age: Duration = FIFTEEN_MINUTES
    period: Duration = ONE_MINUTE

    def __post_init__(self) -> None:
        check = Checker("EndpointAlarms")
        for keyword in (
            "error_5xx_rate_percent",
            "error_4xx_rate_percent",
            "memory_percent",
            "disk_percent",
        ):
            check.in_range(keyword, getattr(self, keyword), 0.01, 100, "%")
        for keyword in (
            "cpu_percent_of_capacity",
            "gpu_percent_of_capacity",
            "gpu_memory_percent_of_capacity",
        ):
            check.in_range(keyword, getattr(self, keyword), 1, 100, "%")
        check_latency(
            check,
            latency=self.latency,
            latency_p99=self.latency_p99,
            percentile=self.latency_percentile,
        )
        check.one_of("period", int(self.period.to_seconds()), [10, 30, 60, 300, 900, 3600])

    @property
    def latency_threshold(self) -> Duration:
        """The latency alarm's threshold: ``latency`` (or ``latency_p99``), else 1 second."""
        return self.latency or self.latency_p99 or ONE_SECOND
