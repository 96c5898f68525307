"""The rules an EcsModelService checks before it builds anything: port and container user,
task count against the autoscaling bounds, the health-check grace period, what a public
service needs, the Fargate or GPU compute size, and environment variables that must be neither
reserved nor secrets, secrets' names, what an existing cluster, load balancer or listener
must be, and a bake time the rollback alarms can act within. Each raises a ConfigurationError
naming the construct path, keyword and reason."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal.fargate import (
    FARGATE_CPU,
    describe_fargate_memory,
    fargate_memory_choices,
)
from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk._internal.validators.ecs_deployments import bake_problem
from mlops_cdk._internal.validators.environment import environment_name_problem
from mlops_cdk._internal.validators.instance_types import gpu_task_problems, nvidia_gpu_families
from mlops_cdk.constructs.ecs_model_service.options import (
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceHealthCheck,
    ServiceRoute,
)

MAX_GRACE_PERIOD = 2_147_483_647
# EC2 families with NVIDIA GPUs on x86_64, which the ECS GPU-optimised AMI supports (AMD g4ad and
# Graviton g5g are excluded: the AMI ships NVIDIA drivers for x86_64 only): those of the capacity
# table in _internal/data/ec2-accelerated-capacities.json (NVIDIA types).
GPU_FAMILIES = nvidia_gpu_families()
_EC2_INSTANCE_TYPE = r"(?P<family>[a-z][a-z0-9-]*)\.(?P<size>[a-z0-9]+)"
# Names that suggest a secret: those belong in ECS secrets (Secrets Manager / SSM), not in
# plain-text environment variables that anyone who can read the task definition sees.
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|ACCESS_KEY|API_KEY", re.I)
# Variables the construct sets; a caller overriding them would break the start-up contract.
_RESERVED = (
    "PORT", "MLOPS_MODEL_S3_URI", "MLOPS_DOWNLOAD_DIR", "TMPDIR", "MLOPS_WORKERS", "AWS_REGION",
)  # fmt: skip


def check(
    check: Checker,
    *,
    vpc: ec2.IVpc,
    cpu: int,
    memory_mib: int,
    desired_count: int,
    gpu_count: int,
    gpu_instance_type: str | None,
    container_port: int,
    autoscaling: ServiceAutoScaling | None,
    grace_period: Duration,
    health_check: ServiceHealthCheck,
    public: bool,
    certificate: acm.ICertificate | None,
    environment: Mapping[str, str],
    ephemeral_storage_gib: int | None,
    container_user: str,
    web_acl_arn: str | None,
    secrets: Mapping[str, ecs.Secret],
    cluster: ecs.ICluster | None,
    load_balancer: elbv2.IApplicationLoadBalancer | None,
    listener: elbv2.IApplicationListener | None,
    route: ServiceRoute | None,
    access_logs: s3.IBucket | None,
    access_logs_prefix: str | None,
    deployment: ServiceDeployment,
    alarm_thresholds: ServiceAlarms,
) -> None:
    """Every rule of an EcsModelService, in the order a reader meets its keywords."""
    check.in_range("container_port", container_port, 1, 65535)
    check.matches(
        "container_user",
        container_user,
        r"(?!0(:|$))[0-9]{1,10}:[0-9]{1,10}",
        "a numeric uid:gid other than root (0), such as '10001:10001'",
    )
    check.at_least("desired_count", desired_count, 1)
    if autoscaling is not None:
        check.require(
            autoscaling.min_capacity <= desired_count <= autoscaling.max_capacity,
            "desired_count",
            f"between autoscaling.min_capacity ({autoscaling.min_capacity}) and "
            f"autoscaling.max_capacity ({autoscaling.max_capacity})",
            desired_count,
        )
    grace = grace_period.to_seconds()
    check.in_range("health_check_grace_period", grace, 0, MAX_GRACE_PERIOD, "seconds")
    check.require(
        grace >= health_check.time_to_healthy,
        "health_check_grace_period",
        f"at least {health_check.time_to_healthy:g} seconds (healthy_threshold_count "
        f"{health_check.healthy_threshold_count} x interval "
        f"{health_check.interval.to_seconds():g} s: the least time the load balancer needs to "
        "put a started task in service)",
        Said(f"{grace:g} seconds"),
    )
    _check_existing(
        check,
        vpc=vpc,
        gpu=gpu_count > 0,
        public=public,
        certificate=certificate,
        cluster=cluster,
        load_balancer=load_balancer,
        listener=listener,
        route=route,
        access_logs=access_logs,
        access_logs_prefix=access_logs_prefix,
        web_acl_arn=web_acl_arn,
    )
    if public and listener is None:
        check.require(
            certificate is not None,
            "certificate",
            "given when public=True (a public model endpoint serves HTTPS only)",
            None,
        )
    if public and listener is None and load_balancer is None:
        check.require(
            bool(vpc.public_subnets),
            "vpc",
            "a VPC with public subnets when public=True (an internet-facing load balancer "
            "lives there)",
            Said("no public subnets"),
        )
    check.valid(
        "web_acl_arn", web_acl_arn, arn_problem, service="wafv2", resource_type="regional/webacl"
    )
    _check_compute(
        check,
        cpu=cpu,
        memory_mib=memory_mib,
        gpu_count=gpu_count,
        gpu_instance_type=gpu_instance_type,
        ephemeral_storage_gib=ephemeral_storage_gib,
    )
    for keyword, names in (("environment", list(environment)), ("secrets", list(secrets))):
        for name in names:
            where = f"{keyword}[{name!r}]"
            check.require(
                name not in _RESERVED,
                where,
                "left to the construct (it sets " + ", ".join(_RESERVED) + ")",
                name,
            )
            if keyword == "environment" and _SECRET_NAME.search(name):
                check.fail(
                    where,
                    "free of secrets: pass secrets as ECS secrets from Secrets Manager or SSM, "
                    "which are not visible in the task definition",
                    Said("a name that looks like a secret"),
                )
            check.valid(where, name, environment_name_problem, api="ecs")
            check.require(
                keyword == "environment" or name not in environment,
                where,
                "a name environment does not also set (the container would get two values)",
                name,
            )
    _check_bake_time(check, deployment, alarm_thresholds)


def _check_bake_time(
    check: Checker, deployment: ServiceDeployment, thresholds: ServiceAlarms
) -> None:
    """A bake shorter than the alarms' reaction time ends before a bad revision can fail."""
    if not (deployment.rollback_on_alarms and deployment.shifts_traffic):
        return
    bake = deployment.bake_time.to_seconds() if deployment.bake_time is not None else 0
    problem = bake_problem(bake, alarm_period_seconds=thresholds.period.to_seconds())
    if problem is not None:
        check.fail("deployment.bake_time", problem, Said(f"{bake / 60:g} minutes"))


def _same_vpc(vpc: ec2.IVpc, other: ec2.IVpc | None) -> bool:
    """False only when ``other`` is knowably another VPC: both IDs resolved and different, or
    two different VPCs created in this app."""
    if other is None or other is vpc:
        return True
    ours, theirs = vpc.vpc_id, other.vpc_id
    if not Token.is_unresolved(ours) and not Token.is_unresolved(theirs):
        return ours == theirs
    return not (isinstance(vpc, ec2.Vpc) and isinstance(other, ec2.Vpc))


def _check_existing(
    check: Checker,
    *,
    vpc: ec2.IVpc,
    gpu: bool,
    public: bool,
    certificate: acm.ICertificate | None,
    cluster: ecs.ICluster | None,
    load_balancer: elbv2.IApplicationLoadBalancer | None,
    listener: elbv2.IApplicationListener | None,
    route: ServiceRoute | None,
    access_logs: s3.IBucket | None,
    access_logs_prefix: str | None,
    web_acl_arn: str | None,
) -> None:
    """An existing cluster, load balancer or listener: in ``vpc``, not two fronts at once, and
    nothing that configures a load balancer this construct does not own."""
    if cluster is not None:
        check.require(
            _same_vpc(vpc, cluster.vpc),
            "cluster",
            "a cluster in vpc (its tasks run in vpc's subnets)",
            Said(f"a cluster in VPC {cluster.vpc.vpc_id}"),
        )
        if gpu and not isinstance(cluster, ecs.Cluster):
            check.not_together(
                "gpu_count",
                "an imported cluster",
                "GPU tasks run on the construct's own EC2 capacity provider, which it can only "
                "add to a cluster it creates or an ecs.Cluster of this app (pass that, or leave "
                "cluster out)",
            )
    if listener is not None and load_balancer is not None:
        check.not_together(
            "listener",
            "load_balancer",
            "give the load balancer (the service adds its own listener to it) or a listener "
            "of it (the service adds a rule to it), not both",
        )
    front = "listener" if listener is not None else "load_balancer"
    if listener is not None or load_balancer is not None:
        for keyword, value in (
            ("access_logs", access_logs),
            ("access_logs_prefix", access_logs_prefix),
            ("web_acl_arn", web_acl_arn),
        ):
            if value is not None:
                check.not_together(
                    keyword,
                    front,
                    "access logs and the web ACL belong to the given load balancer's owner",
                )
    if load_balancer is not None:
        check.require(
            _same_vpc(vpc, load_balancer.vpc),
            "load_balancer",
            "an Application Load Balancer in vpc (its targets are the tasks' IPs there)",
            Said(
                f"a load balancer in VPC {load_balancer.vpc.vpc_id if load_balancer.vpc else '?'}"
            ),
        )
    if listener is None:
        return
    if certificate is not None:
        check.not_together(
            "certificate",
            "listener",
            "the listener's certificates are its own (listener.add_certificates)",
        )
    check.require(
        route is not None,
        "route",
        "given with listener= (a ServiceRoute whose priority no other rule of the shared "
        "listener has)",
        None,
    )
    if public and isinstance(listener, elbv2.ApplicationListener):
        cfn = listener.node.default_child
        protocol = getattr(cfn, "protocol", None) or "HTTP"
        certificates = Stack.of(listener).resolve(getattr(cfn, "certificates", None))
        check.require(
            protocol == "HTTPS" and bool(certificates),
            "listener",
            "an HTTPS listener with a certificate when public=True (a public model endpoint "
            "serves TLS only)",
            Said(f"an {protocol} listener" + ("" if certificates else " without a certificate")),
        )


def _check_compute(
    check: Checker,
    *,
    cpu: int,
    memory_mib: int,
    gpu_count: int,
    gpu_instance_type: str | None,
    ephemeral_storage_gib: int | None,
) -> None:
    check.in_range("gpu_count", gpu_count, 0, 16)
    if gpu_count == 0:
        if gpu_instance_type is not None:
            check.not_together(
                "gpu_instance_type",
                "gpu_count=0",
                "the instance type is only used for GPU tasks, which run on EC2",
            )
        check.one_of("cpu", cpu, FARGATE_CPU)
        check.require(
            memory_mib in fargate_memory_choices(cpu),
            "memory_mib",
            f"{describe_fargate_memory(cpu)} for cpu={cpu} on Fargate",
            memory_mib,
        )
        check.in_range("ephemeral_storage_gib", ephemeral_storage_gib, 21, 200, "GiB")
        return
    if ephemeral_storage_gib is not None:
        check.not_together(
            f"gpu_count={gpu_count}",
            "ephemeral_storage_gib",
            "GPU tasks run on EC2 instances, and task ephemeral storage is a Fargate setting "
            "(size the instances' volume instead)",
        )
    if gpu_instance_type is None:
        check.fail(
            "gpu_instance_type",
            "an EC2 instance type of an NVIDIA GPU family (" + ", ".join(GPU_FAMILIES) + ") "
            f"when gpu_count={gpu_count}: Fargate has no GPUs",
            None,
        )
    match = re.fullmatch(_EC2_INSTANCE_TYPE, gpu_instance_type)
    check.require(
        match is not None and match["family"] in GPU_FAMILIES,
        "gpu_instance_type",
        "an EC2 instance type of an NVIDIA GPU family (" + ", ".join(GPU_FAMILIES) + "), "
        "such as g5.xlarge",
        gpu_instance_type,
    )
    check.at_least("cpu", cpu, 128)
    check.at_least("memory_mib", memory_mib, 512, "MiB")
    _check_fits_instance(check, gpu_instance_type, gpu_count, cpu, memory_mib)


def _check_fits_instance(
    check: Checker, instance_type: str, gpu_count: int, cpu: int, memory_mib: int
) -> None:
    """A GPU task larger than one instance of its type is never placed: ECS waits forever.
    The same rule as config's (``validators.instance_types.gpu_task_problems``)."""
    given = {
        "gpu_instance_type": instance_type,
        "gpu_count": gpu_count,
        "cpu": cpu,
        "memory_mib": memory_mib,
    }
    problems = gpu_task_problems(instance_type, gpu_count=gpu_count, memory_mib=memory_mib, cpu=cpu)
    for keyword, problem in problems.items():
        check.fail(keyword, problem, given[keyword])
