"""The multi-model rules and grants of a RealtimeEndpoint, kept apart from its other modes."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_iam as iam

from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE
from mlops_cdk._internal.sagemaker import is_accelerated
from mlops_cdk._internal.validation import Checker, Said, is_unresolved
from mlops_cdk.constructs._sagemaker_model import ModelSource
from mlops_cdk.constructs.realtime_endpoint.multi_model import MultiModel
from mlops_cdk.constructs.realtime_endpoint.options import (
    AsyncInference,
    ProductionVariant,
    ServerlessConfig,
)

#: ``InvokeEndpoint``'s ``TargetModel`` (botocore sagemaker-runtime model): 1-1024 characters.
MAX_TARGET_MODEL_LENGTH = 1024


def check_multi_model(
    check: Checker,
    multi_model: MultiModel | None,
    *,
    source: ModelSource,
    variants: Sequence[ProductionVariant] | None,
    instance_type: str | None,
    serverless: ServerlessConfig | None,
    async_inference: AsyncInference | None,
) -> None:
    """Which options a multi-model endpoint may be combined with (AWS's documented limits)."""
    if multi_model is None:
        return
    if variants is not None:
        check.not_together(
            "multi_model", "variants", "a multi-model endpoint here serves one container"
        )
    if source.model_data is not None:
        check.not_together(
            "multi_model", "model_data", "the models are the .tar.gz files under the prefix"
        )
    if source.model_package is not None:
        check.not_together(
            "multi_model", "model_package", "a registry package names one model artifact"
        )
    if serverless is not None:
        check.not_together(
            "multi_model", "serverless", "serverless endpoints do not host multi-model containers"
        )
    if async_inference is not None:
        check.not_together(
            "multi_model",
            "async_inference",
            "InvokeEndpointAsync has no TargetModel, so no model could be chosen",
        )
    type_ = instance_type or DEFAULT_INSTANCE_TYPE
    if not is_unresolved(type_) and is_accelerated(type_):
        check.not_together(
            "multi_model",
            f"instance type {type_}",
            "multi-model endpoints run on CPU instances here; GPU multi-model endpoints need "
            "SageMaker's NVIDIA Triton container and Inferentia/Trainium are not supported",
        )


def check_target_models(check: Checker, target_models: Sequence[str]) -> None:
    """Patterns for ``sagemaker:TargetModel``: relative keys, ``*``/``?`` wildcards allowed."""
    check.require(
        isinstance(target_models, Sequence) and not isinstance(target_models, str),
        "target_models",
        "a list of TargetModel patterns",
        target_models,
    )
    check.require(bool(target_models), "target_models", "at least one pattern", Said("none"))
    for pattern in target_models:
        check.require(
            isinstance(pattern, str)
            and 0 < len(pattern) <= MAX_TARGET_MODEL_LENGTH
            and not pattern.startswith(("/", "s3://")),
            "target_models",
            f"keys relative to the prefix, 1-{MAX_TARGET_MODEL_LENGTH} characters "
            "(such as 'team-a/*')",
            pattern,
        )


def grant_invoke_models(
    grantee: iam.IGrantable, endpoint_arn: str, target_models: Sequence[str]
) -> iam.Grant:
    """``sagemaker:InvokeEndpoint`` on the endpoint for the matching ``TargetModel`` only.

    ``sagemaker:TargetModel`` is a condition key of ``InvokeEndpoint`` (Service Authorization
    Reference); ``InvokeEndpointAsync`` and ``InvokeEndpointWithResponseStream`` take no target
    model, so they are not granted.
    """
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["sagemaker:InvokeEndpoint"],
        resource_arns=[endpoint_arn],
        conditions={"StringLike": {"sagemaker:TargetModel": list(target_models)}},
    )
