"""Instance types per API: SageMaker's enumerations, and EC2 capacities for ECS GPU services.

SageMaker: each API has its own instance-type enumeration in AWS's published service model, and
the job APIs' lists are narrower than endpoints' (most NVMe ``d`` families such as
``ml.c5d.*`` and ``ml.m5d.*`` are endpoint-only). Package data ``sagemaker-instance-types.json``
holds botocore's lists (version and date recorded there; ``scripts/make_instance_types.py``
regenerates it, and a test fails when the installed botocore disagrees):

===========  ========================================================  ============================
api          request field                                             botocore shape
===========  ========================================================  ============================
endpoint     CreateEndpointConfig ProductionVariants[].InstanceType    ProductionVariantInstanceType
transform    CreateTransformJob TransformResources.InstanceType        TransformInstanceType
training     CreateTrainingJob ResourceConfig.InstanceType             TrainingInstanceType
processing   CreateProcessingJob / monitoring ClusterConfig.InstanceType ProcessingInstanceType
===========  ========================================================  ============================

EC2 (ECS GPU services): vCPUs, memory and GPUs of the accelerated instance types an ECS
service may run on, from ``ec2-accelerated-capacities.json`` (source and date recorded there).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from mlops_cdk._internal.validators._data import load, suggestion

SageMakerApi = Literal["endpoint", "transform", "training", "processing"]
_API_NAMES: dict[str, str] = {
    "endpoint": "CreateEndpointConfig",
    "transform": "CreateTransformJob",
    "training": "CreateTrainingJob",
    "processing": "CreateProcessingJob",
}


@cache
def sagemaker_instance_types(api: SageMakerApi) -> tuple[str, ...]:
    """The instance types ``api`` accepts, sorted."""
    return tuple(load("sagemaker-instance-types.json")["instance_types"][api])


def _families(types: tuple[str, ...]) -> str:
    families = sorted({t.split(".")[1] for t in types})
    return ", ".join(families)


def instance_type_problem(instance_type: str, *, api: SageMakerApi) -> str | None:
    """What ``instance_type`` must be for ``api`` (after "must be"), or ``None``."""
    allowed = sagemaker_instance_types(api)
    if instance_type in allowed:
        return None
    name = _API_NAMES[api]
    text = instance_type if isinstance(instance_type, str) else ""
    guess = text if text.startswith("ml.") else "ml." + text
    hint = suggestion(guess, allowed) if text else ""
    apis: tuple[SageMakerApi, ...] = ("endpoint", "transform", "training", "processing")
    others = [other for other in apis if other != api and text in sagemaker_instance_types(other)]
    elsewhere = f"; {text} is for {', '.join(_API_NAMES[o] for o in others)} only" if others else ""
    return (
        f"an instance type {name} accepts (ml.<family>.<size>, families {_families(allowed)})"
        f"{hint}{elsewhere}"
    )


@dataclass(frozen=True)
class Capacity:
    """What one EC2 instance offers: vCPUs, memory (MiB) and NVIDIA GPUs."""

    vcpus: int
    memory_mib: int
    gpus: int
    accelerator: str
    accelerators: int


@cache
def ec2_capacity(instance_type: str) -> Capacity | None:
    """The capacity of an accelerated EC2 instance type (``g5.xlarge``), or ``None`` when the
    data does not list it."""
    entry = load("ec2-accelerated-capacities.json")["instance_types"].get(instance_type)
    return Capacity(**entry) if entry is not None else None


def ec2_instance_types() -> tuple[str, ...]:
    """The accelerated EC2 instance types with known capacities."""
    return tuple(load("ec2-accelerated-capacities.json")["instance_types"])


def nvidia_gpu_families() -> tuple[str, ...]:
    """The EC2 families with NVIDIA GPUs (``g4dn``, ``g5``, ``p4d``...), the ones ECS can give a
    task GPUs on, in the data's order."""
    return tuple(
        dict.fromkeys(
            name.split(".")[0]
            for name in sorted(ec2_instance_types())
            if (capacity := ec2_capacity(name)) is not None and capacity.accelerator == "nvidia"
        )
    )


def gpu_task_problems(
    instance_type: str, *, gpu_count: int, memory_mib: int, cpu: int | None = None
) -> dict[str, str]:
    """keyword -> problem (after "must be") for an ECS task of ``gpu_count`` GPUs, ``memory_mib``
    MiB and ``cpu`` units that does not fit one ``instance_type`` instance. Empty when it fits.
    An instance type without data is reported under ``gpu_instance_type``."""
    capacity = ec2_capacity(instance_type)
    if capacity is None:
        hint = suggestion(instance_type, ec2_instance_types())
        return {
            "gpu_instance_type": "an accelerated EC2 instance type with known capacity ("
            + ", ".join(sorted({t.split(".")[0] for t in ec2_instance_types()}))
            + f" families, such as g5.xlarge){hint}"
        }
    problems: dict[str, str] = {}
    if gpu_count > capacity.gpus:
        problems["gpu_count"] = (
            f"at most {capacity.gpus}, the NVIDIA GPUs of one {instance_type} "
            f"({capacity.accelerators} {capacity.accelerator} accelerators)"
        )
    # ECS registers an instance's memory less what the OS and agent use, so a task asking for
    # all of it never places: strictly less than the instance's memory.
    if memory_mib >= capacity.memory_mib:
        problems["memory_mib"] = (
            f"less than the {capacity.memory_mib} MiB of one {instance_type} (ECS keeps some "
            "for the operating system and agent)"
        )
    if cpu is not None and cpu > capacity.vcpus * 1024:
        problems["cpu"] = (
            f"at most {capacity.vcpus * 1024} units ({capacity.vcpus} vCPUs of one {instance_type})"
        )
    return problems


# Memory per vCPU of the CPU-only SageMaker families (ml.<family> = the EC2 type of the same
# name), from the Amazon EC2 Instance Types guide: compute optimized (c*: 2 GiB per vCPU; c4:
# 3.75 GiB per 2 vCPUs), general purpose (m*: 4 GiB), memory optimized (r*: 8 GiB). Burstable
# t2 sizes do not follow a ratio and are listed whole. Checked against the guide's tables
# ("Specifications for Amazon EC2 general purpose / compute optimized / memory optimized
# instances", https://docs.aws.amazon.com/ec2/latest/instancetypes/), read 2026-12-05.
_MIB_PER_VCPU = {"c": 2048, "m": 4096, "r": 8192}
_MIB_PER_VCPU_FAMILY = {"c4": 1920}
_WHOLE = {
    "t2.medium": (2, 4096),
    "t2.large": (2, 8192),
    "t2.xlarge": (4, 16384),
    "t2.2xlarge": (8, 32768),
    "c4.8xlarge": (36, 61440),  # the one c4 size off the size convention
}


def size_vcpus(size: str) -> int | None:
    """vCPUs of an EC2 size by the general convention (large = 2, xlarge = 4, Nxlarge = 4N)."""
    fixed = {"medium": 1, "large": 2, "xlarge": 4}
    if size in fixed:
        return fixed[size]
    if size.endswith("xlarge") and size[:-6].isdigit():
        return 4 * int(size[:-6])
    return None


@cache
def sagemaker_capacity(instance_type: str) -> Capacity | None:
    """What one SageMaker hosting instance (``ml.g5.xlarge``) offers: vCPUs, memory and
    accelerators, or ``None`` when the data does not cover the type.

    A SageMaker instance is the EC2 instance type of the same name: accelerated types come from
    the EC2 accelerated-computing data; CPU-only types from their size (vCPUs) and family
    (memory per vCPU). SageMaker keeps some of the memory for its own agents, so the figures
    are upper bounds of what inference components may reserve.
    """
    if not isinstance(instance_type, str) or not instance_type.startswith("ml."):
        return None
    ec2_type = instance_type[3:]
    accelerated = ec2_capacity(ec2_type)
    if accelerated is not None:
        return accelerated
    if ec2_type in _WHOLE:
        listed_cpus, listed_memory = _WHOLE[ec2_type]
        return Capacity(listed_cpus, listed_memory, 0, "none", 0)
    family, _, size = ec2_type.partition(".")
    ratio = _MIB_PER_VCPU_FAMILY.get(family, _MIB_PER_VCPU.get(family[:1]))
    cpus = size_vcpus(size)
    # Only families known to carry no accelerator: c/m/r and their variants (c5d, m6g, r7i...).
    if ratio is None or cpus is None or family.startswith("t") or not family[1:2].isdigit():
        return None
    return Capacity(cpus, cpus * ratio, 0, "none", 0)
