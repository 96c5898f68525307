"""The Network stack: private subnets, endpoints by switch, flow logs, no NAT by default."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk._internal.defaults import encryption_key
from mlops_cdk.config import EnvironmentConfig
from mlops_cdk.stacks.network import INTERFACE_ENDPOINTS, NetworkStack
from tests.helpers.apps import TEST_ENV, SynthesizedApp, unit_app, unit_stack


@pytest.fixture(scope="module")
def network_templates(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {
        env: Template.from_json(templates[f"mlops-{env}-network"])
        for env in ("dev", "staging", "prod")
    }


@pytest.mark.parametrize(("env", "zones"), [("dev", 2), ("staging", 2), ("prod", 3)])
def test_isolated_private_subnets_only_without_nat(
    network_templates: dict[str, Template], env: str, zones: int
) -> None:
    template = network_templates[env]
    template.resource_count_is("AWS::EC2::Subnet", zones)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    for subnet in template.find_resources("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_s3_gateway_endpoint_and_encrypted_flow_logs(
    network_templates: dict[str, Template], env: str
) -> None:
    template = network_templates[env]
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway", "ServiceName": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": Match.any_value(), "RetentionInDays": Match.any_value()}
    )


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


@pytest.mark.parametrize(("env", "count"), [("dev", 0), ("staging", 8), ("prod", 8)])
def test_interface_endpoints_follow_the_switch(
    network_templates: dict[str, Template], env: str, count: int
) -> None:
    interface = network_templates[env].find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    assert len(interface) == count == (len(INTERFACE_ENDPOINTS) if count else 0)


def test_endpoint_security_group_allows_https_from_the_vpc_only(
    network_templates: dict[str, Template],
) -> None:
    template = network_templates["prod"]
    groups = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": "HTTPS from inside the VPC to AWS service endpoints"}},
    )
    (group,) = groups.values()
    assert group["Properties"]["SecurityGroupIngress"] == [
        {
            "CidrIp": "10.30.0.0/16",
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
