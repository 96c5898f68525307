"""The rules a RealtimeEndpoint checks as a whole: variants, and which modes and options may be
combined. Each raises a ConfigurationError naming the construct path, keyword and reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2

from mlops_cdk._internal.patterns import (
    DEFAULT_INSTANCE_TYPE,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MEANING,
)
from mlops_cdk._internal.sagemaker import (
    MODEL_ENVIRONMENT,
    check_container_environment,
    check_instance_type,
    is_burstable,
)
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk.constructs._sagemaker_model import ModelSource
from mlops_cdk.constructs.realtime_endpoint.options import (
    AsyncInference,
    AutoScaling,
    DataCapture,
    DeploymentPolicy,
    EndpointAlarms,
    ProductionVariant,
    ServerlessConfig,
)
from mlops_cdk.constructs.variant_settings import (
    EndpointMetrics,
    InstanceScaling,
    VariantSettings,
    check_alarm_period,
    check_settings_for_instances,
)

MAX_VARIANTS = 10


def check(
    check: Checker,
    variants: Sequence[ProductionVariant] | None,
    single: ModelSource,
    *,
    instance_type: str | None,
    initial_instance_count: int | None,
    serverless: ServerlessConfig | None,
    async_inference: AsyncInference | None,
    autoscaling: AutoScaling | None,
    data_capture: DataCapture | None,
    deployment: DeploymentPolicy | None,
    vpc: ec2.IVpc | None,
    network_isolation: bool | None,
    endpoint_name: str | None,
    environment: Mapping[str, str] | None,
) -> None:
    """Every rule of a RealtimeEndpoint: the model source (``single``, unless ``variants``
    are given), the container environment, then which modes and options may be combined."""
    if variants is None:
        single.check(check)
    else:
        _check_variants(check, variants, single)
    check_container_environment(check, "environment", environment, MODEL_ENVIRONMENT)
    for v in variants or []:
        keyword = f"variants[{v.name!r}].environment"
        check_container_environment(check, keyword, v.environment, MODEL_ENVIRONMENT)
        # Each variant's model gets the endpoint's variables and its own.
        merged = {**(environment or {}), **(v.environment or {})}
        check_container_environment(check, keyword, merged, MODEL_ENVIRONMENT)
    # The mode rules: no variants stands for the one default variant.
    variants = variants or []
    if instance_type is not None:
        check_instance_type(check, "instance_type", instance_type, api="endpoint")
    check.at_least("initial_instance_count", initial_instance_count, 1)
    default_type = instance_type or DEFAULT_INSTANCE_TYPE
    types = [v.instance_type or default_type for v in variants] or [default_type]
    if serverless is not None:
        reason = "serverless endpoints have no instances"
        instance_settings = {
            "instance_type": instance_type,
            "initial_instance_count": initial_instance_count,
            "variant instance_type": next(
                (v.instance_type for v in variants if v.instance_type), None
            ),
            "variant initial_instance_count": next(
                (v.initial_instance_count for v in variants if v.initial_instance_count), None
            ),
        }
        for keyword, value in instance_settings.items():
            if value is not None:
                check.not_together("serverless", keyword, reason)
        exclusions: dict[str, tuple[object, str]] = {
            "async_inference": (async_inference, "async inference needs instances"),
            "data_capture": (data_capture, "serverless endpoints do not support data capture"),
            "vpc": (vpc, "serverless endpoints do not run in a VPC"),
            "autoscaling": (autoscaling, "serverless endpoints scale by max_concurrency"),
        }
        for keyword, (option, why) in exclusions.items():
            if option is not None:
                check.not_together("serverless", keyword, why)
        if network_isolation:
            check.not_together(
                "serverless", "network_isolation=True", "serverless endpoints do not support it"
            )
        if len(variants) > 1:
            check.not_together(
                "serverless", "multiple variants", "serverless endpoints serve one variant"
            )
    if autoscaling is not None:
        burstable = [t for t in types if is_burstable(t)]
        if burstable:
            check.not_together(
                "autoscaling",
                f"instance type {burstable[0]}",
                "burstable ml.t* instances cannot autoscale",
            )
        if async_inference is not None:
            check.not_together(
                "autoscaling",
                "async_inference",
                "async endpoints scale on their backlog (AsyncInference.max_capacity)",
            )
    if async_inference is not None and len([v for v in variants if not v.shadow]) > 1:
        check.not_together(
            "async_inference", "multiple variants", "backlog scaling is per endpoint"
        )
    if async_inference is not None and any(v.shadow for v in variants):
        check.not_together(
            "async_inference",
            "a shadow variant",
            "SageMaker shadow testing excludes asynchronous inference",
        )
    if deployment is not None:
        _check_deployment(check, deployment, variants, types, serverless)
    check.matches("endpoint_name", endpoint_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)


def _check_variants(
    check: Checker, variants: Sequence[ProductionVariant], single: ModelSource
) -> None:
    given = [k for k, v in vars(single).items() if v is not None]
    if given:
        check.not_together(
            "variants", given[0], "each ProductionVariant names its own model source"
        )
    production = [v for v in variants if not v.shadow]
    shadows = [v for v in variants if v.shadow]
    check.require(bool(production), "variants", "at least one production variant", len(variants))
    check.require(
        len(production) <= MAX_VARIANTS,
        "variants",
        f"at most {MAX_VARIANTS} production variants",
        len(production),
    )
    names = [v.name for v in variants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    check.require(not duplicates, "variants", "uniquely named", Said(", ".join(duplicates)))
    check.require(
        sum(v.weight for v in production) > 0,
        "variants",
        "weighted so that at least one production variant has a weight above 0",
        Said("all weights 0"),
    )
    if shadows:
        check.require(
            len(shadows) == 1 and len(production) == 1,
            "variants",
            "exactly one production variant and one shadow variant when a shadow is used",
            Said(f"{len(production)} production, {len(shadows)} shadow"),
        )


def _check_deployment(
    check: Checker,
    deployment: DeploymentPolicy,
    variants: Sequence[ProductionVariant],
    types: Sequence[str],
    serverless: ServerlessConfig | None,
) -> None:
    if deployment.kind == "ROLLING":
        if serverless is not None:
            check.not_together("deployment=rolling", "serverless", "rolling updates need instances")
        if len(variants) > 1:
            check.not_together(
                "deployment=rolling", "multiple variants", "rolling updates support one variant"
            )
    inf1 = [t for t in types if t.startswith("ml.inf1.")]
    if inf1:
        check.not_together(
            "deployment",
            f"instance type {inf1[0]}",
            "deployment guardrails are unavailable on Inf1 instances",
        )


# --- instance settings (large-model settings, managed instance scaling, metrics) -------------


def check_variant_settings(
    check: Checker,
    settings: VariantSettings | None,
    scaling: InstanceScaling | None,
    metrics: EndpointMetrics | None,
    *,
    instance_types: Sequence[str],
    serverless: ServerlessConfig | None,
    autoscaling: AutoScaling | None,
    initial_instance_count: int | None,
    alarm_thresholds: EndpointAlarms | None,
) -> None:
    """The instance settings of a RealtimeEndpoint: only for instance variants, fitting each
    variant's instance type; managed scaling at least one instance and not beside autoscaling;
    alarm periods no shorter than the metrics they watch are published."""
    if serverless is not None:
        for keyword, value in (("variant_settings", settings), ("instance_scaling", scaling)):
            if value is not None:
                check.not_together("serverless", keyword, "serverless endpoints have no instances")
    check_settings_for_instances(check, "variant_settings", settings, instance_types)
    if scaling is not None:
        check.require(
            scaling.min_instances >= 1,
            "instance_scaling.min_instances",
            "at least 1 (only an endpoint that hosts inference components, a ModelHost, can "
            "scale to zero instances)",
            scaling.min_instances,
        )
        if autoscaling is not None:
            check.not_together(
                "instance_scaling",
                "autoscaling",
                "give one scaler per variant: SageMaker-managed instance scaling or Application "
                "Auto Scaling target tracking",
            )
        scaling.check_initial(check, initial_instance_count or 1)
    period = (alarm_thresholds or EndpointAlarms()).period
    check_alarm_period(check, period, metrics, "alarm_thresholds.period")
