"""The rules an EndpointApi checks before it creates anything: which endpoints it can front.
Each raises a ConfigurationError naming the construct path, keyword and reason."""

from __future__ import annotations

from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk.constructs.inference_api import InferenceApi
from mlops_cdk.constructs.realtime_endpoint import ExistingEndpoint, RealtimeEndpoint


def check(check: Checker, endpoint: object, api: object) -> None:
    """Every rule of an EndpointApi: a synchronous endpoint of this package, an InferenceApi."""
    if not isinstance(endpoint, RealtimeEndpoint | ExistingEndpoint):
        check.fail(
            "endpoint",
            "a RealtimeEndpoint or an ExistingEndpoint (RealtimeEndpoint.from_endpoint_name)",
            Said(type(endpoint).__name__),
        )
    if isinstance(endpoint, RealtimeEndpoint) and endpoint.async_inference is not None:
        check.not_together(
            "endpoint",
            "an asynchronous endpoint",
            "the API calls InvokeEndpoint, which asynchronous endpoints do not serve "
            "(they take InvokeEndpointAsync with an S3 input location)",
        )
    check.require(
        isinstance(api, InferenceApi),
        "api",
        "an InferenceApi(...)",
        Said(type(api).__name__),
    )
