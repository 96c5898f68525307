"""ModelHost: one SageMaker endpoint whose instances are shared by several models, each an
inference component (:class:`~mlops_cdk.constructs.HostedModel`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal import defaults
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.network import select_subnets
from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE
from mlops_cdk._internal.sagemaker import (
    execution_role,
    grant_vpc_access,
    has_local_storage,
    is_accelerated,
)
from mlops_cdk._internal.validation import KEY, ROLE, TOPIC, VPC, Checker
from mlops_cdk.constructs._instance_alarms import (
    INSTANCE_NAMESPACE,
    acknowledge_local_storage,
    add_instance_alarms,
)
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.metric_options import MetricOptions, build_metric
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_host._checks import Demand, check_host
from mlops_cdk.constructs.model_host._host import VARIANT
from mlops_cdk.constructs.model_host.hosted_model import HostedModel
from mlops_cdk.constructs.model_host.options import (
    ComponentDeployment,
    ComputeResources,
    CopyScaling,
)
from mlops_cdk.constructs.model_package import ModelPackage
from mlops_cdk.constructs.realtime_endpoint.options import ONE_MINUTE, EndpointAlarms
from mlops_cdk.constructs.variant_settings import EndpointMetrics, InstanceScaling, VariantSettings


class ModelHost(Construct):
    """A SageMaker endpoint for inference components: one pool of instances that several
    models share, each with its own compute reservation, copies, autoscaling, alarms and
    rolling deployments (:meth:`add_model`). The endpoint itself runs no model.

    Example::

        host = ModelHost(self, "Host", instance_type="ml.g5.12xlarge",
            instance_scaling=InstanceScaling(min_instances=0, max_instances=2))
        churn = host.add_model("Churn", image=image, model_data=churn_data,
            resources=ComputeResources(accelerators=1, min_memory_mb=8192),
            autoscaling=CopyScaling(min_copies=0, max_copies=4))
        churn.grant_invoke(api_role)

    The instances scale with the copies the models need (SageMaker managed instance scaling);
    with ``min_instances=0`` and models that scale to zero copies, an idle host costs nothing.

    :param instance_type: Default: ``ml.m5.large``.
    :param initial_instance_count: instances at creation. Default: 1.
    :param instance_scaling: managed instance scaling range (``min_instances=0`` scales to
        zero). Default: 1 to 2 instances.
    :param variant_settings: large-model settings (volume, timeouts, AMI, routing).
        Default: routing ``LEAST_OUTSTANDING_REQUESTS``, SageMaker's defaults otherwise.
    :param metrics: how often metrics are published (10 seconds for fast rollbacks).
        Default: SageMaker's (every minute).
    :param vpc: run the models in this VPC's private subnets. Default: no VPC.
    :param subnets: which subnets of ``vpc``. Default: private isolated subnets.
    :param network_isolation: block all network access from the containers. Default: on.
    :param encryption_key: KMS key for the instance volumes. Default: a new key with rotation.
    :param role: execution role (SageMaker must be able to assume it); it receives the grants a
        created role would, in a customer-managed policy. Default: a new least-privilege role.
    :param alarm_topic: where alarms go. Default: a new KMS-encrypted topic.
    :param endpoint_name: Default: generated from the construct path.
    :param alarm_thresholds: the host's instance alarms and its models' defaults.
        Default: :class:`EndpointAlarms` defaults.
    :param removal_policy: for the KMS key this creates. Default: RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        instance_type: str | None = None,
        initial_instance_count: int = 1,
        instance_scaling: InstanceScaling | None = None,
        variant_settings: VariantSettings | None = None,
        metrics: EndpointMetrics | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        network_isolation: bool = True,
        encryption_key: kms.IKey | None = None,
        role: iam.IRole | None = None,
        alarm_topic: sns.ITopic | None = None,
        endpoint_name: str | None = None,
        alarm_thresholds: EndpointAlarms | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
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
        self.instance_type = instance_type or DEFAULT_INSTANCE_TYPE
        self.initial_instance_count = initial_instance_count
        self.instance_scaling = instance_scaling or InstanceScaling(
            min_instances=1, max_instances=max(2, initial_instance_count)
        )
        self.alarm_thresholds = alarm_thresholds or EndpointAlarms()
        check_host(
            Checker.of(self),
            instance_type=self.instance_type,
            initial_instance_count=initial_instance_count,
            instance_scaling=self.instance_scaling,
            variant_settings=variant_settings,
            metrics=metrics,
            alarm_thresholds=self.alarm_thresholds,
            endpoint_name=endpoint_name,
        )
        self.variant_settings = variant_settings or VariantSettings()
        self.metrics, self.network_isolation = metrics, network_isolation
        self.vpc, self.subnets = vpc, subnets
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="model host volumes",
            topic_name="Model host alarms",
            removal_policy=removal_policy,
        )
        self.role = execution_role(
            self,
            "ExecutionRole",
            description=f"SageMaker execution role of {self.node.path} and its models",
            encryption_key=self.encryption_key,
            role=role,
        )
        self.security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.security_group = defaults.https_egress_security_group(
                self, "SecurityGroup", vpc=vpc, description=f"{self.node.path} model containers"
            )
            grant_vpc_access(self.role, vpc)
        self.endpoint_name = endpoint_name or Names.unique_resource_name(
            self, max_length=63, separator="-"
        )
        self.endpoint_config = self._endpoint_config()
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
        )
        self.endpoint_arn = self.endpoint.ref
        self.alarms: list[cloudwatch.Alarm] = []
        self._alarm_set = AlarmSet(
            self, self.alarm_topic, into=self.alarms, evaluation_periods=5, datapoints_to_alarm=3
        )
        add_instance_alarms(
            self._alarm_set,
            lambda name: self._instance_metric(name, {}),
            variant=VARIANT,
            suffix="",
            instance_type=self.instance_type,
            thresholds=self.alarm_thresholds,
        )
        self.models: list[HostedModel] = []
        self._demands: list[Demand] = []

    def _endpoint_config(self) -> sagemaker.CfnEndpointConfig:
        config = sagemaker.CfnEndpointConfig
        local_storage = has_local_storage(self.instance_type)
        vpc_config = None
        if self.vpc is not None and self.security_group is not None:
            vpc_config = config.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id],
                subnets=select_subnets(self.vpc, self.subnets).subnet_ids,
            )
        resource = config(
            self,
            "EndpointConfig",
            # No ModelName: the models arrive as inference components, which SageMaker runs
            # with this role.
            execution_role_arn=self.role.role_arn,
            production_variants=[
                config.ProductionVariantProperty(
                    variant_name=VARIANT,
                    instance_type=self.instance_type,
                    initial_instance_count=self.initial_instance_count,
                    managed_instance_scaling=self.instance_scaling.render(),
                    **self.variant_settings.render_into("LEAST_OUTSTANDING_REQUESTS"),
                )
            ],
            kms_key_id=None if local_storage else self.encryption_key.key_arn,
            vpc_config=vpc_config,
            enable_network_isolation=self.network_isolation,
            metrics_config=self.metrics.render() if self.metrics else None,
        )
        # SageMaker checks the role's access when it creates the configuration's endpoint.
        resource.node.add_dependency(self.role)
        if local_storage:
            acknowledge_local_storage(resource)
        return resource

    # --- models ---------------------------------------------------------------------------

    @property
    def max_instances(self) -> int:
        """The most instances the host may run (its copies must fit them)."""
        return self.instance_scaling.max_instances

    def add_model(
        self,
        construct_id: str,
        *,
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
    ) -> HostedModel:
        """Host one more model on this endpoint (a :class:`HostedModel` under this host); see
        :class:`HostedModel` for the keywords."""
        return HostedModel(
            self,
            construct_id,
            host=self,
            image=image,
            model_data=model_data,
            model_package=model_package,
            environment=environment,
            resources=resources,
            copy_count=copy_count,
            autoscaling=autoscaling,
            deployment=deployment,
            model_data_download_timeout=model_data_download_timeout,
            container_startup_timeout=container_startup_timeout,
            alarm_thresholds=alarm_thresholds,
            component_name=component_name,
        )

    @property
    def demands(self) -> tuple[Demand, ...]:
        """What the hosted models reserve at most (their copies and resources per copy)."""
        return tuple(self._demands)

    def register(self, model: Construct, demand: Demand) -> None:
        """Record a model added to this host (HostedModel calls it once its checks pass)."""
        if isinstance(model, HostedModel):
            self.models.append(model)
        self._demands.append(demand)

    # --- metrics and dashboards -----------------------------------------------------------

    def _instance_metric(self, metric_name: str, options: MetricOptions) -> cloudwatch.Metric:
        return build_metric(
            INSTANCE_NAMESPACE,
            metric_name,
            {"EndpointName": self.endpoint_name, "VariantName": VARIANT},
            options,
            statistic="Average",
            period=ONE_MINUTE,
        )

    def metric_cpu_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """CPU utilisation summed over vCPUs (Average; 0 to 100 x vCPUs)."""
        return self._instance_metric("CPUUtilization", options)

    def metric_memory_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Memory utilisation percent (Average)."""
        return self._instance_metric("MemoryUtilization", options)

    def metric_disk_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Disk utilisation percent (Average)."""
        return self._instance_metric("DiskUtilization", options)

    def metric_gpu_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """GPU utilisation summed over GPUs (Average; 0 to 100 x GPUs)."""
        return self._instance_metric("GPUUtilization", options)

    def metric_gpu_memory_utilization(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """GPU memory utilisation summed over GPUs (Average)."""
        return self._instance_metric("GPUMemoryUtilization", options)

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: the host's utilisation, then each model's."""
        left: list[cloudwatch.IMetric] = [
            self.metric_cpu_utilization(),
            self.metric_memory_utilization(),
        ]
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(title=f"{self.node.id}: utilisation", left=left, width=8)
        ]
        if is_accelerated(self.instance_type):
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}: accelerator and disk",
                    left=[self.metric_gpu_utilization(), self.metric_gpu_memory_utilization()],
                    right=[self.metric_disk_utilization()],
                    width=8,
                )
            )
        for model in self.models:
            widgets.extend(model.dashboard_widgets())
        return widgets

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Apply ``policy`` to the endpoint, its configuration and every hosted model."""
        self.endpoint.apply_removal_policy(policy)
        self.endpoint_config.apply_removal_policy(policy)
        for model in self.models:
            model.apply_removal_policy(policy)
