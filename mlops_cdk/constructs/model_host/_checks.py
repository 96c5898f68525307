"""The rules of a ModelHost and of the models it hosts: the host's instance settings, and whether
each model's copies fit the host's instances (one copy on one instance; every copy of every
model on the instances the host may have). Each raises a ConfigurationError naming the
construct path, keyword and reason."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlops_cdk._internal.patterns import SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING
from mlops_cdk._internal.sagemaker import (
    MODEL_ENVIRONMENT,
    check_container_environment,
    check_instance_type,
)
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.instance_types import Capacity, sagemaker_capacity
from mlops_cdk.constructs._sagemaker_model import ModelSource
from mlops_cdk.constructs.model_host.options import ComputeResources, CopyScaling
from mlops_cdk.constructs.realtime_endpoint.options import EndpointAlarms
from mlops_cdk.constructs.variant_settings import (
    EndpointMetrics,
    InstanceScaling,
    VariantSettings,
    check_alarm_period,
)

STARTUP_SECONDS = (60, 3600)


@dataclass(frozen=True)
class Demand:
    """What a model's copies reserve at most: copies and resources per copy."""

    path: str
    copies: int
    resources: ComputeResources


def check_host(
    check: Checker,
    *,
    instance_type: str,
    initial_instance_count: int,
    instance_scaling: InstanceScaling | None,
    variant_settings: VariantSettings | None,
    metrics: EndpointMetrics | None,
    alarm_thresholds: EndpointAlarms,
    endpoint_name: str | None,
) -> None:
    """Every rule of a ModelHost's own settings."""
    check_instance_type(check, "instance_type", instance_type, api="endpoint")
    check.at_least("initial_instance_count", initial_instance_count, 1)
    if instance_scaling is not None:
        instance_scaling.check_initial(check, initial_instance_count)
    if variant_settings is not None:
        variant_settings.check_for_instance(check, "variant_settings", instance_type)
    check_alarm_period(check, alarm_thresholds.period, metrics, "alarm_thresholds.period")
    check.matches("endpoint_name", endpoint_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)


def check_model(
    check: Checker,
    source: ModelSource,
    *,
    environment: Mapping[str, str] | None,
    copy_count: int,
    autoscaling: CopyScaling | None,
    startup_timeouts: Mapping[str, float | None],
    component_name: str | None,
) -> None:
    """The rules of one hosted model that do not depend on its host."""
    source.check(check)
    check_container_environment(check, "environment", environment, MODEL_ENVIRONMENT)
    check.at_least("copy_count", copy_count, 1)
    if autoscaling is not None:
        check.require(
            autoscaling.min_copies <= copy_count <= autoscaling.max_copies,
            "copy_count",
            f"between autoscaling.min_copies ({autoscaling.min_copies}) and "
            f"autoscaling.max_copies ({autoscaling.max_copies})",
            copy_count,
        )
    for keyword, seconds in startup_timeouts.items():
        check.in_range(keyword, seconds, *STARTUP_SECONDS, "s")
    check.matches("component_name", component_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)


def check_fit(
    check: Checker,
    demand: Demand,
    *,
    instance_type: str,
    max_instances: int,
    hosted: Sequence[Demand],
) -> None:
    """A copy of ``demand`` fits one ``instance_type`` instance, its copies fit
    ``max_instances`` of them, and so do the copies of every model on the host (``hosted``,
    the models added before). Skipped for instance types without capacity data."""
    capacity = sagemaker_capacity(instance_type)
    if capacity is None:
        return
    resources = demand.resources
    _check_one_copy(check, resources, capacity, instance_type)
    per_instance = _copies_per_instance(resources, capacity)
    needed = math.ceil(demand.copies / per_instance)
    check.require(
        needed <= max_instances,
        "copies",
        f"at most {per_instance * max_instances}: {per_instance} per {instance_type} times the "
        f"host's {max_instances} instances at most (raise instance_scaling.max_instances or "
        "lower the copies)",
        Said(f"{demand.copies} copies (autoscaling.max_copies or copy_count)"),
    )
    everything = [*hosted, demand]
    for unit, total, available in _totals(everything, capacity, max_instances):
        check.require(
            total <= available,
            "copies",
            f"within the host's capacity: every hosted model's copies together reserve "
            f"{total:g} {unit}, and {max_instances} x {instance_type} offer {available:g}",
            Said(", ".join(f"{d.path}: {d.copies}" for d in everything)),
        )


def _check_one_copy(
    check: Checker, resources: ComputeResources, capacity: Capacity, instance_type: str
) -> None:
    check.require(
        resources.min_memory_mb <= capacity.memory_mib,
        "resources.min_memory_mb",
        f"at most {capacity.memory_mib} MB, the memory of one {instance_type}",
        resources.min_memory_mb,
    )
    if resources.cpu_cores is not None:
        check.require(
            resources.cpu_cores <= capacity.vcpus,
            "resources.cpu_cores",
            f"at most {capacity.vcpus}, the vCPUs of one {instance_type}",
            resources.cpu_cores,
        )
    if resources.accelerators is not None:
        check.require(
            resources.accelerators <= capacity.accelerators,
            "resources.accelerators",
            f"at most {capacity.accelerators}, the accelerators of one {instance_type}"
            + (
                " (it has none: host the model on an ml.g*, ml.p* or ml.inf* type)"
                if capacity.accelerators == 0
                else ""
            ),
            resources.accelerators,
        )


def _copies_per_instance(resources: ComputeResources, capacity: Capacity) -> int:
    fits = [capacity.memory_mib // resources.min_memory_mb]
    if resources.cpu_cores:
        fits.append(math.floor(capacity.vcpus / resources.cpu_cores))
    if resources.accelerators:
        fits.append(capacity.accelerators // resources.accelerators)
    return max(1, min(fits))


def _totals(
    demands: Sequence[Demand], capacity: Capacity, instances: int
) -> list[tuple[str, float, float]]:
    return [
        (
            "MB of memory",
            sum(d.copies * d.resources.min_memory_mb for d in demands),
            instances * capacity.memory_mib,
        ),
        (
            "vCPUs",
            sum(d.copies * (d.resources.cpu_cores or 0) for d in demands),
            instances * capacity.vcpus,
        ),
        (
            "accelerators",
            sum(d.copies * (d.resources.accelerators or 0) for d in demands),
            instances * capacity.accelerators,
        ),
    ]
