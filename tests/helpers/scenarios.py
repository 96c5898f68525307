"""Minimal construct scenarios that several test modules build on."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm

from mlops_cdk._internal import defaults
from mlops_cdk._internal.iam import ManagedPolicyRole, service_role
from mlops_cdk.constructs import (
    AutoScaling,
    Baseline,
    BatchTransformJob,
    ComputeResources,
    ContainerImage,
    CopyScaling,
    DataCapture,
    DeploymentPolicy,
    EcsModelService,
    EndpointAlarms,
    EndpointApi,
    EndpointMetrics,
    GroundTruth,
    InferenceApi,
    InstanceScaling,
    LambdaInference,
    MLPipeline,
    ModelData,
    ModelHost,
    ModelMonitorSchedule,
    ModelRegistry,
    MonitoringType,
    MultiModel,
    ProductionVariant,
    QualityAlarm,
    RealtimeEndpoint,
    ReportLocation,
    S3Trigger,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceRoute,
    TransformInput,
    TransformOutput,
)

SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
SERVER_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"
UPSTREAM_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/upstream-AbCdEf"  # noqa: S105 (an ARN)


def pipeline(stack: cdk.Stack, **kwargs: Any) -> MLPipeline:
    """An MLPipeline with a registry, data bucket, input prefix and metric gate unless
    ``kwargs`` give them (images: the construct's defaults)."""
    kwargs.setdefault(
        "registry",
        ModelRegistry(
            stack, "Registry", group_name="churn", removal_policy=cdk.RemovalPolicy.DESTROY
        ),
    )
    kwargs.setdefault("data_bucket", s3.Bucket.from_bucket_name(stack, "Data", "data-bucket"))
    kwargs.setdefault("input_prefix", "churn/input/")
    kwargs.setdefault("metric_name", "accuracy")
    kwargs.setdefault("metric_threshold", 0.8)
    return MLPipeline(stack, "Pipeline", **kwargs)


def captured_endpoint(stack: cdk.Stack) -> RealtimeEndpoint:
    """A RealtimeEndpoint named churn-prod that captures into an imported bucket."""
    capture = s3.Bucket.from_bucket_name(stack, "CaptureBucket", "capture-bucket")
    return RealtimeEndpoint(
        stack,
        "Churn",
        image=ContainerImage.from_uri(SERVER_IMAGE),
        endpoint_name="churn-prod",
        data_capture=DataCapture(bucket=capture, prefix="capture/"),
    )


def every_construct(stack: cdk.Stack) -> None:
    """One representative, fully featured instance of each construct in ``stack``: a captured,
    autoscaled endpoint with guarded deploys, its drift monitor and direct API, an endpoint with
    a shadow, an existing endpoint by name with its API (api-key auth) and monitor, a multi-model
    endpoint with a target-model-limited invoke grant, a batch job started by
    schedule and new data, a Lambda behind an API and an S3 trigger, a GPU ECS service deployed
    blue/green and a Fargate one with a canary rollout, secrets and a shared listener, a
    training pipeline that retrains on new data, a registry, and a GPU model host in the VPC
    that scales to zero with two models. Buckets are created in the
    stack (so the constructs may change them) and isolated-subnet VPCs stand in for the
    Network stack."""
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
        # Explicit, as in the Network stack (the default follows a feature flag).
        restrict_default_security_group=True,
    )
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    logs = defaults.access_log_bucket(stack, "AccessLogs", removal_policy=cdk.RemovalPolicy.DESTROY)
    data = defaults.secure_bucket(
        stack,
        "DataBucket",
        encryption_key=key,
        access_logs=logs,
        access_logs_prefix="data/",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    image = ContainerImage.from_uri(SERVER_IMAGE)
    endpoint = RealtimeEndpoint(
        stack,
        "Endpoint",
        image=image,
        model_data=ModelData.from_bucket(data, "models/churn/model.tar.gz"),
        data_capture=DataCapture(bucket=data, prefix="capture"),
        autoscaling=AutoScaling(),
        deployment=DeploymentPolicy.canary(),
        vpc=vpc,
    )
    ModelMonitorSchedule(stack, "Monitor", endpoint=endpoint, baseline=Baseline.demo_model())
    # A shadow beside production: its alarms and autoscaling are checked too.
    shadow_model = ModelData.from_bucket(data, "models/churn/next.tar.gz")
    RealtimeEndpoint(
        stack,
        "Shadowed",
        variants=[
            ProductionVariant(name="live", image=image, model_data=shadow_model),
            ProductionVariant(name="candidate", image=image, model_data=shadow_model, shadow=True),
        ],
        autoscaling=AutoScaling(max_capacity=2),
        alarm_thresholds=EndpointAlarms(latency_percentile="p95", latency=cdk.Duration.millis(200)),
        vpc=vpc,
    )
    EndpointApi(stack, "EndpointApi", endpoint=endpoint)
    existing = RealtimeEndpoint.from_endpoint_name(
        stack,
        "Existing",
        "team-b-churn",
        instance_type="ml.m5.large",
        data_capture=DataCapture(bucket=data, prefix="team-b/capture/"),
        alarm_topic=endpoint.alarm_topic,
    )
    EndpointApi(
        stack,
        "ExistingApi",
        endpoint=existing,
        api=InferenceApi(auth="api_key"),
        validate_instances=False,
    )
    ModelMonitorSchedule(
        stack, "ExistingMonitor", endpoint=existing, baseline=Baseline.demo_model()
    )
    tenants = RealtimeEndpoint(
        stack,
        "Tenants",
        image=image,
        multi_model=MultiModel(bucket=data, prefix="models/tenants/"),
        vpc=vpc,
    )
    caller = service_role(
        stack, "TenantsCaller", service="lambda.amazonaws.com", description="Team A's scorer"
    )
    tenants.grant_invoke_models(caller, ["team-a/*"])
    # Model quality on three instances: the map job, its reduce job and the quality alarm.
    ModelMonitorSchedule(
        stack,
        "Quality",
        endpoint=endpoint,
        baseline=Baseline(constraints=ModelData.from_bucket(data, "quality/constraints.json")),
        monitoring_type=MonitoringType.MODEL_QUALITY,
        problem_type="BinaryClassification",
        ground_truth=GroundTruth(bucket=data, prefix="truth/"),
        label_delay=cdk.Duration.hours(24),
        instance_count=3,
        quality_alarm=QualityAlarm(metric="auc", threshold=0.75),
        reports=ReportLocation(bucket=data, prefix="quality-reports/"),
    )
    BatchTransformJob(
        stack,
        "Batch",
        image=image,
        input=TransformInput(bucket=data, prefix="batch/input/"),
        output=TransformOutput(bucket=data, prefix="batch/output/"),
        schedule="cron(0 3 * * ? *)",
        run_on_new_data=True,
    )
    LambdaInference(
        stack,
        "Lambda",
        model_data=ModelData.demo_model(archive=False),
        api=InferenceApi(),
        s3_trigger=S3Trigger(bucket=data, input_prefix="score/in/", output_prefix="score/out/"),
        outside_vpc_reason="The representative function calls nothing inside a VPC.",
    )
    # A Fargate service with a canary rollout behind a shared (imported) listener, with secrets
    # from Secrets Manager (customer key) and SSM; the GPU one below deploys blue/green (the
    # default).
    secret_key = kms.Key.from_key_arn(
        stack,
        "SecretKey",
        "arn:aws:kms:eu-west-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab",
    )
    EcsModelService(
        stack,
        "Fargate",
        vpc=vpc,
        model_data=ModelData.demo_model(archive=False),
        listener=elbv2.ApplicationListener.from_application_listener_attributes(
            stack,
            "SharedListener",
            listener_arn="arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/"
            "shared/50dc6c495c0c9188/f2f7dc8efc522ab2",
            security_group=ec2.SecurityGroup.from_security_group_id(
                stack, "SharedListenerSg", "sg-0123456789abcdef0", allow_all_outbound=False
            ),
        ),
        route=ServiceRoute(priority=10, host_headers=["churn.models.example.com"]),
        deployment=ServiceDeployment.canary(percent=10),
        autoscaling=ServiceAutoScaling(min_capacity=2, max_capacity=4),
        secrets={
            "UPSTREAM_API_KEY": ecs.Secret.from_secrets_manager(
                secretsmanager.Secret.from_secret_attributes(
                    stack,
                    "UpstreamKey",
                    secret_complete_arn=UPSTREAM_SECRET_ARN,
                    encryption_key=secret_key,
                )
            ),
            "UPSTREAM_TOKEN": ecs.Secret.from_ssm_parameter(
                ssm.StringParameter.from_secure_string_parameter_attributes(
                    stack, "UpstreamToken", parameter_name="/churn/token", encryption_key=secret_key
                )
            ),
        },
    )
    EcsModelService(
        stack,
        "Gpu",
        vpc=vpc,
        model_data=ModelData.demo_model(archive=False),
        gpu_count=1,
        gpu_instance_type="g5.xlarge",
        cpu=4096,
        memory_mib=15360,
        deletion_protection=False,
    )
    pipeline(stack, data_bucket=data, retrain_on_new_data=True)
    host = ModelHost(
        stack,
        "Host",
        instance_type="ml.g5.2xlarge",
        instance_scaling=InstanceScaling(min_instances=0, max_instances=2),
        metrics=EndpointMetrics(),
        vpc=vpc,
    )
    host.add_model(
        "Churn",
        image=image,
        model_data=ModelData.from_bucket(data, "models/churn/model.tar.gz"),
        resources=ComputeResources(accelerators=1, min_memory_mb=4096),
        autoscaling=CopyScaling(min_copies=0, max_copies=2),
    )
    fraud = host.add_model("Fraud", image=image, resources=ComputeResources(min_memory_mb=2048))
    # A caller of one hosted model: its grant is checked against IAM's data like any policy.
    # (ManagedPolicyRole: the grant lands in a customer-managed policy, as the packs require.)
    fraud.grant_invoke(
        ManagedPolicyRole(stack, "FraudCaller", assumed_by=iam.AccountRootPrincipal())
    )
