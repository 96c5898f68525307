"""Alarm pieces of SageMaker hosting, shared by RealtimeEndpoint and ModelHost: a variant's
instance alarms (CPU and memory always; disk, GPU and GPU memory when the instance is
accelerated), the error-rate expression, and the KMS acknowledgement of NVMe hosts.

``/aws/sagemaker/Endpoints`` reports CPUUtilization, GPUUtilization and GPUMemoryUtilization
summed over an instance's vCPUs or GPUs (0 to 100 x count), so those thresholds scale with the
instance's capacity (``validators.instance_types.sagemaker_capacity``); MemoryUtilization and
DiskUtilization are plain percentages. An instance type without capacity data gets no alarm
that needs a count rather than a wrong threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker

from mlops_cdk._internal import nag
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.sagemaker import is_accelerated, vcpus
from mlops_cdk._internal.validators.instance_types import sagemaker_capacity

INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
_KMS_ON_ENDPOINT_CONFIG = (
    "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
    "NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured",
    "PCI.DSS.321-SageMakerEndpointConfigurationKMSKeyConfigured",
)


class InstanceThresholds(Protocol):
    """The thresholds the instance alarms read (:class:`EndpointAlarms` has them)."""

    @property
    def cpu_percent_of_capacity(self) -> float: ...
    @property
    def memory_percent(self) -> float: ...
    @property
    def disk_percent(self) -> float: ...
    @property
    def gpu_percent_of_capacity(self) -> float: ...
    @property
    def gpu_memory_percent_of_capacity(self) -> float: ...


def add_instance_alarms(
    alarm_set: AlarmSet,
    metric: Callable[[str], cloudwatch.IMetric],
    *,
    variant: str,
    suffix: str,
    instance_type: str | None,
    thresholds: InstanceThresholds,
) -> None:
    """The instance alarms of ``variant`` on ``instance_type``; ``metric(name)`` gives the
    variant's ``/aws/sagemaker/Endpoints`` metric (Average). An unknown ``instance_type``
    (``None``: an endpoint deployed elsewhere) gets only the memory alarm: the CPU and GPU
    thresholds scale with what the instance has."""
    cores = vcpus(instance_type) if instance_type is not None else None
    if cores is not None:
        alarm_set.add(
            f"Cpu{suffix}",
            metric("CPUUtilization"),
            thresholds.cpu_percent_of_capacity * cores,  # CPUUtilization sums all vCPUs
            f"{variant}: CPU above {thresholds.cpu_percent_of_capacity} % of {cores} vCPUs",
        )
    alarm_set.add(
        f"Memory{suffix}",
        metric("MemoryUtilization"),
        thresholds.memory_percent,
        f"{variant}: memory above {thresholds.memory_percent} %",
    )
    if instance_type is None or not is_accelerated(instance_type):
        return
    # Large models fill the volume with weights and caches: a full disk stops model loading.
    alarm_set.add(
        f"Disk{suffix}",
        metric("DiskUtilization"),
        thresholds.disk_percent,
        f"{variant}: disk above {thresholds.disk_percent} %",
    )
    capacity = sagemaker_capacity(instance_type)
    gpus = capacity.gpus if capacity is not None else 0
    if gpus == 0:  # Inferentia/Trainium, or no data: no GPU metrics to scale
        return
    alarm_set.add(
        f"Gpu{suffix}",
        metric("GPUUtilization"),
        thresholds.gpu_percent_of_capacity * gpus,  # GPUUtilization sums all GPUs
        f"{variant}: GPU above {thresholds.gpu_percent_of_capacity} % of {gpus} GPUs",
    )
    alarm_set.add(
        f"GpuMemory{suffix}",
        metric("GPUMemoryUtilization"),
        thresholds.gpu_memory_percent_of_capacity * gpus,  # summed over GPUs too
        f"{variant}: GPU memory above {thresholds.gpu_memory_percent_of_capacity} % of {gpus} GPUs",
    )


def error_rate(
    metric: Callable[[str], cloudwatch.IMetric], errors: str, period: Duration
) -> cloudwatch.MathExpression:
    """``errors`` as a percentage of ``Invocations`` (0 without traffic); ``metric(name)`` gives
    the invocation metric of one variant or inference component."""
    return cloudwatch.MathExpression(
        expression="IF(invocations > 0, 100 * errors / invocations, 0)",
        using_metrics={"errors": metric(errors), "invocations": metric("Invocations")},
        label=f"{errors} %",
        period=period,
    )


def acknowledge_local_storage(config: sagemaker.CfnEndpointConfig) -> None:
    """The endpoint configuration has no KMS key because its instances have NVMe storage."""
    nag.acknowledge_rules(
        config,
        _KMS_ON_ENDPOINT_CONFIG,
        "These instance types encrypt their local NVMe storage in hardware and SageMaker "
        "rejects a KmsKeyId for them (CreateEndpointConfig API reference).",
    )
