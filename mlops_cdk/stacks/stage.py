"""One deployable environment: every stack of dev, staging or prod."""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk.stacks.batch import BatchStack
from mlops_cdk.stacks.data import DataStack
from mlops_cdk.stacks.monitoring import MonitoringStack
from mlops_cdk.stacks.network import NetworkStack
from mlops_cdk.stacks.serving import ServingStack
from mlops_cdk.stacks.training import TrainingStack


class EnvironmentStage(Stage):
    """The stacks of one environment, built from its configuration.

    The same class is deployed from a workstation and by the delivery pipeline, so both paths
    produce the same templates. The stage is named ``<project>-<env>`` and CLI patterns match
    construct paths: ``cdk deploy "mlops-dev/*"`` deploys every stack of dev.

    :param delivery: the delivery pipeline's settings, when there is one: the Serving stack
        gets the role its smoke tests assume (:mod:`mlops_cdk.stacks.smoke`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        delivery: cfg.DeliverySettings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=config.region),
            **kwargs,
        )
        self.config = config
        protect = config.removal_policy is cfg.RemovalPolicy.RETAIN
        self.data = DataStack(
            self,
            "Data",
            config=config,
            stack_name=config.stack_name("data"),
            description=f"{config.project} {config.name}: keys, buckets and alarm topic",
            termination_protection=protect,
        )
        self.network = NetworkStack(
            self,
            "Network",
            config=config,
            encryption_key=self.data.encryption_key,
            stack_name=config.stack_name("network"),
            description=f"{config.project} {config.name}: VPC, endpoints and flow logs",
            termination_protection=protect,
        )
        self.serving = ServingStack(
            self,
            "Serving",
            config=config,
            data=self.data,
            network=self.network,
            delivery=delivery,
            stack_name=config.stack_name("serving"),
            description=f"{config.project} {config.name}: model endpoints",
        )
        self.monitoring: MonitoringStack | None = None
        if config.model_monitor.enabled and self.serving.endpoint is not None:
            self.monitoring = MonitoringStack(
                self,
                "Monitoring",
                config=config,
                data=self.data,
                network=self.network,
                endpoint=self.serving.endpoint,
                stack_name=config.stack_name("monitoring"),
                description=f"{config.project} {config.name}: drift detection",
            )
            # The endpoint (a literal name, no reference) must exist before it is monitored.
            self.monitoring.node.add_dependency(self.serving)
        self.batch = BatchStack(
            self,
            "Batch",
            config=config,
            data=self.data,
            network=self.network,
            stack_name=config.stack_name("batch"),
            description=f"{config.project} {config.name}: batch transform",
        )
        self.training = TrainingStack(
            self,
            "Training",
            config=config,
            data=self.data,
            network=self.network,
            drift_alarm=self.monitoring.monitor.drift_alarm if self.monitoring else None,
            quality_alarm=self.monitoring.quality.drift_alarm
            if self.monitoring and self.monitoring.quality
            else None,
            stack_name=config.stack_name("training"),
            description=f"{config.project} {config.name}: training pipeline and retraining",
        )
        apply_tags(self, config)


def apply_tags(scope: Construct, config: cfg.EnvironmentConfig) -> None:
    """Tag every resource under ``scope`` with the environment's tags."""
    tags = {
        "project": config.project,
        "environment": config.name,
        "owner": config.tags.owner,
        "cost-centre": config.tags.cost_centre,
        **config.tags.extra,
    }
    for key, value in tags.items():
        Tags.of(scope).add(key, value)
