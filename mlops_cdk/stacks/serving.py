"""The stateless serving part of an environment: the model endpoints enabled in its config."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import runtime_assets
from mlops_cdk.constructs import (
    AutoScaling,
    DataCapture,
    DeploymentPolicy,
    RealtimeEndpoint,
    ServerlessConfig,
)
from mlops_cdk.stacks.data import DataStack
from mlops_cdk.stacks.network import NetworkStack


class ServingStack(Stack):
    """Serving targets of one environment, replaceable at will: data lives in the Data stack."""

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
        self.endpoint: RealtimeEndpoint | None = None
        if config.realtime_endpoint.enabled:
            self.endpoint = realtime_endpoint(self, config.realtime_endpoint, data, network)
            CfnOutput(
                self,
                "EndpointName",
                value=self.endpoint.endpoint_name,
                description="Invoke with: aws sagemaker-runtime invoke-endpoint --endpoint-name",
            )


def realtime_endpoint(
    scope: Construct,
    settings: cfg.RealtimeEndpointSettings,
    data: DataStack,
    network: NetworkStack,
) -> RealtimeEndpoint:
    """The demo model on a RealtimeEndpoint, shaped by the environment's settings."""
    serverless = settings.mode == "serverless"
    scaling = settings.autoscaling
    deployment = settings.deployment
    return RealtimeEndpoint(
        scope,
        "Endpoint",
        image=runtime_assets.server_image(),
        model_data=runtime_assets.demo_model(),
        serverless=ServerlessConfig(settings.memory_size_mb, settings.max_concurrency)
        if serverless
        else None,
        instance_type=None if serverless else settings.instance_type,
        initial_instance_count=None if serverless else settings.initial_instance_count,
        autoscaling=AutoScaling(
            scaling.min_capacity, scaling.max_capacity, scaling.target_invocations_per_instance
        )
        if scaling
        else None,
        data_capture=DataCapture(
            settings.data_capture_percent, data.shared_bucket(scope, "capture")
        )
        if settings.data_capture_percent is not None
        else None,
        deployment=_deployment(deployment) if deployment else None,
        vpc=network.vpc if settings.in_vpc and not serverless else None,
        subnets=network.private_subnets,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
    )


def _deployment(settings: cfg.DeploymentSettings) -> DeploymentPolicy:
    wait = Duration.minutes(settings.wait_minutes)
    if settings.strategy == "canary":
        return DeploymentPolicy.canary(settings.percent, wait)
    if settings.strategy == "linear":
        return DeploymentPolicy.linear(settings.percent, wait)
    if settings.strategy == "rolling":
        return DeploymentPolicy.rolling(settings.percent, wait)
    return DeploymentPolicy.all_at_once(wait)
