"""The Network stack: private subnets, the interface endpoints the enabled constructs need,
flow logs, no NAT by default."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk._internal.defaults import encryption_key
from mlops_cdk.config import EnvironmentConfig
from mlops_cdk.stacks.network import (
    INTERFACE_ENDPOINTS,
    NetworkStack,
    needed_interface_endpoints,
)
from tests.helpers.apps import TEST_ENV, SynthesizedApp, unit_app, unit_stack
from tests.helpers.wiring import only, produced_by

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def templates(synthesized_app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    return synthesized_app.templates()


@pytest.fixture(scope="module")
def network_templates(templates: dict[str, dict[str, Any]]) -> dict[str, Template]:
    return {env: Template.from_json(templates[f"mlops-{env}-network"]) for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_isolated_private_subnets_only_without_nat(
    network_templates: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    template = network_templates[env]
    zones = configs[env].network.availability_zones
    assert configs[env].network.nat_gateways == 0
    template.resource_count_is("AWS::EC2::Subnet", len(zones))
    assert sorted(
        s["Properties"]["AvailabilityZone"]
        for s in template.find_resources("AWS::EC2::Subnet").values()
    ) == sorted(zones)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_s3_gateway_endpoint_and_encrypted_flow_logs(
    network_templates: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    template = network_templates[env]
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    # Flow logs are encrypted with the Data stack's key and kept as configured.
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    data = templates[f"mlops-{env}-data"]
    assert produced_by(templates, group["Properties"]["KmsKeyId"]) == (
        f"mlops-{env}-data",
        {"Fn::GetAtt": [only(data, "AWS::KMS::Key"), "Arn"]},
    )
    assert group["Properties"]["RetentionInDays"] == configs[env].network.flow_log_retention_days


def test_flow_log_role_has_no_inline_policy(network_templates: dict[str, Template]) -> None:
    template = network_templates["dev"]
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": Match.array_with(["logs:PutLogEvents"])})]
                )
            }
        },
    )


NEEDED = ["ecr.api", "ecr.dkr", "logs", "monitoring"]  # ECS tasks, and the drift job's metrics


@pytest.mark.parametrize(
    ("env", "services", "zones"), [("dev", [], 0), ("staging", NEEDED, 1), ("prod", NEEDED, 3)]
)
def test_interface_endpoints_are_the_needed_ones_in_the_configured_zones(
    network_templates: dict[str, Template], env: str, services: list[str], zones: int
) -> None:
    interface = network_templates[env].find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    names = [
        r["Properties"]["ServiceName"].removeprefix("com.amazonaws.eu-west-1.")
        for r in interface.values()
    ]
    assert names == services
    assert {len(r["Properties"]["SubnetIds"]) for r in interface.values()} <= {zones}


def settings(**sections: object) -> EnvironmentConfig:
    """A minimal valid environment with ``sections`` (as YAML would give them)."""
    base = {
        "name": "qa",
        "account": "444444444444",
        "region": "eu-west-1",
        "removal_policy": "destroy",
        "network": {"availability_zones": ["eu-west-1a"], "interface_endpoints": True},
        "tags": {"owner": "ml-platform", "cost_centre": "ML-1"},
    }
    return EnvironmentConfig.model_validate({**base, **sections})


ENDPOINT = {"enabled": True, "mode": "instance", "data_capture_percent": 10}


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        ({}, []),
        ({"realtime_endpoint": ENDPOINT, "lambda_inference": {"enabled": True, "api": {}}}, []),
        ({"batch_transform": {"enabled": True, "manual": True}}, []),
        ({"ecs_model_service": {"enabled": True}}, ["EcrApi", "EcrDocker", "Logs"]),
        (
            {"realtime_endpoint": ENDPOINT, "model_monitor": {"enabled": True}},
            ["Monitoring"],
        ),
        (
            {"realtime_endpoint": ENDPOINT, "model_monitor": {"enabled": True, "in_vpc": False}},
            [],
        ),
    ],
    ids=["nothing", "sagemaker-and-lambda", "batch", "ecs", "drift-job", "drift-job-outside"],
)
def test_needed_endpoints_follow_what_runs_in_the_vpc(
    sections: dict[str, object], expected: list[str]
) -> None:
    needed = needed_interface_endpoints(settings(**sections))
    assert list(needed) == expected
    assert set(needed) <= set(INTERFACE_ENDPOINTS)


def test_endpoint_security_group_allows_https_from_the_vpc_only(
    network_templates: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    template = network_templates["prod"]
    groups = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": "HTTPS from inside the VPC to AWS service endpoints"}},
    )
    (group,) = groups.values()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": configs["prod"].network.cidr,
            "Description": "HTTPS from inside the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


def test_default_security_group_is_closed(network_templates: dict[str, Template]) -> None:
    network_templates["dev"].resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_nat_gateways_bring_public_subnets_without_public_ips(
    environment_configs: list[EnvironmentConfig],
) -> None:
    dev = environment_configs[0]
    config = dev.model_copy(update={"network": dev.network.model_copy(update={"nat_gateways": 1})})
    app = unit_app()
    key_stack = unit_stack(app, "Keys")
    key = encryption_key(key_stack, "Key", description="test")
    stack = NetworkStack(app, "Net", config=config, encryption_key=key, env=TEST_ENV)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::Subnet", 4)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
