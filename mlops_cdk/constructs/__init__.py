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
from mlops_cdk.constructs.ml_pipeline import MLPipeline, add_pipeline_target
from mlops_cdk.constructs.model_data import BoundModelData, ModelData
from mlops_cdk.constructs.model_monitor import ModelMonitorSchedule
from mlops_cdk.constructs.model_registry import IModelRegistry, ModelRegistry
from mlops_cdk.constructs.monitor_options import (
    Baseline,
    GroundTruth,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    ReportLocation,
)
from mlops_cdk.constructs.pipeline_steps import (
    PipelineCondition,
    PipelineParameter,
    PipelineSteps,
    PropertyFile,
)
from mlops_cdk.constructs.realtime_endpoint import EndpointAlarms, RealtimeEndpoint

__all__ = [
    "AsyncInference",
    "AutoScaling",
    "Baseline",
    "BatchTransformJob",
    "BoundImage",
    "BoundModelData",
    "ContainerImage",
    "DataCapture",
    "DeploymentPolicy",
    "EcsModelService",
    "EndpointAlarms",
    "GroundTruth",
    "IModelRegistry",
    "InferenceApi",
    "LambdaDeployment",
    "LambdaInference",
    "MLPipeline",
    "ModelData",
    "ModelMonitorSchedule",
    "ModelRegistry",
    "MonitorBackend",
    "MonitoredEndpoint",
    "MonitoringType",
    "PipelineCondition",
    "PipelineParameter",
    "PipelineSteps",
    "ProductionVariant",
    "PropertyFile",
    "ProvisionedConcurrency",
    "RealtimeEndpoint",
    "ReportLocation",
    "S3Trigger",
    "ServerlessConfig",
    "ServiceAlarms",
    "ServiceAutoScaling",
    "ServiceHealthCheck",
    "TransformInput",
    "TransformOutput",
    "add_pipeline_target",
]
