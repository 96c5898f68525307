"""Minimal construct scenarios that several test modules build on."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from mlops_cdk.constructs import (
    ContainerImage,
    DataCapture,
    MLPipeline,
    ModelRegistry,
    RealtimeEndpoint,
)

SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SERVER_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"


def pipeline(stack: cdk.Stack, **kwargs: Any) -> MLPipeline:
    """An MLPipeline with a registry, data bucket, input prefix and metric gate unless
    ``kwargs`` give them (images: the construct's defaults)."""
    kwargs.setdefault(
        "registry",
        ModelRegistry(
            stack, "Registry", group_name="churn", removal_policy=cdk.RemovalPolicy.DESTROY
        ),
    )
    kwargs.setdefault("data_bucket", s3.Bucket.from_bucket_name(stack, "Data", "data-bucket"))
    kwargs.setdefault("input_prefix", "churn/input/")
    kwargs.setdefault("metric_name", "accuracy")
    kwargs.setdefault("metric_threshold", 0.8)
    return MLPipeline(stack, "Pipeline", **kwargs)


def captured_endpoint(stack: cdk.Stack) -> RealtimeEndpoint:
    """A RealtimeEndpoint named churn-prod that captures into an imported bucket."""
    capture = s3.Bucket.from_bucket_name(stack, "CaptureBucket", "capture-bucket")
    return RealtimeEndpoint(
        stack,
        "Churn",
        image=ContainerImage.from_uri(SERVER_IMAGE),
        endpoint_name="churn-prod",
        data_capture=DataCapture(bucket=capture, prefix="capture/"),
    )
