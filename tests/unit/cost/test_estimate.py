"""The idle-cost estimate against a hand-priced fixture template (idle_template.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.cost import Estimate, ceiling_problem, estimate, format_estimate, load_prices

FIXTURE = Path(__file__).with_name("idle_template.json")


def rate(usd: float, unit: str) -> dict[str, Any]:
    return {"usd": usd, "unit": unit, "service": "Test", "usage_type": "Test"}


# Round test prices, so that every expected figure below can be checked by hand.
PRICES: dict[str, Any] = {
    "source": "test",
    "checked": "2026-01-01",
    "hours_per_month": 730,
    "regions": {
        "eu-west-1": {
            "location": "EU (Ireland)",
            "rates": {
                "vpc.interface_endpoint": rate(0.01, "endpoint-AZ-hour"),
                "vpc.nat_gateway": rate(0.05, "hour"),
                "elb.application": rate(0.02, "hour"),
                "sagemaker.hosting:ml.m5.large": rate(0.1, "instance-hour"),
                "fargate.vcpu": rate(0.04, "vCPU-hour"),
                "fargate.memory": rate(0.004, "GB-hour"),
                "lambda.provisioned": rate(0.000004, "GB-second"),
                "lambda.requests": rate(0.0000002, "request"),
                "kms.key": rate(1.0, "key-month"),
                "cloudwatch.alarm_standard": rate(0.1, "alarm-metric-month"),
                "cloudwatch.alarm_high_resolution": rate(0.3, "alarm-metric-month"),
                "cloudwatch.alarm_composite": rate(0.5, "alarm-month"),
                "cloudwatch.dashboard": rate(3.0, "dashboard-month"),
                "secretsmanager.secret": rate(0.4, "secret-month"),
            },
        }
    },
}

# By hand, 730 hours a month:
EXPECTED = {
    "SageMaker endpoint instances": 1 * 730 * 0.1,  # the autoscaling minimum, not the initial 3
    "NAT gateways": 730 * 0.05,
    "ECS Fargate tasks": 2 * (0.5 * 0.04 + 1 * 0.004) * 730,  # minimum 2 of 512 CPU / 1024 MiB
    "Lambda provisioned concurrency": 2 * 1 * 3600 * 730 * 0.000004,  # minimum 2 of 1 GB
    "Interface VPC endpoints": 2 * 730 * 0.01,  # one endpoint in two zones
    "Load balancers": 730 * 0.02,
    "CloudWatch dashboards": 3.0,
    "CloudWatch alarms": 0.1 + 0.3 + 2 * 0.1 + 0.5,  # standard, high-res, 2-metric, composite
    "KMS keys": 1.0,
    "Secrets Manager secrets": 0.4,
}


@pytest.fixture(scope="module")
def fixture_estimate() -> Estimate:
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return estimate(
        [("fixture", template)], region="eu-west-1", prices=load_prices("eu-west-1", PRICES)
    )


def test_idle_cost_by_kind_matches_the_hand_computation(fixture_estimate: Estimate) -> None:
    assert fixture_estimate.by_kind() == pytest.approx(EXPECTED)
    assert fixture_estimate.total_usd == pytest.approx(200.264)


def test_unknown_prices_are_reported_not_counted_as_zero(fixture_estimate: Estimate) -> None:
    unknown = {
        line.rate: (line.quantity, line.monthly_usd) for line in fixture_estimate.unknown_lines
    }
    assert unknown == {
        "sagemaker.hosting:ml.p9.mega": (730, None),  # 1 instance, 730 hours
        "fargate.spot_vcpu": (0.5 * 730, None),  # Fargate Spot is not in the price list
        "fargate.spot_memory": (1 * 730, None),
    }
    (resource,) = fixture_estimate.unknown_resources
    assert (resource.logical_id, resource.type) == ("Warehouse", "AWS::Redshift::Cluster")
    assert not fixture_estimate.complete
    text = "\n".join(format_estimate("fixture", fixture_estimate))
    assert "idle $200.26/month + 4 item(s) of unknown price" in text
    assert "sagemaker.hosting:ml.p9.mega is not in the price list" in text
    assert "AWS::Redshift::Cluster is not priced" in text


def test_traffic_costs_are_listed_apart_with_unit_prices(fixture_estimate: Estimate) -> None:
    usage = {u.kind: u for u in fixture_estimate.usage}
    assert usage["Lambda requests"].unit_usd == 0.0000002
    assert usage["S3 storage"].unit_usd is None  # not in the test prices: unknown, listed
    lines = [line.strip() for line in format_estimate("fixture", fixture_estimate)]
    assert "Lambda requests: $0.20 per million requests" in lines
    assert "S3 storage: price unknown" in lines


def test_a_region_without_prices_says_so() -> None:
    template = json.loads(FIXTURE.read_text(encoding="utf-8"))
    result = estimate([("fixture", template)], region="ap-south-2", prices=None)
    assert not result.priced
    assert format_estimate("fixture", result) == [
        "fixture  idle no prices for region ap-south-2: not estimated"
    ]
    assert ceiling_problem("mlops-x", result, 1.0) is None


def test_ceiling_error_is_one_line_with_estimate_ceiling_and_biggest_items(
    fixture_estimate: Estimate,
) -> None:
    assert ceiling_problem("mlops-x", fixture_estimate, 250.0) is None
    assert ceiling_problem("mlops-x", fixture_estimate, 100.0) == (
        "mlops-x: idle cost estimate $200.26/month exceeds the ceiling $100.00 "
        "(biggest: SageMaker endpoint instances $73.00, NAT gateways $36.50, "
        "ECS Fargate tasks $35.04)"
    )


def test_packaged_prices_cover_eu_west_1_only_with_dated_source() -> None:
    prices = load_prices("eu-west-1")
    assert prices is not None
    assert prices.checked
    assert prices.source.startswith("AWS Price List")
    assert all(r.usd > 0 and r.usage_type for r in prices.rates.values())
    assert load_prices("ap-south-2") is None


def _host_template(*, min_instances: int, min_copies: int | None, copy_count: int = 1) -> Any:
    """An inference-component host (managed instance scaling, no ModelName) with one component,
    copy autoscaling down to ``min_copies`` (none: a fixed ``copy_count``)."""
    resources: dict[str, Any] = {
        "Config": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {
                "ProductionVariants": [
                    {
                        "VariantName": "AllTraffic",
                        "InstanceType": "ml.m5.large",
                        "InitialInstanceCount": 1,
                        "ManagedInstanceScaling": {
                            "Status": "ENABLED",
                            "MinInstanceCount": min_instances,
                            "MaxInstanceCount": 2,
                        },
                    }
                ]
            },
        },
        "Host": {
            "Type": "AWS::SageMaker::Endpoint",
            "Properties": {
                "EndpointName": "host",
                "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]},
            },
        },
        "Component": {
            "Type": "AWS::SageMaker::InferenceComponent",
            "Properties": {
                "EndpointName": {"Fn::GetAtt": ["Host", "EndpointName"]},
                "InferenceComponentName": "churn",
                "RuntimeConfig": {"CopyCount": copy_count},
            },
        },
    }
    if min_copies is not None:
        resources["Copies"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Properties": {
                "ServiceNamespace": "sagemaker",
                "ResourceId": "inference-component/churn",
                "ScalableDimension": "sagemaker:inference-component:DesiredCopyCount",
                "MinCapacity": min_copies,
                "MaxCapacity": 4,
            },
        }
    return {"Resources": resources}


@pytest.mark.parametrize(
    ("min_instances", "min_copies", "instances"),
    [
        (0, 0, 0),  # scales to zero: nothing idles
        (0, 1, 1),  # a component keeps a copy: at least one instance stays
        (0, None, 1),  # a fixed copy count keeps one too
        (2, 0, 2),  # MinInstanceCount is kept whatever the copies
    ],
)
def test_inference_component_hosts_idle_at_their_managed_minimum(
    min_instances: int, min_copies: int | None, instances: int
) -> None:
    result = estimate(
        [("host", _host_template(min_instances=min_instances, min_copies=min_copies))],
        region="eu-west-1",
        prices=load_prices("eu-west-1", PRICES),
    )
    assert result.unknown_resources == ()
    by_kind = {line.kind: line.quantity for line in result.lines}
    assert by_kind.get("SageMaker endpoint instances", 0) == instances * 730  # instance-hours
