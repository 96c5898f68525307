"""The settings of one BatchTransformJob, bundled once from its keywords so that the checks, the
CreateTransformJob request and the triggers read them from one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration

from mlops_cdk.constructs.batch_transform.options import TransformInput, TransformOutput


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """What each run's CreateTransformJob request says (see :class:`BatchTransformJob`)."""

    input: TransformInput
    output: TransformOutput
    instance_type: str
    instance_count: int
    max_concurrent_transforms: int | None
    max_payload_mb: int
    batch_strategy: str
    join_source: str | None
    input_filter: str | None
    output_filter: str | None
    invocation_timeout: Duration
    invocation_max_retries: int
    max_runtime: Duration
    environment: Mapping[str, str] | None
    name_prefix: str | None


@dataclass(frozen=True, kw_only=True)
class Triggers:
    """What starts runs: a schedule, new objects under the input prefix (one run each, or one
    per batch window), or only ``StartExecution`` (``manual``)."""

    schedule: str | None
    time_zone: str | None
    run_on_new_data: bool
    batch_window: Duration | None
    batch_size: int
    manual: bool

    @property
    def any(self) -> bool:
        """True when a schedule or the new-data rule starts runs (they share a queue)."""
        return self.schedule is not None or self.run_on_new_data
