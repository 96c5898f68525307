"""EcsModelService rollouts: ECS native blue/green (the default), linear, canary and rolling,
each rolled back by ECS on the service's own 5XX-rate and latency alarms; the two target groups,
the production listener rule ECS rewrites, and the exact permissions of the role it uses."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    EcsModelService,
    ModelData,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceRoute,
)
from tests.helpers.apps import isolated_vpc, unit_app, unit_stack
from tests.helpers.aws_requests import EmbeddedRequest, check


def built(deployment: ServiceDeployment | None) -> tuple[cdk.Stack, EcsModelService, Template]:
    stack = unit_stack(unit_app())
    service = EcsModelService(
        stack,
        "Churn",
        vpc=isolated_vpc(stack),
        model_data=ModelData.demo_model(archive=False),
        deployment=deployment,
    )
    return stack, service, Template.from_stack(stack)


@pytest.fixture(scope="module")
def blue_green() -> tuple[cdk.Stack, EcsModelService, Template]:
    return built(None)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource["Properties"])


def logical_id(stack: cdk.Stack, construct: Any) -> str:
    return str(stack.get_logical_id(construct.node.default_child))


def test_rollback_alarms_are_the_services_own_5xx_and_latency_alarms(
    blue_green: tuple[cdk.Stack, EcsModelService, Template],
) -> None:
    stack, service, template = blue_green
    alarms = only(template, "AWS::ECS::Service")["DeploymentConfiguration"]["Alarms"]
    by_id = {alarm.node.id: alarm for alarm in service.alarms}
    expected = [by_id["Target5xx"], by_id["LatencyP99"]]
    assert service.rollback_alarms == expected
    # Referenced by name (Ref of the alarm in this stack, so same account and region).
    assert alarms == {
        "AlarmNames": [{"Ref": logical_id(stack, alarm)} for alarm in expected],
        "Enable": True,
        "Rollback": True,
    }
    # The alarms watch the load balancer only: no reference back to the service (no cycle).
    service_id = logical_id(stack, service.service)
    for alarm in expected:
        assert service_id not in str(template.to_json()["Resources"][logical_id(stack, alarm)])


def test_blue_green_has_two_target_groups_behind_one_weighted_rule(
    blue_green: tuple[cdk.Stack, EcsModelService, Template],
) -> None:
    stack, service, template = blue_green
    assert service.alternate_target_group is not None
    blue = logical_id(stack, service.target_group)
    green = logical_id(stack, service.alternate_target_group)
    assert set(template.find_resources("AWS::ElasticLoadBalancingV2::TargetGroup")) == {
        blue,
        green,
    }
    rule = only(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Priority"] == 1
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}
    ]
    assert rule["Actions"] == [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": {"Ref": blue}, "Weight": 100},
                    {"TargetGroupArn": {"Ref": green}, "Weight": 0},
                ]
            },
        }
    ]
    # The catch-all rule takes every request; the default action keeps forwarding to the
    # first group (as before the rule existed), so an update never leaves no route.
    listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": blue}}]


def test_a_narrower_route_answers_404_to_the_rest() -> None:
    stack = unit_stack(unit_app())
    EcsModelService(
        stack,
        "Churn",
        vpc=isolated_vpc(stack),
        model_data=ModelData.demo_model(archive=False),
        route=ServiceRoute(path_patterns=["/invocations", "/ping"]),
    )
    template = Template.from_stack(stack)
    listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["DefaultActions"] == [
        {
            "Type": "fixed-response",
            "FixedResponseConfig": {
                "StatusCode": "404",
                "ContentType": "text/plain",
                "MessageBody": "No route",
            },
        }
    ]
    rule = only(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Conditions"] == [
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/invocations", "/ping"]}}
    ]


def test_service_names_the_alternate_group_the_rule_and_the_role(
    blue_green: tuple[cdk.Stack, EcsModelService, Template],
) -> None:
    stack, service, template = blue_green
    properties = only(template, "AWS::ECS::Service")
    assert properties["DeploymentConfiguration"]["Strategy"] == "BLUE_GREEN"
    assert properties["DeploymentConfiguration"]["BakeTimeInMinutes"] == 10
    assert service.deployment_role is not None
    assert service.alternate_target_group is not None
    (balancer,) = properties["LoadBalancers"]
    assert balancer == {
        "ContainerName": "Model",
        "ContainerPort": 8080,
        "TargetGroupArn": {"Ref": logical_id(stack, service.target_group)},
        "AdvancedConfiguration": {
            "AlternateTargetGroupArn": {"Ref": logical_id(stack, service.alternate_target_group)},
            "ProductionListenerRule": {"Ref": logical_id(stack, service.listener_rule)},
            "RoleArn": {"Fn::GetAtt": [logical_id(stack, service.deployment_role), "Arn"]},
        },
    }


def test_deployment_role_holds_exactly_what_ecs_calls(
    blue_green: tuple[cdk.Stack, EcsModelService, Template],
) -> None:
    stack, service, template = blue_green
    role = service.deployment_role
    assert role is not None
    assert role.policy is not None
    assert service.alternate_target_group
    role_json = template.to_json()["Resources"][logical_id(stack, role)]["Properties"]
    assert role_json["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
        }
    ]
    # No AWS-managed policy (not AmazonECSInfrastructureRolePolicyForLoadBalancers).
    assert "ManagedPolicyArns" not in role_json
    policy = template.to_json()["Resources"][logical_id(stack, role.policy)]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    blue = logical_id(stack, service.target_group)
    green = logical_id(stack, service.alternate_target_group)
    assert statements == [
        {
            "Action": [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "Effect": "Allow",
            "Resource": "*",
        },
        {
            "Action": [
                "elasticloadbalancing:DeregisterTargets",
                "elasticloadbalancing:RegisterTargets",
            ],
            "Effect": "Allow",
            "Resource": [{"Ref": blue}, {"Ref": green}],
        },
        {
            "Action": "elasticloadbalancing:ModifyRule",
            "Effect": "Allow",
            "Resource": {"Ref": logical_id(stack, service.listener_rule)},
        },
    ]
    # The service waits for the policy: ECS may shift traffic as soon as it exists.
    service_json = template.to_json()["Resources"][logical_id(stack, service.service)]
    assert logical_id(stack, role.policy) in service_json["DependsOn"]


def test_cdk_default_alternate_target_would_attach_the_aws_managed_policy() -> None:
    """The planted defect the role test guards against: CDK's AlternateTarget without a role
    creates one with AmazonECSInfrastructureRolePolicyForLoadBalancers (ManagedPolicyArns)."""
    stack = unit_stack(unit_app())
    vpc = isolated_vpc(stack)
    cluster = ecs.Cluster(stack, "Cluster", vpc=vpc)
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container(
        "web",
        image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1"),
        port_mappings=[ecs.PortMapping(container_port=80)],
    )
    balancer = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc)
    listener = balancer.add_listener(
        "L", port=80, default_action=elbv2.ListenerAction.fixed_response(404)
    )
    blue = elbv2.ApplicationTargetGroup(
        stack, "Blue", vpc=vpc, port=80, target_type=elbv2.TargetType.IP
    )
    green = elbv2.ApplicationTargetGroup(
        stack, "Green", vpc=vpc, port=80, target_type=elbv2.TargetType.IP
    )
    rule = elbv2.ApplicationListenerRule(
        stack, "Rule", listener=listener, priority=1,
        conditions=[elbv2.ListenerCondition.path_patterns(["/*"])], target_groups=[blue],
    )  # fmt: skip
    service = ecs.FargateService(
        stack, "Svc", cluster=cluster, task_definition=task, min_healthy_percent=100,
        deployment_strategy=ecs.DeploymentStrategy.BLUE_GREEN,
    )  # fmt: skip
    service.load_balancer_target(
        container_name="web",
        container_port=80,
        alternate_target=ecs.AlternateTarget(
            "Alt",
            alternate_target_group=green,
            production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(rule),
        ),
    ).attach_to_application_target_group(blue)
    roles = Template.from_stack(stack).find_resources("AWS::IAM::Role")
    managed = [r["Properties"].get("ManagedPolicyArns") for r in roles.values()]
    assert any(
        "AmazonECSInfrastructureRolePolicyForLoadBalancers" in str(arns) for arns in managed if arns
    )


@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        (
            ServiceDeployment.linear(step_percent=25, interval=cdk.Duration.minutes(4)),
            {
                "Strategy": "LINEAR",
                "BakeTimeInMinutes": 10,
                "LinearConfiguration": {"StepPercent": 25, "StepBakeTimeInMinutes": 4},
            },
        ),
        (
            ServiceDeployment.canary(
                percent=12.5, interval=cdk.Duration.minutes(15), bake_time=cdk.Duration.minutes(20)
            ),
            {
                "Strategy": "CANARY",
                "BakeTimeInMinutes": 20,
                "CanaryConfiguration": {"CanaryPercent": 12.5, "CanaryBakeTimeInMinutes": 15},
            },
        ),
        (ServiceDeployment(), {"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 10}),
    ],
    ids=["linear", "canary", "blue-green-defaults"],
)
def test_traffic_shifting_strategies_render_their_timings(
    deployment: ServiceDeployment, expected: dict[str, Any]
) -> None:
    _, service, template = built(deployment)
    configuration = only(template, "AWS::ECS::Service")["DeploymentConfiguration"]
    assert {k: v for k, v in configuration.items() if k in expected or "Configuration" in k} == (
        expected
    )
    assert service.alternate_target_group is not None
    assert configuration["Alarms"]["Rollback"] is True


def test_rolling_keeps_one_target_group_and_still_rolls_back_on_alarms() -> None:
    stack, service, template = built(ServiceDeployment.rolling())
    configuration = only(template, "AWS::ECS::Service")["DeploymentConfiguration"]
    assert configuration["Strategy"] == "ROLLING"
    assert "BakeTimeInMinutes" not in configuration
    assert configuration["Alarms"]["Rollback"] is True
    assert service.alternate_target_group is None
    assert service.deployment_role is None
    template.resource_count_is("AWS::ElasticLoadBalancingV2::TargetGroup", 1)
    (balancer,) = only(template, "AWS::ECS::Service")["LoadBalancers"]
    assert "AdvancedConfiguration" not in balancer
    rule = only(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule["Actions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": logical_id(stack, service.target_group)}}
    ]
    # One group: the alarms read its metrics directly.
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "TargetResponseTime", "ExtendedStatistic": "p99"}
    )


def test_rollback_on_alarms_can_be_turned_off() -> None:
    _, service, template = built(ServiceDeployment.blue_green(rollback_on_alarms=False))
    configuration = only(template, "AWS::ECS::Service")["DeploymentConfiguration"]
    assert "Alarms" not in configuration
    assert service.rollback_alarms == []
    # The circuit breaker stays.
    assert configuration["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def _as_request(node: Any, camel: bool) -> Any:
    """A CloudFormation property value as the API request it becomes: keys in the API's case,
    references replaced by a stand-in string."""
    if isinstance(node, dict):
        if len(node) == 1 and next(iter(node)) in ("Ref", "Fn::GetAtt", "Fn::Join"):
            return "stand-in"
        return {
            (key[0].lower() + key[1:] if camel else key): _as_request(value, camel)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_as_request(item, camel) for item in node]
    return node


@pytest.mark.parametrize(
    "deployment",
    [
        None,
        ServiceDeployment.canary(percent=2.5),
        ServiceDeployment.linear(),
        ServiceDeployment.rolling(),
    ],
    ids=["blue-green", "canary", "linear", "rolling"],
)
def test_service_and_scaling_match_the_ecs_and_autoscaling_api_models(
    deployment: ServiceDeployment | None,
) -> None:
    """The rendered DeploymentConfiguration and LoadBalancers validate against botocore's ECS
    CreateService input, the request-count scaling policy against PutScalingPolicy."""
    stack = unit_stack(unit_app())
    EcsModelService(
        stack,
        "Churn",
        vpc=isolated_vpc(stack),
        model_data=ModelData.demo_model(archive=False),
        deployment=deployment,
        autoscaling=ServiceAutoScaling(min_capacity=2, max_capacity=4),
    )
    template = Template.from_stack(stack)
    properties = only(template, "AWS::ECS::Service")
    request = {
        "serviceName": "churn",
        "deploymentConfiguration": _as_request(properties["DeploymentConfiguration"], True),
        "loadBalancers": _as_request(properties["LoadBalancers"], True),
    }
    findings = check(EmbeddedRequest("Service", "ecs", "CreateService", request))
    (policy,) = [
        p["Properties"]
        for p in template.find_resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
        if "Requests" in p["Properties"]["PolicyName"]
    ]
    scaling = {
        "PolicyName": "requests",
        "ServiceNamespace": "ecs",
        "ResourceId": "service/cluster/churn",
        "ScalableDimension": "ecs:service:DesiredCount",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": _as_request(
            policy["TargetTrackingScalingPolicyConfiguration"], False
        ),
    }
    findings += check(
        EmbeddedRequest("Requests", "application-autoscaling", "PutScalingPolicy", scaling)
    )
    assert findings == []


def test_the_model_check_catches_a_planted_defect() -> None:
    request = {
        "serviceName": "churn",
        "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTime": 10},
    }
    assert check(EmbeddedRequest("Service", "ecs", "CreateService", request)) != []
