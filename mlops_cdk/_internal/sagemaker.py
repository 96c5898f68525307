"""SageMaker pieces shared by every construct that runs a model: instance-type rules, the
least-privilege execution role, and the model resource itself."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from aws_cdk import Aws
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import ManagedPolicyRole, grant_key_use, grant_network_interfaces
from mlops_cdk._internal.validation import Checker, is_unresolved
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.model_data import ModelData

INSTANCE_TYPE = r"ml\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge)"
INSTANCE_TYPE_MEANING = "an ML instance type ml.<family>.<size>, such as ml.m5.large"
MODEL_PACKAGE_ARN = (
    r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[a-zA-Z0-9-]{1,63}(/\d+)?"
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


def check_instance_type(check: Checker, keyword: str, instance_type: str) -> None:
    """Raise unless ``instance_type`` looks like ``ml.<family>.<size>``."""
    check.matches(keyword, instance_type, INSTANCE_TYPE, INSTANCE_TYPE_MEANING)


@dataclass(frozen=True)
class ModelSource:
    """What a SageMaker model runs: an image (with optional artifact) or a registry package."""

    image: ContainerImage | None = None
    model_data: ModelData | None = None
    model_package_arn: str | None = None

    def check(self, check: Checker, prefix: str = "") -> None:
        """Exactly one of image / model_package_arn; model_data only with an image."""
        check.exactly_one(
            {f"{prefix}image": self.image, f"{prefix}model_package_arn": self.model_package_arn}
        )
        if self.model_data is not None and self.image is None:
            check.not_together(
                f"{prefix}model_data",
                f"{prefix}model_package_arn",
                "a registry package already names its artifact",
            )
        if self.model_package_arn is not None and not is_unresolved(self.model_package_arn):
            check.matches(
                f"{prefix}model_package_arn",
                self.model_package_arn,
                MODEL_PACKAGE_ARN,
                "a model package ARN "
                "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>",
            )


def execution_role(
    scope: Construct, construct_id: str, *, description: str, encryption_key: kms.IKey
) -> ManagedPolicyRole:
    """A SageMaker execution role with what every model needs and nothing more.

    CloudWatch Logs for ``/aws/sagemaker/*`` log groups, metrics in SageMaker namespaces only,
    and use of ``encryption_key``. Image pulls, artifact reads and output writes are granted by
    the construct for exactly the locations it uses.
    """
    role = ManagedPolicyRole(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
        description=description,
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


class SageMakerModel(Construct):
    """An ``AWS::SageMaker::Model`` for one :class:`ModelSource`, with its grants.

    No physical name: every property of a model is create-only, so CloudFormation must be free
    to create a new one (with a new name) whenever anything changes.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: ModelSource,
        role: ManagedPolicyRole,
        environment: Mapping[str, str] | None = None,
        network_isolation: bool,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        model = sagemaker.CfnModel
        image_uri = source.image.bind(self, role).image_uri if source.image else None
        data = source.model_data.bind(self, role) if source.model_data else None
        if source.model_package_arn is not None:
            _grant_model_package(role, source.model_package_arn)
        container = model.ContainerDefinitionProperty(
            image=image_uri,
            model_package_name=source.model_package_arn,
            environment=dict(environment) if environment else None,
            model_data_source=model.ModelDataSourceProperty(
                s3_data_source=model.S3DataSourceProperty(
                    s3_uri=data.s3_uri,
                    s3_data_type=data.s3_data_type,
                    compression_type=data.compression,
                )
            )
            if data
            else None,
        )
        vpc_config = None
        if vpc is not None:
            selected = _select(vpc, subnets)
            vpc_config = sagemaker.CfnModel.VpcConfigProperty(
                security_group_ids=[g.security_group_id for g in security_groups],
                subnets=selected.subnet_ids,
            )
            grant_vpc_access(role, vpc)
        self.resource = sagemaker.CfnModel(
            self,
            "Resource",
            execution_role_arn=role.role_arn,
            primary_container=container,
            enable_network_isolation=network_isolation,
            vpc_config=vpc_config,
        )
        # The role's policy must exist before SageMaker validates access to image and artifact.
        self.resource.node.add_dependency(role)
        self.model_name = self.resource.attr_model_name


def _select(vpc: ec2.IVpc, subnets: ec2.SubnetSelection | None) -> ec2.SelectedSubnets:
    """``subnets`` of ``vpc``; by default CDK's choice of private subnets (with egress if the
    VPC has NAT, otherwise isolated)."""
    if subnets is None:
        return vpc.select_subnets()
    return vpc.select_subnets(
        subnet_group_name=subnets.subnet_group_name,
        subnet_type=subnets.subnet_type,
        subnets=subnets.subnets,
        availability_zones=subnets.availability_zones,
        one_per_az=subnets.one_per_az,
        subnet_filters=subnets.subnet_filters,
    )


def _grant_model_package(role: iam.IRole, model_package_arn: str) -> None:
    """Read the package; its artifact and image are granted by the caller who knows them."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ReadModelPackage",
            actions=["sagemaker:DescribeModelPackage"],
            resources=[model_package_arn],
        )
    )


def vcpus(instance_type: str) -> int | None:
    """vCPUs of an instance size by the usual EC2 convention (large = 2, xlarge = 4,
    Nxlarge = 4N); ``None`` for sizes it does not cover."""
    size = instance_type.rsplit(".", 1)[-1]
    fixed = {"medium": 1, "large": 2, "xlarge": 4}
    if size in fixed:
        return fixed[size]
    if size.endswith("xlarge") and size[:-6].isdigit():
        return 4 * int(size[:-6])
    return None
