"""Subnet placement: one default rule, and a caller's selection kept in every part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal.network import default_subnets, select_subnets
from mlops_cdk.constructs import (
    Baseline,
    BatchTransformJob,
    ModelData,
    ModelMonitorSchedule,
    TransformInput,
    TransformOutput,
)
from tests.helpers.apps import unit_stack
from tests.helpers.scenarios import captured_endpoint as endpoint
from tests.helpers.scenarios import pipeline

ISOLATED = ec2.SubnetType.PRIVATE_ISOLATED


def vpc_with(stack: cdk.Stack, *types: ec2.SubnetType) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        max_azs=3,
        nat_gateways=1 if ec2.SubnetType.PRIVATE_WITH_EGRESS in types else 0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name=t.name.title().replace("_", ""), subnet_type=t)
            for t in (ec2.SubnetType.PUBLIC, *types)
            if t is not ec2.SubnetType.PUBLIC or ec2.SubnetType.PRIVATE_WITH_EGRESS in types
        ],
    )


def ids(stack: cdk.Stack, subnets: Any) -> list[Any]:
    return list(stack.resolve(list(subnets)))


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ((ec2.SubnetType.PRIVATE_WITH_EGRESS, ISOLATED), ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ((ISOLATED,), ISOLATED),
    ],
    ids=["egress-first", "isolated-when-no-egress"],
)
def test_default_is_private_with_egress_else_isolated(
    types: tuple[ec2.SubnetType, ...], expected: ec2.SubnetType
) -> None:
    stack = unit_stack()
    vpc = vpc_with(stack, *types)
    assert default_subnets(vpc).subnet_type == expected
    assert ids(stack, select_subnets(vpc, None).subnet_ids) == ids(
        stack, vpc.select_subnets(subnet_type=expected).subnet_ids
    )


SELECTIONS: dict[str, Callable[[ec2.Vpc], ec2.SubnetSelection]] = {
    "zones": lambda vpc: ec2.SubnetSelection(
        subnet_type=ISOLATED, availability_zones=[vpc.availability_zones[0]]
    ),
    "filters": lambda vpc: ec2.SubnetSelection(
        subnet_type=ISOLATED,
        subnet_filters=[ec2.SubnetFilter.by_ids([vpc.isolated_subnets[1].subnet_id])],
    ),
    "explicit-subnets": lambda vpc: ec2.SubnetSelection(subnets=vpc.isolated_subnets[:1]),
    "group-name": lambda vpc: ec2.SubnetSelection(subnet_group_name="PrivateIsolated"),
}


@pytest.mark.parametrize("kind", list(SELECTIONS))
def test_select_subnets_keeps_every_part_of_the_selection(kind: str) -> None:
    stack = unit_stack()
    vpc = vpc_with(stack, ISOLATED)
    selection = SELECTIONS[kind](vpc)
    expected = vpc.select_subnets(
        availability_zones=selection.availability_zones,
        subnet_filters=selection.subnet_filters,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        subnet_type=selection.subnet_type,
    )
    chosen = select_subnets(vpc, selection)
    assert ids(stack, chosen.subnet_ids) == ids(stack, expected.subnet_ids)
    if kind != "group-name":
        assert len(chosen.subnet_ids) == 1


# --- every construct that resolves subnets itself keeps the caller's whole selection ----------


def _pipeline_subnets(stack: cdk.Stack, vpc: ec2.Vpc, selection: ec2.SubnetSelection) -> Any:
    created = pipeline(stack, vpc=vpc, subnets=selection, drift_baselines=False)
    assert created._vpc_config is not None
    return created._vpc_config["Subnets"]


def _monitor_subnets(stack: cdk.Stack, vpc: ec2.Vpc, selection: ec2.SubnetSelection) -> Any:
    bucket = s3.Bucket.from_bucket_name(stack, "Baselines", "baseline-bucket")
    created = ModelMonitorSchedule(
        stack,
        "Monitor",
        endpoint=endpoint(stack),
        baseline=Baseline.from_bucket(bucket, "baseline/", features=["age"]),
        vpc=vpc,
        subnets=selection,
    )
    return created.subnet_ids


def _transform_subnets(stack: cdk.Stack, vpc: ec2.Vpc, selection: ec2.SubnetSelection) -> Any:
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "data-bucket")
    created = BatchTransformJob(
        stack,
        "Job",
        model_data=ModelData.from_bucket(bucket, "model.tar.gz"),
        input=TransformInput(bucket=bucket, prefix="in/"),
        output=TransformOutput(bucket=bucket, prefix="out/"),
        manual=True,
        vpc=vpc,
        subnets=selection,
    )
    config = created.model.resource.vpc_config
    assert isinstance(config, cdk.aws_sagemaker.CfnModel.VpcConfigProperty)
    return config.subnets


BUILDERS = {
    "MLPipeline": _pipeline_subnets,
    "ModelMonitorSchedule": _monitor_subnets,
    "BatchTransformJob": _transform_subnets,
}


@pytest.mark.parametrize("kind", ["zones", "filters"])
@pytest.mark.parametrize("construct", list(BUILDERS))
def test_constructs_keep_the_callers_zones_and_filters(construct: str, kind: str) -> None:
    """Regression: MLPipeline dropped zones, filters and explicit subnets; ModelMonitorSchedule
    dropped zones and filters (each placed jobs in every subnet of the type)."""
    stack = unit_stack()
    vpc = vpc_with(stack, ISOLATED)
    selection = SELECTIONS[kind](vpc)
    subnets = BUILDERS[construct](stack, vpc, selection)
    assert ids(stack, subnets) == ids(stack, vpc.select_subnets(
        subnet_type=ISOLATED,
        availability_zones=selection.availability_zones,
        subnet_filters=selection.subnet_filters,
    ).subnet_ids)  # fmt: skip
    assert len(ids(stack, subnets)) == 1
