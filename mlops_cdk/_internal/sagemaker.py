"""SageMaker pieces shared by every construct that runs a model: instance-type rules and the
least-privilege execution role."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import cast

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import (
    ManagedPolicyRole,
    grant_key_use,
    grant_network_interfaces,
    role_for,
)
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.environment import environment_name_problem
from mlops_cdk._internal.validators.instance_types import (
    SageMakerApi,
    instance_type_problem,
    sagemaker_capacity,
    size_vcpus,
)

# Accelerated families: NVIDIA GPUs (g*, p*) and AWS Inferentia/Trainium chips.
_ACCELERATED = re.compile(r"(g|p)\d+[a-z]*|inf\d+|trn\d+[a-z]*")


def instance_family(instance_type: str) -> str:
    """``ml.g5.xlarge`` -> ``g5``."""
    return instance_type.split(".")[1]


def is_accelerated(instance_type: str) -> bool:
    """True for GPU, Inferentia and Trainium instance types."""
    return _ACCELERATED.fullmatch(instance_family(instance_type)) is not None


def is_burstable(instance_type: str) -> bool:
    """True for ``ml.t*`` types, which SageMaker cannot autoscale."""
    return instance_family(instance_type).startswith("t")


@cache
def local_storage_families() -> frozenset[str]:
    """Instance families with NVMe instance storage, where SageMaker rejects a KMS key."""
    text = resources.files("mlops_cdk._internal.data").joinpath(
        "local_storage_instance_families.json"
    )
    return frozenset(json.loads(text.read_text(encoding="utf-8"))["families"])


def has_local_storage(instance_type: str) -> bool:
    """True when ``instance_type`` encrypts its local NVMe storage in hardware (no KMS key)."""
    return instance_family(instance_type) in local_storage_families()


@dataclass(frozen=True)
class EnvironmentLimits:
    """How many variables a SageMaker API takes in a container's ``Environment``, and how long
    a value may be (botocore's sagemaker model)."""

    entries: int
    value_length: int


# CreateModel ContainerDefinition.Environment (EnvironmentMap) and CreateTransformJob
# Environment (TransformEnvironmentMap): the same name rule, different sizes.
MODEL_ENVIRONMENT = EnvironmentLimits(entries=100, value_length=1024)
TRANSFORM_ENVIRONMENT = EnvironmentLimits(entries=16, value_length=10240)


def check_container_environment(
    check: Checker,
    keyword: str,
    environment: Mapping[str, str] | None,
    limits: EnvironmentLimits,
) -> None:
    """A SageMaker container environment: variable names SageMaker accepts (the shared name
    rule), at most
    ``limits.entries`` of them, values at most ``limits.value_length`` characters."""
    if not environment:
        return
    check.require(
        len(environment) <= limits.entries,
        keyword,
        f"at most {limits.entries} variables",
        Said(f"{len(environment)} variables"),
    )
    for name, value in environment.items():
        check.valid(keyword, name, environment_name_problem, api="sagemaker")
        check.max_length(f"{keyword}[{name!r}]", value, limits.value_length)


def check_instance_type(
    check: Checker, keyword: str, instance_type: str | None, *, api: SageMakerApi
) -> None:
    """Raise unless ``instance_type`` is one ``api`` accepts (its enumeration in AWS's service
    model: job APIs accept fewer types than endpoints); ``None`` and tokens pass."""
    check.valid(keyword, instance_type, instance_type_problem, api=api)


def execution_role(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    encryption_key: kms.IKey,
    role: iam.IRole | None = None,
) -> iam.IRole:
    """A SageMaker execution role with what every model needs and nothing more.

    CloudWatch Logs for ``/aws/sagemaker/*`` log groups, metrics in SageMaker namespaces only,
    and use of ``encryption_key``. Image pulls, artifact reads and output writes are granted by
    the construct for exactly the locations it uses. A given ``role`` (which SageMaker must be
    able to assume) receives the same grants, in a customer-managed policy attached to it.
    """
    role = role_for(
        scope,
        construct_id,
        role,
        lambda: ManagedPolicyRole(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=description,
        ),
    )
    log_groups = (
        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/*"
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="SageMakerLogs",
            actions=[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            resources=[log_groups, f"{log_groups}:log-stream:*"],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="SageMakerMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={
                "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
            },
        )
    )
    grant_key_use(role, encryption_key)
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*]",
        "SageMaker names its log groups per endpoint and job at run time under /aws/sagemaker/.",
    )
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/*:log-stream:*]",
        "SageMaker creates one log stream per instance and container at run time.",
    )
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudwatch:PutMetricData, ecr:GetAuthorizationToken and the EC2 Describe calls of VPC "
        "placement support no resource-level "
        "permissions; metrics are limited to SageMaker namespaces by condition.",
    )
    return role


def grant_vpc_access(role: iam.IRole, vpc: ec2.IVpc) -> None:
    """The network-interface actions SageMaker needs to place a model or job in ``vpc``."""
    grant_network_interfaces(
        role,
        vpc,
        (
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeVpcs",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
        ),
    )


def vcpus(instance_type: str) -> int | None:
    """vCPUs of a SageMaker instance type: its capacity where the instance data knows it, else
    the usual EC2 size convention (large = 2, xlarge = 4, Nxlarge = 4N); ``None`` for sizes
    neither covers."""
    capacity = sagemaker_capacity(instance_type)
    if capacity is not None:
        return capacity.vcpus
    return size_vcpus(instance_type.rsplit(".", 1)[-1])


def autoscaling_service_role(scope: Construct) -> iam.IRole:
    """Application Auto Scaling's service-linked role for SageMaker (variants and inference
    components), imported once per stack."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("SageMakerAutoScalingRole")
    if existing is not None:
        return cast(iam.IRole, existing)
    return iam.Role.from_role_arn(
        stack,
        "SageMakerAutoScalingRole",
        f"arn:{stack.partition}:iam::{stack.account}:role/aws-service-role/"
        "sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        mutable=False,
    )


def scale_out_from_zero(target: appscaling.ScalableTarget, signal: cloudwatch.IMetric) -> None:
    """Add one unit of capacity when ``signal`` (a 0/1 "requests but no capacity" metric)
    reads 1: target tracking cannot leave zero on its own, as nothing is "per instance" or
    "per copy" there."""
    target.scale_on_metric(
        "ScaleOutFromZero",
        metric=signal,
        scaling_steps=[
            appscaling.ScalingInterval(upper=0.5, change=0),
            appscaling.ScalingInterval(lower=0.5, change=1),
        ],
        adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        cooldown=Duration.minutes(2),
        evaluation_periods=1,
    )
