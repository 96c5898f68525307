"""A SageMaker model package group: :class:`ModelRegistry` and :class:`IModelRegistry`."""

from mlops_cdk.constructs.model_registry.construct import IModelRegistry, ModelRegistry

__all__ = ["IModelRegistry", "ModelRegistry"]
