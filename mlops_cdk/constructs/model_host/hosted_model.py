"""HostedModel: one model on a :class:`~mlops_cdk.constructs.ModelHost`, as a SageMaker
inference component with its own copies, autoscaling, alarms and rolling deployments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk._internal.alarms import AlarmSet, latency_alarm_id
from mlops_cdk._internal.sagemaker import autoscaling_service_role, scale_out_from_zero
from mlops_cdk._internal.validation import Checker
from mlops_cdk.constructs._instance_alarms import error_rate
from mlops_cdk.constructs._sagemaker_model import ModelSource, SageMakerModel
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.metric_options import MetricOptions, build_metric
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_host._checks import Demand, check_fit, check_model
from mlops_cdk.constructs.model_host._host import VARIANT, Host
from mlops_cdk.constructs.model_host.options import (
    ComponentDeployment,
    ComputeResources,
    CopyScaling,
)
from mlops_cdk.constructs.model_package import ModelPackage
from mlops_cdk.constructs.realtime_endpoint.options import ONE_MINUTE, EndpointAlarms
from mlops_cdk.constructs.variant_settings import check_alarm_period

NAMESPACE = "AWS/SageMaker"
COMPONENT_NAMESPACE = "/aws/sagemaker/InferenceComponents"


class HostedModel(Construct):
    """One model on a :class:`ModelHost`: an ``AWS::SageMaker::InferenceComponent`` that
    reserves ``resources`` per copy, runs ``copy_count`` copies (or scales them on invocations
    per copy), alarms on its own errors and latency, and updates copy by copy, rolling back
    when those alarms fire. Usually made with :meth:`ModelHost.add_model`.

    Callers invoke it with ``InvokeEndpoint`` on the host's endpoint and
    ``InferenceComponentName=model.component_name``; :meth:`grant_invoke` allows exactly that.

    :param host: the :class:`ModelHost` that runs it.
    :param image: model server image (with ``model_data``); or ``model_package``.
    :param model_data: model artifact for ``image``. Default: none (in the image).
    :param model_package: a model registry package instead of an image.
    :param environment: container environment variables. Default: none.
    :param resources: what one copy reserves. Default: :class:`ComputeResources` (1 vCPU,
        1024 MB).
    :param copy_count: copies at creation. Default: 1.
    :param autoscaling: copy-count target tracking (``min_copies=0`` scales to zero).
        Default: fixed ``copy_count``.
    :param deployment: how updates roll out. Default: one copy at a time, 5 minutes' baking,
        rolling back on the model's 5XX and latency alarms.
    :param model_data_download_timeout: Default: SageMaker's.
    :param container_startup_timeout: Default: SageMaker's.
    :param alarm_thresholds: Default: the host's.
    :param component_name: Default: generated from the construct path.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        host: Host,
        image: ContainerImage | None = None,
        model_data: ModelData | None = None,
        model_package: ModelPackage | None = None,
        environment: Mapping[str, str] | None = None,
        resources: ComputeResources | None = None,
        copy_count: int = 1,
        autoscaling: CopyScaling | None = None,
        deployment: ComponentDeployment | None = None,
        model_data_download_timeout: Duration | None = None,
        container_startup_timeout: Duration | None = None,
        alarm_thresholds: EndpointAlarms | None = None,
        component_name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check = Checker.of(self)
        source = ModelSource(image, model_data, model_package)
        check_model(
            check,
            source,
            environment=environment,
            copy_count=copy_count,
            autoscaling=autoscaling,
            startup_timeouts={
                "model_data_download_timeout": _seconds(model_data_download_timeout),
                "container_startup_timeout": _seconds(container_startup_timeout),
            },
            component_name=component_name,
        )
        self.host, self.copy_count, self.autoscaling = host, copy_count, autoscaling
        self.resources = resources or ComputeResources()
        self.alarm_thresholds = alarm_thresholds or host.alarm_thresholds
        check_alarm_period(
            check, self.alarm_thresholds.period, host.metrics, "alarm_thresholds.period"
        )
        demand = Demand(
            self.node.path,
            autoscaling.max_copies if autoscaling else copy_count,
            self.resources,
        )
        check_fit(
            check,
            demand,
            instance_type=host.instance_type,
            max_instances=host.max_instances,
            hosted=host.demands,
        )
        host.register(self, demand)
        self.component_name = component_name or Names.unique_resource_name(
            self, max_length=63, separator="-"
        )
        self.model = SageMakerModel(
            self,
            "Model",
            source=source,
            role=host.role,
            environment=environment,
            network_isolation=host.network_isolation,
        )
        self.alarms: list[cloudwatch.Alarm] = []
        self.rollback_alarms: list[cloudwatch.Alarm] = []
        self._add_alarms()
        self.deployment = deployment or ComponentDeployment.rolling()
        startup = None
        if model_data_download_timeout or container_startup_timeout:
            startup = sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                model_data_download_timeout_in_seconds=_whole(model_data_download_timeout),
                container_startup_health_check_timeout_in_seconds=_whole(container_startup_timeout),
            )
        component = sagemaker.CfnInferenceComponent
        self.inference_component = component(
            self,
            "Component",
            endpoint_name=host.endpoint.attr_endpoint_name,
            inference_component_name=self.component_name,
            variant_name=VARIANT,
            specification=component.InferenceComponentSpecificationProperty(
                model_name=self.model.model_name,
                compute_resource_requirements=self.resources.render(),
                startup_parameters=startup,
            ),
            runtime_config=component.InferenceComponentRuntimeConfigProperty(copy_count=copy_count),
            deployment_config=self.deployment.render(
                [alarm.alarm_name for alarm in self.rollback_alarms]
            ),
        )
        self.inference_component_arn = self.inference_component.attr_inference_component_arn
        if autoscaling is not None:
            self._add_autoscaling(autoscaling)

    # --- alarms and scaling ---------------------------------------------------------------

    def _add_alarms(self) -> None:
        thresholds = self.alarm_thresholds
        alarm_set = AlarmSet(
            self,
            self.host.alarm_topic,
            into=self.alarms,
            evaluation_periods=5,
            datapoints_to_alarm=3,
        )
        period = thresholds.period

        def invocation_metric(name: str) -> cloudwatch.Metric:
            return self.metric(name, period=period)

        errors = alarm_set.add(
            "Errors5xx",
            error_rate(invocation_metric, "Invocation5XXErrors", period),
            thresholds.error_5xx_rate_percent,
            f"model 5XX responses above {thresholds.error_5xx_rate_percent} % of invocations",
        )
        percentile, limit = thresholds.latency_percentile, thresholds.latency_threshold
        latency = alarm_set.add(
            latency_alarm_id("Latency", percentile),
            self.metric_model_latency(statistic=percentile, period=period),
            limit.to_milliseconds() * 1000,  # ModelLatency is microseconds
            f"{percentile} model latency above {limit.to_milliseconds():g} ms",
        )
        self.rollback_alarms += [errors, latency]
        alarm_set.add(
            "Errors4xx",
            error_rate(invocation_metric, "Invocation4XXErrors", period),
            thresholds.error_4xx_rate_percent,
            f"client errors above {thresholds.error_4xx_rate_percent} % of invocations",
        )

    def _add_autoscaling(self, scaling: CopyScaling) -> None:
        target = appscaling.ScalableTarget(
            self,
            "Scaling",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{self.component_name}",
            scalable_dimension="sagemaker:inference-component:DesiredCopyCount",
            min_capacity=scaling.min_copies,
            max_capacity=scaling.max_copies,
            role=autoscaling_service_role(self),
        )
        target.node.add_dependency(self.inference_component)
        target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=scaling.target_invocations_per_copy,
            predefined_metric=(
                appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY
            ),
            scale_in_cooldown=scaling.scale_in_cooldown,
            scale_out_cooldown=scaling.scale_out_cooldown,
        )
        if scaling.target_concurrent_requests_per_copy is not None:
            metric = appscaling.PredefinedMetric
            target.scale_to_track_metric(
                "ConcurrentRequestsPerCopy",
                target_value=scaling.target_concurrent_requests_per_copy,
                predefined_metric=(
                    metric.SAGEMAKER_INFERENCE_COMPONENT_CONCURRENT_REQUESTS_PER_COPY_HIGH_RESOLUTION
                ),
                scale_in_cooldown=scaling.scale_in_cooldown,
                scale_out_cooldown=scaling.scale_out_cooldown,
            )
        if scaling.min_copies == 0:
            # At zero copies requests fail with NoCapacityInvocationFailures (SageMaker "Scale
            # an endpoint to zero instances"): one copy is added, and the host an instance.
            scale_out_from_zero(
                target, self.metric("NoCapacityInvocationFailures", statistic="Maximum")
            )

    # --- public API -----------------------------------------------------------------------

    def metric(
        self, metric_name: str, *, namespace: str = NAMESPACE, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """A metric of this model (``InferenceComponentName`` dimension), Sum over 1 minute
        unless ``options`` say otherwise.

        :param namespace: Default: ``AWS/SageMaker`` (invocations, errors, latency); per-copy
            utilisation is in ``/aws/sagemaker/InferenceComponents``.
        """
        statistic = "Average" if namespace == COMPONENT_NAMESPACE else "Sum"
        return build_metric(
            namespace,
            metric_name,
            {"InferenceComponentName": self.component_name},
            options,
            statistic=statistic,
            period=ONE_MINUTE,
        )

    def metric_invocations(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations (Sum)."""
        return self.metric("Invocations", **options)

    def metric_invocations_per_copy(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations per copy (Sum), the metric copy autoscaling tracks."""
        return self.metric("InvocationsPerCopy", **options)

    def metric_model_latency(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Model latency in microseconds (default statistic p99)."""
        merged: MetricOptions = {"statistic": "p99", **options}
        return self.metric("ModelLatency", **merged)

    def metric_errors_5xx(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Model 5XX responses (Sum)."""
        return self.metric("Invocation5XXErrors", **options)

    def metric_errors_4xx(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Client 4XX responses (Sum)."""
        return self.metric("Invocation4XXErrors", **options)

    def metric_cpu_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """CPU utilisation of the copies, normalised to their reservation (Average)."""
        return self.metric("CPUUtilizationNormalized", namespace=COMPONENT_NAMESPACE, **options)

    def metric_memory_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Memory utilisation of the copies, normalised to their reservation (Average)."""
        return self.metric("MemoryUtilizationNormalized", namespace=COMPONENT_NAMESPACE, **options)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke exactly this model: ``InvokeEndpoint`` (and with response
        streaming) on the host's endpoint and this inference component. IAM authorizes such a
        call on both resources (the ``inference-component`` resource type of these actions in
        the Service Authorization Reference), so another model on the same host stays closed."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self.host.endpoint_arn, self.inference_component_arn],
        )

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: traffic and errors, latency, utilisation."""
        name = self.node.id
        return [
            cloudwatch.GraphWidget(
                title=f"{name}: invocations and errors",
                left=[self.metric_invocations()],
                right=[self.metric_errors_4xx(), self.metric_errors_5xx()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: latency (µs)",
                left=[
                    self.metric_model_latency(statistic="p50"),
                    self.metric_model_latency(statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: utilisation of its reservation",
                left=[self.metric_cpu_utilization(), self.metric_memory_utilization()],
                width=8,
            ),
        ]

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Apply ``policy`` to the inference component and its model (stateless)."""
        self.inference_component.apply_removal_policy(policy)
        self.model.resource.apply_removal_policy(policy)


def _seconds(value: Duration | None) -> float | None:
    return value.to_seconds() if value is not None else None


def _whole(value: Duration | None) -> int | None:
    return int(value.to_seconds()) if value is not None else None
