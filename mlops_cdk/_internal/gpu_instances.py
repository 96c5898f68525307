"""What one EC2 GPU instance offers an ECS task: GPUs, vCPUs and memory per instance type.

The numbers are the shared accelerated-instance data (``data/ec2-accelerated-capacities.json``,
its ``_source`` names where they come from and when they were read, also read by
``validators.instance_types``), limited to the NVIDIA types an ECS GPU task can use. CDK-free,
like ``fargate.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

DATA_FILE = "ec2-accelerated-capacities.json"


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
    table = json.loads(text.read_text(encoding="utf-8"))["instance_types"]
    return {
        name: GpuInstance(name, int(row["gpus"]), int(row["vcpus"]), row["memory_mib"] / 1024)
        # smallest first within a family, as the EC2 pages list them
        for name, row in sorted(
            table.items(), key=lambda item: (item[0].split(".")[0], item[1]["vcpus"])
        )
        if row["accelerator"] == "nvidia"
    }


def gpu_instance(instance_type: str) -> GpuInstance | None:
    """The capacity of ``instance_type``, or None when the table does not know it."""
    return gpu_instances().get(instance_type)


def sizes_of(family: str) -> list[str]:
    """The known instance types of ``family`` (``g5`` -> ``g5.xlarge, ...``)."""
    return [name for name in gpu_instances() if name.split(".")[0] == family]
