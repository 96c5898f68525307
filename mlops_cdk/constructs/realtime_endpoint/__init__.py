"""A SageMaker real-time endpoint: :class:`RealtimeEndpoint` and its options."""

from mlops_cdk.constructs.realtime_endpoint.construct import RealtimeEndpoint
from mlops_cdk.constructs.realtime_endpoint.existing import ExistingEndpoint
from mlops_cdk.constructs.realtime_endpoint.multi_model import MultiModel
from mlops_cdk.constructs.realtime_endpoint.options import (
    AsyncInference,
    AutoScaling,
    DataCapture,
    DeploymentPolicy,
    EndpointAlarms,
    ProductionVariant,
    ServerlessConfig,
)

__all__ = [
    "AsyncInference",
    "AutoScaling",
    "DataCapture",
    "DeploymentPolicy",
    "EndpointAlarms",
    "ExistingEndpoint",
    "MultiModel",
    "ProductionVariant",
    "RealtimeEndpoint",
    "ServerlessConfig",
]
