"""Option groups of :class:`~mlops_cdk.constructs.ModelHost` and
:class:`~mlops_cdk.constructs.HostedModel`.

Ranges are botocore's (sagemaker ``InferenceComponentComputeResourceRequirements``,
``InferenceComponentRollingUpdatePolicy``); what depends on the host's instance type (whether
a copy fits, how many fit) is checked when the model is added to its host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Duration
from aws_cdk import aws_sagemaker as sagemaker

from mlops_cdk._internal.validation import DURATION, Checker

BatchType = Literal["COPY_COUNT", "CAPACITY_PERCENT"]
# InferenceComponentRollingUpdatePolicy: WaitIntervalInSeconds 0-3600,
# MaximumExecutionTimeoutInSeconds 600-28800; MaximumBatchSize as a percentage 5-50 % of the
# component's copies (UpdateInferenceComponent documentation).
MAX_WAIT_SECONDS = 3600
EXECUTION_TIMEOUT_SECONDS = (600, 28800)
BATCH_PERCENT = (5, 50)


@dataclass(frozen=True, kw_only=True)
class ComputeResources:
    """What one copy of a model reserves on a host instance (``ComputeResourceRequirements``).

    :param min_memory_mb: memory reserved per copy (at least 128 MB). Default: 1024.
    :param max_memory_mb: memory a copy may grow to. Default: none (``min_memory_mb``).
    :param cpu_cores: vCPUs reserved per copy (at least 0.25). Default: 1.
    :param accelerators: GPUs or Inferentia devices per copy (at least 1). Default: none.
    """

    min_memory_mb: int = 1024
    max_memory_mb: int | None = None
    cpu_cores: float | None = 1.0
    accelerators: int | None = None

    def __post_init__(self) -> None:
        check = Checker("ComputeResources")
        check.at_least("min_memory_mb", self.min_memory_mb, 128, "MB")
        check.at_least("max_memory_mb", self.max_memory_mb, 128, "MB")
        if self.max_memory_mb is not None:
            check.require(
                self.max_memory_mb >= self.min_memory_mb,
                "max_memory_mb",
                f"at least min_memory_mb ({self.min_memory_mb})",
                self.max_memory_mb,
            )
        check.at_least("cpu_cores", self.cpu_cores, 0.25)
        check.at_least("accelerators", self.accelerators, 1)

    def render(
        self,
    ) -> sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty:
        """The component's ``ComputeResourceRequirements``."""
        component = sagemaker.CfnInferenceComponent
        return component.InferenceComponentComputeResourceRequirementsProperty(
            min_memory_required_in_mb=self.min_memory_mb,
            max_memory_required_in_mb=self.max_memory_mb,
            number_of_cpu_cores_required=self.cpu_cores,
            number_of_accelerator_devices_required=self.accelerators,
        )


@dataclass(frozen=True, kw_only=True)
class CopyScaling:
    """Target tracking of a model's copy count on invocations per copy
    (``SageMakerInferenceComponentInvocationsPerCopy``); the host adds instances for new copies
    through its managed instance scaling.

    :param min_copies: 0 lets the model scale to zero copies when idle (its first request then
        fails while a copy starts, and a step policy on ``NoCapacityInvocationFailures`` adds
        one). Default: 1.
    :param max_copies: Default: 4.
    :param target_invocations_per_copy: invocations per copy per minute to hold. Default: 100.
    :param target_concurrent_requests_per_copy: also track concurrent requests per copy, a
        metric SageMaker publishes every 10 seconds
        (``SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution``), so copies are
        added within seconds of a burst; with two policies, scale-out follows either and
        scale-in needs both. Default: none.
    :param scale_in_cooldown: Default: 5 minutes.
    :param scale_out_cooldown: Default: 1 minute.
    """

    min_copies: int = 1
    max_copies: int = 4
    target_invocations_per_copy: float = 100.0
    target_concurrent_requests_per_copy: float | None = None
    scale_in_cooldown: Duration = field(default_factory=lambda: Duration.minutes(5))
    scale_out_cooldown: Duration = field(default_factory=lambda: Duration.minutes(1))

    def __post_init__(self) -> None:
        check = Checker("CopyScaling")
        check.at_least("min_copies", self.min_copies, 0)
        check.at_least("max_copies", self.max_copies, 1)
        check.require(
            self.min_copies <= self.max_copies,
            "min_copies",
            f"at most max_copies ({self.max_copies})",
            self.min_copies,
        )
        check.positive("target_invocations_per_copy", self.target_invocations_per_copy)
        check.positive(
            "target_concurrent_requests_per_copy", self.target_concurrent_requests_per_copy
        )
        for keyword in ("scale_in_cooldown", "scale_out_cooldown"):
            value: Duration = getattr(self, keyword)
            check.instance_of(keyword, value, DURATION)
            check.in_range(keyword, value.to_seconds(), 0, 3600, "s")


@dataclass(frozen=True, kw_only=True)
class ComponentDeployment:
    """How an update of a hosted model reaches traffic: a rolling update of its copies that
    rolls back when the model's error or latency alarms fire (``DeploymentConfig``).

    Use :meth:`rolling` (a number of copies per batch) or :meth:`rolling_percent`.

    :param batch_type: ``COPY_COUNT`` or ``CAPACITY_PERCENT``.
    :param batch_size: copies (at least 1) or percent of copies (5-50) per batch.
    :param wait: baking time per batch while the alarms are watched (0-60 minutes).
    :param max_execution_timeout: limit of the whole update (10 minutes-8 hours).
        Default: SageMaker's.
    :param rollback_batch_size: copies per batch when rolling back (same type). Default: all
        at once (SageMaker's).
    """

    batch_type: BatchType = "COPY_COUNT"
    batch_size: int = 1
    wait: Duration = field(default_factory=lambda: Duration.minutes(5))
    max_execution_timeout: Duration | None = None
    rollback_batch_size: int | None = None

    @staticmethod
    def rolling(
        copies: int = 1,
        wait: Duration | None = None,
        *,
        rollback_copies: int | None = None,
        max_execution_timeout: Duration | None = None,
    ) -> ComponentDeployment:
        """Replace ``copies`` copies at a time, baking ``wait`` (default 5 minutes) per batch."""
        return ComponentDeployment(
            batch_type="COPY_COUNT",
            batch_size=copies,
            wait=wait or Duration.minutes(5),
            rollback_batch_size=rollback_copies,
            max_execution_timeout=max_execution_timeout,
        )

    @staticmethod
    def rolling_percent(
        percent: int = 20,
        wait: Duration | None = None,
        *,
        max_execution_timeout: Duration | None = None,
    ) -> ComponentDeployment:
        """Replace ``percent`` (5-50 %) of the copies at a time."""
        return ComponentDeployment(
            batch_type="CAPACITY_PERCENT",
            batch_size=percent,
            wait=wait or Duration.minutes(5),
            max_execution_timeout=max_execution_timeout,
        )

    def __post_init__(self) -> None:
        check = Checker("ComponentDeployment")
        check.one_of("batch_type", self.batch_type, ("COPY_COUNT", "CAPACITY_PERCENT"))
        if self.batch_type == "CAPACITY_PERCENT":
            check.in_range("batch_size", self.batch_size, *BATCH_PERCENT, "% of copies")
            check.in_range("rollback_batch_size", self.rollback_batch_size, 1, 100, "% of copies")
        else:
            check.at_least("batch_size", self.batch_size, 1, "copies")
            check.at_least("rollback_batch_size", self.rollback_batch_size, 1, "copies")
        check.instance_of("wait", self.wait, DURATION)
        check.in_range("wait", self.wait.to_seconds(), 0, MAX_WAIT_SECONDS, "s")
        check.instance_of("max_execution_timeout", self.max_execution_timeout, DURATION)
        if self.max_execution_timeout is not None:
            check.in_range(
                "max_execution_timeout",
                self.max_execution_timeout.to_seconds(),
                *EXECUTION_TIMEOUT_SECONDS,
                "s",
            )

    def render(
        self, alarm_names: list[str]
    ) -> sagemaker.CfnInferenceComponent.InferenceComponentDeploymentConfigProperty:
        """The component's ``DeploymentConfig``, rolling back on ``alarm_names``."""
        component = sagemaker.CfnInferenceComponent
        timeout = self.max_execution_timeout
        rollback = self.rollback_batch_size
        return component.InferenceComponentDeploymentConfigProperty(
            rolling_update_policy=component.InferenceComponentRollingUpdatePolicyProperty(
                maximum_batch_size=component.InferenceComponentCapacitySizeProperty(
                    type=self.batch_type, value=self.batch_size
                ),
                wait_interval_in_seconds=int(self.wait.to_seconds()),
                maximum_execution_timeout_in_seconds=int(timeout.to_seconds()) if timeout else None,
                rollback_maximum_batch_size=component.InferenceComponentCapacitySizeProperty(
                    type=self.batch_type, value=rollback
                )
                if rollback
                else None,
            ),
            auto_rollback_configuration=component.AutoRollbackConfigurationProperty(
                alarms=[component.AlarmProperty(alarm_name=name) for name in alarm_names]
            )
            if alarm_names
            else None,
        )
