"""What every SageMaker endpoint construct of this package has, whether it creates the endpoint
(:class:`RealtimeEndpoint`) or refers to one deployed elsewhere (``ExistingEndpoint``): the
``aws_sagemaker.IEndpoint`` members, per-variant metrics, the standard alarm set,
``grant_invoke`` and dashboard widgets. One implementation, so an existing endpoint is watched
exactly like one this app creates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, Unpack

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces import ResourceEnvironment
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from mlops_cdk._internal import alarms as alarm_helpers
from mlops_cdk._internal.alarms import AlarmSet, latency_alarm_id
from mlops_cdk._internal.validation import Checker
from mlops_cdk.constructs._instance_alarms import (
    INSTANCE_NAMESPACE,
    add_instance_alarms,
    error_rate,
)
from mlops_cdk.constructs.metric_options import MetricOptions, build_metric
from mlops_cdk.constructs.realtime_endpoint.options import ONE_MINUTE, EndpointAlarms

NAMESPACE = "AWS/SageMaker"
InvocationResponseCode = Literal["Invocation4XXErrors", "Invocation5XXErrors"]
RESPONSE_CODES: tuple[str, ...] = ("Invocation4XXErrors", "Invocation5XXErrors")
# Evaluation of the endpoint alarms: 3 of 5 one-period datapoints.
EVALUATION_PERIODS, DATAPOINTS_TO_ALARM = 5, 3


class EndpointBase(Construct):
    """The shared half of the endpoint constructs. Subclasses set ``endpoint_name``,
    ``endpoint_arn``, ``production_variant_names`` and ``instance_based``."""

    @property
    def endpoint_name(self) -> str:
        """The endpoint's name."""
        return self._endpoint_name

    @property
    def endpoint_arn(self) -> str:
        """The endpoint's ARN."""
        return self._endpoint_arn

    @property
    def production_variant_names(self) -> list[str]:
        """The names of the production variants (metrics default to the first)."""
        return list(self._production_variant_names)

    @property
    def instance_based(self) -> bool:
        """True when the variants run on instances (not serverless): instance metrics exist."""
        return self._instance_based

    @property
    def endpoint_ref(self) -> sagemaker_refs.EndpointReference:
        """A reference to the endpoint (``aws_sagemaker.IEndpointRef``)."""
        return sagemaker_refs.EndpointReference(endpoint_arn=self.endpoint_arn)

    @property
    def stack(self) -> Stack:
        """The stack the endpoint is in."""
        return Stack.of(self)

    @property
    def env(self) -> ResourceEnvironment:
        """Account and region of the endpoint (those of its stack)."""
        stack = Stack.of(self)
        return ResourceEnvironment(account=stack.account, region=stack.region)

    def _init_endpoint(
        self,
        endpoint_name: str,
        endpoint_arn: str,
        production_variant_names: Sequence[str],
        *,
        instance_based: bool,
        shadow_variant_names: Sequence[str] = (),
    ) -> None:
        self._endpoint_name, self._endpoint_arn = endpoint_name, endpoint_arn
        self._production_variant_names = tuple(production_variant_names)
        self._shadow_variant_names = tuple(shadow_variant_names)
        self._instance_based = instance_based

    # --- alarms ---------------------------------------------------------------------------

    def _variant_alarms(
        self,
        alarm_set: AlarmSet,
        thresholds: EndpointAlarms,
        instance_type_of: Callable[[str], str | None],
    ) -> list[cloudwatch.Alarm]:
        """The standard alarms of every variant (5XX and 4XX rates, latency at the chosen
        percentile; CPU and memory on instances); returns the production variants' 5XX and
        latency alarms, which roll back a guarded deployment (a shadow answers nobody, so its
        alarms only notify). ``instance_type_of`` gives a variant's instance type (``None``:
        unknown, so no CPU alarm: its threshold scales with the vCPUs)."""
        rollback: list[cloudwatch.Alarm] = []
        production = self.production_variant_names
        percentile, limit = thresholds.latency_percentile, thresholds.latency_threshold
        for name, shadow in [(n, False) for n in production] + [
            (n, True) for n in self._shadow_variant_names
        ]:
            # A shadow's alarms always carry its name; production ones only beside other
            # production variants (so adding a shadow leaves the production alarms as they are).
            suffix = "" if len(production) == 1 and not shadow else f"-{name}"
            kind = "shadow " if shadow else ""
            errors = alarm_set.add(
                f"Errors5xx{suffix}",
                self._error_rate("Invocation5XXErrors", name, thresholds.period),
                thresholds.error_5xx_rate_percent,
                f"{kind}{name}: model 5XX responses above {thresholds.error_5xx_rate_percent} % "
                "of invocations",
            )
            latency = alarm_set.add(
                latency_alarm_id("Latency", percentile) + suffix,
                self.metric_model_latency(name, statistic=percentile, period=thresholds.period),
                limit.to_milliseconds() * 1000,  # ModelLatency is microseconds
                f"{kind}{name}: {percentile} model latency above {limit.to_milliseconds():g} ms",
            )
            if not shadow:
                rollback += [errors, latency]
            alarm_set.add(
                f"Errors4xx{suffix}",
                self._error_rate("Invocation4XXErrors", name, thresholds.period),
                thresholds.error_4xx_rate_percent,
                f"{kind}{name}: client errors above {thresholds.error_4xx_rate_percent} % of "
                "invocations (callers sending bad input, or a changed input contract)",
            )
            if self.instance_based:
                self._instance_alarms(alarm_set, name, instance_type_of(name), suffix, thresholds)
        return rollback

    def _instance_alarms(
        self,
        alarm_set: AlarmSet,
        variant: str,
        instance_type: str | None,
        suffix: str,
        thresholds: EndpointAlarms,
    ) -> None:
        """CPU (scaled to the vCPUs) and memory; disk, GPU and GPU memory on accelerated
        instances (only memory when ``instance_type`` is unknown)."""
        add_instance_alarms(
            alarm_set,
            lambda name: self._instance_metric(name, variant, {}),
            variant=variant,
            suffix=suffix,
            instance_type=instance_type,
            thresholds=thresholds,
        )

    def _error_rate(self, errors: str, variant: str, period: Duration) -> cloudwatch.MathExpression:
        return error_rate(lambda name: self.metric(name, variant, period=period), errors, period)

    def _endpoint_metric(
        self, name: str, *, statistic: str, period: Duration = ONE_MINUTE
    ) -> cloudwatch.Metric:
        return alarm_helpers.metric(
            NAMESPACE,
            name,
            {"EndpointName": self.endpoint_name},
            statistic=statistic,
            period=period,
        )

    # --- metrics, grants, widgets ---------------------------------------------------------

    def metric(
        self,
        metric_name: str,
        production_variant_name: str | None = None,
        *,
        namespace: str = NAMESPACE,
        **options: Unpack[MetricOptions],
    ) -> cloudwatch.Metric:
        """A metric of one production variant (``EndpointName`` and ``VariantName``
        dimensions), Sum over 1 minute unless ``options`` say otherwise.

        :param metric_name: e.g. ``Invocations``.
        :param production_variant_name: Default: the first production variant.
        :param namespace: Default: ``AWS/SageMaker`` (instance metrics are in
            ``/aws/sagemaker/Endpoints``).
        """
        return self._variant_metric(
            metric_name, production_variant_name, options, namespace=namespace
        )

    def metric_invocations(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Invocations (Sum)."""
        return self._variant_metric("Invocations", production_variant_name, options)

    def metric_invocations_per_instance(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Invocations per instance (Sum), the metric autoscaling tracks."""
        return self._variant_metric("InvocationsPerInstance", production_variant_name, options)

    def metric_model_latency(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Model latency in microseconds (default statistic p99)."""
        return self._variant_metric(
            "ModelLatency", production_variant_name, options, statistic="p99"
        )

    def metric_overhead_latency(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """SageMaker's own latency in microseconds (default statistic p99)."""
        return self._variant_metric(
            "OverheadLatency", production_variant_name, options, statistic="p99"
        )

    def metric_invocation_response_code(
        self,
        response_code: InvocationResponseCode,
        production_variant_name: str | None = None,
        **options: Unpack[MetricOptions],
    ) -> cloudwatch.Metric:
        """Invocations answered with ``Invocation4XXErrors`` or ``Invocation5XXErrors`` (Sum)."""
        Checker.of(self).one_of("response_code", response_code, RESPONSE_CODES)
        return self._variant_metric(response_code, production_variant_name, options)

    def metric_errors_5xx(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Model 5XX responses (Sum)."""
        return self._variant_metric("Invocation5XXErrors", production_variant_name, options)

    def metric_errors_4xx(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Client 4XX responses (Sum)."""
        return self._variant_metric("Invocation4XXErrors", production_variant_name, options)

    def metric_cpu_utilization(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """CPU utilisation summed over vCPUs (Average; 0 to 100 x vCPUs)."""
        return self._instance_metric("CPUUtilization", production_variant_name, options)

    def metric_memory_utilization(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Memory utilisation percent (Average)."""
        return self._instance_metric("MemoryUtilization", production_variant_name, options)

    def metric_disk_utilization(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """Disk utilisation percent (Average)."""
        return self._instance_metric("DiskUtilization", production_variant_name, options)

    def metric_gpu_utilization(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """GPU utilisation summed over GPUs (Average; 0 to 100 x GPUs)."""
        return self._instance_metric("GPUUtilization", production_variant_name, options)

    def metric_gpu_memory_utilization(
        self, production_variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """GPU memory utilisation summed over GPUs (Average)."""
        return self._instance_metric("GPUMemoryUtilization", production_variant_name, options)

    def _variant_metric(
        self,
        metric_name: str,
        variant: str | None,
        options: MetricOptions,
        *,
        statistic: str = "Sum",
        namespace: str = NAMESPACE,
    ) -> cloudwatch.Metric:
        return build_metric(
            namespace,
            metric_name,
            {
                "EndpointName": self.endpoint_name,
                "VariantName": variant or self.production_variant_names[0],
            },
            options,
            statistic=statistic,
            period=ONE_MINUTE,
        )

    def _instance_metric(
        self, metric_name: str, variant: str | None, options: MetricOptions
    ) -> cloudwatch.Metric:
        return self._variant_metric(
            metric_name, variant, options, statistic="Average", namespace=INSTANCE_NAMESPACE
        )

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` invoke exactly this endpoint (synchronously, asynchronously and with
        response streaming)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:InvokeEndpoint",
                "sagemaker:InvokeEndpointAsync",
                "sagemaker:InvokeEndpointWithResponseStream",
            ],
            resource_arns=[self.endpoint_arn],
        )

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: traffic and errors, latency, utilisation."""
        widgets: list[cloudwatch.IWidget] = []
        for name in self.production_variant_names + list(self._shadow_variant_names):
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}/{name}: invocations and errors",
                    left=[self.metric_invocations(name)],
                    right=[self.metric_errors_4xx(name), self.metric_errors_5xx(name)],
                    width=8,
                )
            )
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}/{name}: latency (µs)",
                    left=[
                        self.metric_model_latency(name, statistic="p50"),
                        self.metric_model_latency(name, statistic="p99"),
                        self.metric_overhead_latency(name),
                    ],
                    width=8,
                )
            )
            if self.instance_based:
                widgets.append(
                    cloudwatch.GraphWidget(
                        title=f"{self.node.id}/{name}: utilisation",
                        left=[
                            self.metric_cpu_utilization(name),
                            self.metric_memory_utilization(name),
                        ],
                        width=8,
                    )
                )
        return widgets
