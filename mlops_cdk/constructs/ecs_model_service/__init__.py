"""A model server on Amazon ECS behind a load balancer: :class:`EcsModelService` and its options."""

from mlops_cdk.constructs.ecs_model_service.construct import EcsModelService
from mlops_cdk.constructs.ecs_model_service.options import (
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceHealthCheck,
    ServiceRoute,
)

__all__ = [
    "EcsModelService",
    "ServiceAlarms",
    "ServiceAutoScaling",
    "ServiceDeployment",
    "ServiceHealthCheck",
    "ServiceRoute",
]
