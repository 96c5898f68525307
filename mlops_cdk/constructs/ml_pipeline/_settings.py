"""The settings of one MLPipeline, bundled once from its keywords so that the checks, the
standard graph and the triggers read them from one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.ml_pipeline.steps import ConditionType


@dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """Where the pipeline reads and writes, what it runs and how it gates (defaults resolved:
    the images, the spot wait). ``baseline_image`` runs the drift baseline
    (``mlops_runtime.drift``): the model server image."""

    input_prefix: str
    output_prefix: str
    code_prefix: str
    training_image: ContainerImage
    processing_image: ContainerImage
    inference_image: ContainerImage
    baseline_image: ContainerImage
    #: True when the jobs run the project's training image, whose train step accepts only
    #: the hyperparameters in ``_checks.SHIPPED_HYPERPARAMETERS``.
    shipped_training_code: bool
    training_instance_type: str
    processing_instance_type: str
    use_spot: bool
    max_runtime: Duration
    max_wait: Duration
    metric_name: str
    metric_threshold: float
    metric_comparison: ConditionType
    approval: str
    hyperparameters: Mapping[str, str]
    drift_baselines: bool
    pipeline_name: str | None


@dataclass(frozen=True, kw_only=True)
class RetrainTriggers:
    """What starts a retraining, and what happens when one is already running."""

    schedule: str | None
    time_zone: str | None
    on_new_data: bool
    on_alarms: Sequence[cloudwatch.IAlarm]
    on_overlap: str

    @property
    def any(self) -> bool:
        """True when something starts retrainings (not only callers of ``grant_start``)."""
        return self.schedule is not None or self.on_new_data or bool(self.on_alarms)
