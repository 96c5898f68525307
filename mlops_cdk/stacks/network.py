"""The environment VPC: private subnets, VPC endpoints and flow logs."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnResource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.iam import service_role
from mlops_cdk.stacks.data import removal_policy

PRIVATE_SUBNETS = "Private"
DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"
PUBLIC_SUBNETS = "Public"

# The AWS APIs a workload in the private subnets may call when there is no NAT gateway. Each
# interface endpoint costs per zone-hour, so an environment gets only those that its enabled
# constructs call (:func:`needed_interface_endpoints`); S3 is a free gateway endpoint.
INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
}


def needed_interface_endpoints(config: cfg.EnvironmentConfig) -> dict[str, str]:
    """The interface endpoints that ``config``'s enabled constructs call from inside the VPC,
    each with the reason.

    Only code running on network interfaces in the private subnets counts. SageMaker pulls
    endpoint, transform, processing and training images from ECR and ships their logs and
    metrics itself, outside the VPC; model artifacts, data capture and job data go through the
    S3 gateway (S3 calls KMS for SSE-KMS objects on the caller's behalf). Lambda pulls images
    and ships logs itself; the inference function calls only S3. Roles reach these workloads
    through their services' credential endpoints, not STS. Nothing in the VPC calls the
    SageMaker API or runtime, KMS or STS directly, so those endpoints are never needed here.
    """
    needed: dict[str, str] = {}
    if config.ecs_model_service.enabled:
        reason = "ECS Fargate tasks pull their image through the task's network interface"
        needed |= {"EcrApi": reason, "EcrDocker": reason}
        needed["Logs"] = "ECS Fargate tasks send container logs with the awslogs driver"
    monitor = config.model_monitor
    if monitor.enabled and monitor.in_vpc:
        needed["Monitoring"] = "the drift job publishes its drift metrics (PutMetricData)"
    return needed


class NetworkStack(Stack):
    """A VPC whose workloads live in private subnets.

    Without NAT gateways (the default) the private subnets are isolated: AWS APIs are reached
    through the S3 gateway endpoint (free) and, when ``interface_endpoints`` is on, the interface
    endpoints that the enabled constructs need (:func:`needed_interface_endpoints`), in
    ``network.endpoint_zones``. With NAT gateways, public subnets hold the NAT gateways only
    (no public IPs on launch) and private subnets get egress through them.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        encryption_key: kms.IKey,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        network = config.network
        self._zones = network.availability_zones
        flow_log_group = defaults.log_group(
            self,
            "FlowLogs",
            encryption_key=encryption_key,
            removal_policy=removal_policy(config),
            retention=defaults.retention(network.flow_log_retention_days),
        )
        self.vpc: ec2.IVpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(network.cidr),
            availability_zones=network.availability_zones,
            nat_gateways=network.nat_gateways,
            subnet_configuration=_subnets(network.nat_gateways),
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        flow_log_group,
                        service_role(
                            self,
                            "FlowLogRole",
                            service="vpc-flow-logs.amazonaws.com",
                            description="Writes VPC flow logs to their log group",
                        ),
                    ),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                )
            },
        )
        self.private_subnets = ec2.SubnetSelection(subnet_group_name=PRIVATE_SUBNETS)
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        needed = needed_interface_endpoints(config)
        if network.interface_endpoints and needed:
            self._add_interface_endpoints(network.cidr, list(needed), network.endpoint_zones)
        self._replace_provider_managed_policy()

    @property
    def availability_zones(self) -> list[str]:
        """The configured zones, so that synth never needs an AWS lookup."""
        return self._zones

    def _replace_provider_managed_policy(self) -> None:
        """CDK's provider that closes the default security group runs with the AWS-managed
        AWSLambdaBasicExecutionRole; give its role a customer-managed policy limited to this
        stack's Lambda log groups instead."""
        provider = self.node.try_find_child(DEFAULT_SG_PROVIDER)
        role = provider.node.try_find_child("Role") if provider is not None else None
        if not isinstance(role, CfnResource):
            return
        logs = iam.ManagedPolicy(
            self,
            "DefaultSecurityGroupProviderLogs",
            description="Logs of the provider that closes the VPC's default security group",
            statements=[
                iam.PolicyStatement(
                    actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[
                        self.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name=f"/aws/lambda/{self.stack_name}-*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            ],
        )
        role.add_property_override("ManagedPolicyArns", [logs.managed_policy_arn])
        if provider is not None:
            checkov.skip_checks(
                provider,
                ("CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"),
                "CDK's own provider that closes the VPC's default security group: it runs once "
                "per deployment from CloudFormation (synchronously, so no dead-letter queue), "
                "calls only the EC2 API, and needs no VPC placement or concurrency cap.",
                resource_type="AWS::Lambda::Function",
            )
        nag.acknowledge_generated_wildcards(
            logs,
            (
                (
                    # The partition is a literal or, without the app's
                    # @aws-cdk/core:enablePartitionLiterals flag, a reference.
                    r"\[Resource::arn:(aws[a-z-]*|<AWS::Partition>):logs:[^:]+:\d{12}:"
                    r"log-group:/aws/lambda/"
                    r"[A-Za-z0-9-]+-\*\]",
                    "The provider function's name is generated by CloudFormation with this stack's "
                    "name as prefix; only log groups of this stack's functions are covered.",
                ),
            ),
        )

    def _add_interface_endpoints(self, cidr: str, names: list[str], zones: list[str]) -> None:
        # One security group for all endpoints: HTTPS from inside the VPC only. The literal CIDR
        # (rather than the VPC's CidrBlock attribute) lets compliance rules evaluate the rule.
        security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="HTTPS from inside the VPC to AWS service endpoints",
            allow_all_outbound=False,
        )
        security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC"
        )
        subnets = ec2.SubnetSelection(subnet_group_name=PRIVATE_SUBNETS, availability_zones=zones)
        for name in names:
            self.interface_endpoints[name] = self.vpc.add_interface_endpoint(
                name,
                service=INTERFACE_ENDPOINTS[name],
                subnets=subnets,
                private_dns_enabled=True,
                security_groups=[security_group],
                open=False,
            )


def _subnets(nat_gateways: int) -> list[ec2.SubnetConfiguration]:
    if nat_gateways == 0:
        return [
            ec2.SubnetConfiguration(
                name=PRIVATE_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20
            )
        ]
    return [
        ec2.SubnetConfiguration(
            name=PUBLIC_SUBNETS,
            subnet_type=ec2.SubnetType.PUBLIC,
            cidr_mask=24,
            map_public_ip_on_launch=False,
        ),
        ec2.SubnetConfiguration(
            name=PRIVATE_SUBNETS, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
        ),
    ]
