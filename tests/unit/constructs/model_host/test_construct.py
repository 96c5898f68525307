"""ModelHost and HostedModel: three models on one host (the issue's "done when"), each with its
own scaling, alarms and rollback; defaults; VPC; compliance packs."""

from __future__ import annotations

import copy
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    ComponentDeployment,
    ComputeResources,
    ContainerImage,
    CopyScaling,
    EndpointAlarms,
    EndpointMetrics,
    InstanceScaling,
    ModelData,
    ModelHost,
    ModelPackage,
    VariantSettings,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.aws_requests import embedded_requests, request_findings
from tests.helpers.templates import managed_policy_statements as policy_statements

IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3.0-gpu"
PACKAGE = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/ranker/3"


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    """A GPU host that scales to zero with three models, a CPU host with defaults and a host in
    a VPC, in one stack synthesized once."""
    stack = unit_stack(unit_app(), "Hosts")
    image = ContainerImage.from_uri(IMAGE)
    gpu = ModelHost(
        stack,
        "Large",
        instance_type="ml.g5.12xlarge",
        instance_scaling=InstanceScaling(min_instances=0, max_instances=2),
        variant_settings=VariantSettings(
            model_data_download_timeout=cdk.Duration.minutes(20),
            inference_ami_version="al2-ami-sagemaker-inference-gpu-3-1",
        ),
        metrics=EndpointMetrics(),
        alarm_thresholds=EndpointAlarms(period=cdk.Duration.seconds(10)),
    )
    churn = gpu.add_model(
        "Churn",
        image=image,
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        resources=ComputeResources(accelerators=1, min_memory_mb=8192, cpu_cores=2),
        autoscaling=CopyScaling(
            min_copies=0,
            max_copies=4,
            target_invocations_per_copy=50,
            target_concurrent_requests_per_copy=4,
        ),
        container_startup_timeout=cdk.Duration.minutes(10),
    )
    fraud = gpu.add_model("Fraud", image=image, copy_count=2)
    ranker = gpu.add_model(
        "Ranker",
        model_package=ModelPackage.from_arn(PACKAGE),
        resources=ComputeResources(accelerators=2, min_memory_mb=16384),
        deployment=ComponentDeployment.rolling_percent(50, cdk.Duration.minutes(2)),
        component_name="ranker",
    )
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    churn.grant_invoke(caller)
    cpu = ModelHost(stack, "Basic")
    cpu.add_model("Small", image=image)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    private = ModelHost(stack, "Private", vpc=vpc, instance_type="ml.c5.xlarge")
    private.add_model("Model", image=image)
    return {
        "stack": stack,
        "template": Template.from_stack(stack),
        "gpu": gpu,
        "models": {"Churn": churn, "Fraud": fraud, "Ranker": ranker},
        "cpu": cpu,
        "private": private,
    }


def resources(template: Template, kind: str, prefix: str) -> dict[str, dict[str, Any]]:
    return {k: dict(v) for k, v in template.find_resources(kind).items() if k.startswith(prefix)}


def props(template: Template, kind: str, prefix: str) -> dict[str, Any]:
    (found,) = resources(template, kind, prefix).values()
    result: dict[str, Any] = found["Properties"]
    return result


def test_three_models_share_one_endpoint(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    components = resources(template, "AWS::SageMaker::InferenceComponent", "Large")
    assert len(components) == 3
    endpoint_id = next(iter(resources(template, "AWS::SageMaker::Endpoint", "Large")))
    for component in components.values():
        assert component["Properties"]["EndpointName"] == {
            "Fn::GetAtt": [endpoint_id, "EndpointName"]
        }
        assert component["Properties"]["VariantName"] == "AllTraffic"
    assert len(resources(template, "AWS::SageMaker::Model", "Large")) == 3


def test_the_host_variant_has_no_model_and_scales_to_zero(scenario: dict[str, Any]) -> None:
    config = props(scenario["template"], "AWS::SageMaker::EndpointConfig", "Large")
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant
    assert variant["ManagedInstanceScaling"] == {
        "Status": "ENABLED",
        "MinInstanceCount": 0,
        "MaxInstanceCount": 2,
    }
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
    assert variant["ModelDataDownloadTimeoutInSeconds"] == 1200
    assert variant["InferenceAmiVersion"] == "al2-ami-sagemaker-inference-gpu-3-1"
    assert config["ExecutionRoleArn"]["Fn::GetAtt"][1] == "Arn"
    assert config["MetricsConfig"] == {
        "EnableEnhancedMetrics": True,
        "MetricPublishFrequencyInSeconds": 10,
    }
    # ml.g5 has NVMe instance storage: SageMaker refuses a KmsKeyId for it.
    assert "KmsKeyId" not in config


def test_defaults(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    config = props(template, "AWS::SageMaker::EndpointConfig", "Basic")
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.m5.large"
    assert variant["InitialInstanceCount"] == 1
    assert variant["ManagedInstanceScaling"]["MinInstanceCount"] == 1
    assert "KmsKeyId" in config
    assert config["EnableNetworkIsolation"] is True
    component = props(template, "AWS::SageMaker::InferenceComponent", "Basic")
    assert component["RuntimeConfig"] == {"CopyCount": 1}
    assert component["Specification"]["ComputeResourceRequirements"] == {
        "MinMemoryRequiredInMb": 1024,
        "NumberOfCpuCoresRequired": 1,
    }
    assert component["DeploymentConfig"]["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "COPY_COUNT", "Value": 1},
        "WaitIntervalInSeconds": 300,
    }
    # No copy autoscaling unless asked.
    assert resources(template, "AWS::ApplicationAutoScaling::ScalableTarget", "Basic") == {}
    # A CPU host: CPU and memory alarms only.
    alarms = resources(template, "AWS::CloudWatch::Alarm", "BasicCpu") | resources(
        template, "AWS::CloudWatch::Alarm", "BasicMemory"
    )
    assert len(alarms) == 2
    assert resources(template, "AWS::CloudWatch::Alarm", "BasicGpu") == {}
    assert resources(template, "AWS::CloudWatch::Alarm", "BasicDisk") == {}


def test_each_model_scales_its_own_copies(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    targets = resources(template, "AWS::ApplicationAutoScaling::ScalableTarget", "Large")
    (target,) = targets.values()  # only Churn asked for autoscaling
    name = scenario["models"]["Churn"].component_name
    assert target["Properties"]["ResourceId"] == f"inference-component/{name}"
    assert target["Properties"]["ScalableDimension"] == (
        "sagemaker:inference-component:DesiredCopyCount"
    )
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 4)
    policies = [
        p["Properties"]
        for p in resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy", "Large").values()
    ]
    tracking = {
        p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"][
            "PredefinedMetricType"
        ]: p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
        for p in policies
        if p["PolicyType"] == "TargetTrackingScaling"
    }
    # Invocations per copy, and the 10-second concurrency metric for fast scale-out.
    assert tracking == {
        "SageMakerInferenceComponentInvocationsPerCopy": 50,
        "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution": 4,
    }
    # min_copies=0: a step policy adds a copy when requests find none.
    steps = [p for p in policies if p["PolicyType"] == "StepScaling"]
    assert len(steps) == 1
    alarm = next(
        a["Properties"]
        for a in resources(template, "AWS::CloudWatch::Alarm", "LargeChurnScaling").values()
    )
    assert alarm["MetricName"] == "NoCapacityInvocationFailures"
    assert alarm["Dimensions"] == [{"Name": "InferenceComponentName", "Value": name}]


def test_each_model_rolls_back_on_its_own_alarms(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    for model_id, model in scenario["models"].items():
        component = props(template, "AWS::SageMaker::InferenceComponent", f"Large{model_id}")
        rollback = component["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        referenced = {alarm["AlarmName"]["Ref"] for alarm in rollback}
        own = {
            k
            for k in resources(template, "AWS::CloudWatch::Alarm", f"Large{model_id}")
            if "Errors5xx" in k or "LatencyP99" in k
        }
        assert referenced == own
        assert len(own) == 2
        assert len(model.alarms) == 3  # 5XX, latency, 4XX
    ranker = props(template, "AWS::SageMaker::InferenceComponent", "LargeRanker")
    assert ranker["DeploymentConfig"]["RollingUpdatePolicy"] == {
        "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
        "WaitIntervalInSeconds": 120,
    }
    assert ranker["InferenceComponentName"] == "ranker"


def test_model_alarms_watch_their_component_and_notify(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    name = scenario["models"]["Fraud"].component_name
    for alarm in resources(template, "AWS::CloudWatch::Alarm", "LargeFraud").values():
        properties = alarm["Properties"]
        assert properties["AlarmActions"]
        assert properties["OKActions"]
        stats = [m["MetricStat"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        if not stats:
            stats = [{"Metric": properties, "Period": properties["Period"]}]
        assert all(
            s["Metric"]["Dimensions"] == [{"Name": "InferenceComponentName", "Value": name}]
            for s in stats
        )
        # High-resolution metrics allow 10-second alarms.
        assert {s["Period"] for s in stats} == {10}


def test_gpu_host_alarms_scale_with_gpu_count(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]

    def threshold(prefix: str) -> float:
        (alarm,) = resources(template, "AWS::CloudWatch::Alarm", prefix).values()
        value: float = alarm["Properties"]["Threshold"]
        return value

    # ml.g5.12xlarge: 4 GPUs, 48 vCPUs; utilisation metrics are summed over them.
    assert threshold("LargeGpuMemory") == 360
    assert threshold("LargeDisk") == 90
    assert threshold("LargeCpu") == 90 * 48
    (gpu,) = [
        a
        for k, a in resources(template, "AWS::CloudWatch::Alarm", "LargeGpu").items()
        if not k.startswith("LargeGpuMemory")
    ]
    assert gpu["Properties"]["Threshold"] == 360
    assert gpu["Properties"]["MetricName"] == "GPUUtilization"
    assert gpu["Properties"]["Namespace"] == "/aws/sagemaker/Endpoints"


def test_grant_invoke_is_scoped_to_the_component(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    (statement,) = [s for s in statements if "sagemaker:InvokeEndpoint" in s["Action"]]
    assert statement["Action"] == [
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointWithResponseStream",
    ]
    component_id = next(
        iter(resources(template, "AWS::SageMaker::InferenceComponent", "LargeChurn"))
    )
    endpoint_id = next(iter(resources(template, "AWS::SageMaker::Endpoint", "Large")))
    assert sorted(map(str, statement["Resource"])) == sorted(
        map(str, [{"Ref": endpoint_id}, {"Fn::GetAtt": [component_id, "InferenceComponentArn"]}])
    )


def test_vpc_placement_is_on_the_endpoint_configuration(scenario: dict[str, Any]) -> None:
    template: Template = scenario["template"]
    config = props(template, "AWS::SageMaker::EndpointConfig", "Private")
    assert len(config["VpcConfig"]["Subnets"]) == 2
    assert len(config["VpcConfig"]["SecurityGroupIds"]) == 1
    actions = {
        a
        for s in policy_statements(template, "PrivateExecutionRole")
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert "ec2:CreateNetworkInterface" in actions


def test_the_execution_role_reads_every_model(scenario: dict[str, Any]) -> None:
    actions = {
        a
        for s in policy_statements(scenario["template"], "LargeExecutionRole")
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {"s3:GetObject", "ecr:BatchGetImage"} <= actions


def test_dashboard_widgets_cover_host_and_models(scenario: dict[str, Any]) -> None:
    widgets = scenario["gpu"].dashboard_widgets()
    assert len(widgets) == 2 + 3 * 3  # utilisation, accelerator; three per model


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_every_scenario_passes_the_compliance_packs(scenario: dict[str, Any], pack: Any) -> None:
    report = pack().validate_scope(scenario["stack"])
    findings = [
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
        # The fixture's own VPC and caller role are test scaffolding, not the construct.
        if not r.construct_path.startswith(("Hosts/Vpc", "Hosts/Caller"))
    ]
    assert findings == []


def test_hosting_requests_match_botocore_and_a_planted_defect_is_caught(
    scenario: dict[str, Any],
) -> None:
    template = dict(scenario["template"].to_json())
    requests = [r.name for r in embedded_requests(template)]
    assert requests.count("sagemaker:CreateInferenceComponent") == 5
    assert requests.count("sagemaker:UpdateInferenceComponent") == 5
    assert request_findings(template) == []
    planted = copy.deepcopy(template)
    component_id = next(
        iter(resources(scenario["template"], "AWS::SageMaker::InferenceComponent", "LargeFraud"))
    )
    spec = planted["Resources"][component_id]["Properties"]
    spec["Specification"]["ComputeResourceRequirements"]["NumberOfCpuCoresRequired"] = 0.1
    spec["DeploymentConfig"]["RollingUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] = 60
    assert sorted(request_findings(planted)) == [
        f"{component_id} (AWS::SageMaker::InferenceComponent): sagemaker:CreateInferenceComponent "
        "Specification.ComputeResourceRequirements.NumberOfCpuCoresRequired: 0.1 is less than "
        "the minimum 0.25",
        f"{component_id} (update): sagemaker:UpdateInferenceComponent "
        "DeploymentConfig.RollingUpdatePolicy.MaximumExecutionTimeoutInSeconds: 60 is less than "
        "the minimum 600",
        f"{component_id} (update): sagemaker:UpdateInferenceComponent "
        "Specification.ComputeResourceRequirements.NumberOfCpuCoresRequired: 0.1 is less than "
        "the minimum 0.25",
    ]
