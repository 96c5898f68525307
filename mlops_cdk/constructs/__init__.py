"""The public constructs and the value types they share."""

from mlops_cdk.constructs.batch_options import TransformInput, TransformOutput
from mlops_cdk.constructs.batch_transform import BatchTransformJob
from mlops_cdk.constructs.container_image import BoundImage, ContainerImage
from mlops_cdk.constructs.ecs_model_service import EcsModelService
from mlops_cdk.constructs.ecs_service_options import (
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceHealthCheck,
)
from mlops_cdk.constructs.endpoint_options import (
    AsyncInference,
    AutoScaling,
    DataCapture,
    DeploymentPolicy,
    ProductionVariant,
    ServerlessConfig,
)
from mlops_cdk.constructs.lambda_inference import LambdaInference
from mlops_cdk.constructs.lambda_options import (
    InferenceApi,
    LambdaDeployment,
    ProvisionedConcurrency,
    S3Trigger,
)
from mlops_cdk.constructs.model_data import BoundModelData, ModelData
from mlops_cdk.constructs.realtime_endpoint import EndpointAlarms, RealtimeEndpoint

__all__ = [
    "AsyncInference",
    "AutoScaling",
    "BatchTransformJob",
    "BoundImage",
    "BoundModelData",
    "ContainerImage",
    "DataCapture",
    "DeploymentPolicy",
    "EcsModelService",
    "EndpointAlarms",
    "InferenceApi",
    "LambdaDeployment",
    "LambdaInference",
    "ModelData",
    "ProductionVariant",
    "ProvisionedConcurrency",
    "RealtimeEndpoint",
    "S3Trigger",
    "ServerlessConfig",
    "ServiceAlarms",
    "ServiceAutoScaling",
    "ServiceHealthCheck",
    "TransformInput",
    "TransformOutput",
]
