"""The stateless serving part of an environment: the model endpoints enabled in its config."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.aws_ecr_assets import DockerImageAsset
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import defaults
from mlops_cdk._internal.iam import grant_decrypt_through_s3
from mlops_cdk._internal.model_packages import IMAGE, MODEL_DATA_URL, PackageDescription
from mlops_cdk.constructs import (
    AsyncInference,
    AutoScaling,
    ComputeResources,
    ContainerImage,
    CopyScaling,
    DataCapture,
    DeploymentPolicy,
    EcsModelService,
    EndpointAlarms,
    InferenceApi,
    InstanceScaling,
    LambdaAlarms,
    LambdaDeployment,
    LambdaInference,
    ModelData,
    ModelHost,
    ModelPackage,
    ProductionVariant,
    ProvisionedConcurrency,
    RealtimeEndpoint,
    S3Trigger,
    ServerlessConfig,
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceDeployment,
)
from mlops_cdk.stacks import smoke
from mlops_cdk.stacks.data import DataStack, removal_policy
from mlops_cdk.stacks.network import NetworkStack


class ServingStack(Stack):
    """Serving targets of one environment, replaceable at will: data lives in the Data stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: cfg.EnvironmentConfig,
        data: DataStack,
        network: NetworkStack,
        delivery: cfg.DeliverySettings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.endpoint: RealtimeEndpoint | None = None
        self.endpoint_name_output: CfnOutput | None = None
        # A package of another account, served with this account's image (promotion).
        self.foreign_package: ForeignPackage | None = None
        if config.realtime_endpoint.enabled:
            self.endpoint, self.foreign_package = realtime_endpoint(
                self,
                config.realtime_endpoint,
                data,
                network,
                log_retention=defaults.retention(config.log_retention_days),
            )
            self.endpoint_name_output = CfnOutput(
                self,
                "EndpointName",
                value=self.endpoint.endpoint_name,
                description="Invoke with: aws sagemaker-runtime invoke-endpoint --endpoint-name",
            )
        self.model_service: EcsModelService | None = None
        if config.ecs_model_service.enabled:
            self.model_service = ecs_model_service(self, config, data, network)
            CfnOutput(
                self,
                "ModelServiceUrl",
                value=self.model_service.url or "",
                description="POST /invocations here from inside the VPC (internal load balancer)",
            )
        self.lambda_inference: LambdaInference | None = None
        if config.lambda_inference.enabled:
            self.lambda_inference = lambda_inference(self, config, data, network)
            CfnOutput(
                self,
                "LambdaInferenceUrl",
                value=self.lambda_inference.url or "",
                description="POST /invocations here, signed with SigV4 (IAM auth)",
            )
        self.model_host: ModelHost | None = None
        self.model_host_endpoint_name_output: CfnOutput | None = None
        if config.model_host.enabled:
            self.model_host = model_host(self, config.model_host, data, network)
            self.model_host_endpoint_name_output = CfnOutput(
                self,
                "ModelHostEndpointName",
                value=self.model_host.endpoint_name,
                description="Invoke with: aws sagemaker-runtime invoke-endpoint --endpoint-name "
                "<this> --inference-component-name <a ModelHostComponents name>",
            )
            CfnOutput(
                self,
                "ModelHostComponents",
                value=",".join(m.component_name for m in self.model_host.models),
                description="The inference components (one per hosted model)",
            )
        self.dashboard = self._dashboard(config)
        self.smoke_targets = self._smoke_targets()
        self.smoke_test_role: iam.Role | None = None
        if delivery is not None and self.smoke_targets.any:
            self.smoke_test_role = smoke.environment_role(
                self,
                stage_name=config.stage_name,
                delivery_account=delivery.account,
                project=delivery.project,
                endpoint_arn=self.endpoint.endpoint_arn if self.endpoint else None,
                lambda_alias_arn=self.lambda_inference.alias.function_arn
                if self.lambda_inference
                else None,
                checks_load_balancer=self.model_service is not None,
                model_host_arns=(
                    self.model_host.endpoint_arn,
                    *(m.inference_component_arn for m in self.model_host.models),
                )
                if self.model_host
                else (),
            )

    def _smoke_targets(self) -> smoke.SmokeTargets:
        """The outputs the delivery pipeline's smoke test reads (one per serving target)."""
        alias = target_group = None
        if self.lambda_inference is not None:
            alias = CfnOutput(
                self,
                "LambdaAliasArn",
                value=self.lambda_inference.alias.function_arn,
                description="Invoke with: aws lambda invoke --function-name",
            )
        if self.model_service is not None:
            target_group = CfnOutput(
                self,
                "ModelServiceTargetGroupArn",
                value=self.model_service.target_group.target_group_arn,
                description="Check with: aws elbv2 describe-target-health --target-group-arn",
            )
        return smoke.SmokeTargets(
            endpoint_name=self.endpoint_name_output,
            lambda_alias_arn=alias,
            target_group_arn=target_group,
            model_host_endpoint_name=self.model_host_endpoint_name_output,
            model_host_components=tuple(m.component_name for m in self.model_host.models)
            if self.model_host
            else (),
        )

    def _dashboard(self, config: cfg.EnvironmentConfig) -> cloudwatch.Dashboard | None:
        """One dashboard with the graphs of every serving target of the environment."""
        targets = [
            t
            for t in (self.endpoint, self.model_service, self.lambda_inference, self.model_host)
            if t
        ]
        widgets = [widget for target in targets for widget in target.dashboard_widgets()]
        if not widgets:
            return None
        return cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{config.stage_name}-serving",
            widgets=[widgets[i : i + 3] for i in range(0, len(widgets), 3)],
        )


def lambda_inference(
    scope: Construct,
    config: cfg.EnvironmentConfig,
    data: DataStack,
    network: NetworkStack,
) -> LambdaInference:
    """The demo model on a LambdaInference function, shaped by the environment's settings."""
    settings = config.lambda_inference
    api, pc, deploy = settings.api, settings.provisioned_concurrency, settings.deployment
    return LambdaInference(
        scope,
        "LambdaInference",
        model_data=ModelData.demo_model(archive=False),
        memory_size_mb=settings.memory_size_mb,
        timeout=Duration.seconds(settings.timeout_seconds) if settings.timeout_seconds else None,
        architecture=lambda_.Architecture.ARM_64
        if settings.architecture == "arm64"
        else lambda_.Architecture.X86_64,
        reserved_concurrency=settings.reserved_concurrency,
        provisioned_concurrency=ProvisionedConcurrency(
            min_capacity=pc.min_capacity,
            max_capacity=pc.max_capacity,
            target_utilization=pc.target_utilization,
        )
        if pc
        else None,
        api=InferenceApi(
            auth=api.auth, throttle_rate=api.throttle_rate, throttle_burst=api.throttle_burst
        )
        if api
        else None,
        function_url=settings.function_url,
        deployment=_lambda_deployment(deploy) if deploy else None,
        s3_trigger=_s3_trigger(scope, settings.s3_trigger, data) if settings.s3_trigger else None,
        vpc=network.vpc if settings.in_vpc else None,
        subnets=network.private_subnets if settings.in_vpc else None,
        outside_vpc_reason=settings.outside_vpc_reason,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
        alarm_thresholds=_lambda_alarms(settings.alarms) if settings.alarms else None,
        log_retention=defaults.retention(config.log_retention_days),
        removal_policy=removal_policy(config),
    )


def _s3_trigger(
    scope: Construct, settings: cfg.LambdaS3TriggerSettings, data: DataStack
) -> S3Trigger:
    """New objects in the Data stack's batch-input bucket, scored into batch-output."""
    return S3Trigger(
        bucket=data.shared_bucket(scope, "batch-input"),
        input_prefix=settings.input_prefix,
        output_prefix=settings.output_prefix,
        output_bucket=data.shared_bucket(scope, "batch-output"),
        retry_attempts=settings.retry_attempts,
        max_event_age=Duration.minutes(settings.max_event_age_minutes),
    )


def _lambda_alarms(settings: cfg.LambdaAlarmSettings) -> LambdaAlarms:
    return LambdaAlarms(
        error_rate_percent=settings.error_rate_percent,
        latency_percentile=settings.latency_percentile,
        latency=_millis(settings.latency_ms) if settings.latency_ms is not None else None,
    )


def _millis(value: float) -> Duration:
    return Duration.millis(value)


def _lambda_deployment(settings: cfg.LambdaDeploymentSettings) -> LambdaDeployment:
    if settings.strategy == "canary":
        return LambdaDeployment.canary(settings.percent, Duration.minutes(settings.minutes))
    if settings.strategy == "linear":
        return LambdaDeployment.linear(settings.percent, Duration.minutes(settings.minutes))
    return LambdaDeployment.all_at_once()


def realtime_endpoint(
    scope: Construct,
    settings: cfg.RealtimeEndpointSettings,
    data: DataStack,
    network: NetworkStack,
    *,
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
) -> tuple[RealtimeEndpoint, ForeignPackage | None]:
    """The demo model, or the registry package of ``settings.model_package``, on a
    RealtimeEndpoint shaped by the environment's settings.

    A package of this account is served as registered (``ModelPackageName``); a package of
    another account (promotion from the registry account) with this account's own model server
    image and the package's ``ModelDataUrl``, read at deploy time (:func:`served_package`).
    """
    serverless = settings.mode == "serverless"
    package = settings.model_package
    arn = package.arn if package else None
    scaling = settings.autoscaling
    deployment = settings.deployment
    variants = _variants(scope, settings, data) if settings.variants else None
    image: ContainerImage | None = ContainerImage.model_server()
    model_data: ModelData | None = ModelData.demo_model()
    registered: ModelPackage | None = None
    foreign: ForeignPackage | None = None
    if package is not None and arn is not None and variants is None:
        if cfg.package_account(arn) == Stack.of(scope).account:
            image, model_data = None, None
            registered = model_package(scope, package, arn, data)
        else:
            foreign = ForeignPackage(scope, package, arn, data, log_retention)
            image, model_data = foreign.image, foreign.model_data
    endpoint = RealtimeEndpoint(
        scope,
        "Endpoint",
        image=None if variants else image,
        model_data=None if variants else model_data,
        model_package=registered,
        variants=variants,
        serverless=ServerlessConfig(
            memory_size_mb=settings.memory_size_mb,
            max_concurrency=settings.max_concurrency,
            provisioned_concurrency=settings.provisioned_concurrency,
        )
        if serverless
        else None,
        async_inference=_async_inference(scope, settings.async_inference, data)
        if settings.mode == "async"
        else None,
        instance_type=None if serverless else settings.instance_type,
        initial_instance_count=None if serverless else settings.initial_instance_count,
        autoscaling=AutoScaling(
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_invocations_per_instance=scaling.target_invocations_per_instance,
        )
        if scaling
        else None,
        data_capture=DataCapture(
            sampling_percentage=settings.data_capture_percent,
            bucket=data.shared_bucket(scope, "capture"),
        )
        if settings.data_capture_percent is not None
        else None,
        deployment=_deployment(deployment) if deployment else None,
        vpc=network.vpc if settings.in_vpc and not serverless else None,
        subnets=network.private_subnets,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
        alarm_thresholds=_endpoint_alarms(settings.alarms) if settings.alarms else None,
    )
    if foreign is not None:
        foreign.grant_decrypt(endpoint.role)
        foreign.image_tag = next(
            (n.asset_hash for n in endpoint.node.find_all() if isinstance(n, DockerImageAsset)),
            None,
        )
    return endpoint, foreign


class ForeignPackage:
    """A package of another account (the registry account), served with this account's image.

    SageMaker creating a model from ``ModelPackageName`` pulls the package's image, which the
    pipeline registered from the registry account's CDK asset repository: a repository cdk
    bootstrap owns, whose policy admits no other account. So the endpoint runs this account's
    build of the same model server (the same asset, hence the same tag; the delivery pipeline
    checks before promotion that the package names that tag) on the package's ``ModelDataUrl``,
    read at deploy time from the registry account's artifacts bucket, whose policy admits this
    account (``ml_pipeline.serving_accounts`` there).
    """

    def __init__(
        self,
        scope: Construct,
        package: cfg.ModelPackageSettings,
        arn: str,
        data: DataStack,
        log_retention: logs.RetentionDays,
    ) -> None:
        assert package.artifact_bucket is not None  # noqa: S101 - checked by EnvironmentConfig
        self.arn = arn
        self.account = cfg.package_account(arn)
        self.prefix = package.artifact_prefix
        # The tag of the model server image this account builds (its CDK asset hash), when
        # the image is the project's model server; the pipeline checks the package names it.
        self.image_tag: str | None = None
        self.description = PackageDescription(
            scope,
            "ServedPackage",
            package_arn=arn,
            fields=[MODEL_DATA_URL, IMAGE],
            encryption_key=data.encryption_key,
            log_retention=log_retention,
        )
        self.bucket = s3.Bucket.from_bucket_name(
            scope, "RegistryArtifactsBucket", package.artifact_bucket
        )
        self.image = (
            ContainerImage.from_uri(package.image)
            if package.image
            else ContainerImage.model_server()
        )
        self.model_data = ModelData.from_deploy_time_uri(
            self.description.field(MODEL_DATA_URL),
            bucket=self.bucket,
            prefix=package.artifact_prefix,
            compressed=True,
        )
        CfnOutput(
            scope,
            "ServedPackageImage",
            value=self.description.field(IMAGE),
            description="The image the served package was registered with (its tag must equal "
            "this account's model server asset tag)",
        )

    def grant_decrypt(self, grantee: iam.IGrantable) -> None:
        """Decrypt the package's objects through S3 with the registry account's key."""
        grant_decrypt_through_s3(
            grantee,
            key_account=self.account,
            bucket_arn=self.bucket.bucket_arn,
            prefix=self.prefix,
        )


def _variants(
    scope: Construct, settings: cfg.RealtimeEndpointSettings, data: DataStack
) -> list[ProductionVariant]:
    """The A/B (and shadow) variants: each serves its own package of the endpoint's group, or
    the endpoint's model (the registry package, else the demo model)."""
    package = settings.model_package
    image, model = ContainerImage.model_server(), ModelData.demo_model()
    variants = []
    for variant in settings.variants or []:
        arn = variant.model_package_arn or (package.arn if package else None)
        source = model_package(scope, package, arn, data) if package and arn else None
        variants.append(
            ProductionVariant(
                name=variant.name,
                image=None if source else image,
                model_data=None if source else model,
                model_package=source,
                instance_type=variant.instance_type,
                initial_instance_count=variant.initial_instance_count,
                weight=variant.weight,
                shadow=variant.shadow,
            )
        )
    return variants


def _async_inference(
    scope: Construct, settings: cfg.AsyncInferenceSettings | None, data: DataStack
) -> AsyncInference:
    """Results and failures in the batch-output bucket; notifications to existing topics."""
    queued = settings or cfg.AsyncInferenceSettings()

    def topic(construct_id: str, arn: str | None) -> sns.ITopic | None:
        return sns.Topic.from_topic_arn(scope, construct_id, arn) if arn else None

    return AsyncInference(
        output_bucket=data.shared_bucket(scope, "batch-output"),
        output_prefix=queued.output_prefix,
        failure_prefix=queued.failure_prefix,
        max_concurrent_invocations_per_instance=queued.max_concurrent_invocations_per_instance,
        success_topic=topic("AsyncSuccessTopic", queued.success_topic_arn),
        error_topic=topic("AsyncErrorTopic", queued.error_topic_arn),
        max_capacity=queued.max_capacity,
        target_backlog_per_instance=queued.target_backlog_per_instance,
        scale_to_zero=queued.scale_to_zero,
    )


def _endpoint_alarms(settings: cfg.EndpointAlarmSettings) -> EndpointAlarms:
    return EndpointAlarms(
        error_5xx_rate_percent=settings.error_5xx_rate_percent,
        error_4xx_rate_percent=settings.error_4xx_rate_percent,
        latency_percentile=settings.latency_percentile,
        latency=_millis(settings.latency_ms),
        cpu_percent_of_capacity=settings.cpu_percent,
        memory_percent=settings.memory_percent,
        async_oldest_request_age=Duration.minutes(settings.async_oldest_request_minutes),
    )


def model_host(
    scope: Construct,
    settings: cfg.ModelHostSettings,
    data: DataStack,
    network: NetworkStack,
) -> ModelHost:
    """A ModelHost running the demo model once per entry of ``settings.models`` (each its own
    inference component, reservation and copies)."""
    host = ModelHost(
        scope,
        "ModelHost",
        instance_type=settings.instance_type,
        initial_instance_count=settings.initial_instance_count,
        instance_scaling=InstanceScaling(
            min_instances=settings.min_instances, max_instances=settings.max_instances
        ),
        vpc=network.vpc if settings.in_vpc else None,
        subnets=network.private_subnets,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
    )
    for model in settings.models:
        scaling = None
        if model.min_copies is not None and model.max_copies is not None:
            scaling = CopyScaling(
                min_copies=model.min_copies,
                max_copies=model.max_copies,
                target_invocations_per_copy=model.target_invocations_per_copy,
            )
        host.add_model(
            model.name,
            image=ContainerImage.model_server(),
            model_data=ModelData.demo_model(),
            resources=ComputeResources(min_memory_mb=model.memory_mb, cpu_cores=model.cpu_cores),
            copy_count=model.copy_count,
            autoscaling=scaling,
        )
    return host


def model_package(
    scope: Construct, package: cfg.ModelPackageSettings, arn: str, data: DataStack
) -> ModelPackage:
    """A registry package of this account with what it names: its artifact (under the
    training runs prefix of the artifacts bucket, encrypted with the Data stack's key) and its
    image (the project's model server unless the config names one)."""
    return ModelPackage.from_arn(
        arn,
        artifact_bucket=data.shared_bucket(scope, "artifacts"),
        artifact_prefix=package.artifact_prefix,
        artifact_key=data.encryption_key,
        image=ContainerImage.from_uri(package.image)
        if package.image
        else ContainerImage.model_server(),
    )


def ecs_model_service(
    scope: Construct,
    config: cfg.EnvironmentConfig,
    data: DataStack,
    network: NetworkStack,
) -> EcsModelService:
    """The demo model on the reference server in ECS, shaped by the environment's settings.

    The load balancer is internal and admits the environment VPC's CIDR on its listener port;
    its access logs go to the Data stack's access-log bucket (SSE-S3, which ALB log delivery
    requires), whose bucket policy gains the ELB log-delivery grant for this prefix.
    """
    settings = config.ecs_model_service
    scaling = settings.autoscaling
    certificate = (
        acm.Certificate.from_certificate_arn(
            scope, "ModelServiceCertificate", settings.certificate_arn
        )
        if settings.certificate_arn
        else None
    )
    service = EcsModelService(
        scope,
        "ModelService",
        vpc=network.vpc,
        subnets=network.private_subnets,
        image=ContainerImage.model_server(),
        model_data=ModelData.demo_model(archive=False),
        cpu=settings.cpu,
        memory_mib=settings.memory_mib,
        desired_count=settings.desired_count,
        autoscaling=ServiceAutoScaling(
            min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity,
            target_cpu_percent=scaling.target_cpu_percent,
            requests_per_target=scaling.requests_per_target,
        )
        if scaling
        else None,
        health_check_grace_period=Duration.seconds(settings.health_check_grace_seconds),
        gpu_count=settings.gpu_count,
        gpu_instance_type=settings.gpu_instance_type,
        alarm_thresholds=_service_alarms(settings.alarms) if settings.alarms else None,
        certificate=certificate,
        encryption_key=data.encryption_key,
        alarm_topic=data.alarm_topic,
        access_logs=data.access_logs,
        access_logs_prefix="model-service",
        deletion_protection=settings.deletion_protection,
        deployment=_ecs_deployment(settings.deployment),
        log_retention=defaults.retention(config.log_retention_days),
        removal_policy=removal_policy(config),
    )
    service.allow_from(ec2.Peer.ipv4(config.network.cidr), "callers inside the environment VPC")
    return service


def _service_alarms(settings: cfg.EcsAlarmSettings) -> ServiceAlarms:
    return ServiceAlarms(
        error_5xx_rate_percent=settings.error_5xx_rate_percent,
        latency_percentile=settings.latency_percentile,
        latency=_millis(settings.latency_ms),
        cpu_percent=settings.cpu_percent,
        memory_percent=settings.memory_percent,
    )


def _deployment(settings: cfg.DeploymentSettings) -> DeploymentPolicy:
    wait = Duration.minutes(settings.wait_minutes)
    if settings.strategy == "canary":
        return DeploymentPolicy.canary(settings.percent, wait)
    if settings.strategy == "linear":
        return DeploymentPolicy.linear(settings.percent, wait)
    if settings.strategy == "rolling":
        return DeploymentPolicy.rolling(settings.percent, wait)
    return DeploymentPolicy.all_at_once(wait)


def _ecs_deployment(settings: cfg.EcsDeploymentSettings) -> ServiceDeployment:
    """The ``ecs_model_service.deployment`` section as the construct's option."""

    def minutes(value: int | None) -> Duration | None:
        return Duration.minutes(value) if value is not None else None

    return ServiceDeployment(
        strategy=settings.strategy.upper(),
        bake_time=minutes(settings.bake_minutes),
        canary_percent=settings.canary_percent,
        step_percent=settings.step_percent,
        step_interval=minutes(settings.step_interval_minutes),
        rollback_on_alarms=settings.rollback_on_alarms,
    )
