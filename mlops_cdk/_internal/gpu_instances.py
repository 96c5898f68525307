"""What one EC2 GPU instance offers an ECS task: GPUs, vCPUs and memory per instance type.

The numbers live in ``data/ecs_gpu_instances.json`` (its ``_source`` names where they come from
and when they were read); this module only reads them, so the file can be replaced by generated
data of the same shape without touching a caller. CDK-free, like ``fargate.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "ecs_gpu_instances.json"


@dataclass(frozen=True)
class GpuInstance:
    """One instance type's capacity."""

    instance_type: str
    gpus: int
    vcpus: int
    memory_gib: float

    @property
    def cpu_units(self) -> int:
        """ECS CPU units (1024 per vCPU)."""
        return self.vcpus * 1024

    @property
    def memory_mib(self) -> int:
        """Installed memory in MiB (ECS registers somewhat less: the OS and agent use some)."""
        return int(self.memory_gib * 1024)


@cache
def gpu_instances() -> dict[str, GpuInstance]:
    """Instance type -> capacity, for every GPU type in the data file."""
    text = resources.files("mlops_cdk._internal.data").joinpath(DATA_FILE)
    table = json.loads(text.read_text(encoding="utf-8"))["types"]
    return {
        name: GpuInstance(name, int(gpus), int(vcpus), float(memory))
        for name, (gpus, vcpus, memory) in table.items()
    }


def gpu_instance(instance_type: str) -> GpuInstance | None:
    """The capacity of ``instance_type``, or None when the table does not know it."""
    return gpu_instances().get(instance_type)


def sizes_of(family: str) -> list[str]:
    """The known instance types of ``family`` (``g5`` -> ``g5.xlarge, ...``)."""
    return [name for name in gpu_instances() if name.split(".")[0] == family]
