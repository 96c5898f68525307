"""Serving settings: the realtime endpoint, the Lambda function and the ECS service."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from mlops_cdk._internal.fargate import describe_fargate_memory, fargate_memory_choices
from mlops_cdk._internal.patterns import (
    DEFAULT_INSTANCE_TYPE,
)
from mlops_cdk.config._fields import (
    BucketName,
    CertificateArn,
    EcrImageUri,
    EndpointInstanceType,
    FieldError,
    KeyPrefix,
    ModelPackageArn,
    ModelPackageGroupName,
    Section,
    package_group,
)


class EndpointAutoScalingSettings(Section):
    """Target tracking on invocations per instance."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_invocations_per_instance: float = Field(default=100.0, gt=0)


class DeploymentSettings(Section):
    """A guarded deployment: traffic shifts in steps and rolls back on the endpoint's alarms."""

    strategy: Literal["canary", "linear", "all_at_once", "rolling"] = "canary"
    percent: int = Field(default=10, ge=1, le=50)
    wait_minutes: int = Field(default=10, ge=0, le=60)


class ModelPackageSettings(Section):
    """Serve a model package from the registry instead of the demo model (approval -> deploy).

    The delivery pipeline's synth step resolves the newest approved package of ``group`` and
    passes it as ``-c approved_model_package=<arn>`` (``app.py`` applies it with
    :func:`with_approved_package`); without that context (an offline ``cdk synth``) the
    endpoint serves ``pinned_arn``, or the demo model when no package is pinned (a fresh
    registry has none yet).

    A package of this environment's own account is served as registered (``ModelPackageName``:
    its image, its artifact). A package of another account (the registry account, e.g.
    staging's, serving prod) is served with this account's own build of the project's model
    server and the package's ``ModelDataUrl``, read at deploy time from
    ``artifact_bucket`` in the registry account (cross-account ECR pulls of the registry
    account's CDK asset repository are not possible without a policy on a repository cdk
    bootstrap owns; see docs/operator-guide.md).
    """

    group: ModelPackageGroupName
    pinned_arn: ModelPackageArn | None = None
    approved_arn: ModelPackageArn | None = None
    # Where the packages' artifacts and image are, so the endpoint role can read and pull them
    # (the role can describe the package; SageMaker then reads both as the role). No image:
    # the project's model server, the image MLPipeline registers.
    image: EcrImageUri | None = None
    artifact_prefix: KeyPrefix = "training/runs/"
    # The registry account's artifacts bucket (its ml_pipeline.serving_accounts must list this
    # account). Required for a package of another account; default: this environment's own.
    artifact_bucket: BucketName | None = None

    @model_validator(mode="after")
    def _packages_of_the_group(self) -> ModelPackageSettings:
        for key in ("pinned_arn", "approved_arn"):
            arn = getattr(self, key)
            if arn is not None and package_group(arn).lower() != self.group.lower():
                raise FieldError(
                    f"realtime_endpoint.model_package.{key}",
                    f"must be a package of group {self.group!r}",
                    arn,
                )
        return self

    @property
    def arn(self) -> str | None:
        """The package to serve: the approved one from the delivery pipeline, else the pin
        (``None``: the demo model)."""
        return self.approved_arn or self.pinned_arn


class AsyncInferenceSettings(Section):
    """Asynchronous serving: requests queue in SageMaker, results go to the batch-output bucket
    under ``output_prefix``, and instances scale on the backlog, to zero when it is empty."""

    max_capacity: int = Field(default=2, ge=1)
    scale_to_zero: bool = True
    target_backlog_per_instance: float = Field(default=5.0, gt=0)
    output_prefix: KeyPrefix = "async/output/"
    failure_prefix: KeyPrefix = "async/failure/"

    @model_validator(mode="after")
    def _separate_prefixes(self) -> AsyncInferenceSettings:
        if self.failure_prefix == self.output_prefix:
            raise FieldError(
                "realtime_endpoint.async_inference.failure_prefix",
                "must differ from output_prefix (failures and results are told apart by prefix)",
                self.failure_prefix,
            )
        return self


class RealtimeEndpointSettings(Section):
    """The SageMaker endpoint serving the model."""

    enabled: bool = False
    mode: Literal["serverless", "instance", "async"] = "serverless"
    instance_type: EndpointInstanceType = DEFAULT_INSTANCE_TYPE
    initial_instance_count: int = Field(default=1, ge=1)
    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: int = Field(default=5, ge=1, le=200)
    autoscaling: EndpointAutoScalingSettings | None = None
    data_capture_percent: int | None = Field(default=None, ge=0, le=100)
    deployment: DeploymentSettings | None = None
    in_vpc: bool = True
    model_package: ModelPackageSettings | None = None
    async_inference: AsyncInferenceSettings | None = None

    @model_validator(mode="after")
    def _async_settings_fit_mode(self) -> RealtimeEndpointSettings:
        if self.async_inference is not None and self.mode != "async":
            raise FieldError(
                "realtime_endpoint.async_inference",
                "must be left out unless mode is async",
                self.mode,
            )
        if self.mode == "async" and self.autoscaling is not None:
            raise FieldError(
                "realtime_endpoint.autoscaling",
                "must be left out when mode is async (async endpoints scale on their backlog: "
                "set async_inference.max_capacity)",
                self.autoscaling.model_dump(),
            )
        return self

    @model_validator(mode="after")
    def _serverless_has_no_instance_features(self) -> RealtimeEndpointSettings:
        if self.mode == "serverless":
            for key in ("autoscaling", "data_capture_percent"):
                if getattr(self, key) is not None:
                    raise FieldError(
                        f"realtime_endpoint.{key}",
                        "must be left out when mode is serverless (it needs instances)",
                        getattr(self, key),
                    )
        return self


class LambdaProvisionedConcurrencySettings(Section):
    """Warm execution environments on the function's live alias, scaled on utilisation."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=5, ge=1)
    target_utilization: float = Field(default=0.7, ge=0.1, le=0.9)

    @model_validator(mode="after")
    def _ordered(self) -> LambdaProvisionedConcurrencySettings:
        if self.max_capacity < self.min_capacity:
            raise FieldError(
                "lambda_inference.provisioned_concurrency.max_capacity",
                f"must be at least min_capacity ({self.min_capacity})",
                self.max_capacity,
            )
        return self


class LambdaApiSettings(Section):
    """The REST API in front of the function."""

    auth: Literal["iam", "api_key"] = "iam"
    throttle_rate: float = Field(default=50, gt=0)
    throttle_burst: int = Field(default=100, gt=0)


class LambdaDeploymentSettings(Section):
    """CodeDeploy traffic shifting of the live alias, rolled back on the function's alarms."""

    strategy: Literal["canary", "linear", "all_at_once"] = "canary"
    percent: int = Field(default=10, ge=1, le=99)
    minutes: int = Field(default=5, ge=1, le=2880)


class LambdaInferenceSettings(Section):
    """The model on a container-image Lambda function. Callers come
    through an IAM function URL, a REST API, or both."""

    enabled: bool = False
    memory_size_mb: int = Field(default=2048, ge=128, le=10240)
    timeout_seconds: int | None = Field(default=None, ge=1, le=900)
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    reserved_concurrency: int | None = Field(default=None, ge=1)
    provisioned_concurrency: LambdaProvisionedConcurrencySettings | None = None
    api: LambdaApiSettings | None = None
    function_url: bool = False
    deployment: LambdaDeploymentSettings | None = None
    in_vpc: bool = True
    outside_vpc_reason: str | None = Field(default=None, min_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> LambdaInferenceSettings:
        if self.enabled and self.api is None and not self.function_url:
            raise FieldError(
                "lambda_inference",
                "needs api or function_url: true when enabled (callers need a way in)",
                "neither",
            )
        if not self.in_vpc and self.outside_vpc_reason is None:
            raise FieldError(
                "lambda_inference.outside_vpc_reason",
                "must say why the function runs outside the VPC when in_vpc is false "
                "(it becomes the compliance acknowledgement)",
                None,
            )
        if self.in_vpc and self.outside_vpc_reason is not None:
            raise FieldError(
                "lambda_inference.outside_vpc_reason",
                "must be left out when in_vpc is true",
                self.outside_vpc_reason,
            )
        if self.api is not None and self.timeout_seconds is not None and self.timeout_seconds > 29:
            raise FieldError(
                "lambda_inference.timeout_seconds",
                "must be at most 29 with an api (API Gateway's integration timeout)",
                self.timeout_seconds,
            )
        pc, reserved = self.provisioned_concurrency, self.reserved_concurrency
        if pc is not None and reserved is not None and pc.max_capacity > reserved:
            raise FieldError(
                "lambda_inference.provisioned_concurrency.max_capacity",
                f"must be at most reserved_concurrency ({reserved})",
                pc.max_capacity,
            )
        return self


class EcsAutoScalingSettings(Section):
    """Target tracking on CPU and on load-balancer requests per task (per minute)."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_cpu_percent: float = Field(default=60.0, ge=10, le=90)
    requests_per_target: int | None = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> EcsAutoScalingSettings:
        if self.max_capacity < self.min_capacity:
            raise FieldError(
                "ecs_model_service.autoscaling.max_capacity",
                f"must be at least min_capacity ({self.min_capacity})",
                self.max_capacity,
            )
        return self


class EcsModelServiceSettings(Section):
    """The model server on ECS Fargate behind an internal load balancer. Its tasks run in the
    private subnets and reach ECR, S3 and CloudWatch Logs through VPC endpoints, so an
    environment that enables it needs ``network.interface_endpoints`` (or a NAT gateway)."""

    enabled: bool = False
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = 1024
    memory_mib: int = 2048
    desired_count: int = Field(default=2, ge=1)
    autoscaling: EcsAutoScalingSettings | None = None
    health_check_grace_seconds: int = Field(default=120, ge=0, le=2_147_483_647)
    deletion_protection: bool = True
    certificate_arn: CertificateArn | None = None

    @model_validator(mode="after")
    def _fargate_size(self) -> EcsModelServiceSettings:
        if self.memory_mib not in fargate_memory_choices(self.cpu):
            raise FieldError(
                "ecs_model_service.memory_mib",
                f"must be {describe_fargate_memory(self.cpu)} for cpu {self.cpu} on Fargate",
                self.memory_mib,
            )
        return self

    @model_validator(mode="after")
    def _count_in_range(self) -> EcsModelServiceSettings:
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
            raise FieldError(
                "ecs_model_service.desired_count",
                f"must be between autoscaling.min_capacity ({scaling.min_capacity}) and "
                f"max_capacity ({scaling.max_capacity})",
                self.desired_count,
            )
        return self
