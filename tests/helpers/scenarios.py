"""Minimal construct scenarios that several test modules build on."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal import defaults
from mlops_cdk._internal.iam import ManagedPolicyRole
from mlops_cdk.constructs import (
    AutoScaling,
    Baseline,
    BatchTransformJob,
    ComputeResources,
    ContainerImage,
    CopyScaling,
    DataCapture,
    DeploymentPolicy,
    EcsModelService,
    EndpointMetrics,
    InferenceApi,
    InstanceScaling,
    LambdaInference,
    MLPipeline,
    ModelData,
    ModelHost,
    ModelMonitorSchedule,
    ModelRegistry,
    RealtimeEndpoint,
    S3Trigger,
    TransformInput,
    TransformOutput,
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


def every_construct(stack: cdk.Stack) -> None:
    """One representative, fully featured instance of each construct in ``stack``: a captured,
    autoscaled endpoint with guarded deploys, its drift monitor, a batch job started by
    schedule and new data, a Lambda behind an API and an S3 trigger, a GPU ECS service, a
    training pipeline that retrains on new data, a registry, and a GPU model host in the VPC
    that scales to zero with two models. Buckets are created in the
    stack (so the constructs may change them) and isolated-subnet VPCs stand in for the
    Network stack."""
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
        # Explicit, as in the Network stack (the default follows a feature flag).
        restrict_default_security_group=True,
    )
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    logs = defaults.access_log_bucket(stack, "AccessLogs", removal_policy=cdk.RemovalPolicy.DESTROY)
    data = defaults.secure_bucket(
        stack,
        "DataBucket",
        encryption_key=key,
        access_logs=logs,
        access_logs_prefix="data/",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    image = ContainerImage.from_uri(SERVER_IMAGE)
    endpoint = RealtimeEndpoint(
        stack,
        "Endpoint",
        image=image,
        model_data=ModelData.from_bucket(data, "models/churn/model.tar.gz"),
        data_capture=DataCapture(bucket=data, prefix="capture"),
        autoscaling=AutoScaling(),
        deployment=DeploymentPolicy.canary(),
        vpc=vpc,
    )
    ModelMonitorSchedule(stack, "Monitor", endpoint=endpoint, baseline=Baseline.demo_model())
    BatchTransformJob(
        stack,
        "Batch",
        image=image,
        input=TransformInput(bucket=data, prefix="batch/input/"),
        output=TransformOutput(bucket=data, prefix="batch/output/"),
        schedule="cron(0 3 * * ? *)",
        run_on_new_data=True,
    )
    LambdaInference(
        stack,
        "Lambda",
        model_data=ModelData.demo_model(archive=False),
        api=InferenceApi(),
        s3_trigger=S3Trigger(bucket=data, input_prefix="score/in/", output_prefix="score/out/"),
        outside_vpc_reason="The representative function calls nothing inside a VPC.",
    )
    EcsModelService(
        stack,
        "Gpu",
        vpc=vpc,
        model_data=ModelData.demo_model(archive=False),
        gpu_count=1,
        gpu_instance_type="g5.xlarge",
        cpu=4096,
        memory_mib=15360,
        deletion_protection=False,
    )
    pipeline(stack, data_bucket=data, retrain_on_new_data=True)
    host = ModelHost(
        stack,
        "Host",
        instance_type="ml.g5.2xlarge",
        instance_scaling=InstanceScaling(min_instances=0, max_instances=2),
        metrics=EndpointMetrics(),
        vpc=vpc,
    )
    host.add_model(
        "Churn",
        image=image,
        model_data=ModelData.from_bucket(data, "models/churn/model.tar.gz"),
        resources=ComputeResources(accelerators=1, min_memory_mb=4096),
        autoscaling=CopyScaling(min_copies=0, max_copies=2),
    )
    fraud = host.add_model("Fraud", image=image, resources=ComputeResources(min_memory_mb=2048))
    # A caller of one hosted model: its grant is checked against IAM's data like any policy.
    # (ManagedPolicyRole: the grant lands in a customer-managed policy, as the packs require.)
    fraud.grant_invoke(
        ManagedPolicyRole(stack, "FraudCaller", assumed_by=iam.AccountRootPrincipal())
    )
