"""What a HostedModel needs of its host: the ModelHost seen through a protocol, so that the two
modules do not import each other."""

from __future__ import annotations

from typing import Protocol

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.constructs.model_host._checks import Demand
from mlops_cdk.constructs.realtime_endpoint.options import EndpointAlarms
from mlops_cdk.constructs.variant_settings import EndpointMetrics

# The host's one production variant: every inference component runs on it.
VARIANT = "AllTraffic"


class Host(Protocol):
    """The parts of :class:`ModelHost` a hosted model uses."""

    instance_type: str
    role: iam.IRole
    network_isolation: bool
    alarm_thresholds: EndpointAlarms
    metrics: EndpointMetrics | None
    alarm_topic: sns.ITopic
    endpoint: sagemaker.CfnEndpoint
    endpoint_arn: str

    @property
    def max_instances(self) -> int: ...

    @property
    def demands(self) -> tuple[Demand, ...]: ...

    def register(self, model: Construct, demand: Demand) -> None: ...
