"""Serving settings: the realtime endpoint, the Lambda function and the ECS service."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from mlops_cdk._internal.fargate import describe_fargate_memory, fargate_memory_choices
from mlops_cdk._internal.patterns import (
    DEFAULT_INSTANCE_TYPE,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MEANING,
    LatencyPercentile,
)
from mlops_cdk._internal.validators import ecs_deployments as deployments
from mlops_cdk._internal.validators.instance_types import gpu_task_problems
from mlops_cdk.config._fields import (
    AccountId,
    BucketName,
    CertificateArn,
    EcrImageUri,
    EndpointInstanceType,
    FieldError,
    KeyPrefix,
    ModelPackageArn,
    ModelPackageGroupName,
    Section,
    TopicArn,
    matches,
    package_group,
)

# SageMaker endpoints: at most 10 production variants, and one shadow beside exactly one
# production variant (CreateEndpointConfig).
MAX_PRODUCTION_VARIANTS = 10
# The REST API's integration timeout and the function's default timeout without an API (s).
API_INTEGRATION_TIMEOUT_S = 29
DEFAULT_LAMBDA_TIMEOUT_S = 30
# GPUs one ECS task may ask for (the largest GPU instances have 16).
ECS_GPU_COUNT_MAX = 16


class EndpointAlarmSettings(Section):
    """Thresholds of the endpoint's alarms: ``ModelLatency`` at ``latency_percentile`` above
    ``latency_ms`` ("p95 > 200 ms"), error rates, utilisation, the async queue's age."""

    latency_percentile: LatencyPercentile = "p99"
    latency_ms: float = Field(default=1000, gt=0)
    error_5xx_rate_percent: float = Field(default=1.0, ge=0.01, le=100)
    error_4xx_rate_percent: float = Field(default=10.0, ge=0.01, le=100)
    cpu_percent: float = Field(default=90.0, ge=1, le=100)
    memory_percent: float = Field(default=90.0, ge=0.01, le=100)
    async_oldest_request_minutes: int = Field(default=15, ge=1, le=1440)


class LambdaAlarmSettings(Section):
    """Thresholds of the function's alarms: ``Duration`` at ``latency_percentile`` above
    ``latency_ms`` (without it: 80 % of the timeout), and the error rate."""

    latency_percentile: LatencyPercentile = "p99"
    latency_ms: float | None = Field(default=None, gt=0)
    error_rate_percent: float = Field(default=1.0, ge=0.01, le=100)


class EcsAlarmSettings(Section):
    """Thresholds of the service's alarms: ``TargetResponseTime`` at ``latency_percentile``
    above ``latency_ms``, the 5XX rate, utilisation."""

    latency_percentile: LatencyPercentile = "p99"
    latency_ms: float = Field(default=1000, gt=0)
    error_5xx_rate_percent: float = Field(default=1.0, ge=0.01, le=100)
    cpu_percent: float = Field(default=90.0, ge=1, le=100)
    memory_percent: float = Field(default=90.0, ge=1, le=100)


class EndpointVariantSettings(Section):
    """One variant of an A/B test (traffic split by weight), or the shadow that receives a
    copy of the traffic and answers nobody. Without ``model_package_arn`` it serves the
    endpoint's model (the demo model, or ``model_package``)."""

    name: Annotated[str, matches(SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)]
    weight: float = Field(default=1.0, ge=0)
    instance_type: EndpointInstanceType | None = None
    initial_instance_count: int | None = Field(default=None, ge=1)
    shadow: bool = False
    model_package_arn: ModelPackageArn | None = None


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

    The delivery pipeline's synth step passes ``-c approved_model_package=latest`` and ``app.py``
    asks the registry (``registry_account``, this environment's region) for the newest approved
    package of ``group`` (:func:`with_latest_approved_packages`; ``-c
    approved_model_package=<arn>`` serves one package, :func:`with_approved_package`); without
    that context, offline, or while the group has no approved package, the endpoint serves
    ``pinned_arn``, or the demo model when no package is pinned (a fresh registry has none yet).

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
    # The account whose registry holds ``group`` (the delivery pipeline asks it for the newest
    # approved package). Default: the pin's account, else this environment's own.
    registry_account: AccountId | None = None

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
    # CreateEndpointConfig AsyncInferenceClientConfig: 1-1000 (botocore).
    max_concurrent_invocations_per_instance: int = Field(default=4, ge=1, le=1000)
    # Existing topics (in the environment's region) told of each result or failure.
    success_topic_arn: TopicArn | None = None
    error_topic_arn: TopicArn | None = None

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
    provisioned_concurrency: int | None = Field(default=None, ge=1, le=200)
    variants: list[EndpointVariantSettings] | None = Field(default=None, min_length=1)
    alarms: EndpointAlarmSettings | None = None

    @model_validator(mode="after")
    def _provisioned_concurrency_fits(self) -> RealtimeEndpointSettings:
        pc = self.provisioned_concurrency
        if pc is not None and self.mode != "serverless":
            raise FieldError(
                "realtime_endpoint.provisioned_concurrency",
                "must be left out unless mode is serverless (instances are always warm)",
                pc,
            )
        if pc is not None and pc > self.max_concurrency:
            raise FieldError(
                "realtime_endpoint.provisioned_concurrency",
                f"must be at most max_concurrency ({self.max_concurrency})",
                pc,
            )
        return self

    @model_validator(mode="after")
    def _variants_fit(self) -> RealtimeEndpointSettings:
        variants = self.variants
        if variants is None:
            return self
        key = "realtime_endpoint.variants"
        if self.mode != "instance":
            raise FieldError(
                key,
                "must be left out unless mode is instance (serverless and async endpoints "
                "serve one variant)",
                self.mode,
            )
        names = [v.name for v in variants]
        for index, variant in enumerate(variants):
            if names.index(variant.name) != index:
                raise FieldError(f"{key}[{index}].name", "must be unique", variant.name)
            arn = variant.model_package_arn
            if arn is not None and self.model_package is None:
                raise FieldError(
                    f"{key}[{index}].model_package_arn",
                    "needs realtime_endpoint.model_package (its group, artifacts and image)",
                    arn,
                )
            if arn is not None and self.model_package is not None:
                group = self.model_package.group
                if package_group(arn).lower() != group.lower():
                    raise FieldError(
                        f"{key}[{index}].model_package_arn",
                        f"must be a package of group {group!r}",
                        arn,
                    )
        production = [v for v in variants if not v.shadow]
        shadows = [v for v in variants if v.shadow]
        if not production or len(production) > MAX_PRODUCTION_VARIANTS:
            raise FieldError(
                key,
                f"must hold 1-{MAX_PRODUCTION_VARIANTS} production variants (shadow: false)",
                f"{len(production)} production",
            )
        if shadows and (len(shadows) > 1 or len(production) > 1):
            raise FieldError(
                key,
                "must hold exactly one production variant and one shadow when a shadow is used "
                "(SageMaker: one shadow per endpoint, beside one production variant)",
                f"{len(production)} production, {len(shadows)} shadow",
            )
        if sum(v.weight for v in production) <= 0:
            raise FieldError(
                key, "must give at least one production variant a weight above 0", "all 0"
            )
        if len(variants) > 1 and self.deployment and self.deployment.strategy == "rolling":
            raise FieldError(
                "realtime_endpoint.deployment.strategy",
                "must not be rolling with more than one variant (rolling updates support one)",
                "rolling",
            )
        return self

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


class LambdaS3TriggerSettings(Section):
    """Score every object created under ``input_prefix`` of the Data stack's ``batch-input``
    bucket (which sends its events to EventBridge) into ``output_prefix`` of ``batch-output``.
    Failed events land in the function's encrypted failure queue after ``retry_attempts``."""

    input_prefix: KeyPrefix = "lambda/input/"
    output_prefix: KeyPrefix = "lambda/output/"
    retry_attempts: int = Field(default=2, ge=0, le=2)
    max_event_age_minutes: int = Field(default=60, ge=1, le=360)


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
    s3_trigger: LambdaS3TriggerSettings | None = None
    alarms: LambdaAlarmSettings | None = None

    @property
    def effective_timeout_seconds(self) -> int:
        """The function's timeout: ``timeout_seconds``, else the construct's default (the API's
        integration timeout with an API, 30 s without)."""
        if self.timeout_seconds is not None:
            return self.timeout_seconds
        return API_INTEGRATION_TIMEOUT_S if self.api is not None else DEFAULT_LAMBDA_TIMEOUT_S

    @model_validator(mode="after")
    def _alarm_below_timeout(self) -> LambdaInferenceSettings:
        latency = self.alarms.latency_ms if self.alarms else None
        timeout = self.effective_timeout_seconds
        if latency is not None and latency >= timeout * 1000:
            raise FieldError(
                "lambda_inference.alarms.latency_ms",
                f"must be less than the function's timeout ({timeout * 1000} ms): no invocation "
                "lasts longer, so the alarm could never fire",
                latency,
            )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> LambdaInferenceSettings:
        if self.enabled and self.api is None and not self.function_url and not self.s3_trigger:
            raise FieldError(
                "lambda_inference",
                "needs api, function_url: true or s3_trigger when enabled (callers need a way in)",
                "none",
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


class EcsDeploymentSettings(Section):
    """How a new revision of the ECS service reaches traffic: ECS native blue/green (all
    traffic at once, the old tasks kept for ``bake_minutes``), canary, linear, or rolling; ECS
    rolls back when the service's 5XX-rate or p99 latency alarm fires during it."""

    strategy: Literal["rolling", "blue_green", "linear", "canary"] = "blue_green"
    bake_minutes: int | None = Field(default=None, ge=0, le=deployments.MAX_MINUTES)
    canary_percent: float | None = None
    step_percent: float | None = None
    step_interval_minutes: int | None = Field(default=None, ge=0, le=deployments.MAX_MINUTES)
    rollback_on_alarms: bool = True

    @model_validator(mode="after")
    def _settings_of_the_strategy(self) -> EcsDeploymentSettings:
        strategy = self.strategy.upper()
        keys = {
            "bake_time": "bake_minutes",
            "canary_percent": "canary_percent",
            "step_percent": "step_percent",
            "step_interval": "step_interval_minutes",
        }
        for setting, key in keys.items():
            value = getattr(self, key)
            if value is None:
                continue
            if setting not in deployments.SETTINGS[strategy]:
                raise FieldError(
                    f"ecs_model_service.deployment.{key}",
                    f"left out with strategy {self.strategy} (it applies to "
                    f"{deployments.TAKEN_BY[setting].lower().replace('_', '/')} deployments)",
                    value,
                )
            if setting in deployments.LOWEST_PERCENT:
                problem = deployments.percent_problem(value, setting=setting)
                if problem is not None:
                    raise FieldError(f"ecs_model_service.deployment.{key}", f"{problem}", value)
        bake = self.bake_minutes if self.bake_minutes is not None else 10
        if self.rollback_on_alarms and strategy != "ROLLING":
            # The Serving stack's service alarms evaluate one-minute periods.
            problem = deployments.bake_problem(bake * 60, alarm_period_seconds=60)
            if problem is not None:
                raise FieldError("ecs_model_service.deployment.bake_minutes", problem, bake)
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
    # GPU tasks run on an EC2 capacity provider of gpu_instance_type (NVIDIA GPU instances).
    gpu_count: int = Field(default=0, ge=0, le=ECS_GPU_COUNT_MAX)
    gpu_instance_type: str | None = None
    alarms: EcsAlarmSettings | None = None

    @model_validator(mode="after")
    def _gpu_capacity(self) -> EcsModelServiceSettings:
        instance_type = self.gpu_instance_type
        if self.gpu_count == 0:
            if instance_type is not None:
                raise FieldError(
                    "ecs_model_service.gpu_instance_type",
                    "must be left out when gpu_count is 0 (tasks run on Fargate)",
                    instance_type,
                )
            return self
        if instance_type is None:
            raise FieldError(
                "ecs_model_service.gpu_instance_type",
                f"is required when gpu_count is {self.gpu_count} (Fargate has no GPUs): an EC2 "
                "GPU instance type such as g5.xlarge",
                None,
            )
        problems = gpu_task_problems(
            instance_type, gpu_count=self.gpu_count, memory_mib=self.memory_mib, cpu=self.cpu
        )
        for keyword, problem in problems.items():
            raise FieldError(
                f"ecs_model_service.{keyword}", f"must be {problem}", getattr(self, keyword)
            )
        return self

    deployment: EcsDeploymentSettings = Field(default_factory=EcsDeploymentSettings)

    @model_validator(mode="after")
    def _fargate_size(self) -> EcsModelServiceSettings:
        if self.gpu_count > 0:
            return self  # EC2 capacity: sized against the instance (_gpu_capacity)
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
