"""How each CloudFormation resource type costs money: the rules of the idle-cost estimate.

A rule reads one resource (with the lookups of :class:`TemplateIndex`: references, scalable
targets) and yields :class:`Fixed` costs (billed while idle) and :class:`Usage` prices (billed
with traffic). Types in :data:`FREE_TYPES` cost nothing at idle; any other type is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Resource = Mapping[str, Any]
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True, kw_only=True)
class Fixed:
    """What a resource costs at idle: ``quantity`` units of ``rate`` per hour (``hourly``) or
    per month."""

    kind: str
    rate: str
    quantity: float
    resource: str
    hourly: bool = True


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Something that scales with traffic, priced per unit of ``rate`` (``None``: no single
    rate; ``note`` says what is billed)."""

    kind: str
    rate: str | None
    note: str = ""


# --- reading templates ------------------------------------------------------------------------


def refs(value: Any) -> set[str]:
    """Logical IDs that ``value`` references through ``Ref`` or ``Fn::GetAtt``."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and isinstance(attribute[0], str):
            found.add(attribute[0])
        for item in value.values():
            found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def literal(value: Any) -> str | None:
    """``value`` as a string when it is one, or an ``Fn::Join`` of strings; else ``None``."""
    if isinstance(value, str):
        return value
    join = value.get("Fn::Join") if isinstance(value, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list):
        parts = [literal(part) for part in join[1]]
        if all(part is not None for part in parts):
            return str(join[0]).join(part for part in parts if part is not None)
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@dataclass
class TemplateIndex:
    """One template with the lookups the rules need."""

    resources: Mapping[str, Resource]
    _targets: list[tuple[str, Resource]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._targets = [
            (logical_id, resource.get("Properties", {}))
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == "AWS::ApplicationAutoScaling::ScalableTarget"
        ]

    def of_type(self, type_name: str) -> list[Mapping[str, Any]]:
        """The properties of every resource of ``type_name``."""
        return [
            resource.get("Properties", {})
            for resource in self.resources.values()
            if resource.get("Type") == type_name
        ]

    def props(self, logical_id: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id, {})
        properties: Mapping[str, Any] = resource.get("Properties", {})
        return properties

    def referenced(self, value: Any, type_name: str) -> str | None:
        """The first resource of ``type_name`` that ``value`` references."""
        for logical_id in sorted(refs(value)):
            if self.resources.get(logical_id, {}).get("Type") == type_name:
                return logical_id
        return None

    def scaling_minimum(
        self, namespace: str, *, target: str | None = None, resource_id: str | None = None
    ) -> int | None:
        """MinCapacity of the scalable target (in ``namespace``) that references ``target`` or
        whose ResourceId is ``resource_id``; ``None`` without one."""
        for _, properties in self._targets:
            if properties.get("ServiceNamespace") != namespace:
                continue
            identifier = properties.get("ResourceId")
            if (target is not None and target in refs(identifier)) or (
                resource_id is not None and literal(identifier) == resource_id
            ):
                return int(properties.get("MinCapacity", 0))
        return None


# --- rules: one per priced resource type ----------------------------------------------------

Rule = Callable[[TemplateIndex, str, Mapping[str, Any]], Iterable[Fixed | Usage]]


def _endpoint_config(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    endpoint_ids = [
        other
        for other, resource in t.resources.items()
        if resource.get("Type") == "AWS::SageMaker::Endpoint"
        and logical_id in refs(resource.get("Properties", {}).get("EndpointConfigName"))
    ]
    endpoints = [t.props(other) for other in endpoint_ids]
    name = literal(endpoints[0].get("EndpointName")) if endpoints else None
    variants = [*p.get("ProductionVariants", []), *p.get("ShadowProductionVariants", [])]
    for variant in variants:
        serverless = variant.get("ServerlessConfig")
        if serverless is not None:
            memory_gb = int(serverless.get("MemorySizeInMB", 1024)) / 1024
            key = f"sagemaker.serverless:{serverless.get('MemorySizeInMB')}"
            yield Usage(kind="SageMaker serverless inference", rate=key)
            provisioned = int(serverless.get("ProvisionedConcurrency", 0))
            if provisioned:
                yield Fixed(
                    kind="SageMaker serverless provisioned concurrency",
                    rate=f"sagemaker.serverless_provisioned:{serverless.get('MemorySizeInMB')}",
                    quantity=provisioned * memory_gb * SECONDS_PER_HOUR,
                    resource=logical_id,
                )
            continue
        instance_type = variant.get("InstanceType", "unknown")
        managed = variant.get("ManagedInstanceScaling") or {}
        if managed.get("Status") == "ENABLED":
            minimum_count = int(managed.get("MinInstanceCount", 1))
            count = _managed_minimum(t, endpoint_ids, variant, minimum_count)
        else:
            resource_id = f"endpoint/{name}/variant/{variant.get('VariantName')}" if name else None
            minimum = t.scaling_minimum("sagemaker", resource_id=resource_id)
            count = int(variant.get("InitialInstanceCount", 1)) if minimum is None else minimum
        key = f"sagemaker.hosting:{instance_type}"
        if count:
            yield Fixed(
                kind="SageMaker endpoint instances", rate=key, quantity=count, resource=logical_id
            )
        yield Usage(kind="SageMaker endpoint instances added by autoscaling", rate=key)
    yield Usage(kind="SageMaker endpoint data in and out", rate="sagemaker.data")


def _managed_minimum(
    t: TemplateIndex, endpoints: list[str], variant: Mapping[str, Any], minimum: int
) -> int:
    """The idle instances of a variant under SageMaker managed instance scaling: its
    MinInstanceCount; on an inference-component host (no ModelName) that scales to zero, at
    least one while any of its components keeps a copy (their scalable target's minimum, or
    their copy count without one). One is a lower bound: the copies may need more."""
    if minimum > 0 or "ModelName" in variant:
        return minimum
    for component in t.of_type("AWS::SageMaker::InferenceComponent"):
        if not refs(component.get("EndpointName")) & set(endpoints):
            continue
        name = literal(component.get("InferenceComponentName"))
        resource_id = f"inference-component/{name}" if name else None
        kept = t.scaling_minimum("sagemaker", resource_id=resource_id)
        if kept is None:
            kept = int((component.get("RuntimeConfig") or {}).get("CopyCount", 1))
        if kept > 0:
            return 1
    return 0


def _ecs_service(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    providers = {s.get("CapacityProvider") for s in p.get("CapacityProviderStrategy", [])}
    on_demand = p.get("LaunchType") == "FARGATE" or "FARGATE" in providers
    if not on_demand and "FARGATE_SPOT" not in providers:
        return  # EC2 capacity is priced on its Auto Scaling group
    task = t.referenced(p.get("TaskDefinition"), "AWS::ECS::TaskDefinition")
    task_props = t.props(task) if task else {}
    minimum = t.scaling_minimum("ecs", target=logical_id)
    count = int(p.get("DesiredCount", 1)) if minimum is None else minimum
    arm = task_props.get("RuntimePlatform", {}).get("CpuArchitecture") == "ARM64"
    prefix = f"fargate.{'' if on_demand else 'spot_'}{'arm_' if arm else ''}"
    vcpu = int(task_props.get("Cpu", 0)) / 1024
    memory_gb = int(task_props.get("Memory", 0)) / 1024
    if count:
        yield Fixed(
            kind="ECS Fargate tasks",
            rate=f"{prefix}vcpu",
            quantity=count * vcpu,
            resource=logical_id,
        )
        yield Fixed(
            kind="ECS Fargate tasks",
            rate=f"{prefix}memory",
            quantity=count * memory_gb,
            resource=logical_id,
        )
    yield Usage(
        kind="ECS Fargate tasks added by autoscaling",
        rate=f"{prefix}vcpu",
        note="plus memory GB-hours",
    )


def _auto_scaling_group(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    template = t.referenced(p.get("LaunchTemplate"), "AWS::EC2::LaunchTemplate")
    data = t.props(template).get("LaunchTemplateData", {}) if template else {}
    instance_type = data.get("InstanceType", "unknown")
    minimum = int(literal(p.get("MinSize")) or 0)
    if minimum:
        yield Fixed(
            kind="EC2 capacity (ECS on EC2)",
            rate=f"ec2:{instance_type}",
            quantity=minimum,
            resource=logical_id,
        )


def _provisioned_lambda(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    config = p.get("ProvisionedConcurrencyConfig")
    if not config:
        return
    function = t.referenced(p.get("FunctionName"), "AWS::Lambda::Function")
    function_props = t.props(function) if function else {}
    memory_gb = int(function_props.get("MemorySize", 128)) / 1024
    arm = function_props.get("Architectures", ["x86_64"]) == ["arm64"]
    minimum = t.scaling_minimum("lambda", target=logical_id)
    count = int(config.get("ProvisionedConcurrentExecutions", 0)) if minimum is None else minimum
    if count:
        yield Fixed(
            kind="Lambda provisioned concurrency",
            rate="lambda.provisioned_arm" if arm else "lambda.provisioned",
            quantity=count * memory_gb * SECONDS_PER_HOUR,
            resource=logical_id,
        )


def _lambda_function(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    arm = p.get("Architectures", ["x86_64"]) == ["arm64"]
    yield Usage(kind="Lambda requests", rate="lambda.requests")
    yield Usage(kind="Lambda duration", rate="lambda.duration_arm" if arm else "lambda.duration")


def _vpc_endpoint(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    if p.get("VpcEndpointType", "Gateway") != "Interface":
        return
    zones = len(p.get("SubnetIds", [])) or 1
    yield Fixed(
        kind="Interface VPC endpoints",
        rate="vpc.interface_endpoint",
        quantity=zones,
        resource=logical_id,
    )
    yield Usage(kind="Interface VPC endpoint data processed", rate="vpc.interface_endpoint_data")


def _load_balancer(
    t: TemplateIndex, logical_id: str, p: Mapping[str, Any]
) -> Iterator[Fixed | Usage]:
    kind = p.get("Type", "application")
    yield Fixed(kind="Load balancers", rate=f"elb.{kind}", quantity=1, resource=logical_id)
    yield Usage(kind="Load balancer capacity units", rate=f"elb.{kind}_lcu")


def _alarm(t: TemplateIndex, logical_id: str, p: Mapping[str, Any]) -> Iterator[Fixed | Usage]:
    queries = p.get("Metrics") or []
    metrics = max(1, sum(1 for query in queries if "MetricStat" in query))
    periods = [p.get("Period")] + [q.get("MetricStat", {}).get("Period") for q in queries]
    high_resolution = any(isinstance(period, int) and period < 60 for period in periods)
    if any("ANOMALY_DETECTION_BAND" in str(query.get("Expression", "")) for query in queries):
        metrics *= 3  # an anomaly detection alarm bills three metrics per metric
    key = "cloudwatch.alarm_high_resolution" if high_resolution else "cloudwatch.alarm_standard"
    yield Fixed(
        kind="CloudWatch alarms", rate=key, quantity=metrics, resource=logical_id, hourly=False
    )


def _fixed(kind: str, rate: str, *, hourly: bool) -> Rule:
    def rule(t: TemplateIndex, logical_id: str, p: Mapping[str, Any]) -> Iterator[Fixed | Usage]:
        yield Fixed(kind=kind, rate=rate, quantity=1, resource=logical_id, hourly=hourly)

    return rule


def _usage(*items: tuple[str, str | None, str]) -> Rule:
    def rule(t: TemplateIndex, logical_id: str, p: Mapping[str, Any]) -> Iterator[Fixed | Usage]:
        for kind, rate, note in items:
            yield Usage(kind=kind, rate=rate, note=note)

    return rule


def _both(*rules: Rule) -> Rule:
    def rule(t: TemplateIndex, logical_id: str, p: Mapping[str, Any]) -> Iterator[Fixed | Usage]:
        for each in rules:
            yield from each(t, logical_id, p)

    return rule


def _schedule(t: TemplateIndex, logical_id: str, p: Mapping[str, Any]) -> Iterator[Fixed | Usage]:
    yield Usage(kind="EventBridge Scheduler invocations", rate="scheduler.invocations")
    text = "".join(_strings(p.get("Target", {})))
    if "createProcessingJob" in text:
        match = re.search(r'"InstanceType"\s*:\s*"(ml\.[a-z0-9.]+)"', text)
        key = f"sagemaker.processing:{match.group(1)}" if match else None
        yield Usage(
            kind="Scheduled SageMaker processing jobs",
            rate=key,
            note=f"per instance-hour of run time, {p.get('ScheduleExpression', '')}",
        )


RULES: dict[str, Rule] = {
    "AWS::SageMaker::EndpointConfig": _endpoint_config,
    "AWS::ECS::Service": _ecs_service,
    "AWS::AutoScaling::AutoScalingGroup": _auto_scaling_group,
    "AWS::Lambda::Alias": _provisioned_lambda,
    "AWS::Lambda::Version": _provisioned_lambda,
    "AWS::Lambda::Function": _lambda_function,
    "AWS::EC2::VPCEndpoint": _vpc_endpoint,
    "AWS::EC2::NatGateway": _both(
        _fixed("NAT gateways", "vpc.nat_gateway", hourly=True),
        _usage(("NAT gateway data processed", "vpc.nat_gateway_data", "")),
    ),
    "AWS::EC2::EIP": _fixed("Public IPv4 addresses", "vpc.public_ipv4", hourly=True),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::KMS::Key": _both(
        _fixed("KMS keys", "kms.key", hourly=False), _usage(("KMS requests", "kms.requests", ""))
    ),
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _fixed(
        "CloudWatch alarms", "cloudwatch.alarm_composite", hourly=False
    ),
    "AWS::CloudWatch::Dashboard": _fixed(
        "CloudWatch dashboards", "cloudwatch.dashboard", hourly=False
    ),
    "AWS::SecretsManager::Secret": _fixed(
        "Secrets Manager secrets", "secretsmanager.secret", hourly=False
    ),
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Logs::LogGroup": _usage(
        ("CloudWatch Logs ingestion", "logs.ingestion", ""),
        ("CloudWatch Logs storage", "logs.storage", ""),
    ),
    "AWS::EC2::FlowLog": _usage(("VPC flow logs delivered", "logs.vended", "")),
    "AWS::S3::Bucket": _usage(
        ("S3 storage", "s3.storage", ""), ("S3 writes", "s3.put_requests", "")
    ),
    "AWS::SQS::Queue": _usage(("SQS requests", "sqs.requests", "")),
    "AWS::SNS::Topic": _usage(("SNS publishes", "sns.requests", "")),
    "AWS::StepFunctions::StateMachine": _usage(
        ("Step Functions state transitions", "stepfunctions.transitions", "")
    ),
    "AWS::ApiGateway::RestApi": _usage(
        ("API Gateway REST requests", "apigateway.rest_requests", "")
    ),
    "AWS::SageMaker::Pipeline": _usage(
        ("SageMaker pipeline runs", None, "instance-hours of its training and processing steps")
    ),
    "AWS::SageMaker::MonitoringSchedule": _usage(
        ("SageMaker Model Monitor runs", None, "processing instance-hours per run")
    ),
}

# Types that cost nothing while idle and have no traffic price of their own worth listing.
FREE_TYPES = frozenset(
    {
        "AWS::ApiGateway::Account",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Model",
        "AWS::ApiGateway::RequestValidator",
        "AWS::ApiGateway::Resource",
        "AWS::ApiGateway::Stage",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CDK::Metadata",
        "AWS::CodeDeploy::Application",
        "AWS::CodeDeploy::DeploymentGroup",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::LaunchTemplate",
        "AWS::EC2::Route",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::ECS::Cluster",
        "AWS::ECS::TaskDefinition",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::Events::Rule",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SageMaker::Endpoint",
        # Its copies run on its endpoint's instances, which the endpoint configuration prices.
        "AWS::SageMaker::InferenceComponent",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::ModelPackageGroup",
        "AWS::SageMaker::DataQualityJobDefinition",
        "AWS::SageMaker::ModelQualityJobDefinition",
        "AWS::SageMaker::ModelBiasJobDefinition",
        "AWS::SageMaker::ModelExplainabilityJobDefinition",
    }
)


def is_free(type_name: str) -> bool:
    """Whether ``type_name`` costs nothing while idle."""
    return type_name in FREE_TYPES or type_name.startswith("Custom::")
