"""The batch part of an environment: the batch transform job enabled in its config."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import defaults
from mlops_cdk.constructs import (
    BatchTransformJob,
    ContainerImage,
    ModelData,
    TransformInput,
    TransformOutput,
)
from mlops_cdk.stacks.data import DataStack, removal_policy
from mlops_cdk.stacks.network import NetworkStack


class BatchStack(Stack):
    """Batch scoring of one environment: reads the Data stack's ``batch-input`` bucket, writes
    to ``batch-output``; stateless, so it can be replaced at will."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.job: BatchTransformJob | None = None
        if config.batch_transform.enabled:
            self.job = batch_transform_job(self, config, data, network)
            CfnOutput(
                self,
                "StateMachineArn",
                value=self.job.state_machine_arn,
                description="Run now with: aws stepfunctions start-execution "
                "--state-machine-arn <this> --input '{}'",
            )


def batch_transform_job(
    scope: Construct,
    config: cfg.EnvironmentConfig,
    data: DataStack,
    network: NetworkStack,
) -> BatchTransformJob:
    """The demo model as a batch transform job, shaped by the environment's settings."""
    settings = config.batch_transform
    return BatchTransformJob(
        scope,
        "Transform",
        image=ContainerImage.model_server(),
        model_data=ModelData.demo_model(),
        input=TransformInput(
            bucket=data.shared_bucket(scope, "batch-input"),
            prefix=settings.input_prefix,
            split_type=settings.split_type,
        ),
        output=TransformOutput(
            bucket=data.shared_bucket(scope, "batch-output"),
            prefix=settings.output_prefix,
            assemble_with=settings.assemble_with,
        ),
        instance_type=settings.instance_type,
        instance_count=settings.instance_count,
        max_concurrent_transforms=settings.max_concurrent_transforms,
        max_payload_mb=settings.max_payload_mb,
        batch_strategy=settings.batch_strategy,
        schedule=settings.schedule,
        run_on_new_data=settings.run_on_new_data,
        manual=settings.manual,
        max_runtime=Duration.hours(settings.max_runtime_hours),
        vpc=network.vpc if settings.in_vpc else None,
        subnets=network.private_subnets,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
        log_retention=defaults.retention(config.log_retention_days),
        removal_policy=removal_policy(config),
    )
