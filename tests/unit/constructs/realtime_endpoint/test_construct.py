"""RealtimeEndpoint: defaults, a fully customised endpoint, each mode, compliance."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from mlops_cdk.constructs import (
    AsyncInference,
    AutoScaling,
    ContainerImage,
    DataCapture,
    DeploymentPolicy,
    EndpointAlarms,
    ModelData,
    ModelPackage,
    ProductionVariant,
    RealtimeEndpoint,
    ServerlessConfig,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.templates import as_list, get_att, ref, resolve_join
from tests.helpers.templates import managed_policy_statements as policy_statements

IMAGE_URI = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.3.0-cpu"
MODEL_URI = "s3://models/churn/model.tar.gz"


def image() -> ContainerImage:
    return ContainerImage.from_uri(IMAGE_URI)


def model() -> ModelData:
    return ModelData.from_s3_uri(MODEL_URI)


def resources_of(template: Template, kind: str, path_prefix: str) -> list[dict[str, Any]]:
    """Resources of ``kind`` whose logical ID starts with ``path_prefix`` (the construct id)."""
    return [
        dict(r) for key, r in template.find_resources(kind).items() if key.startswith(path_prefix)
    ]


def one(template: Template, kind: str, prefix: str) -> dict[str, Any]:
    (found,) = resources_of(template, kind, prefix)
    return found


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    """Every scenario in one stack, synthesized once."""
    stack = unit_stack(unit_app(), "Endpoints")
    key = kms.Key(stack, "SharedKey", enable_key_rotation=True)
    bucket = s3.Bucket(
        stack,
        "Bucket",
        encryption_key=key,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    endpoints = {
        "Basic": RealtimeEndpoint(stack, "Basic", image=image(), model_data=model()),
        "Custom": RealtimeEndpoint(
            stack,
            "Custom",
            variants=[
                ProductionVariant(name="champion", image=image(), model_data=model(), weight=9),
                ProductionVariant(
                    name="challenger",
                    image=image(),
                    model_data=ModelData.from_s3_uri("s3://models/churn/v2/model.tar.gz"),
                    instance_type="ml.c5.xlarge",
                    initial_instance_count=2,
                    weight=1,
                ),
            ],
            instance_type="ml.m5.xlarge",
            initial_instance_count=2,
            autoscaling=AutoScaling(
                min_capacity=2, max_capacity=6, target_invocations_per_instance=250
            ),
            data_capture=DataCapture(
                sampling_percentage=25, bucket=bucket, prefix="capture/churn/", capture_output=False
            ),
            deployment=DeploymentPolicy.linear(25, cdk.Duration.minutes(3)),
            vpc=vpc,
            encryption_key=key,
            alarm_topic=topic,
            environment={"LOG_LEVEL": "info"},
            endpoint_name="churn-ab",
            alarm_thresholds=EndpointAlarms(latency_p99=cdk.Duration.millis(250)),
        ),
        "Serverless": RealtimeEndpoint(
            stack,
            "Serverless",
            image=image(),
            model_data=model(),
            serverless=ServerlessConfig(
                memory_size_mb=3072, max_concurrency=20, provisioned_concurrency=2
            ),
            alarm_topic=topic,
            encryption_key=key,
        ),
        "Async": RealtimeEndpoint(
            stack,
            "Async",
            image=image(),
            model_data=model(),
            async_inference=AsyncInference(output_bucket=bucket, error_topic=topic, max_capacity=3),
            alarm_topic=topic,
            encryption_key=key,
        ),
        "Shadow": RealtimeEndpoint(
            stack,
            "Shadow",
            variants=[
                ProductionVariant(name="live", image=image(), model_data=model()),
                ProductionVariant(name="candidate", image=image(), model_data=model(), shadow=True),
            ],
            deployment=DeploymentPolicy.all_at_once(),
            autoscaling=AutoScaling(max_capacity=3),
            alarm_thresholds=EndpointAlarms(
                latency_percentile="p95", latency=cdk.Duration.millis(200)
            ),
            alarm_topic=topic,
            encryption_key=key,
        ),
        "Gpu": RealtimeEndpoint(
            stack,
            "Gpu",
            image=image(),
            model_data=model(),
            instance_type="ml.g5.xlarge",
            deployment=DeploymentPolicy.rolling(20),
            alarm_topic=topic,
            encryption_key=key,
        ),
        "Registry": RealtimeEndpoint(
            stack,
            "Registry",
            model_package=ModelPackage.from_arn(
                "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"
            ),
            alarm_topic=topic,
            encryption_key=key,
        ),
    }
    caller = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoints["Basic"].grant_invoke(caller)
    return {"stack": stack, "template": Template.from_stack(stack), "endpoints": endpoints}


# --- defaults -----------------------------------------------------------------------------


def test_default_model_is_isolated_unnamed_and_waits_for_its_role(
    scenario: dict[str, Any],
) -> None:
    model_resource = one(scenario["template"], "AWS::SageMaker::Model", "BasicModel")
    props = model_resource["Properties"]
    assert "ModelName" not in props  # create-only: CloudFormation must be free to replace it
    assert props["EnableNetworkIsolation"] is True
    assert "VpcConfig" not in props
    assert props["PrimaryContainer"]["Image"] == IMAGE_URI
    assert props["PrimaryContainer"]["ModelDataSource"] == {
        "S3DataSource": {"S3Uri": MODEL_URI, "S3DataType": "S3Object", "CompressionType": "Gzip"}
    }
    assert any("ExecutionRole" in d for d in model_resource["DependsOn"])


def test_default_endpoint_config_is_encrypted_with_one_instance(
    scenario: dict[str, Any],
) -> None:
    config = one(scenario["template"], "AWS::SageMaker::EndpointConfig", "BasicEndpointConfig")
    props = config["Properties"]
    assert "EndpointConfigName" not in props
    key_id, attribute = props["KmsKeyId"]["Fn::GetAtt"]
    assert (key_id.startswith("BasicKey"), attribute) == (True, "Arn")
    (variant,) = props["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic"
    assert variant["InstanceType"] == "ml.m5.large"
    assert variant["InitialInstanceCount"] == 1
    assert variant["InitialVariantWeight"] == 1


def test_default_endpoint_has_a_generated_name_and_no_guardrails(
    scenario: dict[str, Any],
) -> None:
    endpoint = one(scenario["template"], "AWS::SageMaker::Endpoint", "BasicEndpoint")
    name = endpoint["Properties"]["EndpointName"]
    assert name == scenario["endpoints"]["Basic"].endpoint_name
    assert 1 <= len(name) <= 63
    assert "DeploymentConfig" not in endpoint["Properties"]


def test_default_creates_a_rotating_key_and_an_encrypted_topic(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    (key,) = resources_of(template, "AWS::KMS::Key", "BasicKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    (topic,) = resources_of(template, "AWS::SNS::Topic", "BasicAlarmTopic")
    assert topic["Properties"]["KmsMasterKeyId"] == get_att(template, "AWS::KMS::Key", "BasicKey")


def test_default_alarms_cover_errors_latency_and_utilisation(scenario: dict[str, Any]) -> None:
    endpoint = scenario["endpoints"]["Basic"]
    alarms = resources_of(scenario["template"], "AWS::CloudWatch::Alarm", "Basic")
    names = sorted(a.node.id for a in endpoint.alarms)
    assert names == ["Cpu", "Errors4xx", "Errors5xx", "LatencyP99", "Memory"]
    assert len(alarms) == 5
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == alarm["Properties"]["OKActions"]
        topic = ref(scenario["template"], "AWS::SNS::Topic", "BasicAlarmTopic")
        assert alarm["Properties"]["AlarmActions"] == [topic]
    cpu = next(a for a in alarms if a["Properties"].get("MetricName") == "CPUUtilization")
    assert cpu["Properties"]["Threshold"] == 180  # 90 % of ml.m5.large's 2 vCPUs
    latency = next(a for a in alarms if a["Properties"].get("MetricName") == "ModelLatency")
    assert latency["Properties"]["Threshold"] == 1_000_000  # 1 s in microseconds
    assert latency["Properties"]["ExtendedStatistic"] == "p99"


def test_default_role_is_least_privilege(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    role = one(template, "AWS::IAM::Role", "BasicExecutionRole")
    assert "ManagedPolicyArns" not in role["Properties"]  # no AWS managed policies
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "sagemaker.amazonaws.com"
    }
    statements = policy_statements(template, "BasicExecutionRole")
    actions = [a for s in statements for a in as_list(s["Action"])]
    assert not [a for a in actions if a.endswith(":*") or a == "*"]
    pull = next(s for s in statements if "ecr:BatchGetImage" in as_list(s["Action"]))
    assert pull["Resource"] == "arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-inference"
    read = next(s for s in statements if as_list(s["Action"]) == ["s3:GetObject"])
    assert read["Resource"] == "arn:aws:s3:::models/churn/model.tar.gz"
    inline = [k for k in template.find_resources("AWS::IAM::Policy") if not k.startswith("Caller")]
    assert inline == []  # the construct's roles keep their permissions in managed policies


def test_grant_invoke_is_exactly_this_endpoint(scenario: dict[str, Any]) -> None:
    policies = scenario["template"].find_resources("AWS::IAM::Policy")
    ((name, policy),) = policies.items()
    assert name.startswith("CallerDefaultPolicy")
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == [
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
        "sagemaker:InvokeEndpointWithResponseStream",
    ]
    # Ref of an AWS::SageMaker::Endpoint is its ARN.
    assert statement["Resource"]["Ref"].startswith("BasicEndpoint")


def test_metrics_use_endpoint_and_variant_dimensions(scenario: dict[str, Any]) -> None:
    endpoint = scenario["endpoints"]["Basic"]
    stack = scenario["stack"]
    metric = endpoint.metric_invocations()
    assert metric.namespace == "AWS/SageMaker"
    assert stack.resolve(metric.dimensions) == {
        "EndpointName": endpoint.endpoint_name,
        "VariantName": "AllTraffic",
    }
    assert endpoint.metric_cpu_utilization().namespace == "/aws/sagemaker/Endpoints"
    assert endpoint.metric_model_latency().statistic == "p99"
    assert len(endpoint.dashboard_widgets()) == 3


def test_metric_methods_take_typed_metric_options(scenario: dict[str, Any]) -> None:
    endpoint = scenario["endpoints"]["Basic"]
    stack = scenario["stack"]
    metric = endpoint.metric_model_latency(
        statistic="p90",
        period=cdk.Duration.minutes(5),
        label="p90 latency",
        unit=cloudwatch.Unit.MICROSECONDS,
        color="#ff0000",
        dimensions_map={"Extra": "x"},
        account="111122223333",
        region="eu-west-1",
    )
    assert (metric.statistic, metric.period.to_seconds(), metric.label, metric.color) == (
        "p90",
        300,
        "p90 latency",
        "#ff0000",
    )
    assert (metric.account, metric.region) == ("111122223333", "eu-west-1")
    assert stack.resolve(metric.dimensions)["Extra"] == "x"
    assert endpoint.metric_gpu_utilization().namespace == "/aws/sagemaker/Endpoints"
    assert endpoint.metric_disk_utilization().statistic == "Average"
    assert endpoint.metric_invocations_per_instance().metric_name == "InvocationsPerInstance"
    codes = endpoint.metric_invocation_response_code("Invocation5XXErrors", "AllTraffic")
    assert (codes.metric_name, codes.statistic) == ("Invocation5XXErrors", "Sum")
    unchecked: Any = endpoint  # a caller without a type checker
    with pytest.raises(TypeError, match="unexpected metric option"):
        unchecked.metric_invocations(periodd=cdk.Duration.minutes(1))


# --- fully customised ---------------------------------------------------------------------


def test_custom_variants_split_traffic_with_their_own_models(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    config = one(template, "AWS::SageMaker::EndpointConfig", "CustomEndpointConfig")
    variants = {v["VariantName"]: v for v in config["Properties"]["ProductionVariants"]}
    assert variants["champion"]["InstanceType"] == "ml.m5.xlarge"
    assert variants["champion"]["InitialVariantWeight"] == 9
    assert variants["challenger"]["InstanceType"] == "ml.c5.xlarge"
    assert variants["challenger"]["InitialInstanceCount"] == 2
    models = resources_of(template, "AWS::SageMaker::Model", "CustomModel")
    assert len(models) == 2
    for model_resource in models:
        env = model_resource["Properties"]["PrimaryContainer"]["Environment"]
        assert env == {"LOG_LEVEL": "info"}


def test_custom_autoscaling_tracks_invocations_per_variant(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    targets = resources_of(template, "AWS::ApplicationAutoScaling::ScalableTarget", "Custom")
    assert sorted(t["Properties"]["ResourceId"] for t in targets) == [
        "endpoint/churn-ab/variant/challenger",
        "endpoint/churn-ab/variant/champion",
    ]
    for target in targets:
        assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (2, 6)
        assert target["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
        assert target["Properties"]["RoleARN"] == (
            "arn:aws:iam::123456789012:role/aws-service-role/"
            "sagemaker.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
        )
    policies = resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy", "Custom")
    assert len(policies) == 2
    tracking = policies[0]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 250
    assert tracking["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert (tracking["ScaleInCooldown"], tracking["ScaleOutCooldown"]) == (300, 60)


def test_custom_data_capture_is_encrypted_and_scoped(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    config = one(template, "AWS::SageMaker::EndpointConfig", "CustomEndpointConfig")
    capture = config["Properties"]["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 25
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}]
    assert capture["KmsKeyId"] == get_att(template, "AWS::KMS::Key", "SharedKey")
    assert capture["DestinationS3Uri"]["Fn::Join"][1][-1] == "/capture/churn/"
    writes = [
        s
        for s in policy_statements(template, "CustomExecutionRole")
        if "s3:PutObject" in as_list(s["Action"])
    ]
    assert len(writes) == 1
    assert sorted(writes[0]["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    assert resolve_join(writes[0]["Resource"]).endswith("/capture/churn/*")


def test_custom_linear_deployment_rolls_back_on_errors_and_latency(
    scenario: dict[str, Any],
) -> None:
    endpoint = one(scenario["template"], "AWS::SageMaker::Endpoint", "CustomEndpoint")
    config = endpoint["Properties"]["DeploymentConfig"]
    policy = config["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "LINEAR",
        "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        "WaitIntervalInSeconds": 180,
    }
    assert policy["TerminationWaitInSeconds"] == 300
    alarms = [a["AlarmName"]["Ref"] for a in config["AutoRollbackConfiguration"]["Alarms"]]
    assert len(alarms) == 4  # 5XX rate and p99 latency for each of the two variants
    assert all(("Errors5xx" in a) or ("LatencyP99" in a) for a in alarms)
    assert endpoint["Properties"]["EndpointName"] == "churn-ab"


def test_custom_latency_threshold_and_alarm_topic(scenario: dict[str, Any]) -> None:
    alarms = resources_of(scenario["template"], "AWS::CloudWatch::Alarm", "Custom")
    latency = [a for a in alarms if a["Properties"].get("MetricName") == "ModelLatency"]
    assert {a["Properties"]["Threshold"] for a in latency} == {250_000}
    topic = ref(scenario["template"], "AWS::SNS::Topic", "Topic")
    assert all(a["Properties"]["AlarmActions"] == [topic] for a in alarms)
    assert not resources_of(scenario["template"], "AWS::SNS::Topic", "CustomAlarmTopic")


def test_custom_vpc_placement_allows_https_out_only(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    for model_resource in resources_of(template, "AWS::SageMaker::Model", "CustomModel"):
        vpc_config = model_resource["Properties"]["VpcConfig"]
        assert len(vpc_config["Subnets"]) == 2
        assert len(vpc_config["SecurityGroupIds"]) == 1
    group = one(template, "AWS::EC2::SecurityGroup", "CustomSecurityGroup")
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs through VPC endpoints",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    assert "SecurityGroupIngress" not in group["Properties"]
    vpc_actions = [
        a
        for s in policy_statements(template, "CustomExecutionRole")
        for a in as_list(s["Action"])
        if a.startswith("ec2:")
    ]
    assert "ec2:CreateNetworkInterface" in vpc_actions


# --- modes --------------------------------------------------------------------------------


def test_serverless_variant_has_no_instances_and_no_instance_alarms(
    scenario: dict[str, Any],
) -> None:
    template = scenario["template"]
    config = one(template, "AWS::SageMaker::EndpointConfig", "ServerlessEndpointConfig")
    (variant,) = config["Properties"]["ProductionVariants"]
    assert variant["ServerlessConfig"] == {
        "MemorySizeInMB": 3072,
        "MaxConcurrency": 20,
        "ProvisionedConcurrency": 2,
    }
    assert "InstanceType" not in variant
    assert "InitialInstanceCount" not in variant
    model_resource = one(template, "AWS::SageMaker::Model", "ServerlessModel")
    assert model_resource["Properties"]["EnableNetworkIsolation"] is False
    names = sorted(a.node.id for a in scenario["endpoints"]["Serverless"].alarms)
    assert names == ["Errors4xx", "Errors5xx", "LatencyP99"]


def test_async_writes_results_and_scales_from_zero(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    config = one(template, "AWS::SageMaker::EndpointConfig", "AsyncEndpointConfig")
    async_config = config["Properties"]["AsyncInferenceConfig"]
    output = async_config["OutputConfig"]
    assert output["S3OutputPath"]["Fn::Join"][1][-1] == "/async/output/"
    assert output["S3FailurePath"]["Fn::Join"][1][-1] == "/async/failure/"
    assert output["KmsKeyId"] == get_att(template, "AWS::KMS::Key", "SharedKey")
    assert set(output["NotificationConfig"]) == {"ErrorTopic"}
    assert async_config["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 4}
    target = one(template, "AWS::ApplicationAutoScaling::ScalableTarget", "Async")
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (0, 3)
    policies = resources_of(template, "AWS::ApplicationAutoScaling::ScalingPolicy", "Async")
    kinds = sorted(p["Properties"]["PolicyType"] for p in policies)
    assert kinds == ["StepScaling", "TargetTrackingScaling"]
    backlog = next(p for p in policies if p["Properties"]["PolicyType"] == "TargetTrackingScaling")
    spec = backlog["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert spec["CustomizedMetricSpecification"]["MetricName"] == (
        "ApproximateBacklogSizePerInstance"
    )
    from_zero = [
        a
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "HasBacklogWithoutCapacity"
    ]
    assert len(from_zero) == 1
    names = {a.node.id for a in scenario["endpoints"]["Async"].alarms}
    assert {"AsyncOldestRequestAge", "AsyncInvocationFailures"} <= names


def test_async_role_writes_only_its_prefixes_and_publishes_errors(
    scenario: dict[str, Any],
) -> None:
    statements = policy_statements(scenario["template"], "AsyncExecutionRole")
    writes = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    resources = sorted(resolve_join(r) for s in writes for r in as_list(s["Resource"]))
    assert len(resources) == 2
    assert resources[0].endswith("/async/failure/*")
    assert resources[1].endswith("/async/output/*")
    assert any("sns:Publish" in as_list(s["Action"]) for s in statements)


def test_shadow_variant_is_rendered_separately(scenario: dict[str, Any]) -> None:
    config = one(scenario["template"], "AWS::SageMaker::EndpointConfig", "ShadowEndpointConfig")
    assert [v["VariantName"] for v in config["Properties"]["ProductionVariants"]] == ["live"]
    assert [v["VariantName"] for v in config["Properties"]["ShadowProductionVariants"]] == [
        "candidate"
    ]


def test_shadow_variant_has_its_own_alarms_and_autoscaling(scenario: dict[str, Any]) -> None:
    endpoint = scenario["endpoints"]["Shadow"]
    production = ["Cpu", "Errors4xx", "Errors5xx", "LatencyP95", "Memory"]
    assert sorted(a.node.id for a in endpoint.alarms) == sorted(
        production + [f"{name}-candidate" for name in production]
    )
    # The shadow's alarms notify; only production's roll a deployment back.
    assert sorted(a.node.id for a in endpoint.rollback_alarms) == ["Errors5xx", "LatencyP95"]
    alarms = resources_of(scenario["template"], "AWS::CloudWatch::Alarm", "Shadow")
    latency = {
        next(d["Value"] for d in a["Properties"]["Dimensions"] if d["Name"] == "VariantName"): a
        for a in alarms
        if a["Properties"].get("MetricName") == "ModelLatency"
    }
    assert sorted(latency) == ["candidate", "live"]
    for alarm in latency.values():
        assert alarm["Properties"]["ExtendedStatistic"] == "p95"
        assert alarm["Properties"]["Threshold"] == 200_000  # ModelLatency is microseconds
    assert (
        "shadow candidate: p95 model latency above 200 ms"
        in (latency["candidate"]["Properties"]["AlarmDescription"])
    )
    targets = resources_of(
        scenario["template"], "AWS::ApplicationAutoScaling::ScalableTarget", "ShadowScaling"
    )
    resource_ids = sorted(resolve_join(t["Properties"]["ResourceId"]) for t in targets)
    assert [r.rsplit("/", 1)[-1] for r in resource_ids] == ["candidate", "live"]
    assert {t["Properties"]["MaxCapacity"] for t in targets} == {3}


def test_local_nvme_instances_get_no_kms_key_and_an_acknowledgement(
    scenario: dict[str, Any],
) -> None:
    config = one(scenario["template"], "AWS::SageMaker::EndpointConfig", "GpuEndpointConfig")
    assert "KmsKeyId" not in config["Properties"]
    endpoint = one(scenario["template"], "AWS::SageMaker::Endpoint", "GpuEndpoint")
    rolling = endpoint["Properties"]["DeploymentConfig"]["RollingUpdatePolicy"]
    assert rolling == {
        "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        "WaitIntervalInSeconds": 300,
    }


def test_registry_package_model_reads_only_that_package(scenario: dict[str, Any]) -> None:
    template = scenario["template"]
    model_resource = one(template, "AWS::SageMaker::Model", "RegistryModel")
    assert model_resource["Properties"]["PrimaryContainer"] == {
        "ModelPackageName": "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"
    }
    describe = [
        s
        for s in policy_statements(template, "RegistryExecutionRole")
        if "sagemaker:DescribeModelPackage" in as_list(s["Action"])
    ]
    assert describe[0]["Resource"] == (
        "arn:aws:sagemaker:eu-west-1:123456789012:model-package/churn/3"
    )


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_every_scenario_passes_the_compliance_packs(scenario: dict[str, Any], pack: Any) -> None:
    report = pack().validate_scope(scenario["stack"])
    findings = [
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
        # The fixture's own VPC, bucket and topic are test scaffolding, not the construct.
        if not r.construct_path.startswith(
            ("Endpoints/Vpc", "Endpoints/Bucket", "Endpoints/Caller")
        )
    ]
    assert findings == []
