"""EcsModelService: defaults, a public HTTPS service with autoscaling, GPU capacity, a
customised service, the nag packs on each, and one ConfigurationError per validation rule."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Annotations, Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs import (
    EcsModelService,
    ModelData,
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceHealthCheck,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import isolated_vpc, unit_app, unit_stack
from tests.helpers.compliance import cfn_lint
from tests.helpers.templates import assert_matches, widget_metrics

CERTIFICATE_ARN = (
    "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
)
WEB_ACL_ARN = (
    "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/models/"
    "a1b2c3d4-5678-90ab-cdef-0123456789ab"
)


def public_vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)


def model_file() -> ModelData:
    return ModelData.demo_model(archive=False)


@dataclass
class Scenario:
    stack: cdk.Stack
    service: EcsModelService
    template: Template

    def containers(self) -> dict[str, dict[str, Any]]:
        (task,) = self.template.find_resources("AWS::ECS::TaskDefinition").values()
        return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}

    def only(self, resource_type: str) -> dict[str, Any]:
        (resource,) = self.template.find_resources(resource_type).values()
        return dict(resource["Properties"])


def build(make: Callable[[cdk.Stack], EcsModelService]) -> Scenario:
    stack = unit_stack(unit_app())
    service = make(stack)
    return Scenario(stack, service, Template.from_stack(stack))


@pytest.fixture(scope="module")
def defaults() -> Scenario:
    return build(
        lambda stack: EcsModelService(
            stack, "Churn", vpc=isolated_vpc(stack), model_data=model_file()
        )
    )


@pytest.fixture(scope="module")
def public() -> Scenario:
    def make(stack: cdk.Stack) -> EcsModelService:
        service = EcsModelService(
            stack,
            "Public",
            vpc=public_vpc(stack),
            model_data=model_file(),
            public=True,
            certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERTIFICATE_ARN),
            autoscaling=ServiceAutoScaling(
                min_capacity=2, max_capacity=8, target_cpu_percent=50, requests_per_target=600
            ),
            web_acl_arn=WEB_ACL_ARN,
            deployment=ServiceDeployment.canary(percent=5, interval=cdk.Duration.minutes(3)),
        )
        return service

    return build(make)


@pytest.fixture(scope="module")
def gpu() -> Scenario:
    return build(
        lambda stack: EcsModelService(
            stack,
            "Gpu",
            vpc=public_vpc(stack),
            model_data=model_file(),
            gpu_count=1,
            gpu_instance_type="g5.xlarge",
            cpu=4096,
            memory_mib=15360,
            desired_count=2,
            autoscaling=ServiceAutoScaling(min_capacity=2, max_capacity=3),
            deletion_protection=False,
        )
    )


@pytest.fixture(scope="module")
def customised() -> Scenario:
    def make(stack: cdk.Stack) -> EcsModelService:
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        return EcsModelService(
            stack,
            "Custom",
            vpc=isolated_vpc(stack),
            model_data=model_file(),
            cpu=2048,
            memory_mib=4096,
            desired_count=3,
            container_port=9000,
            health_check_grace_period=cdk.Duration.seconds(600),
            health_check=ServiceHealthCheck(
                path="/health",
                interval=cdk.Duration.seconds(10),
                timeout=cdk.Duration.seconds(4),
                healthy_threshold_count=3,
                unhealthy_threshold_count=5,
                container_command=None,
            ),
            encryption_key=key,
            environment={"MLOPS_LOG_LEVEL": "DEBUG"},
            ephemeral_storage_gib=50,
            deletion_protection=False,
            access_logs_prefix="models/churn",
            container_user="20000:20000",
            alarm_thresholds=ServiceAlarms(
                error_5xx_rate_percent=5,
                latency_percentile="p90",
                latency=cdk.Duration.millis(250),
                cpu_percent=75,
            ),
            deployment=ServiceDeployment.rolling(),
        )

    return build(make)


# --- defaults --------------------------------------------------------------------------------


def test_defaults_run_on_fargate_with_the_aws_table_size(defaults: Scenario) -> None:
    task = defaults.only("AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == ("1024", "2048")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["NetworkMode"] == "awsvpc"
    assert task["RuntimePlatform"] == {
        "CpuArchitecture": "X86_64",
        "OperatingSystemFamily": "LINUX",
    }
    assert task["Volumes"] == [{"Name": "scratch"}]


def test_server_is_non_root_on_a_read_only_root_with_one_writable_volume(
    defaults: Scenario,
) -> None:
    server = defaults.containers()["Model"]
    assert server["User"] == "10001:10001"
    assert server["ReadonlyRootFilesystem"] is True
    assert server["LinuxParameters"] == {"Capabilities": {"Drop": ["ALL"]}}
    assert server["MountPoints"] == [
        {"ContainerPath": "/var/lib/mlops", "ReadOnly": False, "SourceVolume": "scratch"}
    ]
    env = {e["Name"]: e["Value"] for e in server["Environment"]}
    assert env["TMPDIR"] == "/var/lib/mlops"
    assert env["MLOPS_DOWNLOAD_DIR"] == "/var/lib/mlops/model"
    assert env["PORT"] == "8080"
    assert env["MLOPS_WORKERS"] == "1"
    assert env["MLOPS_MODEL_S3_URI"].startswith("s3://cdk-")
    assert env["MLOPS_MODEL_S3_URI"].endswith(".onnx")


def test_volume_owner_runs_first_with_only_chown_and_exits(defaults: Scenario) -> None:
    owner = defaults.containers()["VolumeOwner"]
    assert owner["User"] == "0"
    assert owner["Essential"] is False
    assert owner["Command"] == ["chown", "10001:10001", "/var/lib/mlops"]
    assert owner["ReadonlyRootFilesystem"] is True
    dropped = set(owner["LinuxParameters"]["Capabilities"]["Drop"])
    assert "CHOWN" not in dropped
    assert {"DAC_OVERRIDE", "SETUID", "NET_RAW", "KILL"} <= dropped
    assert owner["Image"] == defaults.containers()["Model"]["Image"]
    assert defaults.containers()["Model"]["DependsOn"] == [
        {"Condition": "SUCCESS", "ContainerName": "VolumeOwner"}
    ]


def test_container_health_check_covers_model_load(defaults: Scenario) -> None:
    check = defaults.containers()["Model"]["HealthCheck"]
    assert check["Command"][:3] == ["CMD", "python", "-c"]
    assert "/ping" in check["Command"][3]
    assert (check["Interval"], check["Timeout"], check["Retries"]) == (30, 5, 3)
    assert check["StartPeriod"] == 120


def test_every_container_logs_to_the_kms_log_group(defaults: Scenario) -> None:
    for container in defaults.containers().values():
        assert container["LogConfiguration"]["LogDriver"] == "awslogs"
        assert container["LogConfiguration"]["Options"]["mode"] == "non-blocking"
    defaults.template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {"KmsKeyId": Match.any_value(), "RetentionInDays": 365},
    )


def test_deployments_roll_back_and_never_drop_capacity(defaults: Scenario) -> None:
    service = defaults.only("AWS::ECS::Service")
    by_id = {alarm.node.id: alarm for alarm in defaults.service.alarms}
    assert service["DeploymentConfiguration"] == {
        "Strategy": "BLUE_GREEN",
        "BakeTimeInMinutes": 10,
        "Alarms": {
            "AlarmNames": [
                defaults.stack.resolve(by_id["Target5xx"].alarm_name),
                defaults.stack.resolve(by_id["LatencyP99"].alarm_name),
            ],
            "Enable": True,
            "Rollback": True,
        },
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
    }
    assert service["EnableExecuteCommand"] is False
    assert service["HealthCheckGracePeriodSeconds"] == 120
    assert service["DesiredCount"] == 2
    assert service["LaunchType"] == "FARGATE"
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


@pytest.mark.parametrize("scenario", ["defaults", "public", "gpu", "customised"])
def test_synth_warns_about_nothing(scenario: str, request: pytest.FixtureRequest) -> None:
    """No CDK warning reaches the consumer's synth output (e.g. a default action set twice on
    the listener, or the ECR pull-policy warning for an image the construct grants)."""
    built: Scenario = request.getfixturevalue(scenario)
    assert Annotations.from_stack(built.stack).find_warning("*", Match.any_value()) == []


def test_cluster_has_container_insights(defaults: Scenario) -> None:
    assert defaults.only("AWS::ECS::Cluster")["ClusterSettings"] == [
        {"Name": "containerInsights", "Value": "enabled"}
    ]


def test_internal_load_balancer_is_hardened_and_logs_access(defaults: Scenario) -> None:
    balancer = defaults.only("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert balancer["Scheme"] == "internal"
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    defaults.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            }
        },
    )
    listener = defaults.only("AWS::ElasticLoadBalancingV2::Listener")
    assert (listener["Port"], listener["Protocol"]) == (80, "HTTP")


def test_nobody_is_let_in_until_allowed(defaults: Scenario) -> None:
    (group,) = [
        g["Properties"]
        for g in defaults.template.find_resources("AWS::EC2::SecurityGroup").values()
        if g["Properties"]["GroupDescription"].endswith("load balancer")
    ]
    assert "SecurityGroupIngress" not in group


def test_target_group_checks_ping_and_balances_on_outstanding_requests(
    defaults: Scenario,
) -> None:
    groups = defaults.template.find_resources("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == 2  # blue and green: the same settings
    (group, other) = [g["Properties"] for g in groups.values()]
    assert group == other
    assert group["HealthCheckPath"] == "/ping"
    assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"]) == (15, 5)
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (2, 3)
    assert group["Matcher"] == {"HttpCode": "200"}
    assert group["TargetType"] == "ip"
    attributes = {a["Key"]: a["Value"] for a in group["TargetGroupAttributes"]}
    assert attributes["load_balancing.algorithm.type"] == "least_outstanding_requests"
    assert attributes["deregistration_delay.timeout_seconds"] == "30"


def test_roles_hold_exact_grants_in_managed_policies(defaults: Scenario) -> None:
    defaults.template.resource_count_is("AWS::IAM::Policy", 0)
    policies = {
        name: resource["Properties"]["PolicyDocument"]["Statement"]
        for name, resource in defaults.template.find_resources("AWS::IAM::ManagedPolicy").items()
    }
    (task,) = [s for n, s in policies.items() if "TaskRole" in n]
    assert len(task) == 1
    assert (task[0]["Action"], task[0]["Effect"]) == ("s3:GetObject", "Allow")
    assert task[0]["Resource"].startswith("arn:aws:s3:::cdk-")
    assert task[0]["Resource"].endswith(".onnx")
    (execution,) = [s for n, s in policies.items() if "ExecutionRole" in n]
    actions = sorted(a for s in execution for a in _list(s["Action"]))
    assert actions == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]


def test_six_alarms_each_notify_on_alarm_and_ok(defaults: Scenario) -> None:
    alarms = defaults.template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 6
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"]
        assert properties["OKActions"]
    names = set(alarms)
    for part in ("UnhealthyHosts", "Target5xx", "LatencyP99", "RunningTasks", "Cpu", "Memory"):
        assert any(part in name for name in names), part
    defaults.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "RunningTaskCount",
            "Namespace": "ECS/ContainerInsights",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 2,
        },
    )
    # Blue/green: the load-balancer alarms watch both target groups.
    latency = defaults.template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"Threshold": 1, "Metrics": Match.any_value()}}
    )
    (queries,) = [a["Properties"]["Metrics"] for n, a in latency.items() if "LatencyP99" in n]
    assert [q.get("Expression") for q in queries if "Expression" in q] == ["MAX([g0, g1])"]
    stats = [q["MetricStat"] for q in queries if "MetricStat" in q]
    assert [(m["Metric"]["MetricName"], m["Stat"]) for m in stats] == [
        ("TargetResponseTime", "p99")
    ] * 2
    groups = {json.dumps(m["Metric"]["Dimensions"], sort_keys=True) for m in stats}
    assert len(groups) == 2


def test_attributes_and_allow_from(defaults: Scenario) -> None:
    service = defaults.service
    assert cdk.Token.is_unresolved(service.url)
    assert defaults.stack.resolve(service.url)["Fn::Join"][1][0] == "http://"
    assert service.listener_port == 80
    assert service.cluster is not None
    assert service.target_group is not None
    assert service.load_balancer is not None
    assert service.service is not None
    # allow_from adds exactly one ingress rule on the listener port (in a fresh stack: the
    # module fixture is already synthesized).
    stack = unit_stack(unit_app())
    allowed = EcsModelService(stack, "Allowed", vpc=isolated_vpc(stack), model_data=model_file())
    allowed.allow_from(ec2.Peer.ipv4("10.1.0.0/16"), "reporting jobs")
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                {
                    "CidrIp": "10.1.0.0/16",
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpProtocol": "tcp",
                    "Description": "reporting jobs",
                }
            ]
        },
    )


# --- public HTTPS and autoscaling ------------------------------------------------------------


def test_public_service_serves_https_only_with_tls12_and_redirects_http(public: Scenario) -> None:
    balancer = public.only("AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert balancer["Scheme"] == "internet-facing"
    public.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERTIFICATE_ARN}],
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
        },
    )
    public.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {
                    "Type": "redirect",
                    "RedirectConfig": Match.object_like(
                        {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"}
                    ),
                }
            ],
        },
    )
    public.template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation", {"WebACLArn": WEB_ACL_ARN}
    )
    assert public.stack.resolve(public.service.url)["Fn::Join"][1][0] == "https://"


def test_the_public_listeners_open_ports_are_explained_to_checkov(public: Scenario) -> None:
    """Port 80 is open to anyone only to redirect to HTTPS; checkov's CKV_AWS_260 is suppressed
    on the load balancer's security group with that reason (found by the template audit)."""
    groups = public.template.find_resources("AWS::EC2::SecurityGroup")
    (group,) = [g for key, g in groups.items() if key.startswith("PublicLoadBalancerSecurityGroup")]
    assert {"CidrIp": "0.0.0.0/0", "FromPort": 80, "IpProtocol": "tcp", "ToPort": 80} in [
        {k: rule[k] for k in ("CidrIp", "FromPort", "IpProtocol", "ToPort")}
        for rule in group["Properties"]["SecurityGroupIngress"]
    ]
    (skip,) = group["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_260"
    assert "HTTP, redirected" in skip["comment"]


def test_autoscaling_tracks_cpu_and_requests_per_task(public: Scenario) -> None:
    # The count belongs to Application Auto Scaling: a deployment must not reset it.
    assert "DesiredCount" not in public.only("AWS::ECS::Service")
    public.template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 2, "MaxCapacity": 8, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    policies = [
        p["Properties"]["TargetTrackingScalingPolicyConfiguration"]
        for p in public.template.find_resources(
            "AWS::ApplicationAutoScaling::ScalingPolicy"
        ).values()
    ]
    (cpu,) = [p for p in policies if "PredefinedMetricSpecification" in p]
    assert cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "ECSServiceAverageCPUUtilization"
    )
    assert cpu["TargetValue"] == 50
    # Canary: requests per task over both target groups, wherever production is.
    (requests,) = [p for p in policies if "CustomizedMetricSpecification" in p]
    assert requests["TargetValue"] == 600
    assert requests["ScaleInCooldown"] == 300
    queries = requests["CustomizedMetricSpecification"]["Metrics"]
    assert queries[-1] == {
        "Id": "requests",
        "Expression": "FILL(g0, 0) + FILL(g1, 0)",
        "Label": "Requests per task, both target groups",
        "ReturnData": True,
    }
    dimensions = [q["MetricStat"]["Metric"]["Dimensions"] for q in queries[:-1]]
    groups = public.service.routing.target_groups
    assert dimensions == [
        [{"Name": "TargetGroup", "Value": public.stack.resolve(g.target_group_full_name)}]
        for g in groups
    ]


def test_running_task_alarm_uses_the_autoscaling_floor(public: Scenario) -> None:
    public.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "RunningTaskCount", "Threshold": 2}
    )


# --- GPU -------------------------------------------------------------------------------------


def test_gpu_tasks_run_on_an_ec2_capacity_provider(gpu: Scenario) -> None:
    service = gpu.only("AWS::ECS::Service")
    assert "LaunchType" not in service
    (strategy,) = service["CapacityProviderStrategy"]
    assert strategy["Weight"] == 1
    capacity_provider = gpu.service.capacity_provider
    assert capacity_provider is not None
    name = gpu.stack.resolve(capacity_provider.capacity_provider_name)
    assert name == strategy["CapacityProvider"]
    assert service["PlacementStrategies"][0] == {
        "Field": "attribute:ecs.availability-zone",
        "Type": "spread",
    }
    provider = gpu.only("AWS::ECS::CapacityProvider")["AutoScalingGroupProvider"]
    assert provider["ManagedScaling"]["Status"] == "ENABLED"
    assert provider["ManagedTerminationProtection"] == "ENABLED"
    task = gpu.only("AWS::ECS::TaskDefinition")
    assert task["RequiresCompatibilities"] == ["EC2"]
    assert task["NetworkMode"] == "awsvpc"
    server = gpu.containers()["Model"]
    assert server["ResourceRequirements"] == [{"Type": "GPU", "Value": "1"}]
    assert server["Cpu"] == 4096
    assert {e["Name"]: e["Value"] for e in server["Environment"]}["MLOPS_WORKERS"] == "4"


def test_gpu_instances_are_private_imdsv2_encrypted_gpu_ami(gpu: Scenario) -> None:
    data = gpu.only("AWS::EC2::LaunchTemplate")["LaunchTemplateData"]
    assert data["InstanceType"] == "g5.xlarge"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert data["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    parameters = gpu.template.to_json()["Parameters"]
    assert any("amazonlinux2gpu" in name for name in parameters)
    group = gpu.only("AWS::AutoScaling::AutoScalingGroup")
    assert group["NewInstancesProtectedFromScaleIn"] is True
    # Tasks are placed in the same private subnets as the instances.
    service = gpu.only("AWS::ECS::Service")
    subnets = service["NetworkConfiguration"]["AwsvpcConfiguration"]["Subnets"]
    assert subnets == group["VPCZoneIdentifier"]
    assert_matches(subnets, [{"Ref": Match.string_like_regexp("PrivateSubnet")}] * len(subnets))
    assert (group["MinSize"], group["MaxSize"]) == ("0", "6")


# --- customised ------------------------------------------------------------------------------


def test_customised_service(customised: Scenario) -> None:
    task = customised.only("AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == ("2048", "4096")
    assert task["EphemeralStorage"] == {"SizeInGiB": 50}
    server = customised.containers()["Model"]
    assert "HealthCheck" not in server
    assert server["PortMappings"][0]["ContainerPort"] == 9000
    assert server["User"] == "20000:20000"
    assert customised.containers()["VolumeOwner"]["Command"][1] == "20000:20000"
    env = {e["Name"]: e["Value"] for e in server["Environment"]}
    assert (env["PORT"], env["MLOPS_WORKERS"], env["MLOPS_LOG_LEVEL"]) == ("9000", "2", "DEBUG")
    group = customised.only("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["HealthCheckPath"] == "/health"
    assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (3, 5)
    assert customised.only("AWS::ECS::Service")["HealthCheckGracePeriodSeconds"] == 600
    balancer = customised.only("AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in balancer["LoadBalancerAttributes"]}
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["access_logs.s3.prefix"] == "models/churn"
    customised.template.resource_count_is("AWS::KMS::Key", 1)
    customised.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "TargetResponseTime", "ExtendedStatistic": "p90", "Threshold": 0.25},
    )
    customised.template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"MetricName": "CPUUtilization", "Threshold": 75}
    )


# --- compliance ------------------------------------------------------------------------------


def findings(stack: cdk.Stack) -> list[str]:
    return sorted(
        f"{violation.rule_name} [{resource.construct_path}]"
        for pack in NAG_PACKS
        for violation in pack().validate_scope(stack).violations
        for resource in violation.violating_resources
        if "/Vpc/" not in (resource.construct_path or "")  # the test VPCs are not under test
    )


@pytest.mark.parametrize("scenario", ["defaults", "public", "gpu", "customised"])
def test_scenarios_pass_every_nag_pack(scenario: str, request: pytest.FixtureRequest) -> None:
    built: Scenario = request.getfixturevalue(scenario)
    assert findings(built.stack) == []


def test_scenarios_pass_cfn_lint(
    defaults: Scenario, public: Scenario, gpu: Scenario, customised: Scenario, tmp_path: Path
) -> None:
    # The environments synthesize only internal Fargate services; the public HTTPS and GPU
    # shapes are linted here.
    files = []
    for name, scenario in {
        "defaults": defaults, "public": public, "gpu": gpu, "customised": customised
    }.items():  # fmt: skip
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(scenario.template.to_json()), encoding="utf-8")
        files.append(path)
    result = cfn_lint(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_public_service_without_a_web_acl_is_reported_not_hidden() -> None:
    scenario = build(
        lambda stack: EcsModelService(
            stack,
            "NoWaf",
            vpc=public_vpc(stack),
            model_data=model_file(),
            public=True,
            certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERTIFICATE_ARN),
        )
    )
    assert findings(scenario.stack) == [
        "NIST.800.53.R5-ALBWAFEnabled [Test/NoWaf/LoadBalancer/Resource]",
        "PCI.DSS.321-ALBWAFEnabled [Test/NoWaf/LoadBalancer/Resource]",
    ]


# --- validation ------------------------------------------------------------------------------

GPU = {"gpu_count": 1, "gpu_instance_type": "g5.xlarge", "cpu": 4096, "memory_mib": 15360}

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("cpu-not-fargate", {"cpu": 300}, r"cpu must be one of 256, 512, 1024, .* \(got 300\)"),
    (
        "memory-for-quarter-vcpu",
        {"cpu": 256, "memory_mib": 4096},
        r"memory_mib must be one of 512, 1024, 2048 for cpu=256 on Fargate \(got 4096\)",
    ),
    (
        "memory-below-range",
        {"cpu": 1024, "memory_mib": 1024},
        r"memory_mib must be between 2048 and 8192 in steps of 1024 for cpu=1024 .*\(got 1024\)",
    ),
    (
        "memory-off-step",
        {"cpu": 8192, "memory_mib": 18432},
        r"memory_mib must be between 16384 and 61440 in steps of 4096 for cpu=8192 on Fargate "
        r"\(got 18432\)",
    ),
    (
        "gpu-without-instance-type",
        {"gpu_count": 1},
        r"gpu_instance_type must be an EC2 instance type of an NVIDIA GPU family .* when "
        r"gpu_count=1: Fargate has no GPUs \(got None\)",
    ),
    (
        "gpu-on-cpu-family",
        {**GPU, "gpu_instance_type": "m5.xlarge"},
        r"gpu_instance_type must be an EC2 instance type of an NVIDIA GPU family .*'m5.xlarge'",
    ),
    (
        "gpu-on-amd-family",
        {**GPU, "gpu_instance_type": "g4ad.xlarge"},
        r"gpu_instance_type must be .*\(got 'g4ad.xlarge'\)",
    ),
    (
        "gpu-with-sagemaker-type",
        {**GPU, "gpu_instance_type": "ml.g5.xlarge"},
        r"gpu_instance_type must be .*\(got 'ml.g5.xlarge'\)",
    ),
    (
        "instance-type-without-gpu",
        {"gpu_instance_type": "g5.xlarge"},
        r"gpu_instance_type cannot be combined with gpu_count=0",
    ),
    (
        "gpu-with-fargate-storage",
        {**GPU, "ephemeral_storage_gib": 50},
        r"gpu_count=1 cannot be combined with ephemeral_storage_gib: .*Fargate setting",
    ),
    ("gpu-count-negative", {"gpu_count": -1}, r"gpu_count must be between 0 and 16 \(got -1\)"),
    (
        "fargate-storage-small",
        {"ephemeral_storage_gib": 20},
        r"ephemeral_storage_gib must be between 21 and 200 GiB \(got 20\)",
    ),
    ("desired-zero", {"desired_count": 0}, r"desired_count must be at least 1 \(got 0\)"),
    (
        "desired-below-min",
        {"desired_count": 1, "autoscaling": ServiceAutoScaling(min_capacity=2, max_capacity=4)},
        r"desired_count must be between autoscaling.min_capacity \(2\) and "
        r"autoscaling.max_capacity \(4\) \(got 1\)",
    ),
    (
        "desired-above-max",
        {"desired_count": 5, "autoscaling": ServiceAutoScaling(min_capacity=2, max_capacity=4)},
        r"desired_count must be between .* \(got 5\)",
    ),
    ("port-zero", {"container_port": 0}, r"container_port must be between 1 and 65535 \(got 0\)"),
    ("port-high", {"container_port": 65536}, r"container_port must be between 1 and 65535"),
    (
        "public-without-certificate",
        {"public": True},
        r"certificate must be given when public=True .*\(got None\)",
    ),
    (
        "grace-too-long",
        {"health_check_grace_period": cdk.Duration.seconds(2_147_483_648)},
        r"health_check_grace_period must be between 0 and 2\.14748e\+09 seconds",
    ),
    (
        "grace-shorter-than-health-check",
        {"health_check_grace_period": cdk.Duration.seconds(20)},
        r"health_check_grace_period must be at least 30 seconds \(healthy_threshold_count 2 x "
        r"interval 15 s: .*\) \(got 20 seconds\)",
    ),
    (
        "secret-in-environment",
        {"environment": {"DB_PASSWORD": "hunter2"}},
        r"environment\['DB_PASSWORD'\] must be free of secrets: .* \(got a name that looks",
    ),
    (
        "reserved-environment",
        {"environment": {"PORT": "9999"}},
        r"environment\['PORT'\] must be left to the construct",
    ),
    (
        "root-user",
        {"container_user": "0:0"},
        r"container_user must be a numeric uid:gid other than root \(0\), .* \(got '0:0'\)",
    ),
    (
        "named-user",
        {"container_user": "model"},
        r"container_user must be a numeric uid:gid .* \(got 'model'\)",
    ),
    (
        "reserved-region",
        {"environment": {"AWS_REGION": "us-east-1"}},
        r"environment\['AWS_REGION'\] must be left to the construct",
    ),
    # GPU tasks that no instance of the type could ever place
    (
        "gpus-beyond-instance",
        {**GPU, "gpu_count": 2},
        r"gpu_count must be at most 1, the NVIDIA GPUs of one g5\.xlarge .*\(got 2\)",
    ),
    (
        "memory-beyond-instance",
        {**GPU, "memory_mib": 32768},
        r"memory_mib must be less than the 16384 MiB of one g5\.xlarge \(ECS keeps some for "
        r"the operating system and agent\) \(got 32768\)",
    ),
    (
        # The shared rule (config uses it too): all of the instance's memory never places.
        "memory-equal-to-instance",
        {**GPU, "memory_mib": 16384},
        r"memory_mib must be less than the 16384 MiB of one g5\.xlarge .*\(got 16384\)",
    ),
    (
        "cpu-beyond-instance",
        {**GPU, "cpu": 8192},
        r"cpu must be at most 4096 units \(4 vCPUs of one g5\.xlarge\) \(got 8192\)",
    ),
    (
        "gpu-size-unknown",
        {**GPU, "gpu_instance_type": "g5.huge"},
        r"gpu_instance_type must be an accelerated EC2 instance type with known capacity "
        r"\(.*g5.*\).* \(got 'g5\.huge'\)",
    ),
    (
        "web-acl-name-not-arn",
        {"web_acl_arn": "churn-acl"},
        r"web_acl_arn must be a wafv2 regional/webacl ARN .*not a name or ID \(got 'churn-acl'\)",
    ),
]


@pytest.mark.parametrize(("case", "props", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_props_raise_precise_errors(case: str, props: dict[str, Any], message: str) -> None:
    stack = unit_stack(unit_app())
    vpc = isolated_vpc(stack)
    arguments: dict[str, Any] = {"model_data": model_file(), **props}
    with pytest.raises(ConfigurationError, match=rf"^Test/Service: {message}"):
        EcsModelService(stack, "Service", vpc=vpc, **arguments)


def test_public_needs_public_subnets() -> None:
    stack = unit_stack(unit_app())
    certificate = acm.Certificate.from_certificate_arn(stack, "Cert", CERTIFICATE_ARN)
    with pytest.raises(
        ConfigurationError,
        match=r"^Test/Service: vpc must be a VPC with public subnets when public=True .*"
        r"\(got no public subnets\)",
    ):
        EcsModelService(
            stack, "Service", vpc=isolated_vpc(stack), public=True, certificate=certificate
        )


OPTION_ERRORS: list[tuple[str, Callable[[], object], str]] = [
    (
        "min-zero",
        lambda: ServiceAutoScaling(min_capacity=0, max_capacity=2),
        r"ServiceAutoScaling: min_capacity must be at least 1 \(got 0\)",
    ),
    (
        "max-below-min",
        lambda: ServiceAutoScaling(min_capacity=3, max_capacity=2),
        r"ServiceAutoScaling: max_capacity must be at least min_capacity \(3\) \(got 2\)",
    ),
    (
        "cpu-target",
        lambda: ServiceAutoScaling(min_capacity=1, max_capacity=2, target_cpu_percent=95),
        r"target_cpu_percent must be between 10 and 90 %",
    ),
    (
        "requests-target",
        lambda: ServiceAutoScaling(min_capacity=1, max_capacity=2, requests_per_target=0),
        r"requests_per_target must be greater than 0 \(got 0\)",
    ),
    (
        "path-without-slash",
        lambda: ServiceHealthCheck(path="ping"),
        r"ServiceHealthCheck: path must be a path starting with / \(got 'ping'\)",
    ),
    (
        "interval-short",
        lambda: ServiceHealthCheck(interval=cdk.Duration.seconds(3)),
        r"interval must be between 5 and 300 seconds \(got 3\)",
    ),
    (
        "timeout-not-below-interval",
        lambda: ServiceHealthCheck(
            interval=cdk.Duration.seconds(10), timeout=cdk.Duration.seconds(10)
        ),
        r"timeout must be shorter than interval \(10 s\) \(got 10\)",
    ),
    (
        "threshold-high",
        lambda: ServiceHealthCheck(unhealthy_threshold_count=11),
        r"unhealthy_threshold_count must be between 2 and 10 \(got 11\)",
    ),
    (
        "container-command",
        lambda: ServiceHealthCheck(container_command=["curl", "-f", "localhost"]),
        r"container_command\[0\] must be one of 'CMD', 'CMD-SHELL' \(got 'curl'\)",
    ),
    (
        "container-retries",
        lambda: ServiceHealthCheck(container_retries=0),
        r"container_retries must be between 1 and 10 \(got 0\)",
    ),
    (
        "alarm-percentile",
        lambda: ServiceAlarms(latency_percentile="p100"),  # type: ignore[arg-type]
        r"ServiceAlarms: latency_percentile must be one of 'p50', 'p90', 'p95', 'p99' "
        r"\(got 'p100'\)",
    ),
    (
        "alarm-latency-and-older-name",
        lambda: ServiceAlarms(
            latency=cdk.Duration.millis(200), latency_p99=cdk.Duration.millis(300)
        ),
        r"ServiceAlarms: latency cannot be combined with latency_p99",
    ),
    (
        "alarm-older-name-other-percentile",
        lambda: ServiceAlarms(latency_percentile="p95", latency_p99=cdk.Duration.millis(300)),
        r"ServiceAlarms: latency_p99 must be left out when latency_percentile is not p99",
    ),
    (
        "alarm-period",
        lambda: ServiceAlarms(period=cdk.Duration.seconds(45)),
        r"ServiceAlarms: period must be one of 60, 300, 900, 3600 \(got 45\)",
    ),
]


def test_latency_p99_is_the_older_name_of_a_p99_latency_threshold() -> None:
    older = ServiceAlarms(latency_p99=cdk.Duration.millis(300))
    assert older.latency_threshold.to_milliseconds() == 300
    assert older.latency_percentile == "p99"
    assert ServiceAlarms().latency_threshold.to_milliseconds() == 1000


@pytest.mark.parametrize(
    ("case", "make", "message"), OPTION_ERRORS, ids=[c[0] for c in OPTION_ERRORS]
)
def test_invalid_options_raise_precise_errors(
    case: str, make: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 512),
        (512, 4096),
        (1024, 8192),
        (2048, 16384),
        (4096, 30720),
        (8192, 61440),
        (16384, 122880),
    ],
    ids=["cpu-256", "cpu-512", "cpu-1024", "cpu-2048", "cpu-4096", "cpu-8192", "cpu-16384"],
)
def test_fargate_table_edges_are_accepted(cpu: int, memory: int) -> None:
    stack = unit_stack(unit_app())
    EcsModelService(stack, "Service", vpc=isolated_vpc(stack), cpu=cpu, memory_mib=memory)


def _list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def test_the_service_is_connectable_on_its_listener_port() -> None:
    stack = unit_stack(unit_app())
    vpc = isolated_vpc(stack)
    service = EcsModelService(stack, "Svc", vpc=vpc, model_data=model_file())
    caller = ec2.SecurityGroup(stack, "Caller", vpc=vpc, allow_all_outbound=False)
    caller.connections.allow_to_default_port(service, "caller to model")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"FromPort": 80, "ToPort": 80, "Description": "caller to model"},
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {"FromPort": 80, "ToPort": 80, "Description": "caller to model"},
    )


def test_dashboard_widgets_graph_traffic_latency_and_tasks(defaults: Scenario) -> None:
    widgets = defaults.service.dashboard_widgets()
    assert len(widgets) == 3
    rows = widget_metrics(defaults.stack.resolve([w.to_json() for w in widgets]))
    graphed = {row[1] for row in rows}  # [namespace, metric name, dimensions..., options]
    assert {"RequestCount", "TargetResponseTime", "RunningTaskCount", "CPUUtilization"} <= graphed
