"""The SageMaker model every serving construct creates, from one :class:`ModelSource`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk._internal.network import select_subnets
from mlops_cdk._internal.sagemaker import grant_vpc_access
from mlops_cdk._internal.validation import Checker
from mlops_cdk.constructs.container_image import ContainerImage, check_image_region
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_package import ModelPackage


@dataclass(frozen=True)
class ModelSource:
    """What a SageMaker model runs: an image (with optional artifact) or a registry package."""

    image: ContainerImage | None = None
    model_data: ModelData | None = None
    model_package: ModelPackage | None = None

    def with_default_image(self, image: ContainerImage) -> ModelSource:
        """This source, running on ``image`` when it names an artifact but no image or
        package."""
        if self.image is None and self.model_package is None and self.model_data is not None:
            return replace(self, image=image)
        return self

    def check(self, check: Checker, prefix: str = "") -> None:
        """Exactly one of image / model_package; model_data only with an image."""
        check.exactly_one(
            {f"{prefix}image": self.image, f"{prefix}model_package": self.model_package}
        )
        if self.model_data is not None and self.image is None:
            check.not_together(
                f"{prefix}model_data",
                f"{prefix}model_package",
                "a registry package already names its artifact",
            )


@dataclass(frozen=True)
class MultiModelContainer:
    """A container in ``Mode: MultiModel``: ``ModelDataUrl`` is the S3 prefix of the models
    (``ModelDataSource`` cannot be used with multi-model endpoints: ContainerDefinition in
    SageMaker's API reference)."""

    model_data_url: str
    model_cache: bool = True


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
        role: iam.IRole,
        environment: Mapping[str, str] | None = None,
        network_isolation: bool,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] = (),
        multi_model: MultiModelContainer | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # SageMaker pulls images from ECR in the model's own region only: named in the owning
        # construct's terms (its path, its keyword).
        if source.image is not None:
            check_image_region(scope, source.image, "image")
        if source.model_package is not None and source.model_package.image is not None:
            check_image_region(scope, source.model_package.image, "model_package.image")
        model = sagemaker.CfnModel
        image_uri = source.image.bind(self, role).image_uri if source.image else None
        data = source.model_data.bind(self, role) if source.model_data else None
        package = source.model_package.bind(self, role) if source.model_package else None
        container = model.ContainerDefinitionProperty(
            image=image_uri,
            model_package_name=package.model_package_arn if package else None,
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
            mode="MultiModel" if multi_model else None,
            model_data_url=multi_model.model_data_url if multi_model else None,
            multi_model_config=model.MultiModelConfigProperty(
                model_cache_setting="Enabled" if multi_model.model_cache else "Disabled"
            )
            if multi_model
            else None,
        )
        vpc_config = None
        if vpc is not None:
            selected = select_subnets(vpc, subnets)
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
