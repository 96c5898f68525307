"""How requests reach an EcsModelService: its listener (created on its own or a given load
balancer, or a given shared listener), one listener rule, the target group(s) behind it and,
for blue/green, linear and canary deployments, the second target group and the role ECS uses to
shift traffic between them by rewriting that rule."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from mlops_cdk._internal import checkov, nag
from mlops_cdk._internal.iam import ManagedPolicyRole, service_role
from mlops_cdk.constructs.ecs_model_service.options import ServiceHealthCheck, ServiceRoute

# What ECS calls during a blue/green, linear or canary deployment behind an Application Load
# Balancer: the AWS-managed AmazonECSInfrastructureRolePolicyForLoadBalancers (v6) narrowed to
# this service's two target groups and its one listener rule. The Describe calls take no
# resource (Service Authorization Reference); the managed policy's ModifyListener statements
# are for Network Load Balancers, whose production "rule" is a listener.
DESCRIBE_ACTIONS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
TARGET_ACTIONS = ("elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets")
RULE_ACTIONS = ("elasticloadbalancing:ModifyRule",)


@dataclass(frozen=True)
class Routing:
    """What :func:`add_routing` built."""

    listener: elbv2.IApplicationListener
    target_group: elbv2.ApplicationTargetGroup
    alternate_target_group: elbv2.ApplicationTargetGroup | None
    rule: elbv2.ApplicationListenerRule
    deployment_role: ManagedPolicyRole | None

    @property
    def target_groups(self) -> list[elbv2.ApplicationTargetGroup]:
        """The target group, and the alternate one when there is one."""
        groups = [self.target_group]
        if self.alternate_target_group is not None:
            groups.append(self.alternate_target_group)
        return groups


def add_listeners(
    scope: Construct,
    *,
    load_balancer: elbv2.IApplicationLoadBalancer,
    own_load_balancer: bool,
    certificate: acm.ICertificate | None,
    listener_port: int,
    open_to_world: bool,
) -> tuple[elbv2.ApplicationListener, elbv2.ApplicationListener | None]:
    """The service's listener on ``load_balancer`` (HTTPS with TLS 1.2+ when ``certificate``,
    else HTTP) answering 404 to requests no rule takes (unless the route catches all), and
    with a certificate an HTTP listener on 80 that redirects to it. On the construct's own
    load balancer the listeners keep the construct IDs of the ecs_patterns version
    (``PublicListener``), so their logical IDs stay."""
    owner: Construct = load_balancer if own_load_balancer else scope  # type: ignore[assignment]
    https = certificate is not None
    listener = elbv2.ApplicationListener(
        owner,
        "PublicListener" if own_load_balancer else "Listener",
        load_balancer=load_balancer,
        port=listener_port,
        protocol=elbv2.ApplicationProtocol.HTTPS if https else elbv2.ApplicationProtocol.HTTP,
        certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)]
        if certificate is not None
        else None,
        ssl_policy=elbv2.SslPolicy.TLS13_12_PQ if https else None,
        open=open_to_world,
        # The default action comes with the route (add_routing): set twice, CDK warns.
    )
    redirect = None
    if https:
        redirect = elbv2.ApplicationListener(
            owner,
            "PublicRedirectListener" if own_load_balancer else "RedirectListener",
            load_balancer=load_balancer,
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=open_to_world,
            default_action=elbv2.ListenerAction.redirect(
                port=str(listener_port), protocol="HTTPS", permanent=True
            ),
        )
        redirect.node.add_dependency(listener)
    return listener, redirect


def add_routing(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    listener: elbv2.IApplicationListener,
    created_listener: bool,
    groups_under_listener: bool,
    route: ServiceRoute,
    health_check: ServiceHealthCheck,
    shifts_traffic: bool,
    target_group_id: str,
) -> Routing:
    """Target group(s) and the listener rule that sends ``route``'s requests to them. With
    ``shifts_traffic`` the rule forwards to a blue (weight 100) and a green (weight 0) group,
    and a role lets ECS move the weights during a deployment."""
    group_scope: Construct = listener if groups_under_listener else scope  # type: ignore[assignment]
    blue = _target_group(group_scope, target_group_id, vpc, health_check)
    green = None
    if shifts_traffic:
        green = _target_group(group_scope, f"{target_group_id}Green", vpc, health_check)
        action = elbv2.ListenerAction.weighted_forward(
            [
                elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                elbv2.WeightedTargetGroup(target_group=green, weight=0),
            ]
        )
    else:
        action = elbv2.ListenerAction.forward([blue])
    conditions = [elbv2.ListenerCondition.path_patterns(list(route.path_patterns))]
    if route.host_headers:
        conditions.append(elbv2.ListenerCondition.host_headers(list(route.host_headers)))
    rule = elbv2.ApplicationListenerRule(
        scope,
        "ProductionRule",
        listener=listener,
        priority=route.priority,
        conditions=conditions,
        action=action,
    )
    if created_listener and isinstance(listener, elbv2.ApplicationListener):
        # A catch-all rule leaves nothing to the default action; it keeps forwarding to the
        # first group, as the ecs_patterns version did, so updating a running service to the
        # rule never leaves the listener without a route. A narrower route: 404 for the rest.
        default = (
            elbv2.ListenerAction.forward([blue])
            if route.catches_all
            else elbv2.ListenerAction.fixed_response(
                404, content_type="text/plain", message_body="No route"
            )
        )
        listener.add_action("Default", action=default)
    role = None
    if green is not None:
        role = _deployment_role(scope, blue, green, rule)
    return Routing(
        listener=listener,
        target_group=blue,
        alternate_target_group=green,
        rule=rule,
        deployment_role=role,
    )


def _target_group(
    scope: Construct, construct_id: str, vpc: ec2.IVpc, check: ServiceHealthCheck
) -> elbv2.ApplicationTargetGroup:
    group = elbv2.ApplicationTargetGroup(
        scope,
        construct_id,
        vpc=vpc,
        # Tasks register with their container port (awsvpc: IP targets); 80 is only the
        # group's default, kept so the existing group is not replaced.
        port=80,
        protocol=elbv2.ApplicationProtocol.HTTP,
        target_type=elbv2.TargetType.IP,
        health_check=elbv2.HealthCheck(
            path=check.path,
            interval=check.interval,
            timeout=check.timeout,
            healthy_threshold_count=check.healthy_threshold_count,
            unhealthy_threshold_count=check.unhealthy_threshold_count,
            healthy_http_codes="200",
        ),
        # Let in-flight requests finish before a task is stopped.
        deregistration_delay=Duration.seconds(30),
    )
    # Inference latency varies with the payload: send each request to the task with the
    # fewest in flight.
    group.set_attribute("load_balancing.algorithm.type", "least_outstanding_requests")
    return group


def _deployment_role(
    scope: Construct,
    blue: elbv2.ApplicationTargetGroup,
    green: elbv2.ApplicationTargetGroup,
    rule: elbv2.ApplicationListenerRule,
) -> ManagedPolicyRole:
    """ECS's infrastructure role for load balancers, with exactly what a deployment of this
    service calls: a customer-managed policy instead of the AWS-managed
    AmazonECSInfrastructureRolePolicyForLoadBalancers."""
    role = service_role(
        scope,
        "DeploymentRole",
        service="ecs.amazonaws.com",
        description="ECS shifts traffic between the target groups of the model service during "
        "its blue/green, linear and canary deployments",
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(DESCRIBE_ACTIONS), resources=["*"])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(TARGET_ACTIONS),
            resources=[blue.target_group_arn, green.target_group_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(RULE_ACTIONS), resources=[rule.listener_rule_arn])
    )
    reason = (
        "ECS reads listeners, rules, target groups and target health to shift traffic; these "
        "elasticloadbalancing Describe actions support no resource-level permissions. Target "
        "registration and the rule rewrite are limited to this service's groups and rule."
    )
    nag.acknowledge(role, "AwsSolutions-IAM5[Resource::*]", reason)
    if role.policy is not None:
        checkov.skip(role.policy, "CKV_AWS_356", reason)
    return role
