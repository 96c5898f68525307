"""The task sizes AWS Fargate accepts, shared by config loading and construct validation.

Kept free of CDK imports so that configuration can be checked without starting jsii. Source:
"Troubleshoot Amazon ECS task definition invalid CPU or memory errors"
(https://docs.aws.amazon.com/AmazonECS/latest/userguide/task-cpu-memory-error.html) and the
``memory`` field of the RegisterTaskDefinition API reference (read 2026-11).
"""

from __future__ import annotations

# cpu units -> (lowest MiB, highest MiB, step MiB), or the explicit list for 0.25 vCPU.
_RANGES: dict[int, tuple[int, int, int]] = {
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),  # Linux platform 1.4.0 or later
    16384: (32768, 122880, 8192),  # Linux platform 1.4.0 or later
}
FARGATE_CPU = (256, *_RANGES)


def fargate_memory_choices(cpu: int) -> tuple[int, ...]:
    """Every memory size (MiB) Fargate accepts together with ``cpu`` units (empty if none)."""
    if cpu == 256:
        return (512, 1024, 2048)
    if cpu not in _RANGES:
        return ()
    low, high, step = _RANGES[cpu]
    return tuple(range(low, high + 1, step))


def describe_fargate_memory(cpu: int) -> str:
    """The memory sizes for ``cpu`` in words, for error messages."""
    if cpu == 256:
        return "one of 512, 1024, 2048"
    low, high, step = _RANGES[cpu]
    return f"between {low} and {high} in steps of {step}"
