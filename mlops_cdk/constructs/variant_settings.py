"""Instance settings of a SageMaker production variant that every instance-based endpoint shares
(:class:`~mlops_cdk.constructs.RealtimeEndpoint` and
:class:`~mlops_cdk.constructs.ModelHost`): large-model settings, managed instance scaling and
the endpoint's metrics configuration.

Ranges and enumerations are botocore's (sagemaker ``ProductionVariant``,
``ProductionVariantManagedInstanceScaling``, ``MetricsConfig``) intersected with the
CloudFormation schema of ``AWS::SageMaker::EndpointConfig``; rules that depend on the instance
type (NVMe storage, the AMI's accelerator) are checked by :func:`check_for_instance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_sagemaker as sagemaker

from mlops_cdk._internal.patterns import (
    INFERENCE_AMI_VERSIONS,
    METRIC_PUBLISH_SECONDS,
    ROUTING_STRATEGIES,
    InferenceAmiVersion,
    RoutingStrategy,
)
from mlops_cdk._internal.sagemaker import has_local_storage, instance_family
from mlops_cdk._internal.validation import DURATION, Checker, Said

# ProductionVariantVolumeSizeInGB; ProductionVariant*TimeoutInSeconds (botocore sagemaker).
VOLUME_GB = (1, 512)
STARTUP_SECONDS = (60, 3600)
_NVIDIA = ("g", "p")
_NEURON = ("inf2", "trn")


@dataclass(frozen=True, kw_only=True)
class VariantSettings:
    """Large-model settings of an instance variant.

    :param volume_size_gb: EBS volume per instance for the model (1-512 GB). Not for instance
        types with local NVMe storage, which hold the model there. Default: SageMaker's.
    :param model_data_download_timeout: time to download and unpack the model (1-60 minutes).
        Default: SageMaker's.
    :param container_startup_timeout: time for the container to pass its health check
        (1-60 minutes). Default: SageMaker's.
    :param inference_ami_version: the host image (driver and CUDA/Neuron versions); GPU images
        need an NVIDIA instance, the Neuron image Inferentia2 or Trainium. Default: SageMaker's.
    :param routing_strategy: ``LEAST_OUTSTANDING_REQUESTS``, ``RANDOM`` or ``PREFIX_AWARE``.
        Default: SageMaker's (``RANDOM``) for a RealtimeEndpoint,
        ``LEAST_OUTSTANDING_REQUESTS`` for a ModelHost.
    """

    volume_size_gb: int | None = None
    model_data_download_timeout: Duration | None = None
    container_startup_timeout: Duration | None = None
    inference_ami_version: InferenceAmiVersion | None = None
    routing_strategy: RoutingStrategy | None = None

    def __post_init__(self) -> None:
        check = Checker("VariantSettings")
        check.in_range("volume_size_gb", self.volume_size_gb, *VOLUME_GB, "GB")
        for keyword in ("model_data_download_timeout", "container_startup_timeout"):
            value: Duration | None = getattr(self, keyword)
            check.instance_of(keyword, value, DURATION)
            if value is not None:
                check.in_range(keyword, value.to_seconds(), *STARTUP_SECONDS, "s")
        if self.inference_ami_version is not None:
            check.one_of(
                "inference_ami_version", self.inference_ami_version, INFERENCE_AMI_VERSIONS
            )
        if self.routing_strategy is not None:
            check.one_of("routing_strategy", self.routing_strategy, ROUTING_STRATEGIES)

    def check_for_instance(self, check: Checker, keyword: str, instance_type: str) -> None:
        """Raise when a setting does not fit ``instance_type`` (``keyword`` names where the
        settings were given)."""
        if self.volume_size_gb is not None and has_local_storage(instance_type):
            check.not_together(
                f"{keyword}.volume_size_gb",
                f"instance type {instance_type}",
                "it stores the model on its local NVMe instance storage, and SageMaker refuses "
                "an EBS volume size for it",
            )
        ami = self.inference_ami_version
        if ami is None:
            return
        family = instance_family(instance_type)
        if "-gpu-" in ami and not family.startswith(_NVIDIA):
            check.fail(
                f"{keyword}.inference_ami_version",
                f"a Neuron image or none on {instance_type}: the GPU images hold NVIDIA "
                "drivers and need an NVIDIA GPU instance (ml.g*, ml.p*)",
                ami,
            )
        if "-neuron-" in ami and not family.startswith(_NEURON):
            check.fail(
                f"{keyword}.inference_ami_version",
                f"a GPU image or none on {instance_type}: the Neuron image needs an "
                "Inferentia2 or Trainium instance (ml.inf2.*, ml.trn*)",
                ami,
            )

    def render_into(self, default_routing: RoutingStrategy | None = None) -> dict[str, Any]:
        """The ``ProductionVariant`` keyword arguments these settings set."""
        routing = self.routing_strategy or default_routing
        download, startup = self.model_data_download_timeout, self.container_startup_timeout
        return {
            "volume_size_in_gb": self.volume_size_gb,
            "model_data_download_timeout_in_seconds": int(download.to_seconds())
            if download
            else None,
            "container_startup_health_check_timeout_in_seconds": int(startup.to_seconds())
            if startup
            else None,
            "inference_ami_version": self.inference_ami_version,
            "routing_config": sagemaker.CfnEndpointConfig.RoutingConfigProperty(
                routing_strategy=routing
            )
            if routing
            else None,
        }


@dataclass(frozen=True, kw_only=True)
class InstanceScaling:
    """SageMaker managed instance scaling of a variant: the endpoint adds and removes instances
    itself, between ``min_instances`` and ``max_instances``.

    :param min_instances: 0 lets the endpoint release every instance when idle; only an
        endpoint that hosts inference components (a :class:`ModelHost`) can scale to zero
        (SageMaker "Scale an endpoint to zero instances"). Default: 1.
    :param max_instances: Default: 2.
    """

    min_instances: int = 1
    max_instances: int = 2

    def __post_init__(self) -> None:
        check = Checker("InstanceScaling")
        check.at_least("min_instances", self.min_instances, 0)
        check.at_least("max_instances", self.max_instances, 1)
        check.require(
            self.min_instances <= self.max_instances,
            "min_instances",
            f"at most max_instances ({self.max_instances})",
            self.min_instances,
        )

    def check_initial(self, check: Checker, initial_instance_count: int) -> None:
        """The variant starts within the range it scales in."""
        check.require(
            initial_instance_count <= self.max_instances,
            "initial_instance_count",
            f"at most instance_scaling.max_instances ({self.max_instances})",
            initial_instance_count,
        )

    def render(self) -> sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty:
        """The variant's ``ManagedInstanceScaling``."""
        return sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
            status="ENABLED",
            min_instance_count=self.min_instances,
            max_instance_count=self.max_instances,
        )


@dataclass(frozen=True, kw_only=True)
class EndpointMetrics:
    """How often the endpoint publishes its metrics (``MetricsConfig``).

    High-resolution metrics (``publish_every`` 10 or 30 seconds) let alarms with a
    ``period`` of 10 or 30 seconds see a failing canary within seconds instead of minutes, so
    deployments roll back sooner. With ``enhanced`` on, the frequency applies to invocation
    metrics too (errors and latency, which rollback alarms watch); without it only to
    utilisation metrics. CloudWatch bills high-resolution alarms at three times the standard
    rate.

    :param publish_every: one of 10, 30, 60, 120, 180, 240, 300 seconds. Default: 10 seconds.
    :param enhanced: per-instance and per-container dimensions, and the frequency for
        invocation metrics. Default: True.
    """

    publish_every: Duration = field(default_factory=lambda: Duration.seconds(10))
    enhanced: bool = True

    def __post_init__(self) -> None:
        check = Checker("EndpointMetrics")
        check.instance_of("publish_every", self.publish_every, DURATION)
        check.one_of("publish_every", int(self.publish_every.to_seconds()), METRIC_PUBLISH_SECONDS)

    @property
    def invocation_seconds(self) -> int:
        """How often invocation metrics (errors, latency) are published."""
        return int(self.publish_every.to_seconds()) if self.enhanced else 60

    def render(self) -> sagemaker.CfnEndpointConfig.MetricsConfigProperty:
        """The endpoint configuration's ``MetricsConfig``."""
        return sagemaker.CfnEndpointConfig.MetricsConfigProperty(
            enable_enhanced_metrics=self.enhanced,
            metric_publish_frequency_in_seconds=int(self.publish_every.to_seconds()),
        )


def check_alarm_period(
    check: Checker, period: Duration, metrics: EndpointMetrics | None, keyword: str
) -> None:
    """An alarm period under a minute needs invocation metrics published at least that often
    (otherwise most of its periods hold no data and a failing deployment goes unseen)."""
    seconds = int(period.to_seconds())
    if seconds >= 60:
        return
    published = metrics.invocation_seconds if metrics is not None else 60
    if published > seconds:
        check.fail(
            keyword,
            f"at least {published} s, how often invocation metrics are published "
            "(give metrics=EndpointMetrics(publish_every=Duration.seconds(10)) for "
            "high-resolution alarms)",
            Said(f"{seconds} s"),
        )


def check_settings_for_instances(
    check: Checker, keyword: str, settings: VariantSettings | None, instance_types: Sequence[str]
) -> None:
    """:meth:`VariantSettings.check_for_instance` for every instance type of an endpoint."""
    if settings is None:
        return
    for instance_type in dict.fromkeys(instance_types):
        settings.check_for_instance(check, keyword, instance_type)
