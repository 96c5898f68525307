"""Every bad EndpointApi input is rejected at synth time with a precise message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    AsyncInference,
    ContainerImage,
    EndpointApi,
    RealtimeEndpoint,
)
from tests.helpers.apps import unit_stack
from tests.helpers.cases import case_ids

IMAGE = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1")


def build(**kwargs: Any) -> Callable[[], EndpointApi]:
    def make() -> EndpointApi:
        stack = unit_stack()
        resolved = {k: v(stack) if callable(v) else v for k, v in kwargs.items()}
        resolved.setdefault("endpoint", RealtimeEndpoint(stack, "Churn", image=IMAGE))
        return EndpointApi(stack, "Api", **resolved)

    return make


def async_endpoint(stack: Any) -> RealtimeEndpoint:
    bucket = s3.Bucket(stack, "Out")
    return RealtimeEndpoint(
        stack, "Async", image=IMAGE, async_inference=AsyncInference(output_bucket=bucket)
    )


CASES = [
    (
        build(endpoint="churn-prod"),
        r"endpoint must be a RealtimeEndpoint or an ExistingEndpoint "
        r"\(RealtimeEndpoint\.from_endpoint_name\) \(got str\)$",
    ),
    (
        build(endpoint=async_endpoint),
        r"endpoint cannot be combined with an asynchronous endpoint: the API calls InvokeEndpoint",
    ),
    (build(api={"auth": "iam"}), r"api must be an InferenceApi\(\.\.\.\) \(got dict\)$"),
    (build(encryption_key="alias/aws/logs"), r"encryption_key must be a kms\.IKey"),
]


@pytest.mark.parametrize(("make", "message"), CASES, ids=case_ids(CASES))
def test_rejected(make: Callable[[], EndpointApi], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^Test/Api: " + message):
        make()
