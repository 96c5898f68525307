"""A model served by AWS Lambda: :class:`LambdaInference` and its options."""

from mlops_cdk.constructs.lambda_inference.construct import LambdaInference
from mlops_cdk.constructs.lambda_inference.options import (
    InferenceApi,
    LambdaAlarms,
    LambdaDeployment,
    ProvisionedConcurrency,
    S3Trigger,
)

__all__ = [
    "InferenceApi",
    "LambdaAlarms",
    "LambdaDeployment",
    "LambdaInference",
    "ProvisionedConcurrency",
    "S3Trigger",
]
