"""A runnable SageMaker batch transform job: :class:`BatchTransformJob` and its options."""

from mlops_cdk.constructs.batch_transform.construct import BatchTransformJob
from mlops_cdk.constructs.batch_transform.options import (
    TransformInput,
    TransformOutput,
)

__all__ = [
    "BatchTransformJob",
    "TransformInput",
    "TransformOutput",
]
