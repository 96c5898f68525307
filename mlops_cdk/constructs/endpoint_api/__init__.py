"""A REST API in front of a SageMaker endpoint: :class:`EndpointApi`."""

from mlops_cdk.constructs.endpoint_api.construct import EndpointApi

__all__ = ["EndpointApi"]
