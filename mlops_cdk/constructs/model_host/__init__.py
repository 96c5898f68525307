"""Several models on one SageMaker endpoint: :class:`ModelHost`, :class:`HostedModel` (one
inference component each) and their options."""

from mlops_cdk.constructs.model_host.construct import ModelHost
from mlops_cdk.constructs.model_host.hosted_model import HostedModel
from mlops_cdk.constructs.model_host.options import (
    ComponentDeployment,
    ComputeResources,
    CopyScaling,
)

__all__ = ["ComponentDeployment", "ComputeResources", "CopyScaling", "HostedModel", "ModelHost"]
