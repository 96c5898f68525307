"""Model host settings: several models on one SageMaker endpoint (inference components)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE
from mlops_cdk.config._fields import EndpointInstanceType, FieldError, Section

# Keys of realtime_endpoint that a model host refuses, and why (AWS: inference components run
# on instance-based real-time endpoints only; the models are the components, not the variant).
_NOT_FOR_HOSTS = {
    "mode": "a model host is always instance-based",
    "serverless": "serverless endpoints cannot host inference components",
    "memory_size_mb": "serverless endpoints cannot host inference components",
    "max_concurrency": "serverless endpoints cannot host inference components",
    "async_inference": "asynchronous endpoints cannot host inference components",
    "model_package": "the host's variant names no model: give each entry of models its own",
    "model_name": "the host's variant names no model: give each entry of models its own",
    "autoscaling": "a host scales its instances itself (min_instances, max_instances) and each "
    "model its copies (models[].min_copies, max_copies)",
}


class HostedModelSettings(Section):
    """One model on the host (the demo model), with what each copy reserves and its copies."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]{0,39}$")
    memory_mb: int = Field(default=1024, ge=128)
    cpu_cores: float = Field(default=1.0, ge=0.25)
    copy_count: int = Field(default=1, ge=1)
    min_copies: int | None = Field(default=None, ge=0)
    max_copies: int | None = Field(default=None, ge=1)
    target_invocations_per_copy: float = Field(default=100.0, gt=0)

    @model_validator(mode="after")
    def _copies_in_range(self) -> HostedModelSettings:
        if (self.min_copies is None) != (self.max_copies is None):
            raise FieldError(
                f"model_host.models[{self.name}].max_copies",
                "given together with min_copies (copy autoscaling needs both)",
                self.max_copies,
            )
        low, high = self.min_copies, self.max_copies
        if low is not None and high is not None and not low <= self.copy_count <= high:
            raise FieldError(
                f"model_host.models[{self.name}].copy_count",
                f"must be between min_copies ({low}) and max_copies ({high})",
                self.copy_count,
            )
        return self


class ModelHostSettings(Section):
    """A SageMaker endpoint whose instances several models share, each an inference component.
    ``min_instances: 0`` with models whose ``min_copies`` is 0 lets the host scale to zero
    instances, so it costs nothing while idle (the first request after that fails while an
    instance starts)."""

    enabled: bool = False
    instance_type: EndpointInstanceType = DEFAULT_INSTANCE_TYPE
    initial_instance_count: int = Field(default=1, ge=1)
    min_instances: int = Field(default=1, ge=0)
    max_instances: int = Field(default=2, ge=1)
    in_vpc: bool = True
    models: list[HostedModelSettings] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_endpoint_only_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, why in _NOT_FOR_HOSTS.items():
                if key in data:
                    raise FieldError(f"model_host.{key}", f"must be left out: {why}", data[key])
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ModelHostSettings:
        if self.min_instances > self.max_instances:
            raise FieldError(
                "model_host.min_instances",
                f"must be at most max_instances ({self.max_instances})",
                self.min_instances,
            )
        if self.initial_instance_count > self.max_instances:
            raise FieldError(
                "model_host.initial_instance_count",
                f"must be at most max_instances ({self.max_instances})",
                self.initial_instance_count,
            )
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise FieldError("model_host.models", "must have unique names", duplicates)
        if self.enabled and not self.models:
            raise FieldError(
                "model_host.models", "must list at least one model when enabled", self.models
            )
        return self
