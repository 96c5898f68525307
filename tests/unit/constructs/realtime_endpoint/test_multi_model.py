"""RealtimeEndpoint in multi-model mode: the container, the grants and the rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    ModelData,
    MultiModel,
    ProductionVariant,
    RealtimeEndpoint,
)
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.cases import case_ids
from tests.unit.constructs.realtime_endpoint.test_checks import (
    IMAGE,
    PACKAGE,
    SERVERLESS,
    Resources,
    async_config,
    capture,
)


def multi(resources: Resources) -> MultiModel:
    return MultiModel(bucket=resources.bucket, prefix="tenants")


@pytest.fixture(scope="module")
def built() -> tuple[Template, RealtimeEndpoint]:
    stack = unit_stack(unit_app())
    bucket = s3.Bucket(stack, "Models")
    endpoint = RealtimeEndpoint(
        stack,
        "Tenants",
        image=IMAGE,
        multi_model=MultiModel(bucket=bucket, prefix="tenants", model_cache=False),
        environment={"MLOPS_WORKERS": "2"},
    )
    endpoint.grant_invoke(iam.Role(stack, "All", assumed_by=iam.AccountRootPrincipal()))
    endpoint.grant_invoke_models(
        iam.Role(stack, "TeamA", assumed_by=iam.AccountRootPrincipal()),
        ["team-a/*", "shared.tar.gz"],
    )
    return Template.from_stack(stack), endpoint


def test_container_is_multi_model_on_the_prefix(built: tuple[Template, RealtimeEndpoint]) -> None:
    template, _ = built
    template.has_resource_properties(
        "AWS::SageMaker::Model",
        {
            "PrimaryContainer": {
                "Mode": "MultiModel",
                "ModelDataUrl": {
                    "Fn::Join": ["", ["s3://", {"Ref": Match.any_value()}, "/tenants/"]]
                },
                "MultiModelConfig": {"ModelCacheSetting": "Disabled"},
                "Environment": {"MLOPS_MULTI_MODEL": "true", "MLOPS_WORKERS": "2"},
                "ModelDataSource": Match.absent(),
            }
        },
    )


def test_role_reads_the_prefix_only(built: tuple[Template, RealtimeEndpoint]) -> None:
    template, _ = built
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ] + [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    gets = [s for s in statements if s["Action"] == "s3:GetObject"]
    assert len(gets) == 1
    assert gets[0]["Resource"]["Fn::Join"][1][-1] == "/tenants/*"
    lists = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert lists[0]["Condition"] == {"StringLike": {"s3:prefix": ["tenants/*"]}}


def _invoke_statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    return [
        s
        for logical_id, policy in template.find_resources("AWS::IAM::Policy").items()
        if logical_id.startswith(role_prefix)
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_invoke_grants_name_the_target_models(built: tuple[Template, RealtimeEndpoint]) -> None:
    template, _ = built
    (team,) = _invoke_statements(template, "TeamA")
    assert team["Action"] == "sagemaker:InvokeEndpoint"
    assert team["Condition"] == {
        "StringLike": {"sagemaker:TargetModel": ["team-a/*", "shared.tar.gz"]}
    }
    (everyone,) = _invoke_statements(template, "All")
    # Async and streaming invocations take no TargetModel: not granted on a multi-model endpoint.
    assert everyone["Action"] == "sagemaker:InvokeEndpoint"


def _rejects(build: Callable[[Resources], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build(Resources())


def _endpoint(**kwargs: Any) -> Callable[[Resources], RealtimeEndpoint]:
    def build(resources: Resources) -> RealtimeEndpoint:
        resolved = {k: v(resources) if callable(v) else v for k, v in kwargs.items()}
        resolved.setdefault("multi_model", multi(resources))
        if not {"image", "variants", "model_package"} & set(resolved):
            resolved["image"] = IMAGE
        return RealtimeEndpoint(resources.stack, "Churn", **resolved)

    return build


CASES = [
    (
        _endpoint(serverless=SERVERLESS),
        r"^Test/Churn: multi_model cannot be combined with serverless: serverless endpoints do "
        r"not host multi-model containers$",
    ),
    (
        _endpoint(async_inference=async_config),
        r"^Test/Churn: multi_model cannot be combined with async_inference: InvokeEndpointAsync "
        r"has no TargetModel",
    ),
    (
        _endpoint(instance_type="ml.g5.xlarge"),
        r"^Test/Churn: multi_model cannot be combined with instance type ml\.g5\.xlarge: .*Triton",
    ),
    (
        _endpoint(instance_type="ml.inf2.xlarge"),
        r"multi_model cannot be combined with instance type ml\.inf2\.xlarge",
    ),
    (
        _endpoint(model_data=ModelData.from_s3_uri("s3://models/model.tar.gz")),
        r"^Test/Churn: multi_model cannot be combined with model_data: the models are the "
        r"\.tar\.gz files under the prefix$",
    ),
    (
        _endpoint(image=None, model_package=PACKAGE),
        r"^Test/Churn: multi_model cannot be combined with model_package",
    ),
    (
        _endpoint(image=None, variants=[ProductionVariant(name="a", image=IMAGE)]),
        r"^Test/Churn: multi_model cannot be combined with variants",
    ),
    (
        lambda r: MultiModel(bucket=r.bucket, prefix="/abs"),
        r"^MultiModel: prefix must be",
    ),
    (
        lambda r: MultiModel(bucket="models", prefix="tenants/"),  # type: ignore[arg-type]
        r"^MultiModel: bucket must be an s3\.IBucket \(got str 'models'\)$",
    ),
]


@pytest.mark.parametrize(("build", "message"), CASES, ids=case_ids(CASES))
def test_rule(build: Callable[[Resources], object], message: str) -> None:
    _rejects(build, message)


def test_data_capture_is_allowed() -> None:
    """Data capture is not refused on a multi-model endpoint (no documented exclusion found)."""
    _endpoint(data_capture=capture)(Resources())


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ([], r"target_models must be at least one pattern \(got none\)$"),
        ("team-a/*", r"target_models must be a list of TargetModel patterns"),
        (["/abs.tar.gz"], r"target_models must be keys relative to the prefix"),
        (["x" * 1025], r"target_models must be keys relative to the prefix, 1-1024 characters"),
    ],
)
def test_target_model_patterns(patterns: Any, message: str) -> None:
    resources = Resources()
    endpoint = _endpoint()(resources)
    role = iam.Role(resources.stack, "R", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(ConfigurationError, match=r"^Test/Churn: " + message):
        endpoint.grant_invoke_models(role, patterns)


def test_target_models_need_a_multi_model_endpoint() -> None:
    resources = Resources()
    endpoint = RealtimeEndpoint(
        resources.stack,
        "Churn",
        image=IMAGE,
        model_data=ModelData.from_s3_uri("s3://models/model.tar.gz"),
    )
    role = iam.Role(resources.stack, "R", assumed_by=iam.AccountRootPrincipal())
    with pytest.raises(
        ConfigurationError,
        match=r"^Test/Churn: grant_invoke_models must be used on a multi-model endpoint",
    ):
        endpoint.grant_invoke_models(role, ["*"])


def test_single_model_endpoints_are_unchanged() -> None:
    stack = unit_stack(unit_app())
    RealtimeEndpoint(stack, "One", image=IMAGE)
    model = next(iter(Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()))
    container = model["Properties"]["PrimaryContainer"]
    assert "Mode" not in container
    assert "MultiModelConfig" not in container


def test_loading_metrics_and_dashboard(built: tuple[Template, RealtimeEndpoint]) -> None:
    """SageMaker's multi-model loading metrics (AWS/SageMaker, per endpoint and variant)."""
    _, endpoint = built
    wait = endpoint.metric_model_loading_wait_time()
    hits = endpoint.metric_model_cache_hit()
    assert (wait.metric_name, wait.statistic, wait.namespace) == (
        "ModelLoadingWaitTime",
        "p99",
        "AWS/SageMaker",
    )
    assert (hits.metric_name, hits.statistic) == ("ModelCacheHit", "Sum")
    widgets = endpoint.dashboard_widgets()
    assert len(widgets) == 4  # traffic, latency, utilisation, model loading
    titles = [w.to_json()[0]["properties"]["title"] for w in widgets]
    assert titles[-1] == "Tenants/AllTraffic: model loading"
