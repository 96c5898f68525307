"""A model package from a SageMaker model registry, as the model a construct serves."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import grant_read_location
from mlops_cdk._internal.patterns import (
    ACCOUNT_ID,
    MODEL_PACKAGE_GROUP_NAME,
    MODEL_PACKAGE_GROUP_NAME_MEANING,
    MODEL_PACKAGE_VERSION_ARN,
    MODEL_PACKAGE_VERSION_ARN_MEANING,
)
from mlops_cdk._internal.registry import ApprovedLookup, resolve_approved
from mlops_cdk._internal.registry import RegistryUnavailable as RegistryUnavailable
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk._internal.validators.regions import region_problem
from mlops_cdk.constructs.container_image import ContainerImage


@dataclass(frozen=True, kw_only=True)
class BoundModelPackage:
    """A package bound to a role: the ARN SageMaker's ``ModelPackageName`` takes."""

    model_package_arn: str


class ModelPackage:
    """A registry package (a versioned model with its image, artifact and metrics).

    SageMaker reads the package's artifact and pulls its image *as the model's role* when it
    creates the model, so a package names what that role must be able to read. Give those
    locations and :meth:`bind` grants exactly them, plus ``sagemaker:DescribeModelPackage`` on
    the package itself::

        package = ModelPackage.from_arn(approved_arn,
            artifact_bucket=artifacts, artifact_prefix="training-runs/",
            image=ContainerImage.from_uri(image_uri))
        RealtimeEndpoint(self, "Churn", model_package=package)
    """

    def __init__(
        self,
        arn: str,
        *,
        artifact_bucket: s3.IBucket | None,
        artifact_prefix: str,
        artifact_key: kms.IKey | None,
        image: ContainerImage | None,
    ) -> None:
        self.arn = arn
        self.artifact_bucket = artifact_bucket
        self.artifact_prefix = artifact_prefix
        self.artifact_key = artifact_key
        self.image = image

    @staticmethod
    def from_arn(
        arn: str,
        *,
        artifact_bucket: s3.IBucket | None = None,
        artifact_prefix: str = "",
        artifact_key: kms.IKey | None = None,
        image: ContainerImage | None = None,
    ) -> ModelPackage:
        """A package by ARN (``arn:aws:sagemaker:<region>:<account>:model-package/<group>/<n>``).

        :param artifact_bucket: the bucket holding the package's artifact. Default: none (the
            role needs no S3 read, e.g. an artifact in a public AWS bucket).
        :param artifact_prefix: where under ``artifact_bucket`` the package's artifacts live
            (e.g. the pipeline's training-runs prefix). Default: the whole bucket.
        :param artifact_key: the KMS key encrypting the artifact. Default: the bucket's key when
            CDK knows it.
        :param image: the package's inference image, so its repository can be pulled.
            Default: none (an AWS-owned image the role can already pull).
        """
        check = Checker("ModelPackage.from_arn")
        check.valid("arn", arn, arn_problem, service="sagemaker", resource_type="model-package")
        if artifact_prefix:
            check.require(
                not artifact_prefix.startswith("/"),
                "artifact_prefix",
                "a key prefix without a leading /",
                artifact_prefix,
            )
        return ModelPackage(
            arn,
            artifact_bucket=artifact_bucket,
            artifact_prefix=artifact_prefix,
            artifact_key=artifact_key,
            image=image,
        )

    @staticmethod
    def latest_approved(
        group_name: str,
        *,
        region: str,
        pinned: str,
        account: str | None = None,
        lookup: ApprovedLookup | None = None,
        artifact_bucket: s3.IBucket | None = None,
        artifact_prefix: str = "",
        artifact_key: kms.IKey | None = None,
        image: ContainerImage | None = None,
    ) -> ModelPackage:
        """The newest approved package of ``group_name``, asked of the registry now (at
        synth), or ``pinned`` when it cannot be asked (no credentials, no network) or has no
        approved package yet; a line on stderr says which. Call it in the app, not in a
        construct: it reads AWS credentials the way the AWS CLI does::

            package = ModelPackage.latest_approved("churn", region="eu-west-1",
                pinned="arn:aws:sagemaker:eu-west-1:111122223333:model-package/churn/7",
                artifact_bucket=artifacts, artifact_prefix="training-runs/")

        The query: ``ListModelPackages`` with ``ModelApprovalStatus=Approved``,
        ``SortBy=CreationTime``, ``SortOrder=Descending``, ``MaxResults=1`` (the caller needs
        ``sagemaker:ListModelPackages`` on ``model-package/<group>/*``). The other keywords are
        those of :meth:`from_arn`.

        :param group_name: the model package group.
        :param region: the registry's region.
        :param pinned: the package to serve offline: a versioned package ARN of the group.
        :param account: the registry's account, when it is another account (the group is then
            addressed by ARN, through its resource policy). Default: the caller's account.
        :param lookup: ``(group name or ARN, region) -> newest approved ARN or None``, raising
            :class:`RegistryUnavailable` when offline. Default: botocore's SageMaker client.
        """
        check = Checker("ModelPackage.latest_approved")
        check.matches(
            "group_name", group_name, MODEL_PACKAGE_GROUP_NAME, MODEL_PACKAGE_GROUP_NAME_MEANING
        )
        check.valid("region", region, region_problem)
        check.matches("account", account, ACCOUNT_ID, "a 12-digit AWS account ID")
        check.matches(
            "pinned", pinned, MODEL_PACKAGE_VERSION_ARN, MODEL_PACKAGE_VERSION_ARN_MEANING
        )
        pinned_group = pinned.rsplit("/", 2)[-2]
        check.require(
            pinned_group.lower() == group_name.lower(),
            "pinned",
            f"a package of group {group_name!r}",
            Said(f"{pinned!r}, of group {pinned_group!r}"),
        )
        arn = resolve_approved(
            "ModelPackage.latest_approved",
            group_name,
            region=region,
            account=account,
            pinned=pinned,
            lookup=lookup,
        )
        return ModelPackage.from_arn(
            arn or pinned,
            artifact_bucket=artifact_bucket,
            artifact_prefix=artifact_prefix,
            artifact_key=artifact_key,
            image=image,
        )

    def bind(self, scope: Construct, role: iam.IRole) -> BoundModelPackage:
        """Let ``role`` describe the package and read what it names."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadModelPackage",
                actions=["sagemaker:DescribeModelPackage"],
                resources=[self.arn],
            )
        )
        bucket = self.artifact_bucket
        if bucket is not None:
            grant_read_location(
                role,
                bucket_arn=bucket.bucket_arn,
                key=self.artifact_prefix,
                encryption_key=self.artifact_key or bucket.encryption_key,
            )
            if self.artifact_prefix.endswith("/"):
                nag.acknowledge_wildcard_resource(
                    role,
                    bucket.arn_for_objects(f"{self.artifact_prefix}*"),
                    "Approved packages name artifacts under the training runs prefix (one "
                    "folder per pipeline execution); the role reads those and nothing else.",
                )
        if self.image is not None:
            self.image.bind(scope, role)
        return BoundModelPackage(model_package_arn=self.arn)
