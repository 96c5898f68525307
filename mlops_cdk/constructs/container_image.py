"""Where a model server's container image comes from, and the right to pull it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from aws_cdk import Aws, CfnMapping, Names, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from mlops_cdk._internal.framework_images import FrameworkImage, framework_image
from mlops_cdk._internal.runtime_assets import runtime_dir
from mlops_cdk._internal.validation import Checker
from mlops_cdk._internal.validators.images import image_uri_problem, parse_image_uri

_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)


@dataclass(frozen=True, kw_only=True)
class BoundImage:
    """An image bound to a scope: its URI, and its repository when CDK knows it."""

    image_uri: str
    repository: ecr.IRepository | None = None
    asset: ecr_assets.DockerImageAsset | None = None


class ContainerImage(ABC):
    """A container image for SageMaker, ECS or Lambda.

    Pick one of the factories; the construct that uses the image calls :meth:`bind`, which
    returns the image URI and grants its role permission to pull exactly that repository.
    """

    @staticmethod
    def from_asset(
        directory: str | Path,
        *,
        file: str = "Dockerfile",
        build_args: Mapping[str, str] | None = None,
        platform: ecr_assets.Platform | None = None,
    ) -> ContainerImage:
        """Build ``directory`` with Docker when the app is deployed (synth only stages it).

        :param directory: the build context. Default: none (required).
        :param file: the Dockerfile, relative to ``directory``. Default: ``Dockerfile``.
        :param build_args: Docker build arguments. Default: none.
        :param platform: target platform. Default: ``linux/amd64`` (SageMaker and Fargate's
            default architecture).
        """
        context = Path(directory)
        check = Checker("ContainerImage.from_asset")
        check.require(context.is_dir(), "directory", "an existing directory", str(context))
        check.require(
            (context / file).is_file(), "file", "a Dockerfile inside directory", str(context / file)
        )
        return _AssetImage(
            context, file, dict(build_args or {}), platform or ecr_assets.Platform.LINUX_AMD64
        )

    @staticmethod
    def from_ecr_repository(repository: ecr.IRepository, tag: str = "latest") -> ContainerImage:
        """An image in an ECR repository managed by CDK or imported into the app.

        :param tag: a tag, or a digest ``sha256:<64 hex>``. Default: ``latest`` (pin a digest
            in production so a re-push cannot change what runs).
        """
        check = Checker("ContainerImage.from_ecr_repository")
        check.matches(
            "tag",
            tag,
            r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64}",
            "a Docker tag or a digest sha256:<64 hex>",
        )
        return _RepositoryImage(repository, tag)

    @staticmethod
    def from_uri(uri: str) -> ContainerImage:
        """An ECR image by URI, including AWS-owned registries (deep-learning containers,
        built-in algorithms).

        Pull rights are granted on exactly the repository in the URI, in whatever account owns
        it. Non-ECR registries are rejected: SageMaker pulls from ECR only.
        """
        check = Checker("ContainerImage.from_uri")
        problem = image_uri_problem(uri)
        parsed = parse_image_uri(uri)
        if problem is not None or parsed is None:
            check.fail("uri", problem or "an ECR image URI", uri)
        return _UriImage(
            uri=uri,
            account=parsed.account,
            region=parsed.region,
            repository=parsed.repository,
            china=parsed.china,
            tag=parsed.tag,
            digest=parsed.digest,
        )

    @staticmethod
    def aws_image(
        framework: str,
        version: str,
        *,
        region: str | None = None,
        processor: str | None = None,
        py_version: str | None = None,
    ) -> ContainerImage:
        """One of AWS's own inference images, in the region it is used in: ``sklearn``,
        ``xgboost``, ``pytorch``, ``tensorflow`` (deep learning containers), ``huggingface-llm``
        (TGI), ``djl-lmi`` (large model inference). The registry account differs per region;
        it comes from the SageMaker SDK's published image data (package data), the URI is the
        one ``sagemaker.image_uris.retrieve`` returns::

            ContainerImage.aws_image("sklearn", "1.2-1")
            ContainerImage.aws_image("pytorch", "2.6", processor="gpu")

        :param framework: the framework. Default: none (required).
        :param version: a version or version alias (``"2.6"`` for ``2.6.0``).
        :param region: the region the image is pulled in. Default: the stack's, resolved where
            the image is used; while it is a token the URI is looked up in a template mapping
            (``Fn::FindInMap``), as CDK does for region facts.
        :param processor: ``cpu`` or ``gpu`` where the version has both. Default: its only one.
        :param py_version: where the version has several. Default: its only one.
        """
        check = Checker("ContainerImage.aws_image")
        image = framework_image(
            check, framework, version, processor=processor, py_version=py_version
        )
        if region is not None and not Token.is_unresolved(region):
            check.valid("region", region, image.region_problem)
        return _AwsImage(image, region)

    @staticmethod
    def model_server() -> ContainerImage:
        """The mlops-cdk model server (SageMaker container contract; also runs on ECS), built
        from the installed package when the app is deployed."""
        return ContainerImage.from_asset(runtime_dir(), file="Dockerfile")

    @staticmethod
    def training() -> ContainerImage:
        """The mlops-cdk training image (``Dockerfile.training``): the shipped preprocess, train
        and evaluate steps baked in (``python -m mlops_runtime.training.<step>``; ``train`` for
        SageMaker training), so jobs need no uploaded code and no internet access. Built from
        the installed package when the app is deployed."""
        return ContainerImage.from_asset(runtime_dir(), file="Dockerfile.training")

    @staticmethod
    def lambda_model_server() -> ContainerImage:
        """The Lambda image that runs the same predictor as :meth:`model_server`."""
        return ContainerImage.from_asset(runtime_dir(), file="Dockerfile.lambda")

    @abstractmethod
    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundImage:
        """Resolve the image in ``scope`` and let ``grantee`` pull it."""

    def lambda_code(
        self, scope: Construct, *, architecture: lambda_.Architecture
    ) -> lambda_.DockerImageCode:
        """The image as the code of a container-image Lambda function in ``scope``.

        Assets are built for the function's ``architecture`` (Lambda cannot run another
        platform). Lambda pulls images only from ECR in the function's own region, so a URI in
        another region is rejected.
        """
        if isinstance(self, _AssetImage):
            platform = (
                ecr_assets.Platform.LINUX_ARM64
                if architecture.name == lambda_.Architecture.ARM_64.name
                else ecr_assets.Platform.LINUX_AMD64
            )
            return lambda_.DockerImageCode.from_image_asset(
                str(self.directory),
                file=self.file,
                build_args=self.build_args or None,
                platform=platform,
            )
        if isinstance(self, _RepositoryImage):
            return lambda_.DockerImageCode.from_ecr(self.repository, tag_or_digest=self.tag)
        if not isinstance(self, _UriImage):
            msg = f"{type(self).__name__} has no Lambda form"
            raise TypeError(msg)
        self.check_region(scope, "image")
        repository = ecr.Repository.from_repository_attributes(
            scope,
            "ImageRepository",
            repository_arn=self.repository_arn(scope),
            repository_name=self.repository,
        )
        return lambda_.DockerImageCode.from_ecr(
            repository, tag_or_digest=self.tag or self.digest or "latest"
        )


def check_image_region(scope: Construct, image: ContainerImage, keyword: str = "image") -> None:
    """Raise (naming ``scope``'s path and ``keyword``) when ``image`` is an ECR URI in another
    region than ``scope``'s stack, or an AWS-owned registry that does not serve that region:
    SageMaker, ECS and Lambda pull from ECR in their own region only. Assets and repositories
    CDK manages are in the stack's region already; an unresolved stack region skips the check."""
    if isinstance(image, _UriImage | _AwsImage):
        image.check_region(scope, keyword)


class _AssetImage(ContainerImage):
    def __init__(
        self,
        directory: Path,
        file: str,
        build_args: dict[str, str],
        platform: ecr_assets.Platform,
    ) -> None:
        self.directory, self.file, self.build_args, self.platform = (
            directory,
            file,
            build_args,
            platform,
        )
        self._assets: dict[str, ecr_assets.DockerImageAsset] = {}

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundImage:
        asset = self._assets.get(scope.node.path)
        if asset is None:
            asset = ecr_assets.DockerImageAsset(
                scope,
                "ImageAsset",
                directory=str(self.directory),
                file=self.file,
                build_args=self.build_args or None,
                platform=self.platform,
            )
            self._assets[scope.node.path] = asset
        asset.repository.grant_pull(grantee)
        return BoundImage(image_uri=asset.image_uri, repository=asset.repository, asset=asset)


class _RepositoryImage(ContainerImage):
    def __init__(self, repository: ecr.IRepository, tag: str) -> None:
        self.repository, self.tag = repository, tag

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundImage:
        self.repository.grant_pull(grantee)
        return BoundImage(
            image_uri=self.repository.repository_uri_for_tag_or_digest(self.tag),
            repository=self.repository,
        )


class _UriImage(ContainerImage):
    def __init__(
        self,
        *,
        uri: str,
        account: str,
        region: str,
        repository: str,
        china: bool,
        tag: str | None,
        digest: str | None,
    ) -> None:
        self.uri, self.account, self.region, self.repository, self.china = (
            uri,
            account,
            region,
            repository,
            china,
        )
        self.tag, self.digest = tag, digest

    def check_region(self, scope: Construct, keyword: str) -> None:
        """Raise unless the image is one ``scope``'s stack can pull: SageMaker, ECS and Lambda
        pull from ECR in their own region only (skipped while the stack's region is a token)."""
        region = Stack.of(scope).region
        if not Token.is_unresolved(region):
            Checker.of(scope).valid(keyword, self.uri, image_uri_problem, region=region)

    def repository_arn(self, scope: Construct) -> str:
        """The ARN of the repository the URI points into (possibly an AWS-owned account)."""
        partition = "aws-cn" if self.china else Stack.of(scope).partition
        return f"arn:{partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundImage:
        iam.Grant.add_to_principal(
            grantee=grantee, actions=list(_PULL_ACTIONS), resource_arns=[self.repository_arn(scope)]
        )
        ecr.AuthorizationToken.grant_read(grantee)
        return BoundImage(image_uri=self.uri)


class _AwsImage(ContainerImage):
    """An AWS image whose registry account depends on the region it is used in."""

    def __init__(self, image: FrameworkImage, region: str | None) -> None:
        self.image, self.region = image, region

    def _region(self, scope: Construct) -> str:
        return self.region or Stack.of(scope).region

    def _in(self, region: str) -> _UriImage:
        return cast(_UriImage, ContainerImage.from_uri(self.image.uri(region)))

    def check_region(self, scope: Construct, keyword: str) -> None:
        """Raise unless the image is published in the region it is used in and that region
        is the stack's (skipped while either is a token)."""
        region = self._region(scope)
        if Token.is_unresolved(region):
            return
        Checker.of(scope).valid(keyword, region, self.image.region_problem)
        self._in(region).check_region(scope, keyword)

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundImage:
        region = self._region(scope)
        if not Token.is_unresolved(region):
            self.check_region(scope, "image")
            return self._in(region).bind(scope, grantee)
        account = self._mapping(scope).find_in_map(region, "account")
        repository = self.image.repository
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(_PULL_ACTIONS),
            resource_arns=[f"arn:{Aws.PARTITION}:ecr:{region}:{account}:repository/{repository}"],
        )
        ecr.AuthorizationToken.grant_read(grantee)
        uri = f"{account}.dkr.ecr.{region}.{Aws.URL_SUFFIX}/{repository}:{self.image.tag}"
        return BoundImage(image_uri=uri)

    def _mapping(self, scope: Construct) -> CfnMapping:
        """The stack's region -> registry account mapping of this image (one per image)."""
        stack = Stack.of(scope)
        name = "AwsImage" + "".join(
            c for c in f"{self.image.repository}{self.image.tag}".title() if c.isalnum()
        )
        name = name if len(name) <= 200 else name[:190] + Names.unique_id(scope)[-8:]
        existing = stack.node.try_find_child(name)
        if existing is not None:
            return cast(CfnMapping, existing)
        return CfnMapping(
            stack,
            name,
            mapping={
                region: {"account": account} for region, account in self.image.registries.items()
            },
        )
