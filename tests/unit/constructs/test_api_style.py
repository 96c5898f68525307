"""One API style across the public constructs: frozen keyword-only option groups, typed metric
options instead of untyped ``**kwargs``, one Duration-based deployment-policy shape."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

import mlops_cdk.constructs as public
from mlops_cdk.constructs import DeploymentPolicy, LambdaDeployment

EXPORTED = [getattr(public, name) for name in sorted(public.__all__)]
DATACLASSES = [c for c in EXPORTED if inspect.isclass(c) and dataclasses.is_dataclass(c)]
CLASSES = [c for c in EXPORTED if inspect.isclass(c)]


@pytest.mark.parametrize("option", DATACLASSES, ids=lambda c: c.__name__)
def test_option_groups_are_frozen_and_keyword_only(option: Any) -> None:
    assert option.__dataclass_params__.frozen
    assert [f.name for f in dataclasses.fields(option) if not f.kw_only] == []


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_public_methods_take_no_untyped_keywords(cls: type) -> None:
    untyped = [
        f"{name}(**{parameter.name}: {parameter.annotation})"
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and member.__module__.startswith("mlops_cdk")
        for parameter in inspect.signature(member).parameters.values()
        if parameter.kind is inspect.Parameter.VAR_KEYWORD
        and "Unpack[MetricOptions]" not in str(parameter.annotation)
    ]
    assert untyped == []


@pytest.mark.parametrize(
    ("factory", "parameters"),
    [("canary", ["percent", "wait"]), ("linear", ["step_percent", "wait"]), ("all_at_once", [])],
)
def test_endpoint_and_lambda_deployments_share_one_duration_shape(
    factory: str, parameters: list[str]
) -> None:
    for policy in (DeploymentPolicy, LambdaDeployment):
        names = list(inspect.signature(getattr(policy, factory)).parameters)
        assert names[: len(parameters)] == parameters, policy.__name__
    assert "Duration" in str(inspect.signature(LambdaDeployment.canary).parameters["wait"])
