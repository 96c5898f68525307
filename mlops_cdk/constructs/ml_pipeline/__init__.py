"""A SageMaker training pipeline: :class:`MLPipeline`, its step builder and triggers."""

from mlops_cdk.constructs.ml_pipeline.construct import MLPipeline
from mlops_cdk.constructs.ml_pipeline.steps import (
    PipelineCondition,
    PipelineParameter,
    PipelineSteps,
    PropertyFile,
)
from mlops_cdk.constructs.ml_pipeline.target import add_pipeline_target

__all__ = [
    "MLPipeline",
    "PipelineCondition",
    "PipelineParameter",
    "PipelineSteps",
    "PropertyFile",
    "add_pipeline_target",
]
