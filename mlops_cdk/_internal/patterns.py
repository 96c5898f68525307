"""Patterns, enumerations and defaults shared by config loading and construct validation: one
source of truth for both.

Kept free of CDK imports so that configuration can be checked without starting jsii.
"""

from typing import Literal, get_args

ACCOUNT_ID = r"\d{12}"
MODEL_PACKAGE_VERSION_ARN = (
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[a-zA-Z0-9-]{1,63}/\d+"
)
MODEL_PACKAGE_VERSION_ARN_MEANING = (
    "a versioned model package ARN "
    "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"
)
REGION = r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d"
# CloudFormation schemas for SageMaker resource names (models, endpoints, schedules, groups).
SAGEMAKER_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
SAGEMAKER_NAME_MEANING = (
    "1-63 letters, digits and hyphens, starting and ending with a letter or digit "
    "(pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$)"
)
MODEL_PACKAGE_GROUP_NAME = SAGEMAKER_NAME
MODEL_PACKAGE_GROUP_NAME_MEANING = "a model package group name: " + SAGEMAKER_NAME_MEANING
# General purpose, no GPU: what endpoints, transform, monitoring and processing jobs run on
# unless told otherwise; training gets the next size.
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_TRAINING_INSTANCE_TYPE = "ml.m5.xlarge"
# Model package approval statuses (ModelApprovalStatus).
ApprovalStatus = Literal["Approved", "Rejected", "PendingManualApproval"]
APPROVAL_STATUSES: tuple[str, ...] = get_args(ApprovalStatus)
DEFAULT_APPROVAL: ApprovalStatus = "PendingManualApproval"
# What a retraining trigger does while a pipeline execution runs.
OverlapPolicy = Literal["skip", "allow"]
OVERLAP_POLICIES: tuple[str, ...] = get_args(OverlapPolicy)
# Percentiles a latency alarm may watch (CloudWatch percentile statistics); teams set e.g.
# "p95 above 200 ms". The same list for the endpoint, the Lambda function and the ECS service.
LatencyPercentile = Literal["p50", "p90", "p95", "p99"]
LATENCY_PERCENTILES: tuple[str, ...] = get_args(LatencyPercentile)
# CreateTransformJob (botocore's sagemaker model): how inputs split into records, how records
# batch into requests, how results are joined, and the payload limit (MaxPayloadInMB <= 100, and
# MaxConcurrentTransforms x MaxPayloadInMB <= 100 when both are set).
TransformSplitType = Literal["None", "Line", "RecordIO", "TFRecord"]
TransformBatchStrategy = Literal["MultiRecord", "SingleRecord"]
TransformAssembleWith = Literal["None", "Line"]
TRANSFORM_MAX_PAYLOAD_MB = 100
# Evaluation metric names a pipeline's gate reads.
METRIC_NAME = r"[A-Za-z0-9_-]{1,64}"
METRIC_NAME_MEANING = "1-64 letters, digits, hyphens or underscores"
# The retention periods (days) CloudWatch Logs accepts, shortest first.
LOG_RETENTION_PERIODS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip
# ProductionVariant.InferenceAmiVersion (botocore sagemaker ProductionVariantInferenceAmiVersion;
# a test compares this tuple with the installed botocore).
InferenceAmiVersion = Literal[
    "al2-ami-sagemaker-inference-gpu-2",
    "al2-ami-sagemaker-inference-gpu-2-1",
    "al2-ami-sagemaker-inference-gpu-3-1",
    "al2-ami-sagemaker-inference-neuron-2",
    "al2023-ami-sagemaker-inference-gpu-4-1",
]
INFERENCE_AMI_VERSIONS: tuple[str, ...] = get_args(InferenceAmiVersion)
# ProductionVariantRoutingConfig.RoutingStrategy: botocore's values that the CloudFormation schema
# of AWS::SageMaker::EndpointConfig also accepts (botocore adds KV_AWARE, CloudFormation not yet).
RoutingStrategy = Literal["LEAST_OUTSTANDING_REQUESTS", "RANDOM", "PREFIX_AWARE"]
ROUTING_STRATEGIES: tuple[str, ...] = get_args(RoutingStrategy)
# MetricsConfig.MetricPublishFrequencyInSeconds (botocore documentation, CloudFormation enum).
METRIC_PUBLISH_SECONDS = (10, 30, 60, 120, 180, 240, 300)
