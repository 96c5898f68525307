"""Bad EcsModelService input for rollouts and for what it is given (cluster, load balancer,
listener, secrets) is rejected at synth time with a precise message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    EcsModelService,
    ModelData,
    ServiceAlarms,
    ServiceDeployment,
    ServiceRoute,
)
from tests.helpers.apps import isolated_vpc, unit_app, unit_stack
from tests.helpers.cases import case_ids

PATH = "Test/Churn"
LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/"
    "50dc6c495c0c9188/f2f7dc8efc522ab2"
)
GPU = {"gpu_count": 1, "gpu_instance_type": "g5.xlarge", "cpu": 4096, "memory_mib": 15360}


class Resources:
    """Collaborators that need a stack: the service's VPC and another one."""

    def __init__(self) -> None:
        self.stack = unit_stack(unit_app())
        self.vpc = isolated_vpc(self.stack)

    def other_vpc(self) -> ec2.Vpc:
        return isolated_vpc(self.stack, "OtherVpc")

    def listener(self) -> elbv2.IApplicationListener:
        return elbv2.ApplicationListener.from_application_listener_attributes(
            self.stack,
            "Shared",
            listener_arn=LISTENER_ARN,
            security_group=ec2.SecurityGroup.from_security_group_id(
                self.stack, "SharedSg", "sg-0123456789abcdef0", allow_all_outbound=False
            ),
        )

    def http_listener(self) -> elbv2.ApplicationListener:
        balancer = elbv2.ApplicationLoadBalancer(self.stack, "Alb", vpc=self.vpc)
        return balancer.add_listener(
            "Http", port=80, default_action=elbv2.ListenerAction.fixed_response(404)
        )

    def secret(self) -> ecs.Secret:
        return ecs.Secret.from_secrets_manager(
            secretsmanager.Secret.from_secret_name_v2(self.stack, "Secret", "churn/api")
        )


def service(**kwargs: Any) -> Callable[[Resources], EcsModelService]:
    """EcsModelService(stack, "Churn", vpc=vpc, **kwargs); callable values get the Resources."""

    def build(resources: Resources) -> EcsModelService:
        def resolve(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: resolve(v) for k, v in value.items()}
            return value(resources) if callable(value) else value

        resolved = {k: resolve(v) for k, v in kwargs.items()}
        resolved.setdefault("model_data", ModelData.demo_model(archive=False))
        return EcsModelService(resources.stack, "Churn", vpc=resources.vpc, **resolved)

    return build


def _in_other_vpc(resources: Resources) -> elbv2.IApplicationLoadBalancer:
    return elbv2.ApplicationLoadBalancer(resources.stack, "Elsewhere", vpc=resources.other_vpc())


def _cluster_elsewhere(resources: Resources) -> ecs.ICluster:
    return ecs.Cluster(resources.stack, "Cluster", vpc=resources.other_vpc())


def _imported_cluster(resources: Resources) -> ecs.ICluster:
    return ecs.Cluster.from_cluster_attributes(
        resources.stack, "Imported", cluster_name="shared", vpc=resources.vpc
    )


def _own_alb(resources: Resources) -> elbv2.IApplicationLoadBalancer:
    return elbv2.ApplicationLoadBalancer(resources.stack, "Own", vpc=resources.vpc)


def _certificate(resources: Resources) -> acm.ICertificate:
    return acm.Certificate.from_certificate_arn(
        resources.stack,
        "Cert",
        "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
    )


def _bucket(resources: Resources) -> s3.IBucket:
    return s3.Bucket.from_bucket_name(resources.stack, "Logs", "access-logs")


ROUTE = ServiceRoute(priority=10, host_headers=["churn.example.com"])

CONSTRUCT_CASES: list[tuple[Callable[[Resources], EcsModelService], str]] = [
    # rollouts
    (
        service(deployment=ServiceDeployment.blue_green(cdk.Duration.minutes(2))),
        r"deployment\.bake_time must be at least 3 minutes \(3 alarm periods of 60 s: the "
        r"rollback alarms cannot fire sooner.*\) \(got 2 minutes\)",
    ),
    (
        service(
            deployment=ServiceDeployment.canary(bake_time=cdk.Duration.minutes(10)),
            alarm_thresholds=ServiceAlarms(period=cdk.Duration.minutes(5)),
        ),
        r"deployment\.bake_time must be at least 15 minutes .* \(got 10 minutes\)",
    ),
    # an existing cluster, load balancer or listener
    (
        service(load_balancer=_own_alb, listener=lambda r: r.listener(), route=ROUTE),
        r"listener cannot be combined with load_balancer: give the load balancer .* not both",
    ),
    (
        service(load_balancer=_in_other_vpc),
        r"load_balancer must be an Application Load Balancer in vpc \(its targets are the "
        r"tasks' IPs there\) \(got a load balancer in VPC \$\{Token",
    ),
    (
        service(cluster=_cluster_elsewhere),
        r"cluster must be a cluster in vpc \(its tasks run in vpc's subnets\)",
    ),
    (
        service(cluster=_imported_cluster, **GPU),
        r"gpu_count cannot be combined with an imported cluster: GPU tasks run on the "
        r"construct's own EC2 capacity provider",
    ),
    (
        service(listener=lambda r: r.listener()),
        r"route must be given with listener= \(a ServiceRoute whose priority no other rule of "
        r"the shared listener has\) \(got None\)",
    ),
    (
        service(
            listener=lambda r: r.listener(),
            route=ROUTE,
            certificate=_certificate,
        ),
        r"certificate cannot be combined with listener: the listener's certificates are its own",
    ),
    (
        service(listener=lambda r: r.listener(), route=ROUTE, access_logs=_bucket),
        r"access_logs cannot be combined with listener: access logs and the web ACL belong to",
    ),
    (
        service(
            load_balancer=_own_alb,
            web_acl_arn="arn:aws:wafv2:eu-west-1:123456789012:"
            "regional/webacl/m/a1b2c3d4-5678-90ab-cdef-0123456789ab",
        ),
        r"web_acl_arn cannot be combined with load_balancer",
    ),
    (
        service(listener=lambda r: r.http_listener(), route=ROUTE, public=True),
        r"listener must be an HTTPS listener with a certificate when public=True \(a public "
        r"model endpoint serves TLS only\) \(got an HTTP listener without a certificate\)",
    ),
    # types at the public boundary
    (service(cluster="shared"), r"cluster must be an ecs\.ICluster \(got str 'shared'\)"),
    (
        service(load_balancer="arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/b"),
        r"load_balancer must be an elbv2\.IApplicationLoadBalancer \(got str 'arn:aws:",
    ),
    (
        service(listener=LISTENER_ARN, route=ROUTE),
        r"listener must be an elbv2\.IApplicationListener \(got str 'arn:aws:",
    ),
    (
        service(secrets={"API_KEY": "arn:aws:secretsmanager:eu-west-1:1:secret:x"}),
        r"secrets\['API_KEY'\] must be an ecs\.Secret \(ecs\.Secret\.from_secrets_manager or "
        r"ecs\.Secret\.from_ssm_parameter\) \(got str",
    ),
    (
        service(deployment="canary"),
        r"deployment must be a ServiceDeployment \(such as ServiceDeployment\.canary\(\)\) "
        r"\(got str 'canary'\)",
    ),
    (
        service(listener=lambda r: r.listener(), route=10),
        r"route must be a ServiceRoute \(such as ServiceRoute\(priority=10\)\) \(got int 10\)",
    ),
    # secret and environment names
    (
        service(secrets={"1KEY": lambda r: r.secret()}),
        r"secrets\['1KEY'\] must be a name of letters, digits and _ not starting with a digit "
        r"\(got '1KEY'\)",
    ),
    (
        service(secrets={"PORT": lambda r: r.secret()}),
        r"secrets\['PORT'\] must be left to the construct",
    ),
    (
        service(secrets={"TOKEN": lambda r: r.secret()}, environment={"TOKEN_TTL": "1"}),
        r"environment\['TOKEN_TTL'\] must be free of secrets",
    ),
    (
        service(secrets={"MODEL_KEY": lambda r: r.secret()}, environment={"MODEL_KEY": "x"}),
        r"secrets\['MODEL_KEY'\] must be a name environment does not also set",
    ),
    (
        service(environment={"LOG-LEVEL": "debug"}),
        r"environment\['LOG-LEVEL'\] must be a name of letters, digits and _",
    ),
]


@pytest.mark.parametrize(("build", "message"), CONSTRUCT_CASES, ids=case_ids(CONSTRUCT_CASES))
def test_construct_rule(build: Callable[[Resources], EcsModelService], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^" + PATH + r": " + message):
        build(Resources())


OPTION_CASES: list[tuple[Callable[[], object], str]] = [
    (
        lambda: ServiceDeployment(strategy="blue_green"),
        r"ServiceDeployment: strategy must be one of 'ROLLING', 'BLUE_GREEN', 'LINEAR', 'CANARY' "
        r"\(got 'blue_green'\)",
    ),
    (
        lambda: ServiceDeployment.blue_green(cdk.Duration.seconds(90)),
        r"ServiceDeployment: bake_time must be whole minutes between 0 and 1440 \(ECS counts it "
        r"in minutes\) \(got 90 seconds\)",
    ),
    (
        lambda: ServiceDeployment.blue_green(cdk.Duration.hours(25)),
        r"bake_time must be whole minutes between 0 and 1440 .* \(got 90000 seconds\)",
    ),
    (
        lambda: ServiceDeployment.canary(percent=0.05),
        r"ServiceDeployment: canary_percent must be between 0\.1 and 100 % in steps of 0\.1 "
        r"\(got 0\.05\)",
    ),
    (
        lambda: ServiceDeployment.canary(percent=12.25),
        r"canary_percent must be between 0\.1 and 100 % in steps of 0\.1 \(got 12\.25\)",
    ),
    (
        lambda: ServiceDeployment.linear(step_percent=2),
        r"step_percent must be between 3 and 100 % in steps of 0\.1 \(got 2\)",
    ),
    (
        lambda: ServiceDeployment.linear(interval=cdk.Duration.days(2)),
        r"step_interval must be whole minutes between 0 and 1440 .* \(got 172800 seconds\)",
    ),
    (
        lambda: ServiceDeployment(strategy="ROLLING", bake_time=cdk.Duration.minutes(5)),
        r"ServiceDeployment: bake_time cannot be combined with strategy='ROLLING': bake_time "
        r"applies to BLUE_GREEN, LINEAR and CANARY deployments",
    ),
    (
        lambda: ServiceDeployment(strategy="BLUE_GREEN", step_interval=cdk.Duration.minutes(5)),
        r"step_interval cannot be combined with strategy='BLUE_GREEN': step_interval applies "
        r"to LINEAR and CANARY deployments",
    ),
    (
        lambda: ServiceDeployment(strategy="LINEAR", canary_percent=10),
        r"canary_percent cannot be combined with strategy='LINEAR': canary_percent applies to "
        r"CANARY deployments",
    ),
    (
        lambda: ServiceRoute(priority=0),
        r"ServiceRoute: priority must be between 1 and 50000 \(got 0\)",
    ),
    (
        lambda: ServiceRoute(path_patterns=["/a", "/b", "/c"], host_headers=["x", "y", "z"]),
        r"ServiceRoute: path_patterns and host_headers must be 1 to 5 values together "
        r"\(an ALB rule's limit\) \(got 6\)",
    ),
    (
        lambda: ServiceRoute(path_patterns=["/models/{name}"]),
        r"ServiceRoute: path_patterns\[0\] must be 1-128 characters of .* \(got '/models/\{name\}'\)",
    ),
]


@pytest.mark.parametrize(("build", "message"), OPTION_CASES, ids=case_ids(OPTION_CASES))
def test_option_rule(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


@pytest.mark.parametrize(
    "deployment",
    [
        ServiceDeployment.blue_green(cdk.Duration.minutes(3)),
        ServiceDeployment.blue_green(cdk.Duration.minutes(0), rollback_on_alarms=False),
        ServiceDeployment.rolling(),
    ],
    ids=["bake-equal-to-alarm-reaction", "no-bake-without-alarm-rollback", "rolling"],
)
def test_bake_time_edges_are_accepted(deployment: ServiceDeployment) -> None:
    service(deployment=deployment)(Resources())
