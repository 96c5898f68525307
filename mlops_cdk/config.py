"""Typed environment configuration, loaded from ``config/<env>.yaml``.

``load_environment("dev")`` returns an :class:`EnvironmentConfig` or raises
:class:`~mlops_cdk.ConfigurationError` with one line per problem, each naming the file, the dotted
path of the key, what is allowed and what was given::

    config/prod.yaml: removal_policy: must be 'retain' in prod, so that data outlives a
    stack (got 'destroy')

Only ``app.py`` and this module read files or environment variables; constructs and stacks get
these typed objects.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._internal.fargate import describe_fargate_memory, fargate_memory_choices
from mlops_cdk._internal.monitor_schedules import (
    DRIFT_JOB_SCHEDULE_MEANING,
    SCHEDULE_MEANING,
    parse_schedule,
)
from mlops_cdk._internal.patterns import (
    ACCOUNT_ID,
    DEFAULT_APPROVAL,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_TRAINING_INSTANCE_TYPE,
    LOG_RETENTION_PERIODS,
    METRIC_NAME,
    METRIC_NAME_MEANING,
    MODEL_PACKAGE_GROUP_NAME,
    MODEL_PACKAGE_GROUP_NAME_MEANING,
    MODEL_PACKAGE_VERSION_ARN,
    MODEL_PACKAGE_VERSION_ARN_MEANING,
    ApprovalStatus,
    OverlapPolicy,
)
from mlops_cdk._internal.registry import (
    ApprovedLookup,
    RegistryUnavailable,
    botocore_lookup,
    resolve_approved,
)
from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk._internal.validators.images import image_uri_problem
from mlops_cdk._internal.validators.instance_types import instance_type_problem
from mlops_cdk._internal.validators.regions import region_problem
from mlops_cdk._internal.validators.s3 import normalise_prefix, prefix_problem
from mlops_cdk._internal.validators.schedules import schedule_problem
from mlops_cdk.cost.prices import priced_regions

CONFIG_DIR = Path("config")
PROMOTION_ORDER = ("dev", "staging", "prod")
DELIVERY = "delivery"
LONGEST_BUCKET_PURPOSE = "batch-output"
MAX_BUCKET_NAME = 63
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = LOG_RETENTION_PERIODS


def _pattern(regex: str, meaning: str) -> AfterValidator:
    def check(value: str) -> str:
        if re.fullmatch(regex, value) is None:
            raise ValueError(f"must be {meaning}")
        return value

    return AfterValidator(check)


def _valid(validator: Callable[..., str | None], **options: Any) -> AfterValidator:
    """A shared validator (``mlops_cdk._internal.validators``) as a field validator."""

    def check(value: str) -> str:
        problem = validator(value, **options)
        if problem is not None:
            raise ValueError(f"must be {problem}")
        return value

    return AfterValidator(check)


def _quoted_account(value: object) -> object:
    # YAML reads an unquoted 12-digit ID as a number, and one with a leading 0 as an octal one.
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value) if len(str(value)) == 12 else "0" + format(value, "o").zfill(11)
        raise ValueError(
            f"must be a 12-digit AWS account ID in quotes: YAML read the unquoted value as the "
            f"number {value} (a leading 0 makes it octal); quote it: '{digits}'"
        )
    return value


def _key_prefix(prefix: str) -> str:
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"must be {problem}")
    return normalise_prefix(prefix)


def _retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"must be a CloudWatch Logs retention period: one of {allowed}")
    return days


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError("must be an IPv4 CIDR block such as 10.20.0.0/16") from error
    if not 16 <= network.prefixlen <= 24 or not network.is_private:
        raise ValueError("must be a private IPv4 block between /16 and /24 (VPC limits)")
    return value


Name = Annotated[
    str, _pattern(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", "2-16 lowercase letters, digits or hyphens")
]
AccountId = Annotated[
    str,
    BeforeValidator(_quoted_account),
    _pattern(ACCOUNT_ID, "a 12-digit AWS account ID in quotes"),
]
Region = Annotated[str, _valid(region_problem)]
KeyPrefix = Annotated[str, AfterValidator(_key_prefix)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Email = Annotated[str, _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address")]
TopicArn = Annotated[str, _valid(arn_problem, service="sns", resource_type="topic")]
TagValue = Annotated[str, Field(min_length=1, max_length=256)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemovalPolicy(StrEnum):
    """What happens to stateful resources (keys, buckets) when their stack is deleted."""

    RETAIN = "retain"
    DESTROY = "destroy"


class AlarmSettings(_Section):
    """Where alarms go: a new encrypted topic (optionally with an e-mail subscription), or an
    existing topic."""

    email: Email | None = None
    existing_topic_arn: TopicArn | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> AlarmSettings:
        if self.email and self.existing_topic_arn:
            raise ValueError(
                "give either email (a new topic is created) or existing_topic_arn, not both"
            )
        return self


class NetworkSettings(_Section):
    """The environment VPC. NAT gateways and interface endpoints cost money per AZ-hour even when
    idle, so both are off unless an environment asks for them."""

    cidr: Cidr = "10.0.0.0/16"
    availability_zones: list[str] = Field(min_length=1, max_length=6)
    nat_gateways: int = Field(default=0, ge=0)
    interface_endpoints: bool = False
    # Zones (the first N of availability_zones) that hold the interface endpoints; default all.
    # Each endpoint costs per zone-hour; with private DNS, every zone reaches the endpoints.
    interface_endpoint_zones: int | None = Field(default=None, ge=1)
    flow_log_retention_days: RetentionDays = 365

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSettings:
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError(f"availability_zones must not repeat (got {self.availability_zones})")
        if self.nat_gateways > len(self.availability_zones):
            raise ValueError(
                f"nat_gateways must be at most the number of availability_zones "
                f"({len(self.availability_zones)}) (got {self.nat_gateways})"
            )
        return self

    @model_validator(mode="after")
    def _endpoint_zones(self) -> NetworkSettings:
        zones = self.interface_endpoint_zones
        if zones is not None and not self.interface_endpoints:
            raise _FieldError(
                "network.interface_endpoint_zones",
                "must be left out when interface_endpoints is false",
                zones,
            )
        if zones is not None and zones > len(self.availability_zones):
            raise _FieldError(
                "network.interface_endpoint_zones",
                f"must be at most the number of availability_zones "
                f"({len(self.availability_zones)})",
                zones,
            )
        return self

    @property
    def endpoint_zones(self) -> list[str]:
        """The zones that hold the interface endpoints."""
        return self.availability_zones[: self.interface_endpoint_zones]


class TagSettings(_Section):
    """Tags applied to every resource of the environment."""

    owner: TagValue
    cost_centre: TagValue
    extra: dict[str, TagValue] = Field(default_factory=dict)


# Each setting is checked against the enumeration of the API it feeds (botocore's model).
EndpointInstanceType = Annotated[str, _valid(instance_type_problem, api="endpoint")]
TransformInstanceType = Annotated[str, _valid(instance_type_problem, api="transform")]
TrainingInstanceType = Annotated[str, _valid(instance_type_problem, api="training")]
ProcessingInstanceType = Annotated[str, _valid(instance_type_problem, api="processing")]


class EndpointAutoScalingSettings(_Section):
    """Target tracking on invocations per instance."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_invocations_per_instance: float = Field(default=100.0, gt=0)


class DeploymentSettings(_Section):
    """A guarded deployment: traffic shifts in steps and rolls back on the endpoint's alarms."""

    strategy: Literal["canary", "linear", "all_at_once", "rolling"] = "canary"
    percent: int = Field(default=10, ge=1, le=50)
    wait_minutes: int = Field(default=10, ge=0, le=60)


ModelPackageGroupName = Annotated[
    str, _pattern(MODEL_PACKAGE_GROUP_NAME, MODEL_PACKAGE_GROUP_NAME_MEANING)
]
# The region of the URI is checked against the environment's (EnvironmentConfig).
EcrImageUri = Annotated[str, _valid(image_uri_problem)]
ModelPackageArn = Annotated[
    str, _pattern(MODEL_PACKAGE_VERSION_ARN, MODEL_PACKAGE_VERSION_ARN_MEANING)
]


def package_group(arn: str) -> str:
    """The group of a versioned model package ARN (``.../model-package/<group>/<version>``)."""
    return arn.rsplit("/", 2)[-2]


class ModelPackageSettings(_Section):
    """Serve a model package from the registry instead of the demo model (approval -> deploy).

    Packages registered by this app's Training stack are served by the project's model server
    image (``image`` left out; an ECR URI names another image) and their artifacts are under
    ``ml_pipeline.output_prefix`` in the artifacts bucket. The
    delivery pipeline's synth step passes ``-c approved_model_package=latest`` and ``app.py``
    asks the registry for the newest approved package of ``group``
    (:func:`with_latest_approved_packages`; ``-c approved_model_package=<arn>`` serves one
    package, :func:`with_approved_package`); without that context, offline, or while the
    group has no approved package, the endpoint serves ``pinned_arn``.
    """

    group: ModelPackageGroupName
    pinned_arn: ModelPackageArn
    approved_arn: ModelPackageArn | None = None
    # Where the packages' artifacts and image are, so the endpoint role can read and pull them
    # (the role can describe the package; SageMaker then reads both as the role). No image:
    # the project's model server, the image MLPipeline registers.
    image: EcrImageUri | None = None
    artifact_prefix: KeyPrefix = "training/runs/"

    @model_validator(mode="after")
    def _packages_of_the_group(self) -> ModelPackageSettings:
        for key in ("pinned_arn", "approved_arn"):
            arn = getattr(self, key)
            if arn is not None and package_group(arn).lower() != self.group.lower():
                raise _FieldError(
                    f"realtime_endpoint.model_package.{key}",
                    f"must be a package of group {self.group!r}",
                    arn,
                )
        return self

    @property
    def arn(self) -> str:
        """The package to serve: the approved one from the delivery pipeline, else the pin."""
        return self.approved_arn or self.pinned_arn


class AsyncInferenceSettings(_Section):
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
            raise _FieldError(
                "realtime_endpoint.async_inference.failure_prefix",
                "must differ from output_prefix (failures and results are told apart by prefix)",
                self.failure_prefix,
            )
        return self


class RealtimeEndpointSettings(_Section):
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
            raise _FieldError(
                "realtime_endpoint.async_inference",
                "must be left out unless mode is async",
                self.mode,
            )
        if self.mode == "async" and self.autoscaling is not None:
            raise _FieldError(
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
                    raise _FieldError(
                        f"realtime_endpoint.{key}",
                        "must be left out when mode is serverless (it needs instances)",
                        getattr(self, key),
                    )
        return self


class LambdaProvisionedConcurrencySettings(_Section):
    """Warm execution environments on the function's live alias, scaled on utilisation."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=5, ge=1)
    target_utilization: float = Field(default=0.7, ge=0.1, le=0.9)

    @model_validator(mode="after")
    def _ordered(self) -> LambdaProvisionedConcurrencySettings:
        if self.max_capacity < self.min_capacity:
            raise _FieldError(
                "lambda_inference.provisioned_concurrency.max_capacity",
                f"must be at least min_capacity ({self.min_capacity})",
                self.max_capacity,
            )
        return self


class LambdaApiSettings(_Section):
    """The REST API in front of the function."""

    auth: Literal["iam", "api_key"] = "iam"
    throttle_rate: float = Field(default=50, gt=0)
    throttle_burst: int = Field(default=100, gt=0)


class LambdaDeploymentSettings(_Section):
    """CodeDeploy traffic shifting of the live alias, rolled back on the function's alarms."""

    strategy: Literal["canary", "linear", "all_at_once"] = "canary"
    percent: int = Field(default=10, ge=1, le=99)
    minutes: int = Field(default=5, ge=1, le=2880)


class LambdaInferenceSettings(_Section):
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
            raise _FieldError(
                "lambda_inference",
                "needs api or function_url: true when enabled (callers need a way in)",
                "neither",
            )
        if not self.in_vpc and self.outside_vpc_reason is None:
            raise _FieldError(
                "lambda_inference.outside_vpc_reason",
                "must say why the function runs outside the VPC when in_vpc is false "
                "(it becomes the compliance acknowledgement)",
                None,
            )
        if self.in_vpc and self.outside_vpc_reason is not None:
            raise _FieldError(
                "lambda_inference.outside_vpc_reason",
                "must be left out when in_vpc is true",
                self.outside_vpc_reason,
            )
        if self.api is not None and self.timeout_seconds is not None and self.timeout_seconds > 29:
            raise _FieldError(
                "lambda_inference.timeout_seconds",
                "must be at most 29 with an api (API Gateway's integration timeout)",
                self.timeout_seconds,
            )
        pc, reserved = self.provisioned_concurrency, self.reserved_concurrency
        if pc is not None and reserved is not None and pc.max_capacity > reserved:
            raise _FieldError(
                "lambda_inference.provisioned_concurrency.max_capacity",
                f"must be at most reserved_concurrency ({reserved})",
                pc.max_capacity,
            )
        return self


# Its region is checked against the environment's (EnvironmentConfig._certificate_in_region).
CertificateArn = Annotated[str, _valid(arn_problem, service="acm", resource_type="certificate")]


class EcsAutoScalingSettings(_Section):
    """Target tracking on CPU and on load-balancer requests per task (per minute)."""

    min_capacity: int = Field(default=1, ge=1)
    max_capacity: int = Field(default=4, ge=1)
    target_cpu_percent: float = Field(default=60.0, ge=10, le=90)
    requests_per_target: int | None = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> EcsAutoScalingSettings:
        if self.max_capacity < self.min_capacity:
            raise _FieldError(
                "ecs_model_service.autoscaling.max_capacity",
                f"must be at least min_capacity ({self.min_capacity})",
                self.max_capacity,
            )
        return self


class EcsModelServiceSettings(_Section):
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
            raise _FieldError(
                "ecs_model_service.memory_mib",
                f"must be {describe_fargate_memory(self.cpu)} for cpu {self.cpu} on Fargate",
                self.memory_mib,
            )
        return self

    @model_validator(mode="after")
    def _count_in_range(self) -> EcsModelServiceSettings:
        scaling = self.autoscaling
        if scaling and not scaling.min_capacity <= self.desired_count <= scaling.max_capacity:
            raise _FieldError(
                "ecs_model_service.desired_count",
                f"must be between autoscaling.min_capacity ({scaling.min_capacity}) and "
                f"max_capacity ({scaling.max_capacity})",
                self.desired_count,
            )
        return self


def _schedule(expression: str) -> str:
    problem = schedule_problem(expression)
    if problem is not None:
        raise ValueError(f"must be {problem}")
    return expression


ScheduleExpression = Annotated[str, AfterValidator(_schedule)]


class BatchTransformSettings(_Section):
    """The batch transform job scoring the Data stack's batch-input bucket into batch-output.
    A job needs at least one way to start: a schedule, new data, or ``manual: true``
    (aws stepfunctions start-execution)."""

    enabled: bool = False
    instance_type: TransformInstanceType = DEFAULT_INSTANCE_TYPE
    instance_count: int = Field(default=1, ge=1)
    schedule: ScheduleExpression | None = None
    run_on_new_data: bool = False
    manual: bool = False
    input_prefix: KeyPrefix = "transform/input/"
    output_prefix: KeyPrefix = "transform/output/"
    max_runtime_hours: int = Field(default=24, ge=1, le=8760)
    in_vpc: bool = True

    @model_validator(mode="after")
    def _can_start(self) -> BatchTransformSettings:
        if self.enabled and self.schedule is None and not (self.run_on_new_data or self.manual):
            raise _FieldError(
                "batch_transform",
                "needs schedule, run_on_new_data: true or manual: true when enabled "
                "(a job nobody can start is a mistake)",
                "none",
            )
        return self


def _monitor_schedule(expression: str) -> str:
    if parse_schedule(expression) is None:
        raise ValueError(f"must be {SCHEDULE_MEANING}")
    return expression


MonitorScheduleExpression = Annotated[str, AfterValidator(_monitor_schedule)]


class ModelMonitorSettings(_Section):
    """Drift detection on the environment's RealtimeEndpoint.

    Needs an instance-mode endpoint with data capture. ``drift_job`` runs the mlops-cdk drift
    job; ``model_monitor`` uses SageMaker Model Monitor (accounts that have it).
    """

    enabled: bool = False
    backend: Literal["drift_job", "model_monitor"] = "drift_job"
    schedule: MonitorScheduleExpression = "hourly"
    instance_type: ProcessingInstanceType = DEFAULT_INSTANCE_TYPE
    volume_size_gb: int = Field(default=20, ge=1, le=16384)
    max_runtime_minutes: int = Field(default=50, ge=1, le=1440)
    drift_threshold: float = Field(default=0.1, gt=0)
    reports_prefix: KeyPrefix = "monitoring/"
    in_vpc: bool = True

    @model_validator(mode="after")
    def _fits_schedule(self) -> ModelMonitorSettings:
        parsed = parse_schedule(self.schedule)
        assert parsed is not None  # noqa: S101 - the field validator ran
        if self.backend == "drift_job" and parsed.window is None:
            raise _FieldError(
                "model_monitor.schedule", f"must be {DRIFT_JOB_SCHEDULE_MEANING}", self.schedule
            )
        if self.max_runtime_minutes * 60 >= parsed.interval_seconds:
            raise _FieldError(
                "model_monitor.max_runtime_minutes",
                f"must be less than the schedule interval ({parsed.interval_seconds // 60} "
                "minutes), so a run ends before the next one starts",
                self.max_runtime_minutes,
            )
        return self


AlarmName = Annotated[str, Field(min_length=1, max_length=255)]


class MLPipelineSettings(_Section):
    """The training pipeline and model registry.

    The registry (a model package group named ``group_name``) lives in the Data stack, so it is
    kept with the data; the Training stack runs the pipeline over the Data stack's artifacts
    bucket: training data under ``input_prefix``, scripts under ``code_prefix``, run outputs
    under ``output_prefix``. The jobs run the project's training image (its code baked in),
    unless ``training_image`` names an ECR image with the same contract. The gate defaults to
    ``auc >= 0.85``, which the demo data passes reliably (see docs/training.md).
    """

    enabled: bool = False
    group_name: ModelPackageGroupName | None = None
    cross_account_readers: list[AccountId] = Field(default_factory=list)
    training_image: EcrImageUri | None = None
    training_instance_type: TrainingInstanceType = DEFAULT_TRAINING_INSTANCE_TYPE
    processing_instance_type: ProcessingInstanceType = DEFAULT_INSTANCE_TYPE
    use_spot: bool = True
    max_runtime_hours: int = Field(default=2, ge=1, le=672)
    metric_name: Annotated[str, _pattern(METRIC_NAME, METRIC_NAME_MEANING)] = "auc"
    metric_threshold: float = 0.85
    approval: ApprovalStatus = DEFAULT_APPROVAL
    input_prefix: KeyPrefix = "training/input/"
    output_prefix: KeyPrefix = "training/runs/"
    code_prefix: KeyPrefix = "training/code/"
    retrain_schedule: ScheduleExpression | None = None
    retrain_on_new_data: bool = False
    retrain_on_alarm_names: list[AlarmName] = Field(default_factory=list)
    retrain_on_drift: bool = False
    # The delivery pipeline's (tooling) account: approvals in this registry are forwarded to its
    # default event bus, where they start a release. List it in cross_account_readers too.
    forward_approvals_to: AccountId | None = None
    on_overlap: OverlapPolicy = "skip"
    in_vpc: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> MLPipelineSettings:
        if self.retrain_on_new_data:
            for key in ("output_prefix", "code_prefix"):
                prefix = getattr(self, key)
                if prefix.startswith(self.input_prefix) or self.input_prefix.startswith(prefix):
                    raise _FieldError(
                        f"ml_pipeline.{key}",
                        f"must be outside input_prefix {self.input_prefix!r} with "
                        "retrain_on_new_data (the pipeline's own writes would retrain it)",
                        prefix,
                    )
        return self

    def registry_group(self, project: str) -> str:
        """The model package group: ``group_name``, or ``<project>-models``."""
        return self.group_name or f"{project}-models"


class EnvironmentConfig(_Section):
    """One deployment environment (dev, staging, prod)."""

    name: Name
    project: Name = "mlops"
    account: AccountId | None = None
    region: Region | None = None
    removal_policy: RemovalPolicy
    log_retention_days: RetentionDays = 365
    alarms: AlarmSettings = AlarmSettings()
    network: NetworkSettings
    tags: TagSettings
    realtime_endpoint: RealtimeEndpointSettings = RealtimeEndpointSettings()
    lambda_inference: LambdaInferenceSettings = LambdaInferenceSettings()
    ecs_model_service: EcsModelServiceSettings = EcsModelServiceSettings()
    batch_transform: BatchTransformSettings = BatchTransformSettings()
    model_monitor: ModelMonitorSettings = ModelMonitorSettings()
    ml_pipeline: MLPipelineSettings = MLPipelineSettings()
    # Synth fails when the idle cost estimate (mlops_cdk.cost) exceeds this many USD a month.
    cost_ceiling_usd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ceiling_has_prices(self) -> EnvironmentConfig:
        regions = priced_regions()
        if self.cost_ceiling_usd is not None and self.region and self.region not in regions:
            raise _FieldError(
                "cost_ceiling_usd",
                f"needs list prices for the region; mlops_cdk/cost/data/prices.json has "
                f"{', '.join(regions)} (add {self.region} with scripts/update_prices.py "
                "--add-region, or leave the ceiling out)",
                self.cost_ceiling_usd,
            )
        return self

    @model_validator(mode="after")
    def _prod_endpoints_in_every_zone(self) -> EnvironmentConfig:
        network = self.network
        zones = network.interface_endpoint_zones
        if self.name == "prod" and zones is not None and zones < len(network.availability_zones):
            raise _FieldError(
                "network.interface_endpoint_zones",
                f"must cover every zone in prod ({len(network.availability_zones)}), so that "
                "losing one zone does not cut the others off AWS APIs",
                zones,
            )
        return self

    @model_validator(mode="after")
    def _drift_retraining_needs_a_monitor(self) -> EnvironmentConfig:
        if self.ml_pipeline.retrain_on_drift and not (
            self.model_monitor.enabled and self.realtime_endpoint.enabled
        ):
            raise _FieldError(
                "ml_pipeline.retrain_on_drift",
                "needs model_monitor.enabled (and its realtime_endpoint): the drift alarm "
                "comes from the Monitoring stack",
                True,
            )
        return self

    @model_validator(mode="after")
    def _prod_retains_data(self) -> EnvironmentConfig:
        if self.name == "prod" and self.removal_policy is not RemovalPolicy.RETAIN:
            raise _FieldError(
                "removal_policy",
                "must be 'retain' in prod, so that data outlives a stack",
                self.removal_policy.value,
            )
        return self

    @model_validator(mode="after")
    def _ecs_service_fits_environment(self) -> EnvironmentConfig:
        service = self.ecs_model_service
        if not service.enabled:
            return self
        if not self.network.interface_endpoints and self.network.nat_gateways == 0:
            raise _FieldError(
                "ecs_model_service.enabled",
                "false unless network.interface_endpoints is true or nat_gateways is at least 1: "
                "tasks in isolated subnets cannot pull their image or ship logs without them",
                True,
            )
        if self.name == "prod":
            low = service.autoscaling.min_capacity if service.autoscaling else None
            if service.desired_count < 2 or (low is not None and low < 2):
                key = "desired_count" if service.desired_count < 2 else "autoscaling.min_capacity"
                raise _FieldError(
                    f"ecs_model_service.{key}",
                    "must be at least 2 in prod, so that tasks run in more than one zone",
                    service.desired_count if key == "desired_count" else low,
                )
            if not service.deletion_protection:
                raise _FieldError(
                    "ecs_model_service.deletion_protection",
                    "must be true in prod",
                    False,
                )
        return self

    @model_validator(mode="after")
    def _monitor_has_capture(self) -> EnvironmentConfig:
        endpoint = self.realtime_endpoint
        if self.model_monitor.enabled and not (
            endpoint.enabled and endpoint.mode != "serverless" and endpoint.data_capture_percent
        ):
            raise _FieldError(
                "model_monitor.enabled",
                "false unless realtime_endpoint is enabled in instance or async mode with "
                "data_capture_percent above 0 (there is nothing to monitor without capture)",
                True,
            )
        return self

    @model_validator(mode="after")
    def _bucket_names_fit(self) -> EnvironmentConfig:
        longest = self.bucket_name(LONGEST_BUCKET_PURPOSE)
        if self.account and self.region and len(longest) > MAX_BUCKET_NAME:
            raise _FieldError(
                "project",
                f"must be short enough that bucket names fit in {MAX_BUCKET_NAME} characters "
                f"(with name {self.name!r} the longest is {longest!r}, {len(longest)} characters)",
                self.project,
            )
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        if self.region is None:
            return self
        for index, zone in enumerate(self.network.availability_zones):
            if re.fullmatch(re.escape(self.region) + r"[a-z]", zone) is None:
                raise _FieldError(
                    f"network.availability_zones[{index}]",
                    f"must be a zone of region {self.region}, such as {self.region}a",
                    zone,
                )
        return self

    @model_validator(mode="after")
    def _images_in_region(self) -> EnvironmentConfig:
        if self.region is None:
            return self
        package = self.realtime_endpoint.model_package
        images = {
            "realtime_endpoint.model_package.image": package.image if package else None,
            "ml_pipeline.training_image": self.ml_pipeline.training_image,
        }
        for key, uri in images.items():
            problem = image_uri_problem(uri, region=self.region) if uri else None
            if problem is not None:
                raise _FieldError(key, f"must be {problem}", uri)
        return self

    @model_validator(mode="after")
    def _certificate_in_region(self) -> EnvironmentConfig:
        # An ALB listener uses an ACM certificate of its own region only.
        arn = self.ecs_model_service.certificate_arn
        if self.region is None or arn is None:
            return self
        problem = arn_problem(arn, service="acm", resource_type="certificate", region=self.region)
        if problem is not None:
            raise _FieldError("ecs_model_service.certificate_arn", f"must be {problem}", arn)
        return self

    @property
    def stage_name(self) -> str:
        """The CDK stage (and CLI selection prefix) of the environment: ``<project>-<env>``."""
        return f"{self.project}-{self.name}"

    def bucket_name(self, purpose: str) -> str:
        """The bucket name for ``purpose``: ``<project>-<env>-<purpose>-<account>-<region>``,
        globally unique and stable, so other stacks can import the bucket by name."""
        return f"{self.stage_name}-{purpose}-{self.account}-{self.region}"

    def stack_name(self, part: str) -> str:
        """The stable CloudFormation stack name ``<project>-<env>-<part>``."""
        return f"{self.stage_name}-{part.lower()}"


class DeliverySettings(_Section):
    """The delivery pipeline (``config/delivery.yaml``): where it runs, what it builds from,
    who hears about it, and which model registry group triggers it."""

    project: Name = "mlops"
    account: AccountId
    region: Region
    # codestar-connections: connections created before the 2024 rename.
    connection_arn: Annotated[
        str,
        _valid(
            arn_problem,
            service=("codeconnections", "codestar-connections"),
            resource_type="connection",
        ),
    ]
    repository: Annotated[str, _pattern(r"[\w.-]+/[\w.-]+", "owner/repository")]
    branch: Annotated[str, Field(min_length=1, max_length=255)] = "main"
    environments: list[Name] = Field(default_factory=lambda: list(PROMOTION_ORDER), min_length=1)
    notification_email: Email | None = None
    # The account whose registry releases models (default: this tooling account). Its
    # ml_pipeline section must list this account in cross_account_readers and
    # forward_approvals_to.
    model_registry_account: AccountId | None = None
    model_package_group: ModelPackageGroupName | None = None

    @property
    def stack_name(self) -> str:
        """``<project>-delivery``."""
        return f"{self.project}-delivery"

    @property
    def registry_account(self) -> str:
        """The account holding the watched model package group."""
        return self.model_registry_account or self.account


class _FieldError(ValueError):
    """A cross-field rule that belongs to one dotted path."""

    def __init__(self, path: str, requirement: str, got: object) -> None:
        super().__init__(f"@{path}: {requirement} (got {got!r})")


def with_approved_package(config: EnvironmentConfig, approved_arn: str | None) -> EnvironmentConfig:
    """``config`` serving ``approved_arn`` (``-c approved_model_package``) when its endpoint
    serves a package of that group; otherwise ``config`` unchanged (it keeps its pin)."""
    package = config.realtime_endpoint.model_package
    if not approved_arn or package is None:
        return config
    if re.fullmatch(MODEL_PACKAGE_VERSION_ARN, approved_arn) is None:
        raise ConfigurationError(
            f"-c approved_model_package: must be {MODEL_PACKAGE_VERSION_ARN_MEANING} "
            f"(got {approved_arn!r})"
        )
    if package_group(approved_arn).lower() != package.group.lower():
        return config
    data = config.model_dump(mode="json")
    data["realtime_endpoint"]["model_package"]["approved_arn"] = approved_arn
    try:
        updated = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        problems = [_format(Path("-c approved_model_package"), d) for d in error.errors()]
        raise ConfigurationError("\n".join(problems)) from None
    return updated


# ``-c approved_model_package=latest``: ask the registry for the newest approved package.
LATEST_APPROVED = "latest"


def with_latest_approved_packages(
    configs: list[EnvironmentConfig],
    *,
    lookup: ApprovedLookup | None = None,
    note: Callable[[str], None] | None = None,
) -> list[EnvironmentConfig]:
    """``configs``, each endpoint that serves a registry package serving the newest approved
    package of its group (asked once per group of the registry its ``pinned_arn`` names), or
    its pin when the registry cannot be asked (see ``ModelPackage.latest_approved``, the same
    lookup)."""
    answers: dict[tuple[str, str], str | RegistryUnavailable | None] = {}

    def once(group: str, region: str) -> str | None:
        if (group, region) not in answers:
            try:
                answers[group, region] = (lookup or botocore_lookup)(group, region)
            except RegistryUnavailable as offline:
                answers[group, region] = offline
        answer = answers[group, region]
        if isinstance(answer, RegistryUnavailable):
            raise answer
        return answer

    updated = []
    for config in configs:
        package = config.realtime_endpoint.model_package
        if package is None:
            updated.append(config)
            continue
        region, account = package.pinned_arn.split(":")[3:5]
        arn = resolve_approved(
            f"{CONFIG_DIR / config.name}.yaml: realtime_endpoint.model_package",
            package.group,
            region=region,
            account=account,
            pinned=package.pinned_arn,
            lookup=once,
            note=note,
        )
        updated.append(with_approved_package(config, arn))
    return updated


def load_environment(
    name: str,
    *,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> EnvironmentConfig:
    """Load and validate ``<config_dir>/<name>.yaml``.

    ``account`` and ``region`` left out of the file fall back to ``CDK_DEFAULT_ACCOUNT`` and
    ``CDK_DEFAULT_REGION`` from ``environ`` (the CDK CLI sets them from your credentials), so a
    developer can deploy dev into their own account without editing the file.
    """
    path = config_dir / f"{name}.yaml"
    if not path.is_file():
        available = ", ".join(available_environments(config_dir)) or "none"
        msg = f"{path}: no such environment file (environments in {config_dir}: {available})"
        raise ConfigurationError(msg)
    data = _read_yaml(path)
    env = os.environ if environ is None else environ
    data.setdefault("account", env.get("CDK_DEFAULT_ACCOUNT"))
    data.setdefault("region", env.get("CDK_DEFAULT_REGION"))
    try:
        config = EnvironmentConfig.model_validate(data)
    except ValidationError as error:
        lines = [_format(path, detail) for detail in error.errors()]
        raise ConfigurationError("\n".join(lines)) from None
    problems = []
    if config.name != name:
        problems.append(f"{path}: name: must match the file name {name!r} (got {config.name!r})")
    for key, variable in (("account", "CDK_DEFAULT_ACCOUNT"), ("region", "CDK_DEFAULT_REGION")):
        if getattr(config, key) is None:
            problems.append(
                f"{path}: {key}: required; set it in the file or export {variable} "
                "(the CDK CLI sets it from your AWS credentials)"
            )
    if problems:
        raise ConfigurationError("\n".join(problems))
    return config


def available_environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the environment files in ``config_dir``, in promotion order (dev, staging, prod,
    then any others alphabetically). ``delivery.yaml`` configures the pipeline, not an
    environment."""
    names = [p.stem for p in config_dir.glob("*.yaml") if p.stem != DELIVERY]
    rank = {name: index for index, name in enumerate(PROMOTION_ORDER)}
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def load_environments(
    names: Sequence[str] | None = None,
    *,
    config_dir: Path = CONFIG_DIR,
    environ: Mapping[str, str] | None = None,
) -> list[EnvironmentConfig]:
    """Load several environments (default: every file in ``config_dir``); all errors at once."""
    selected = list(names) if names else available_environments(config_dir)
    configs, problems = [], []
    for name in selected:
        try:
            configs.append(load_environment(name, config_dir=config_dir, environ=environ))
        except ConfigurationError as error:
            problems.append(str(error))
    if problems:
        raise ConfigurationError("\n".join(problems))
    return configs


def load_delivery(config_dir: Path = CONFIG_DIR) -> DeliverySettings | None:
    """The delivery pipeline settings from ``<config_dir>/delivery.yaml``, or ``None`` when the
    file does not exist (workstation-only use)."""
    path = config_dir / f"{DELIVERY}.yaml"
    if not path.is_file():
        return None
    try:
        return DeliverySettings.model_validate(_read_yaml(path))
    except ValidationError as error:
        lines = [_format(path, detail, DeliverySettings) for detail in error.errors()]
        raise ConfigurationError("\n".join(lines)) from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects duplicate keys instead of silently keeping the last."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigurationError(f"duplicate key {key!r} on line {line}")
        seen.add(key)
    return dict(loader.construct_mapping(node))


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except ConfigurationError as error:
        raise ConfigurationError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: must be a mapping of keys to values (got {data!r})")
    return data


def _dotted(location: Sequence[int | str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _allowed_keys(location: Sequence[int | str], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _format(path: Path, detail: ErrorDetails, root: type[BaseModel] | None = None) -> str:
    location = list(detail["loc"])
    message = detail["msg"].removeprefix("Value error, ")
    if message.startswith("@"):
        dotted, _, rest = message[1:].partition(": ")
        return f"{path}: {dotted}: {rest}"
    where = _dotted(location)
    if detail["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(location, root or EnvironmentConfig))
        return f"{path}: {where}: unknown key (allowed keys here: {allowed})"
    if detail["type"] == "missing":
        return f"{path}: {where}: required key is missing"
    if detail["type"] == "enum":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"{path}: {where}: must be one of {expected} (got {detail['input']!r})"
    if "(got " in message:
        return f"{path}: {where}: {message}"
    return f"{path}: {where}: {message} (got {detail['input']!r})"
