# The public API of mlops-cdk: the one list of exported names. mlops_cdk/__init__ re-exports it,
# and at run time lazy_loader reads this file so that each construct loads on first use.

from .batch_transform import BatchTransformJob as BatchTransformJob
from .batch_transform import TransformInput as TransformInput
from .batch_transform import TransformOutput as TransformOutput
from .container_image import BoundImage as BoundImage
from .container_image import ContainerImage as ContainerImage
from .ecs_model_service import EcsModelService as EcsModelService
from .ecs_model_service import ServiceAlarms as ServiceAlarms
from .ecs_model_service import ServiceAutoScaling as ServiceAutoScaling
from .ecs_model_service import ServiceHealthCheck as ServiceHealthCheck
from .lambda_inference import InferenceApi as InferenceApi
from .lambda_inference import LambdaDeployment as LambdaDeployment
from .lambda_inference import LambdaInference as LambdaInference
from .lambda_inference import ProvisionedConcurrency as ProvisionedConcurrency
from .lambda_inference import S3Trigger as S3Trigger
from .metric_options import MetricOptions as MetricOptions
from .ml_pipeline import MLPipeline as MLPipeline
from .ml_pipeline import PipelineCondition as PipelineCondition
from .ml_pipeline import PipelineParameter as PipelineParameter
from .ml_pipeline import PipelineSteps as PipelineSteps
from .ml_pipeline import PropertyFile as PropertyFile
from .ml_pipeline import add_pipeline_target as add_pipeline_target
from .model_data import BoundModelData as BoundModelData
from .model_data import ModelData as ModelData
from .model_host import ComponentDeployment as ComponentDeployment
from .model_host import ComputeResources as ComputeResources
from .model_host import CopyScaling as CopyScaling
from .model_host import HostedModel as HostedModel
from .model_host import ModelHost as ModelHost
from .model_monitor import Baseline as Baseline
from .model_monitor import GroundTruth as GroundTruth
from .model_monitor import ModelMonitorSchedule as ModelMonitorSchedule
from .model_monitor import MonitorBackend as MonitorBackend
from .model_monitor import MonitoredEndpoint as MonitoredEndpoint
from .model_monitor import MonitoringType as MonitoringType
from .model_monitor import ReportLocation as ReportLocation
from .model_package import BoundModelPackage as BoundModelPackage
from .model_package import ModelPackage as ModelPackage
from .model_registry import IModelRegistry as IModelRegistry
from .model_registry import ModelRegistry as ModelRegistry
from .realtime_endpoint import AsyncInference as AsyncInference
from .realtime_endpoint import AutoScaling as AutoScaling
from .realtime_endpoint import DataCapture as DataCapture
from .realtime_endpoint import DeploymentPolicy as DeploymentPolicy
from .realtime_endpoint import EndpointAlarms as EndpointAlarms
from .realtime_endpoint import ProductionVariant as ProductionVariant
from .realtime_endpoint import RealtimeEndpoint as RealtimeEndpoint
from .realtime_endpoint import ServerlessConfig as ServerlessConfig
from .variant_settings import EndpointMetrics as EndpointMetrics
from .variant_settings import InstanceScaling as InstanceScaling
from .variant_settings import VariantSettings as VariantSettings

__all__: list[str]  # the names imported above (lazy_loader builds it from them)
