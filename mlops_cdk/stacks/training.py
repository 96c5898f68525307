"""The training part of an environment: the SageMaker pipeline that retrains and registers the
model (MLPipeline), built from the environment's ``ml_pipeline`` settings."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import defaults
from mlops_cdk.constructs import ContainerImage, MLPipeline, ModelRegistry
from mlops_cdk.stacks.data import DataStack, removal_policy
from mlops_cdk.stacks.network import NetworkStack


class TrainingStack(Stack):
    """Retraining of one environment. The model registry it registers into belongs to the Data
    stack (imported here by name, so no export ties the stacks); the pipeline reads and writes
    the Data stack's ``artifacts`` bucket, and retrains when the Monitoring stack's
    ``drift_alarm`` fires if the config says so. Stateless: replace it at will."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        drift_alarm: cloudwatch.IAlarm | None = None,
        quality_alarm: cloudwatch.IAlarm | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.pipeline: MLPipeline | None = None
        if config.ml_pipeline.enabled:
            self.pipeline = ml_pipeline(self, config, data, network, drift_alarm, quality_alarm)
            CfnOutput(
                self,
                "PipelineName",
                value=self.pipeline.pipeline_name,
                description="Retrain now with: aws sagemaker start-pipeline-execution "
                "--pipeline-name <this>",
            )


def ml_pipeline(
    scope: Construct,
    config: cfg.EnvironmentConfig,
    data: DataStack,
    network: NetworkStack,
    drift_alarm: cloudwatch.IAlarm | None = None,
    quality_alarm: cloudwatch.IAlarm | None = None,
) -> MLPipeline:
    """The training pipeline shaped by the environment's ``ml_pipeline`` settings;
    ``drift_alarm`` and ``quality_alarm`` (the Monitoring stack's) retrain when
    ``retrain_on_drift`` is set."""
    settings = config.ml_pipeline
    registry = ModelRegistry.from_group_name(
        scope,
        "ModelRegistry",
        settings.registry_group(config.project),
        encryption_key=data.encryption_key,
    )
    alarms = [
        cloudwatch.Alarm.from_alarm_name(scope, f"RetrainAlarm{index}", name)
        for index, name in enumerate(settings.retrain_on_alarm_names)
    ]
    if settings.retrain_on_drift:
        alarms += [alarm for alarm in (drift_alarm, quality_alarm) if alarm is not None]
    return MLPipeline(
        scope,
        "Pipeline",
        registry=registry,
        data_bucket=data.shared_bucket(scope, "artifacts"),
        input_prefix=settings.input_prefix,
        output_prefix=settings.output_prefix,
        code_prefix=settings.code_prefix,
        # None: the project's training image, built from the installed package at deploy.
        training_image=ContainerImage.from_uri(settings.training_image)
        if settings.training_image
        else None,
        training_instance_type=settings.training_instance_type,
        processing_instance_type=settings.processing_instance_type,
        use_spot=settings.use_spot,
        max_runtime=Duration.hours(settings.max_runtime_hours),
        metric_name=settings.metric_name,
        metric_threshold=settings.metric_threshold,
        approval=settings.approval,
        retrain_schedule=settings.retrain_schedule,
        retrain_on_new_data=settings.retrain_on_new_data,
        retrain_on_alarms=alarms,
        on_overlap=settings.on_overlap,
        pipeline_name=f"{config.stage_name}-training",
        vpc=network.vpc if settings.in_vpc else None,
        subnets=network.private_subnets,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
        log_retention=defaults.retention(config.log_retention_days),
        removal_policy=removal_policy(config),
    )
