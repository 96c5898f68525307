#!/usr/bin/env python3
"""A team's own CDK app that uses mlops-cdk as a library (installed from a wheel or git URL).

Nothing here refers to the mlops-cdk repository: images and the demo model come from the
installed package's data.
"""

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from mlops_cdk.constructs import (
    AutoScaling,
    ContainerImage,
    DataCapture,
    DeploymentPolicy,
    EndpointApi,
    InferenceApi,
    ModelData,
    RealtimeEndpoint,
    ServerlessConfig,
)

app = cdk.App()
stack = cdk.Stack(app, "ChurnTeam", env=cdk.Environment(account="123456789012", region="eu-west-1"))
captures = s3.Bucket(
    stack,
    "Captures",
    enforce_ssl=True,
    versioned=True,
    encryption=s3.BucketEncryption.S3_MANAGED,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
)
image = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-server:1.4.2")
model = ModelData.from_s3_uri("s3://churn-team-models/churn/v7/model.tar.gz")

RealtimeEndpoint(
    stack,
    "Online",
    image=image,
    model_data=model,
    autoscaling=AutoScaling(min_capacity=2, max_capacity=6),
    data_capture=DataCapture(sampling_percentage=20, bucket=captures),
    deployment=DeploymentPolicy.canary(10),
)
RealtimeEndpoint(
    stack,
    "Backoffice",
    image=image,
    model_data=model,
    serverless=ServerlessConfig(memory_size_mb=2048, max_concurrency=2),
)
# Another team's endpoint, deployed with the SageMaker SDK: watched and fronted like ours.
legacy = RealtimeEndpoint.from_endpoint_name(
    stack, "Legacy", "churn-legacy", instance_type="ml.m5.large"
)
EndpointApi(stack, "LegacyApi", endpoint=legacy, api=InferenceApi(auth="api_key"))
# AWS's scikit-learn image, in this stack's region.
RealtimeEndpoint(
    stack,
    "Sklearn",
    image=ContainerImage.aws_image("sklearn", "1.2-1"),
    model_data=ModelData.from_s3_uri("s3://churn-team-models/churn/sklearn/model.tar.gz"),
)
app.synth()
