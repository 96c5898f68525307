"""The Network stack: private subnets, endpoints by switch, flow logs, no NAT by default."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk._internal.defaults import encryption_key
from mlops_cdk.config import EnvironmentConfig
from mlops_cdk.stacks.network import INTERFACE_ENDPOINTS, NetworkStack
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


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_interface_endpoints_follow_the_switch(
    network_templates: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    interface = network_templates[env].find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    expected = len(INTERFACE_ENDPOINTS) if configs[env].network.interface_endpoints else 0
    assert len(interface) == expected


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
