"""mlops-cdk: AWS CDK constructs for deploying and operating machine-learning models.

Importing this package is cheap: the constructs (and with them aws-cdk-lib) load on first use,
so ``mlops_cdk.config`` and ``mlops_cdk.runtime`` stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._version import __version__

if TYPE_CHECKING:
    from mlops_cdk.constructs import (
        AsyncInference,
        AutoScaling,
        Baseline,
        BatchTransformJob,
        ContainerImage,
        DataCapture,
        DeploymentPolicy,
        EcsModelService,
        EndpointAlarms,
        IModelRegistry,
        InferenceApi,
        LambdaDeployment,
        LambdaInference,
        MLPipeline,
        ModelData,
        ModelMonitorSchedule,
        ModelRegistry,
        MonitorBackend,
        MonitoredEndpoint,
        MonitoringType,
        PipelineCondition,
        PipelineParameter,
        PipelineSteps,
        ProductionVariant,
        PropertyFile,
        ProvisionedConcurrency,
        RealtimeEndpoint,
        S3Trigger,
        ServerlessConfig,
        ServiceAlarms,
        ServiceAutoScaling,
        ServiceHealthCheck,
        TransformInput,
        TransformOutput,
    )

__all__ = [
    "AsyncInference",
    "AutoScaling",
    "Baseline",
    "BatchTransformJob",
    "ConfigurationError",
    "ContainerImage",
    "DataCapture",
    "DeploymentPolicy",
    "EcsModelService",
    "EndpointAlarms",
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
    "S3Trigger",
    "ServerlessConfig",
    "ServiceAlarms",
    "ServiceAutoScaling",
    "ServiceHealthCheck",
    "TransformInput",
    "TransformOutput",
    "__version__",
]

_LAZY = set(__all__) - {"ConfigurationError", "__version__"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from mlops_cdk import constructs

        return getattr(constructs, name)
    raise AttributeError(f"module 'mlops_cdk' has no attribute {name!r}")
