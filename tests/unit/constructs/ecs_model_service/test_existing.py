"""EcsModelService with what the caller already has: a cluster, a load balancer, a shared
listener, ECS secrets (exact grants, including the secret's KMS key), and no misleading ECR
warning for an image it grants the pull of."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from mlops_cdk.constructs import ContainerImage, EcsModelService, ModelData, ServiceRoute
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import isolated_vpc, unit_app, unit_stack

LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/"
    "50dc6c495c0c9188/f2f7dc8efc522ab2"
)
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"


def resources(template: Template, resource_type: str) -> dict[str, Any]:
    return dict(template.find_resources(resource_type))


class Existing:
    """A service in an existing cluster, on an existing load balancer, with secrets."""

    def __init__(self) -> None:
        self.stack = stack = unit_stack(unit_app())
        vpc = isolated_vpc(stack)
        self.cluster = ecs.Cluster(stack, "Shared", vpc=vpc)
        self.balancer = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc)
        self.key = kms.Key(stack, "SecretKey", enable_key_rotation=True)
        self.secret = secretsmanager.Secret(stack, "ApiKey", encryption_key=self.key)
        self.parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
            stack, "Token", parameter_name="/churn/token", encryption_key=self.key
        )
        self.service = EcsModelService(
            stack,
            "Churn",
            vpc=vpc,
            model_data=ModelData.demo_model(archive=False),
            cluster=self.cluster,
            load_balancer=self.balancer,
            secrets={
                "UPSTREAM_API_KEY": ecs.Secret.from_secrets_manager(self.secret, "key"),
                "UPSTREAM_TOKEN": ecs.Secret.from_ssm_parameter(self.parameter),
            },
        )
        self.template = Template.from_stack(stack)


@pytest.fixture(scope="module")
def existing() -> Existing:
    return Existing()


def test_runs_in_the_given_cluster(existing: Existing) -> None:
    clusters = resources(existing.template, "AWS::ECS::Cluster")
    assert list(clusters) == [existing.stack.get_logical_id(existing.cluster.node.default_child)]  # type: ignore[arg-type]
    (service,) = resources(existing.template, "AWS::ECS::Service").values()
    assert service["Properties"]["Cluster"] == existing.stack.resolve(existing.cluster.cluster_name)


def test_adds_its_listener_to_the_given_load_balancer(existing: Existing) -> None:
    template = existing.template
    assert len(resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")) == 1
    # Access logs and WAF are the load balancer owner's: no bucket, no association here.
    assert resources(template, "AWS::S3::Bucket") == {}
    assert resources(template, "AWS::WAFv2::WebACLAssociation") == {}
    (listener,) = resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    assert listener["Properties"]["LoadBalancerArn"] == existing.stack.resolve(
        existing.balancer.load_balancer_arn
    )
    assert existing.service.load_balancer is existing.balancer
    assert existing.service.url is not None


def test_secrets_are_injected_from_their_stores(existing: Existing) -> None:
    (task,) = resources(existing.template, "AWS::ECS::TaskDefinition").values()
    model = next(c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "Model")
    resolve = existing.stack.resolve
    assert model["Secrets"] == [
        {
            "Name": "UPSTREAM_API_KEY",
            "ValueFrom": {"Fn::Join": ["", [resolve(existing.secret.secret_arn), ":key::"]]},
        },
        {
            "Name": "UPSTREAM_TOKEN",
            "ValueFrom": resolve(existing.parameter.parameter_arn),
        },
    ]
    names = {e["Name"] for e in model.get("Environment", [])}
    assert not names & {"UPSTREAM_API_KEY", "UPSTREAM_TOKEN"}


def test_execution_role_reads_exactly_the_secrets_and_decrypts_with_their_key(
    existing: Existing,
) -> None:
    policies = resources(existing.template, "AWS::IAM::ManagedPolicy")
    (execution,) = [p for name, p in policies.items() if "ExecutionRole" in name]
    statements = execution["Properties"]["PolicyDocument"]["Statement"]
    resolve = existing.stack.resolve
    secret_statements = [
        s
        for s in statements
        if any(a.split(":")[0] in ("secretsmanager", "ssm", "kms") for a in _list(s["Action"]))
    ]
    key_arn = resolve(existing.key.key_arn)
    assert secret_statements == [
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": resolve(existing.secret.secret_arn),
        },
        # The parameter's key (SecureString): decrypt, nothing else.
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": key_arn},
        {
            "Action": "ssm:GetParameters",
            "Effect": "Allow",
            "Resource": resolve(existing.parameter.parameter_arn),
        },
    ]
    # The secret's key, owned by this stack, grants Decrypt through Secrets Manager only, in
    # its key policy.
    key = existing.template.to_json()["Resources"][
        existing.stack.get_logical_id(existing.key.node.default_child)  # type: ignore[arg-type]
    ]
    role_arn = resolve(existing.service.execution_role.role_arn)
    (grant,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"AWS": role_arn}
    ]
    assert grant == {
        "Action": "kms:Decrypt",
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Resource": "*",
    }
    # Nothing else of CDK's grant_read bundle (DescribeSecret, GetParameter(History), ...).
    actions = {a for s in statements for a in _list(s["Action"])}
    assert not actions & {
        "secretsmanager:DescribeSecret",
        "ssm:GetParameter",
        "ssm:GetParameterHistory",
        "ssm:DescribeParameters",
    }


def test_existing_resources_pass_every_nag_pack(existing: Existing) -> None:
    findings = [
        f"{v.rule_name} [{r.construct_path}]"
        for pack in NAG_PACKS
        for v in pack().validate_scope(existing.stack).violations
        for r in v.violating_resources
        if "/Churn/" in (r.construct_path or "")
    ]
    assert findings == []


def _list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def test_a_shared_listener_gets_one_rule_and_two_target_groups() -> None:
    stack = unit_stack(unit_app())
    security_group = ec2.SecurityGroup.from_security_group_id(
        stack, "SharedSg", "sg-0123456789abcdef0", allow_all_outbound=False
    )
    listener = elbv2.ApplicationListener.from_application_listener_attributes(
        stack, "Shared", listener_arn=LISTENER_ARN, security_group=security_group
    )
    service = EcsModelService(
        stack,
        "Churn",
        vpc=isolated_vpc(stack),
        model_data=ModelData.demo_model(archive=False),
        listener=listener,
        route=ServiceRoute(priority=20, host_headers=["churn.models.example.com"]),
    )
    template = Template.from_stack(stack)
    assert resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer") == {}
    assert resources(template, "AWS::ElasticLoadBalancingV2::Listener") == {}
    (rule,) = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    assert rule["Properties"]["ListenerArn"] == LISTENER_ARN
    assert rule["Properties"]["Priority"] == 20
    assert {
        "Field": "host-header",
        "HostHeaderConfig": {"Values": ["churn.models.example.com"]},
    } in (rule["Properties"]["Conditions"])
    assert len(resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")) == 2
    assert service.url is None
    assert service.load_balancer is None
    # The listener's load balancer may reach the tasks on the container port.
    ingress = resources(template, "AWS::EC2::SecurityGroupIngress")
    assert any(
        i["Properties"]["SourceSecurityGroupId"] == "sg-0123456789abcdef0"
        and i["Properties"]["FromPort"] == 8080
        for i in ingress.values()
    )
    # Alarms read the target groups on the shared load balancer (named from the listener ARN).
    assert "app/shared/50dc6c495c0c9188" in str(resources(template, "AWS::CloudWatch::Alarm"))


@pytest.mark.parametrize(
    "image",
    [
        ContainerImage.from_uri(IMAGE),
        None,  # the default image: an asset
    ],
    ids=["ecr-uri", "default-image"],
)
def test_no_ecr_pull_policy_warnings_for_images_it_grants(image: ContainerImage | None) -> None:
    app = unit_app()
    stack = unit_stack(app)
    EcsModelService(stack, "Churn", vpc=isolated_vpc(stack), image=image)
    messages = app.synth().get_stack_by_name(stack.stack_name).messages
    assert [m.entry.data for m in messages if "ECR" in str(m.entry.data)] == []


def test_cdk_warns_about_an_ecr_uri_by_itself() -> None:
    """The planted defect the test above guards against: a plain ECS container with an ECR URI
    image warns (@aws-cdk/aws-ecs:ecrImageRequiresPolicy) once per container."""
    app = unit_app()
    stack = unit_stack(app)
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("web", image=ecs.ContainerImage.from_registry(IMAGE))
    messages = app.synth().get_stack_by_name(stack.stack_name).messages
    assert len([m for m in messages if "pulling from ECR" in str(m.entry.data)]) == 1
