"""RealtimeEndpoint: a SageMaker endpoint with secure defaults, alarms and guarded deploys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Unpack

import jsii
from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal import checkov, defaults
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.iam import grant_publish, grant_write_prefix
from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE
from mlops_cdk._internal.sagemaker import (
    autoscaling_service_role,
    execution_role,
    has_local_storage,
    is_accelerated,
    scale_out_from_zero,
)
from mlops_cdk._internal.validation import KEY, ROLE, TOPIC, VPC, Checker, Said
from mlops_cdk.constructs._instance_alarms import acknowledge_local_storage
from mlops_cdk.constructs._sagemaker_model import ModelSource, SageMakerModel
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.metric_options import MetricOptions
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_package import ModelPackage
from mlops_cdk.constructs.realtime_endpoint._base import (
    DATAPOINTS_TO_ALARM,
    EVALUATION_PERIODS,
    EndpointBase,
)
from mlops_cdk.constructs.realtime_endpoint._checks import check, check_variant_settings
from mlops_cdk.constructs.realtime_endpoint._multi_model import (
    check_multi_model,
    check_target_models,
    grant_invoke_models,
)
from mlops_cdk.constructs.realtime_endpoint.existing import DEFAULT_VARIANTS, ExistingEndpoint
from mlops_cdk.constructs.realtime_endpoint.multi_model import MULTI_MODEL_ENVIRONMENT, MultiModel
from mlops_cdk.constructs.realtime_endpoint.options import (
    AsyncInference,
    AutoScaling,
    DataCapture,
    DeploymentPolicy,
    EndpointAlarms,
    ProductionVariant,
    ServerlessConfig,
)
from mlops_cdk.constructs.variant_settings import EndpointMetrics, InstanceScaling, VariantSettings

DEFAULT_VARIANT = "AllTraffic"


@jsii.implements(sagemaker.IEndpoint)
class RealtimeEndpoint(EndpointBase):
    """A SageMaker real-time endpoint: instance-based, serverless or asynchronous, one model or
    several (A/B variants and a shadow), with autoscaling, data capture, blue/green or rolling
    deployments that roll back on the endpoint's own alarms, KMS everywhere SageMaker allows it,
    optional VPC placement with network isolation, and a least-privilege execution role.

    Example::

        endpoint = RealtimeEndpoint(self, "Churn",
            image=ContainerImage.from_asset("mlops_cdk/runtime"),
            model_data=ModelData.from_bucket(artifacts, "churn/model.tar.gz"),
            autoscaling=AutoScaling(max_capacity=4),
            deployment=DeploymentPolicy.canary(10))
        endpoint.grant_invoke(api_role)

    It implements ``aws_sagemaker.IEndpoint`` (``endpoint_arn``, ``endpoint_name``,
    ``grant_invoke``), so it goes wherever CDK takes an endpoint, e.g.
    ``apigateway.SagemakerIntegration(endpoint)``, and has the per-variant metrics of the
    ``aws-sagemaker-alpha`` endpoint (``metric_invocations``, ``metric_model_latency``...,
    ``production_variant_name`` defaulting to the first production variant).

    :param image: model server image (with ``model_data``); or use ``model_package`` or
        ``variants``.
    :param model_data: model artifact for ``image``. Default: none (in the image).
    :param model_package: a model registry package (how MLPipeline-approved models deploy).
    :param variants: production variants for A/B tests, optionally one with ``shadow=True``
        (beside exactly one production variant). The shadow gets the same alarms (named
        ``...-<shadow name>``; they notify but never roll a deployment back) and the same
        autoscaling as production. Default: one variant ``AllTraffic`` from the model source
        above.
    :param instance_type: Default: ``ml.m5.large`` (not for serverless).
    :param initial_instance_count: Default: 1 (not for serverless).
    :param serverless: serverless mode instead of instances. Default: instances.
    :param async_inference: asynchronous mode (S3 in and out, scale to zero). Default: off.
    :param autoscaling: target tracking per variant, shadow included (instance mode). Default:
        fixed capacity.
    :param data_capture: capture requests/responses to S3. Default: off.
    :param deployment: guarded deployment policy. Default: SageMaker's all-at-once
        blue/green without baking or rollback alarms.
    :param vpc: run models in this VPC's private subnets. Default: no VPC.
    :param subnets: which subnets of ``vpc``. Default: private isolated subnets.
    :param network_isolation: block all network access from the container. Default: on
        (off for serverless, which does not support it).
    :param encryption_key: KMS key for volumes, capture and async output. Default: a new key
        with rotation.
    :param role: execution role (SageMaker must be able to assume it); it receives exactly the
        grants a created role would, in a customer-managed policy this construct attaches to it.
        Default: a new least-privilege role.
    :param alarm_topic: where alarms go. Default: a new KMS-encrypted topic.
    :param environment: container environment variables. Default: none.
    :param endpoint_name: Default: generated from the construct path.
    :param alarm_thresholds: Default: :class:`EndpointAlarms` defaults.
    :param removal_policy: for the KMS key this creates. Default: RETAIN.
    :param variant_settings: large-model settings of every instance variant (volume size,
        download and startup timeouts, AMI version, routing). Default: SageMaker's.
    :param instance_scaling: SageMaker managed instance scaling of every instance variant
        (at least 1 instance: only inference-component hosts scale to zero). Default: off.
    :param metrics: how often the endpoint publishes metrics; 10 seconds for alarms (and
        rollbacks) that react within seconds. Default: SageMaker's (every minute).
    :param multi_model: serve every ``.tar.gz`` under an S3 prefix from ``image`` (a multi-model
        endpoint; callers choose with ``TargetModel``). Default: one model.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ContainerImage | None = None,
        model_data: ModelData | None = None,
        model_package: ModelPackage | None = None,
        variants: Sequence[ProductionVariant] | None = None,
        instance_type: str | None = None,
        initial_instance_count: int | None = None,
        serverless: ServerlessConfig | None = None,
        async_inference: AsyncInference | None = None,
        autoscaling: AutoScaling | None = None,
        data_capture: DataCapture | None = None,
        deployment: DeploymentPolicy | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        network_isolation: bool | None = None,
        encryption_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        alarm_topic: sns.ITopic | None = None,
        environment: Mapping[str, str] | None = None,
        endpoint_name: str | None = None,
        alarm_thresholds: EndpointAlarms | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        multi_model: MultiModel | None = None,
        variant_settings: VariantSettings | None = None,
        instance_scaling: InstanceScaling | None = None,
        metrics: EndpointMetrics | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("vpc", vpc, VPC),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
            )
        )
        source = ModelSource(image, model_data, model_package)
        check(
            Checker.of(self),
            variants,
            source,
            instance_type=instance_type,
            initial_instance_count=initial_instance_count,
            serverless=serverless,
            async_inference=async_inference,
            autoscaling=autoscaling,
            data_capture=data_capture,
            deployment=deployment,
            vpc=vpc,
            network_isolation=network_isolation,
            endpoint_name=endpoint_name,
            environment=environment,
        )
        check_multi_model(
            Checker.of(self),
            multi_model,
            source=source,
            variants=variants,
            instance_type=instance_type,
            serverless=serverless,
            async_inference=async_inference,
        )
        default_type = instance_type or DEFAULT_INSTANCE_TYPE
        check_variant_settings(
            Checker.of(self),
            variant_settings,
            instance_scaling,
            metrics,
            instance_types=[v.instance_type or default_type for v in variants or []]
            or [default_type],
            serverless=serverless,
            autoscaling=autoscaling,
            initial_instance_count=initial_instance_count,
            alarm_thresholds=alarm_thresholds,
        )
        self.variant_settings, self.instance_scaling = variant_settings, instance_scaling
        self.metrics = metrics
        self.multi_model = multi_model
        if multi_model is not None:
            environment = {**MULTI_MODEL_ENVIRONMENT, **(environment or {})}
        self.variants = list(variants) if variants is not None else [_default_variant(source)]
        self.production_variants = [v for v in self.variants if not v.shadow]
        self.shadow_variants = [v for v in self.variants if v.shadow]
        self.serverless, self.data_capture = serverless, data_capture
        self.async_inference = async_inference
        self.instance_type = instance_type or DEFAULT_INSTANCE_TYPE
        self.initial_instance_count = initial_instance_count or 1
        self.network_isolation = (
            network_isolation if network_isolation is not None else (serverless is None)
        )
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="endpoint volumes, capture and output",
            topic_name="Endpoint alarms",
            removal_policy=removal_policy,
        )
        self.role = execution_role(
            self,
            "ExecutionRole",
            description=f"SageMaker execution role of {self.node.path}",
            encryption_key=self.encryption_key,
            role=role,
        )
        self._add_models(environment, vpc, subnets)
        self._init_endpoint(
            endpoint_name or Names.unique_resource_name(self, max_length=63, separator="-"),
            "",  # the endpoint's Ref, set once it exists (its config reads the name first)
            [v.name for v in self.production_variants],
            instance_based=serverless is None,
            shadow_variant_names=[v.name for v in self.shadow_variants],
        )
        self.endpoint_config = self._endpoint_config(serverless, async_inference, data_capture)
        self.alarms: list[cloudwatch.Alarm] = []
        self.rollback_alarms: list[cloudwatch.Alarm] = []
        self._add_alarms(alarm_thresholds or EndpointAlarms(), async_inference)
        self.endpoint = self._endpoint(deployment)
        self._endpoint_arn = self.endpoint.ref
        if autoscaling is not None:
            self._add_autoscaling(autoscaling)
        if async_inference is not None:
            self._add_async_scaling(async_inference)

    def _add_models(
        self,
        environment: Mapping[str, str] | None,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
    ) -> None:
        """One SageMaker model per variant, in ``vpc`` when given."""
        self.security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.security_group = defaults.https_egress_security_group(
                self, "SecurityGroup", vpc=vpc, description=f"{self.node.path} model containers"
            )
        self.models = {
            variant.name: SageMakerModel(
                self,
                "Model" if len(self.variants) == 1 else f"Model-{variant.name}",
                source=variant.source,
                role=self.role,
                environment={**(environment or {}), **(variant.environment or {})},
                network_isolation=self.network_isolation,
                vpc=vpc,
                subnets=subnets,
                security_groups=[self.security_group] if self.security_group else [],
                multi_model=self.multi_model.bind(self.role) if self.multi_model else None,
            )
            for variant in self.variants
        }
        if not self.network_isolation:
            for model in self.models.values():
                checkov.skip(
                    model.resource,
                    "CKV_AWS_370",
                    "Network isolation is off: a serverless variant does not support it "
                    "(SageMaker serverless feature exclusions), or network_isolation=False was "
                    "given; the model has no VPC and reads only its S3 data.",
                )

    # --- resources ------------------------------------------------------------------------

    def _endpoint_config(
        self,
        serverless: ServerlessConfig | None,
        async_inference: AsyncInference | None,
        data_capture: DataCapture | None,
    ) -> sagemaker.CfnEndpointConfig:
        local_storage = serverless is None and any(
            has_local_storage(self._instance_type(v)) for v in self.variants
        )
        key_arn = None if local_storage else self.encryption_key.key_arn
        config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[self._render_variant(v) for v in self.production_variants],
            shadow_production_variants=[self._render_variant(v) for v in self.shadow_variants]
            or None,
            kms_key_id=key_arn,
            data_capture_config=self._data_capture(data_capture),
            async_inference_config=self._async_config(async_inference),
            metrics_config=self.metrics.render() if self.metrics else None,
        )
        if local_storage:
            acknowledge_local_storage(config)
        return config

    def _endpoint(self, deployment: DeploymentPolicy | None) -> sagemaker.CfnEndpoint:
        return sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            deployment_config=deployment.render([a.alarm_name for a in self.rollback_alarms])
            if deployment
            else None,
        )

    def _instance_type(self, variant: ProductionVariant) -> str:
        return variant.instance_type or self.instance_type

    def _render_variant(
        self, variant: ProductionVariant
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        serverless = self.serverless
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=variant.name,
            model_name=self.models[variant.name].model_name,
            initial_variant_weight=variant.weight,
            serverless_config=serverless.render() if serverless else None,
            instance_type=None if serverless else self._instance_type(variant),
            initial_instance_count=None
            if serverless
            else variant.initial_instance_count or self.initial_instance_count,
            **self._variant_settings(),
        )

    def _variant_settings(self) -> dict[str, Any]:
        """Large-model settings and managed instance scaling of an instance variant."""
        rendered = self.variant_settings.render_into() if self.variant_settings else {}
        if self.instance_scaling is not None:
            rendered["managed_instance_scaling"] = self.instance_scaling.render()
        return rendered

    def _data_capture(
        self, capture: DataCapture | None
    ) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
        if capture is None or capture.bucket is None:
            return None
        grant_write_prefix(self.role, capture.bucket, capture.prefix, writer="Data capture")
        config = sagemaker.CfnEndpointConfig
        return config.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=capture.sampling_percentage,
            destination_s3_uri=f"s3://{capture.bucket.bucket_name}/{capture.prefix}",
            kms_key_id=self.encryption_key.key_arn,
            capture_options=[
                config.CaptureOptionProperty(capture_mode=mode) for mode in capture.capture_modes
            ],
            capture_content_type_header=config.CaptureContentTypeHeaderProperty(
                csv_content_types=list(capture.csv_content_types),
                json_content_types=list(capture.json_content_types),
            ),
        )

    def _async_config(
        self, options: AsyncInference | None
    ) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty | None:
        if options is None:
            return None
        bucket = options.output_bucket
        for prefix in (options.output_prefix, options.failure_prefix):
            grant_write_prefix(self.role, bucket, prefix, writer="Async inference")
        for topic in (options.success_topic, options.error_topic):
            if topic is not None:
                grant_publish(self.role, topic)
        notify = options.success_topic or options.error_topic
        config = sagemaker.CfnEndpointConfig
        return config.AsyncInferenceConfigProperty(
            output_config=config.AsyncInferenceOutputConfigProperty(
                s3_output_path=f"s3://{bucket.bucket_name}/{options.output_prefix}",
                s3_failure_path=f"s3://{bucket.bucket_name}/{options.failure_prefix}",
                kms_key_id=self.encryption_key.key_arn,
                notification_config=config.AsyncInferenceNotificationConfigProperty(
                    success_topic=_arn(options.success_topic),
                    error_topic=_arn(options.error_topic),
                )
                if notify
                else None,
            ),
            client_config=config.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=(
                    options.max_concurrent_invocations_per_instance
                )
            ),
        )

    def _scalable_target(
        self, variant: ProductionVariant, low: int, high: int
    ) -> appscaling.ScalableTarget:
        target = appscaling.ScalableTarget(
            self,
            f"Scaling-{variant.name}",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{self.endpoint_name}/variant/{variant.name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=low,
            max_capacity=high,
            role=autoscaling_service_role(self),
        )
        target.node.add_dependency(self.endpoint)
        return target

    def _add_autoscaling(self, scaling: AutoScaling) -> None:
        # The shadow too: it receives a copy of the production traffic and must keep up with it.
        for variant in self.variants:
            target = self._scalable_target(variant, scaling.min_capacity, scaling.max_capacity)
            target.scale_to_track_metric(
                "InvocationsPerInstance",
                target_value=scaling.target_invocations_per_instance,
                predefined_metric=(
                    appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE
                ),
                scale_in_cooldown=scaling.scale_in_cooldown,
                scale_out_cooldown=scaling.scale_out_cooldown,
            )

    def _add_async_scaling(self, options: AsyncInference) -> None:
        variant = self.production_variants[0]
        low = 0 if options.scale_to_zero else 1
        target = self._scalable_target(variant, low, options.max_capacity)
        target.scale_to_track_metric(
            "BacklogPerInstance",
            target_value=options.target_backlog_per_instance,
            custom_metric=self._endpoint_metric(
                "ApproximateBacklogSizePerInstance", statistic="Average"
            ),
            scale_in_cooldown=Duration.minutes(5),
            scale_out_cooldown=Duration.minutes(1),
        )
        if options.scale_to_zero:
            # Target tracking cannot leave zero on its own: nothing is "per instance" there.
            scale_out_from_zero(
                target,
                self._endpoint_metric(
                    "HasBacklogWithoutCapacity", statistic="Average", period=Duration.minutes(1)
                ),
            )

    # --- alarms ---------------------------------------------------------------------------

    def _add_alarms(
        self, thresholds: EndpointAlarms, async_inference: AsyncInference | None
    ) -> None:
        self._alarm_set = AlarmSet(
            self,
            self.alarm_topic,
            into=self.alarms,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=DATAPOINTS_TO_ALARM,
        )
        variants = {v.name: v for v in self.variants}
        self.rollback_alarms += self._variant_alarms(
            self._alarm_set, thresholds, lambda name: self._instance_type(variants[name])
        )
        if async_inference is not None:
            self._alarm_set.add(
                "AsyncOldestRequestAge",
                self._endpoint_metric("ApproximateAgeOfOldestRequest", statistic="Maximum"),
                thresholds.async_oldest_request_age.to_seconds(),
                "Async requests are waiting longer than "
                f"{thresholds.async_oldest_request_age.to_seconds():g} s",
            )
            self._alarm_set.add(
                "AsyncInvocationFailures",
                self.metric("InvocationFailures", self.production_variants[0].name),
                1,
                "Async invocations failed (see the failure prefix and error topic)",
            )

    # --- public API -----------------------------------------------------------------------

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Apply ``policy`` to the endpoint, its configuration and its models (stateless: they
        are replaced freely). Keys keep the ``removal_policy`` given at construction."""
        self.endpoint.apply_removal_policy(policy)
        self.endpoint_config.apply_removal_policy(policy)
        for model in self.models.values():
            model.resource.apply_removal_policy(policy)

    @staticmethod
    def from_endpoint_name(
        scope: Construct,
        construct_id: str,
        endpoint_name: str,
        *,
        variant_names: Sequence[str] = DEFAULT_VARIANTS,
        instance_type: str | None = None,
        serverless: bool = False,
        data_capture: DataCapture | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        alarm_thresholds: EndpointAlarms | None = None,
    ) -> ExistingEndpoint:
        """An endpoint deployed elsewhere, in this stack's account and region, with this
        construct's metrics, alarms (notifying ``alarm_topic``, default a new topic),
        ``grant_invoke`` and dashboard widgets; it can be monitored (give ``data_capture``:
        where its capture, already on, writes) and put behind an :class:`EndpointApi`. See
        :class:`ExistingEndpoint` for the keywords."""
        return ExistingEndpoint(
            scope,
            construct_id,
            endpoint_name=endpoint_name,
            variant_names=variant_names,
            instance_type=instance_type,
            serverless=serverless,
            data_capture=data_capture,
            encryption_key=encryption_key,
            alarm_topic=alarm_topic,
            alarm_thresholds=alarm_thresholds,
        )

    def metric_model_loading_wait_time(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Multi-model endpoints: how long requests waited for their model to be downloaded or
        loaded, in microseconds (default statistic p99)."""
        return self._variant_metric(
            "ModelLoadingWaitTime", production_variant_name, options, statistic="p99"
        )

    def metric_model_cache_hit(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Multi-model endpoints: requests whose model was already loaded (Sum; divide by
        ``metric_invocations`` for the hit rate)."""
        return self._variant_metric("ModelCacheHit", production_variant_name, options)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke exactly this endpoint (synchronously, asynchronously and with
        response streaming; a multi-model endpoint synchronously only, the one call that takes
        a ``TargetModel``), any model on it."""
        if self.multi_model is not None:
            return grant_invoke_models(grantee, self.endpoint_arn, ["*"])
        return super().grant_invoke(grantee)

    def grant_invoke_models(
        self, grantee: iam.IGrantable, target_models: Sequence[str]
    ) -> iam.Grant:
        """Let ``grantee`` invoke this multi-model endpoint for the matching models only:
        ``sagemaker:InvokeEndpoint`` with ``StringLike`` on ``sagemaker:TargetModel``, e.g.
        ``["team-a/*"]`` (keys relative to the prefix; ``*`` and ``?`` are wildcards)."""
        check = Checker.of(self)
        if self.multi_model is None:
            check.fail("grant_invoke_models", "used on a multi-model endpoint", Said("one model"))
        check_target_models(check, target_models)
        return grant_invoke_models(grantee, self.endpoint_arn, target_models)

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: traffic and errors, latency, utilisation (and,
        on a multi-model endpoint, model loading)."""
        widgets = super().dashboard_widgets()
        if self.multi_model is not None:
            for name in self.production_variant_names:
                widgets.append(
                    cloudwatch.GraphWidget(
                        title=f"{self.node.id}/{name}: model loading",
                        left=[self.metric_model_loading_wait_time(name)],
                        right=[self.metric_model_cache_hit(name), self.metric_invocations(name)],
                        width=8,
                    )
                )
        for variant in self.variants if self.serverless is None else []:
            if is_accelerated(self._instance_type(variant)):
                widgets.append(
                    cloudwatch.GraphWidget(
                        title=f"{self.node.id}/{variant.name}: accelerator and disk",
                        left=[
                            self.metric_gpu_utilization(variant.name),
                            self.metric_gpu_memory_utilization(variant.name),
                        ],
                        right=[self.metric_disk_utilization(variant.name)],
                        width=8,
                    )
                )
        return widgets


def _default_variant(source: ModelSource) -> ProductionVariant:
    """The one variant of an endpoint given a model source instead of ``variants``."""
    return ProductionVariant(
        name=DEFAULT_VARIANT,
        image=source.image,
        model_data=source.model_data,
        model_package=source.model_package,
    )


def _arn(topic: sns.ITopic | None) -> str | None:
    return topic.topic_arn if topic is not None else None
