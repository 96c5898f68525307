"""EcsModelService: a containerized model on ECS behind an Application Load Balancer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack, cast

import jsii
from aws_cdk import Annotations, CfnOutput, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.alarms import latency_alarm_id
from mlops_cdk._internal.iam import OnlyActions, role_for, service_role
from mlops_cdk._internal.network import default_subnets
from mlops_cdk._internal.validation import (
    BUCKET,
    CERTIFICATE,
    CLUSTER,
    DURATION,
    KEY,
    LISTENER,
    LOAD_BALANCER,
    ROLE,
    SECRET,
    TOPIC,
    VPC,
    Checker,
    Kind,
)
from mlops_cdk.constructs.container_image import BoundImage, ContainerImage
from mlops_cdk.constructs.ecs_model_service._alarms import service_alarms
from mlops_cdk.constructs.ecs_model_service._checks import check
from mlops_cdk.constructs.ecs_model_service._routing import Routing, add_listeners, add_routing
from mlops_cdk.constructs.ecs_model_service.options import (
    MAX_CONTAINER_START_PERIOD,
    ServiceAlarms,
    ServiceAutoScaling,
    ServiceDeployment,
    ServiceHealthCheck,
    ServiceRoute,
)
from mlops_cdk.constructs.metric_options import MetricOptions, build_metric
from mlops_cdk.constructs.model_data import ModelData

# The reference server's non-root user (mlops_cdk/runtime/Dockerfile).
SERVER_USER = "10001:10001"
# The one writable path of the read-only task: TMPDIR and the model download directory.
SCRATCH_VOLUME = "scratch"
SCRATCH_PATH = "/var/lib/mlops"
# Every Linux capability Docker grants by default except CHOWN, which the volume-owner init
# container needs; the server container drops all of them.
_INIT_DROPPED = (
    ecs.Capability.AUDIT_WRITE,
    ecs.Capability.DAC_OVERRIDE,
    ecs.Capability.FOWNER,
    ecs.Capability.FSETID,
    ecs.Capability.KILL,
    ecs.Capability.MKNOD,
    ecs.Capability.NET_BIND_SERVICE,
    ecs.Capability.NET_RAW,
    ecs.Capability.SETFCAP,
    ecs.Capability.SETGID,
    ecs.Capability.SETPCAP,
    ecs.Capability.SETUID,
    ecs.Capability.SYS_CHROOT,
)
_ACM_ON_LISTENER = (
    "HIPAA.Security-ELBv2ACMCertificateRequired",
    "NIST.800.53.R5-ELBv2ACMCertificateRequired",
    "PCI.DSS.321-ELBv2ACMCertificateRequired",
)
_ALB_DELETION_PROTECTION = (
    "HIPAA.Security-ELBDeletionProtectionEnabled",
    "NIST.800.53.R5-ELBDeletionProtectionEnabled",
)
_ALB_HTTP_INTERNAL = (
    *_ACM_ON_LISTENER,
    "HIPAA.Security-ALBHttpToHttpsRedirection",
    "NIST.800.53.R5-ALBHttpToHttpsRedirection",
    "PCI.DSS.321-ALBHttpToHttpsRedirection",
)
_ALB_WAF = ("NIST.800.53.R5-ALBWAFEnabled", "PCI.DSS.321-ALBWAFEnabled")
# What the task execution role may do with the ECS secrets it injects: CDK's grant_read on a
# secret or parameter also grants DescribeSecret / GetParameter(History) / DescribeParameters,
# which the ECS agent never calls; kms:Decrypt is the grant on the secret's own key.
_SECRET_ACTIONS = ("secretsmanager:GetSecretValue", "ssm:GetParameters", "kms:Decrypt")
_ECR_URI_WARNING = "@aws-cdk/aws-ecs:ecrImageRequiresPolicy"
_DEPLOYMENT = Kind(
    "a ServiceDeployment (such as ServiceDeployment.canary())", types=(ServiceDeployment,)
)
_ROUTE = Kind("a ServiceRoute (such as ServiceRoute(priority=10))", types=(ServiceRoute,))
_ASG_ELB_HEALTH = (
    "HIPAA.Security-AutoScalingGroupELBHealthCheckRequired",
    "NIST.800.53.R5-AutoScalingGroupELBHealthCheckRequired",
    "PCI.DSS.321-AutoScalingGroupELBHealthCheckRequired",
)


@jsii.implements(ec2.IConnectable)
class EcsModelService(Construct):
    """A model server on ECS behind an Application Load Balancer, private by default.

    Fargate runs the tasks unless ``gpu_count`` asks for GPUs, which moves them to an EC2
    capacity provider (ECS GPU-optimised AMI, Auto Scaling group in the private subnets, managed
    scaling and termination protection, IMDSv2, encrypted EBS). The load balancer is internal
    unless ``public=True`` (HTTPS only then, HTTP redirected, TLS 1.2+). New revisions deploy
    ECS-native blue/green by default (canary, linear or rolling on request) and ECS rolls them
    back when the service's 5XX-rate or p99 latency alarm fires, or when tasks never become
    healthy; tasks run as a non-root user on a read-only root filesystem with one writable
    scratch volume for the model download. It can use an existing cluster, load balancer or
    shared listener, and inject ECS secrets.

    Example::

        service = EcsModelService(self, "Churn", vpc=vpc,
            model_data=ModelData.from_bucket(artifacts, "churn/model.onnx"),
            autoscaling=ServiceAutoScaling(min_capacity=2, max_capacity=8))
        service.allow_from(ec2.Peer.ipv4("10.0.0.0/16"))

    :param vpc: where the tasks and the load balancer run. Default: none (required).
    :param image: the model server. Default: the reference server
        (``mlops_cdk/runtime/Dockerfile``), built when the app is deployed.
    :param model_data: the model artifact; the server downloads it at start-up
        (``MLOPS_MODEL_S3_URI``) and the task role may read exactly that object. An ``.onnx``
        file, or a ``.tar.gz`` holding it. Default: none (in the image).
    :param cpu: task CPU units. Default: 1024 (1 vCPU).
    :param memory_mib: task memory. Default: 2048 (on Fargate the pair must be in AWS's table).
    :param desired_count: tasks to run. Default: 2, one per zone, so a zone or task failure
        keeps serving. With ``autoscaling`` it must lie within the bounds, and the template
        leaves the count to Application Auto Scaling, so a deployment never resets it.
    :param gpu_count: GPUs per task; above 0 the tasks run on EC2 GPU instances. Default: 0.
    :param gpu_instance_type: EC2 instance type of an NVIDIA GPU family (``g5.xlarge``);
        required with ``gpu_count``. Default: none.
    :param container_port: the server's port (passed to it as ``PORT``). Default: 8080.
    :param autoscaling: target tracking on CPU and requests per task. Default: fixed count.
    :param health_check_grace_period: how long ECS ignores failing health checks of a new task
        while it downloads and loads the model. Default: 120 s.
    :param health_check: load-balancer and container checks. Default:
        :class:`ServiceHealthCheck` defaults (``/ping`` every 15 s).
    :param public: an internet-facing load balancer (needs public subnets and ``certificate``).
        Default: internal, in the private subnets.
    :param certificate: an ACM certificate; HTTPS on 443 with HTTP redirected to it. Works for
        internal load balancers too. Default: none (internal HTTP on port 80).
    :param subnets: where tasks (and an internal load balancer) run. Default: the VPC's private
        subnets.
    :param encryption_key: KMS key of the log group. Default: a new key with rotation.
    :param alarm_topic: where alarms go. Default: a new KMS-encrypted topic.
    :param environment: extra container environment variables; no secrets (use ECS secrets).
        Default: none.
    :param ephemeral_storage_gib: Fargate task storage, 21-200 GiB, for large models.
        Default: Fargate's 20 GiB.
    :param access_logs: bucket for load-balancer access logs (SSE-S3: ALB cannot write to
        KMS-encrypted buckets). Default: a new SSE-S3 bucket.
    :param access_logs_prefix: Default: the construct path's unique id.
    :param deletion_protection: protect the load balancer from deletion. Default: on (turn it
        off for disposable environments, or deleting the stack fails).
    :param web_acl_arn: a WAFv2 web ACL (regional) to associate with the load balancer;
        recommended for ``public=True``. Default: none.
    :param log_retention: container log retention. Default: one year.
    :param removal_policy: for the log group and a created access-log bucket. Default: RETAIN.
    :param alarm_thresholds: Default: :class:`ServiceAlarms` defaults.
    :param container_user: numeric ``uid:gid`` the server runs as, and owner of the scratch
        volume; never root. Default: ``10001:10001``, the reference server's user.
    :param deployment: how new revisions reach traffic and when they roll back
        (:class:`ServiceDeployment`). Default: blue/green with a 10-minute bake, rolled back
        by ECS when the service's 5XX-rate or p99 latency alarm fires (and by the circuit
        breaker when tasks never become healthy).
    :param cluster: an existing ECS cluster in ``vpc`` to run in. With ``gpu_count`` it must be
        an ``ecs.Cluster`` of this app (the construct adds its GPU capacity provider to it).
        Default: a new cluster with Container Insights.
    :param load_balancer: an existing Application Load Balancer in ``vpc``; the service adds its
        listener (``listener_port`` 80, or 443 with ``certificate``) to it. Default: a new one.
    :param listener: an existing listener (shared with other services) that the service adds its
        rule and target groups to; ``route`` then chooses its requests. Not with
        ``load_balancer``, ``certificate``, ``access_logs`` or ``web_acl_arn`` (those belong to
        the listener's owner). With ``public=True`` it must serve HTTPS with a certificate.
        Default: a listener of the service's own.
    :param route: the rule's priority and conditions. Default: priority 1, every path
        (required with ``listener``).
    :param secrets: container variables from Secrets Manager or SSM Parameter Store
        (``ecs.Secret.from_secrets_manager(secret)``, ``ecs.Secret.from_ssm_parameter(p)``),
        injected at task start and never in the task definition. The execution role gets
        ``secretsmanager:GetSecretValue`` / ``ssm:GetParameters`` on each and ``kms:Decrypt``
        on its key when it has one. Default: none.
    :param role: the task role the model server runs with (ECS tasks must be able to assume
        it); it receives exactly the grants a created role would (reading the model artifact),
        in a customer-managed policy this construct attaches to it. Default: a new
        least-privilege role. The ECS agent's execution role is always created here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        image: ContainerImage | None = None,
        model_data: ModelData | None = None,
        cpu: int = 1024,
        memory_mib: int = 2048,
        desired_count: int = 2,
        gpu_count: int = 0,
        gpu_instance_type: str | None = None,
        container_port: int = 8080,
        autoscaling: ServiceAutoScaling | None = None,
        health_check_grace_period: Duration = Duration.seconds(120),  # noqa: B008
        health_check: ServiceHealthCheck | None = None,
        public: bool = False,
        certificate: acm.ICertificate | None = None,
        subnets: ec2.SubnetSelection | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        environment: Mapping[str, str] | None = None,
        ephemeral_storage_gib: int | None = None,
        access_logs: s3.IBucket | None = None,
        access_logs_prefix: str | None = None,
        deletion_protection: bool = True,
        web_acl_arn: str | None = None,
        log_retention: logs.RetentionDays = defaults.DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        alarm_thresholds: ServiceAlarms | None = None,
        container_user: str = SERVER_USER,
        role: iam.IRole | None = None,
        deployment: ServiceDeployment | None = None,
        cluster: ecs.ICluster | None = None,
        load_balancer: elbv2.IApplicationLoadBalancer | None = None,
        listener: elbv2.IApplicationListener | None = None,
        route: ServiceRoute | None = None,
        secrets: Mapping[str, ecs.Secret] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("vpc", vpc, VPC),
                ("certificate", certificate, CERTIFICATE),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
                ("access_logs", access_logs, BUCKET),
                ("health_check_grace_period", health_check_grace_period, DURATION),
                ("cluster", cluster, CLUSTER),
                ("load_balancer", load_balancer, LOAD_BALANCER),
                ("listener", listener, LISTENER),
                ("deployment", deployment, _DEPLOYMENT),
                ("route", route, _ROUTE),
                *((f"secrets[{name!r}]", value, SECRET) for name, value in (secrets or {}).items()),
            )
        )
        self.deployment = deployment or ServiceDeployment()
        self.health_check = health_check or ServiceHealthCheck()
        check(
            Checker.of(self),
            vpc=vpc,
            cpu=cpu,
            memory_mib=memory_mib,
            desired_count=desired_count,
            gpu_count=gpu_count,
            gpu_instance_type=gpu_instance_type,
            container_port=container_port,
            autoscaling=autoscaling,
            grace_period=health_check_grace_period,
            health_check=self.health_check,
            public=public,
            certificate=certificate,
            environment=environment or {},
            ephemeral_storage_gib=ephemeral_storage_gib,
            container_user=container_user,
            web_acl_arn=web_acl_arn,
            secrets=secrets or {},
            cluster=cluster,
            load_balancer=load_balancer,
            listener=listener,
            route=route,
            access_logs=access_logs,
            access_logs_prefix=access_logs_prefix,
            deployment=self.deployment,
            alarm_thresholds=alarm_thresholds or ServiceAlarms(),
        )
        self.container_user, self.container_port = container_user, container_port
        self.gpu, self.desired_count, self.autoscaling = gpu_count > 0, desired_count, autoscaling
        self.public = public
        self.https = certificate is not None or (listener is not None and public)
        self.listener_port: int | None = None
        if listener is None:
            self.listener_port = 443 if certificate is not None else 80
        task_subnets = subnets or default_subnets(vpc)
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="model service logs and alarms",
            topic_name="Model service alarms",
        )
        self._add_logs_and_roles(log_retention, removal_policy, role)
        self._add_cluster(vpc, task_subnets, gpu_instance_type, cluster)
        self._add_task(
            image or ContainerImage.model_server(), model_data, cpu, memory_mib, gpu_count,
            ephemeral_storage_gib, health_check_grace_period, environment or {}, secrets or {},
        )  # fmt: skip
        self._add_front(
            vpc, public, task_subnets, deletion_protection, access_logs, access_logs_prefix,
            removal_policy, web_acl_arn, certificate, load_balancer, listener,
        )  # fmt: skip
        self._add_service(vpc, task_subnets, health_check_grace_period, route or ServiceRoute())
        if autoscaling is not None:
            self._add_autoscaling(autoscaling)
        thresholds = alarm_thresholds or ServiceAlarms()
        self.alarms: list[cloudwatch.Alarm] = self._add_alarms(thresholds)
        self._add_rollback_alarms(thresholds)
        self._acknowledge(public, deletion_protection, web_acl_arn)

    # --- secure defaults ----------------------------------------------------------------

    def _add_logs_and_roles(
        self,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        role: iam.IRole | None,
    ) -> None:
        self.log_group = defaults.log_group(
            self,
            "Logs",
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
            retention=log_retention,
        )
        self.task_role = role_for(
            self,
            "TaskRole",
            role,
            lambda: service_role(
                self,
                "TaskRole",
                service="ecs-tasks.amazonaws.com",
                description=f"Model server tasks of {self.node.path}: reads the model artifact",
            ),
        )
        self.execution_role = service_role(
            self,
            "ExecutionRole",
            service="ecs-tasks.amazonaws.com",
            description=f"ECS agent for {self.node.path}: pulls the image, writes logs",
        )

    # --- cluster, task and service ------------------------------------------------------

    def _add_cluster(
        self,
        vpc: ec2.IVpc,
        task_subnets: ec2.SubnetSelection,
        gpu_instance_type: str | None,
        cluster: ecs.ICluster | None,
    ) -> None:
        self.cluster: ecs.ICluster = cluster or ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.capacity_provider: ecs.AsgCapacityProvider | None = None
        if self.gpu:
            self.capacity_provider = self._gpu_capacity(
                vpc, task_subnets, cast(str, gpu_instance_type)
            )

    def _add_task(
        self,
        image: ContainerImage,
        model_data: ModelData | None,
        cpu: int,
        memory_mib: int,
        gpu_count: int,
        ephemeral_storage_gib: int | None,
        grace_period: Duration,
        environment: Mapping[str, str],
        secrets: Mapping[str, ecs.Secret],
    ) -> None:
        bound_image = image.bind(self, self.execution_role)
        self.model_uri: str | None = None
        if model_data is not None:
            self.model_uri = model_data.bind(self, self.task_role).s3_uri
        self.task_definition = self._task_definition(cpu, memory_mib, ephemeral_storage_gib)
        self.container = self._containers(
            _ecs_image(bound_image),
            cpu=cpu,
            memory_mib=memory_mib,
            gpu_count=gpu_count,
            grace_period=grace_period,
            environment=environment,
        )
        for name, secret in secrets.items():
            self.container.add_secret(name, _ExactSecret(secret))
        for container in (self.volume_owner, self.container):
            # CDK warns on every ECR URI given as a plain image name; ContainerImage.bind has
            # granted the pull on exactly that repository to the execution role.
            Annotations.of(container).acknowledge_warning(
                _ECR_URI_WARNING,
                "ContainerImage.bind granted ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on "
                "the image's repository (and ecr:GetAuthorizationToken) to the execution role.",
            )

    def _add_front(
        self,
        vpc: ec2.IVpc,
        public: bool,
        task_subnets: ec2.SubnetSelection,
        deletion_protection: bool,
        access_logs: s3.IBucket | None,
        access_logs_prefix: str | None,
        removal_policy: RemovalPolicy,
        web_acl_arn: str | None,
        certificate: acm.ICertificate | None,
        load_balancer: elbv2.IApplicationLoadBalancer | None,
        listener: elbv2.IApplicationListener | None,
    ) -> None:
        """The load balancer (own or given) and the service's listener on it, or the given
        shared listener."""
        self.load_balancer: elbv2.IApplicationLoadBalancer | None = None
        self.load_balancer_security_group: ec2.SecurityGroup | None = None
        self.redirect_listener: elbv2.ApplicationListener | None = None
        self.owns_load_balancer = load_balancer is None and listener is None
        if listener is not None:
            self.listener: elbv2.IApplicationListener = listener
            return
        if load_balancer is None:
            load_balancer = self._load_balancer(
                vpc, public, task_subnets, deletion_protection, access_logs,
                access_logs_prefix, removal_policy, web_acl_arn,
            )  # fmt: skip
        self.load_balancer = load_balancer
        self.listener, self.redirect_listener = add_listeners(
            self,
            load_balancer=load_balancer,
            own_load_balancer=self.owns_load_balancer,
            certificate=certificate,
            listener_port=cast(int, self.listener_port),
            open_to_world=public,
        )

    def _add_service(
        self,
        vpc: ec2.IVpc,
        task_subnets: ec2.SubnetSelection,
        grace_period: Duration,
        route: ServiceRoute,
    ) -> None:
        # Fargate tasks get a security group that only speaks HTTPS out (AWS APIs); on EC2 the
        # service creates its own.
        task_security_group = None
        if not self.gpu:
            task_security_group = defaults.https_egress_security_group(
                self,
                "TaskSecurityGroup",
                vpc=vpc,
                description=f"{self.node.path} model tasks",
                rule_description="HTTPS to AWS APIs (ECR, S3, CloudWatch Logs) through VPC "
                "endpoints or NAT",
            )
        self.routing: Routing = add_routing(
            self,
            vpc=vpc,
            listener=self.listener,
            created_listener=self.listener_port is not None,
            groups_under_listener=self.owns_load_balancer,
            route=route,
            health_check=self.health_check,
            shifts_traffic=self.deployment.shifts_traffic,
            # The group's construct ID of the former ecs_patterns version, so its logical ID
            # (and the running group) stays.
            target_group_id="ECSGroup" if self.public else "ECSPrivateGroup",
        )
        self.target_group: elbv2.ApplicationTargetGroup = self.routing.target_group
        self.alternate_target_group = self.routing.alternate_target_group
        self.listener_rule = self.routing.rule
        self.deployment_role = self.routing.deployment_role
        # The former pattern's construct, kept so the service's logical ID stays.
        holder = Construct(self, "Service")
        self.service: ecs.BaseService = self._service(
            holder, task_security_group=task_security_group, task_subnets=task_subnets,
            grace_period=grace_period,
        )  # fmt: skip
        alternate = None
        if self.alternate_target_group is not None and self.deployment_role is not None:
            alternate = ecs.AlternateTarget(
                "Green",
                alternate_target_group=self.alternate_target_group,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(
                    self.listener_rule
                ),
                role=self.deployment_role,
            )
            if self.deployment_role.policy is not None:
                self.service.node.add_dependency(self.deployment_role.policy)
        self.service.load_balancer_target(
            container_name=self.container.container_name,
            container_port=self.container_port,
            protocol=ecs.Protocol.TCP,
            alternate_target=alternate,
        ).attach_to_application_target_group(self.target_group)
        self.service.node.add_dependency(self.listener_rule)
        self.task_connections = self.service.connections
        self.url: str | None = None
        if self.load_balancer is not None:
            dns = self.load_balancer.load_balancer_dns_name
            self._connections = ec2.Connections(
                security_groups=self.load_balancer.connections.security_groups,
                default_port=ec2.Port.tcp(cast(int, self.listener_port)),
            )
            self.url = f"{'https' if self.https else 'http'}://{dns}"
            # The outputs of the former pattern (same construct paths, so the same names).
            CfnOutput(holder, "LoadBalancerDNS", value=dns)
            CfnOutput(holder, "ServiceURL", value=self.url)
        else:
            self._connections = self.listener.connections

    def _add_alarms(self, thresholds: ServiceAlarms) -> list[cloudwatch.Alarm]:
        return service_alarms(
            self,
            target_groups=self.routing.target_groups,
            service=self.service,
            running_tasks=self.metric_running_task_count(period=thresholds.period),
            min_running_tasks=(
                self.autoscaling.min_capacity if self.autoscaling else self.desired_count
            ),
            thresholds=thresholds,
            topic=self.alarm_topic,
        )

    def _add_rollback_alarms(self, thresholds: ServiceAlarms) -> None:
        """ECS fails and rolls back a deployment while the 5XX-rate or latency alarm is in
        ALARM (during the shift and the bake). Both watch the load balancer only, so naming
        them on the service makes no dependency cycle."""
        self.rollback_alarms: list[cloudwatch.Alarm] = []
        if not self.deployment.rollback_on_alarms:
            return
        by_id = {alarm.node.id: alarm for alarm in self.alarms}
        latency = latency_alarm_id("Latency", thresholds.latency_percentile)
        self.rollback_alarms = [by_id["Target5xx"], by_id[latency]]
        self.service.enable_deployment_alarms(
            [alarm.alarm_name for alarm in self.rollback_alarms],
            behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
        )

    # --- resources ----------------------------------------------------------------------

    def _gpu_capacity(
        self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, instance_type: str
    ) -> ecs.AsgCapacityProvider:
        instance_role = service_role(
            self,
            "InstanceRole",
            service="ec2.amazonaws.com",
            description=f"ECS container instances of {self.node.path}",
        )
        most_tasks = self.autoscaling.max_capacity if self.autoscaling else self.desired_count
        # An explicit launch template: without the consumer app's
        # @aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig flag the group
        # would get a launch configuration, which accounts opened since late 2024 cannot create.
        security_group = ec2.SecurityGroup(
            self,
            "GpuInstancesSecurityGroup",
            vpc=vpc,
            description=f"ECS GPU container instances of {self.node.path}",
            allow_all_outbound=True,
        )
        launch_template = ec2.LaunchTemplate(
            self,
            "GpuLaunchTemplate",
            instance_type=ec2.InstanceType(instance_type),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2(ecs.AmiHardwareType.GPU),
            role=instance_role,
            user_data=ec2.UserData.for_linux(),
            security_group=security_group,
            require_imdsv2=True,
            associate_public_ip_address=False,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        100,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        group = autoscaling.AutoScalingGroup(
            self,
            "GpuInstances",
            vpc=vpc,
            vpc_subnets=subnets,
            launch_template=launch_template,
            min_capacity=0,
            # Room for a full rolling deployment (200 % of the tasks), one task per instance.
            max_capacity=2 * most_tasks,
        )
        provider = ecs.AsgCapacityProvider(
            self,
            "GpuCapacity",
            auto_scaling_group=group,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            target_capacity_percent=100,
            machine_image_type=ecs.MachineImageType.AMAZON_LINUX_2,
        )
        cast(ecs.Cluster, self.cluster).add_asg_capacity_provider(provider)
        self.instance_role = instance_role
        self.auto_scaling_group = group
        nag.acknowledge_rules(
            group,
            _ASG_ELB_HEALTH,
            "The load balancer's targets are tasks (awsvpc IPs), not these instances; ECS "
            "replaces unhealthy tasks and EC2 status checks replace broken instances.",
        )
        nag.acknowledge(
            group,
            "AwsSolutions-AS3",
            "ECS managed scaling drives this group; capacity shortfalls show as the running-task "
            "alarm of the service, which notifies the alarm topic.",
        )
        nag.acknowledge(
            instance_role,
            "AwsSolutions-IAM5[Resource::*]",
            "The ECS agent's ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and its own log "
            "writes support no resource-level permissions; ecs:Poll is limited to this cluster "
            "by condition.",
        )
        if instance_role.policy is not None:
            checkov.skip(
                instance_role.policy,
                "CKV_AWS_111",
                "CDK's ECS container-instance grants: ecs:DiscoverPollEndpoint and "
                "ecr:GetAuthorizationToken take no resource, and the agent writes its own logs to "
                "streams it names at run time; the cluster actions are limited to this cluster.",
            )
        nag.acknowledge(
            instance_role,
            "AwsSolutions-IAM5[Action::ecs:Submit*]",
            "The ECS agent reports container, task and attachment state (ecs:Submit*), on this "
            "cluster's ARN only.",
        )
        return provider

    def _task_definition(
        self, cpu: int, memory_mib: int, ephemeral_storage_gib: int | None
    ) -> ecs.TaskDefinition:
        volumes = [ecs.Volume(name=SCRATCH_VOLUME)]
        if self.gpu:
            return ecs.Ec2TaskDefinition(
                self,
                "TaskDefinition",
                network_mode=ecs.NetworkMode.AWS_VPC,
                task_role=self.task_role,
                execution_role=self.execution_role,
                volumes=volumes,
            )
        return ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            ephemeral_storage_gib=ephemeral_storage_gib,
            task_role=self.task_role,
            execution_role=self.execution_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            volumes=volumes,
        )

    def _containers(
        self,
        image: ecs.ContainerImage,
        *,
        cpu: int,
        memory_mib: int,
        gpu_count: int,
        grace_period: Duration,
        environment: Mapping[str, str],
    ) -> ecs.ContainerDefinition:
        scratch = ecs.MountPoint(
            container_path=SCRATCH_PATH, source_volume=SCRATCH_VOLUME, read_only=False
        )
        # ECS creates the scratch volume owned by root (mode 0755). This short-lived container
        # (the same image, so nothing extra is pulled) hands it to the server's user and exits.
        init_capabilities = ecs.LinuxParameters(self, "VolumeOwnerLinux")
        init_capabilities.drop_capabilities(*_INIT_DROPPED)
        owner = self.task_definition.add_container(
            "VolumeOwner",
            image=image,
            essential=False,
            user="0",
            command=["chown", self.container_user, SCRATCH_PATH],
            readonly_root_filesystem=True,
            memory_limit_mib=64 if self.gpu else None,
            linux_parameters=init_capabilities,
            logging=self._log_driver("volume-owner"),
        )
        owner.add_mount_points(scratch)

        server_capabilities = ecs.LinuxParameters(self, "ModelLinux")
        server_capabilities.drop_capabilities(ecs.Capability.ALL)
        start_period = min(grace_period.to_seconds(), MAX_CONTAINER_START_PERIOD)
        workers = max(1, cpu // 1024)
        container = self.task_definition.add_container(
            "Model",
            image=image,
            essential=True,
            user=self.container_user,
            readonly_root_filesystem=True,
            linux_parameters=server_capabilities,
            port_mappings=[
                ecs.PortMapping(
                    container_port=self.container_port, protocol=ecs.Protocol.TCP, name="http"
                )
            ],
            environment={
                **environment,
                "PORT": str(self.container_port),
                "TMPDIR": SCRATCH_PATH,
                "MLOPS_DOWNLOAD_DIR": f"{SCRATCH_PATH}/model",
                "MLOPS_WORKERS": str(workers),
                "AWS_REGION": Stack.of(self).region,
                **({"MLOPS_MODEL_S3_URI": self.model_uri} if self.model_uri else {}),
            },
            health_check=self._container_health_check(start_period),
            # The server drains in-flight requests for 30 s after SIGTERM (MLOPS_GRACEFUL_TIMEOUT).
            stop_timeout=Duration.seconds(40),
            cpu=cpu if self.gpu else None,
            memory_limit_mib=(memory_mib - 64) if self.gpu else None,
            gpu_count=gpu_count or None,
            logging=self._log_driver("model"),
        )
        container.add_mount_points(scratch)
        container.add_container_dependencies(
            ecs.ContainerDependency(
                container=owner, condition=ecs.ContainerDependencyCondition.SUCCESS
            )
        )
        self.volume_owner = owner
        return container

    def _container_health_check(self, start_period: float) -> ecs.HealthCheck | None:
        check = self.health_check
        command = check.container_command
        if command is None:
            return None
        if not command:
            command = (
                "CMD",
                "python",
                "-c",
                "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + "
                f"os.environ.get('PORT', '8080') + '{check.path}', timeout=4)",
            )
        return ecs.HealthCheck(
            command=list(command),
            interval=check.container_interval,
            timeout=check.container_timeout,
            retries=check.container_retries,
            start_period=Duration.seconds(start_period),
        )

    def _log_driver(self, prefix: str) -> ecs.LogDriver:
        return ecs.LogDrivers.aws_logs(
            stream_prefix=prefix,
            log_group=self.log_group,
            # A slow log pipe must never stall inference; the buffer absorbs bursts.
            mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            max_buffer_size=Size.mebibytes(25),
        )

    def _load_balancer(
        self,
        vpc: ec2.IVpc,
        public: bool,
        task_subnets: ec2.SubnetSelection,
        deletion_protection: bool,
        access_logs: s3.IBucket | None,
        access_logs_prefix: str | None,
        removal_policy: RemovalPolicy,
        web_acl_arn: str | None,
    ) -> elbv2.ApplicationLoadBalancer:
        security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description=f"{self.node.path} load balancer",
            allow_all_outbound=False,
        )
        balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=public,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
            if public
            else task_subnets,
            security_group=security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
            # Shorter than the server's keep-alive (75 s), so the server never closes first.
            idle_timeout=Duration.seconds(60),
        )
        bucket = access_logs or defaults.access_log_bucket(
            self, "AccessLogs", removal_policy=removal_policy
        )
        prefix = access_logs_prefix or self.node.addr
        balancer.log_access_logs(bucket, prefix)
        if web_acl_arn is not None:
            wafv2.CfnWebACLAssociation(
                self, "WebAcl", resource_arn=balancer.load_balancer_arn, web_acl_arn=web_acl_arn
            )
        self.load_balancer_security_group = security_group
        return balancer

    def _service(
        self,
        scope: Construct,
        *,
        task_security_group: ec2.ISecurityGroup | None,
        task_subnets: ec2.SubnetSelection,
        grace_period: Duration,
    ) -> ecs.BaseService:
        deployment = self.deployment
        shift = None
        if deployment.strategy in ("LINEAR", "CANARY"):
            shift = ecs.TrafficShiftConfig(
                step_percent=deployment.step_percent
                if deployment.strategy == "LINEAR"
                else deployment.canary_percent,
                step_bake_time=deployment.step_interval,
            )
        common: dict[str, object] = {
            "cluster": self.cluster,
            # With autoscaling, DesiredCount stays out of the template: CloudFormation would
            # otherwise reset the running count on every update of the service, scaling a busy
            # service in mid-deploy (aws/containers-roadmap#493). A new service starts with one
            # task and Application Auto Scaling lifts it to min_capacity at once.
            "desired_count": None if self.autoscaling else self.desired_count,
            "vpc_subnets": task_subnets,
            "assign_public_ip": False,
            "circuit_breaker": ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            "min_healthy_percent": 100,
            "max_healthy_percent": 200,
            "deployment_strategy": ecs.DeploymentStrategy[deployment.strategy],
            "bake_time": deployment.bake_time,
            "linear_configuration": shift if deployment.strategy == "LINEAR" else None,
            "canary_configuration": shift if deployment.strategy == "CANARY" else None,
            "health_check_grace_period": grace_period,
            "enable_execute_command": False,
            "enable_ecs_managed_tags": True,
            "propagate_tags": ecs.PropagatedTagSource.SERVICE,
        }
        if self.gpu and self.capacity_provider is not None:
            return ecs.Ec2Service(
                scope,
                "Service",
                task_definition=cast(ecs.Ec2TaskDefinition, self.task_definition),
                capacity_provider_strategies=[
                    ecs.CapacityProviderStrategy(
                        capacity_provider=self.capacity_provider.capacity_provider_name, weight=1
                    )
                ],
                # Spread tasks over zones first: one zone's outage must not take them all.
                placement_strategies=[
                    ecs.PlacementStrategy.spread_across(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
                    ecs.PlacementStrategy.packed_by_cpu(),
                ],
                **common,  # type: ignore[arg-type]
            )
        return ecs.FargateService(
            scope,
            "Service",
            task_definition=cast(ecs.FargateTaskDefinition, self.task_definition),
            security_groups=[task_security_group] if task_security_group else None,
            platform_version=ecs.FargatePlatformVersion.LATEST,
            **common,  # type: ignore[arg-type]
        )

    def _add_autoscaling(self, scaling: ServiceAutoScaling) -> None:
        target = self.service.auto_scale_task_count(
            min_capacity=scaling.min_capacity, max_capacity=scaling.max_capacity
        )
        target.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=scaling.target_cpu_percent,
            scale_in_cooldown=scaling.scale_in_cooldown,
            scale_out_cooldown=scaling.scale_out_cooldown,
        )
        if scaling.requests_per_target is not None:
            target.scale_on_request_count(
                "Requests",
                requests_per_target=scaling.requests_per_target,
                target_group=self.target_group,
                scale_in_cooldown=scaling.scale_in_cooldown,
                scale_out_cooldown=scaling.scale_out_cooldown,
            )
            if self.alternate_target_group is not None:
                (policy,) = (
                    child
                    for child in target.node.find_all()
                    if isinstance(child, appscaling.TargetTrackingScalingPolicy)
                    and child.node.id == "Requests"
                )
                _track_both_groups(policy, self.routing.target_groups)
        self.scalable_target = target

    # --- compliance ---------------------------------------------------------------------

    def _acknowledge(self, public: bool, deletion_protection: bool, web_acl: str | None) -> None:
        task_definition = self.task_definition
        nag.acknowledge(
            task_definition,
            "AwsSolutions-ECS2",
            "The variables are non-secret start-up settings (port, scratch paths, worker count, "
            "the model's S3 URI); names that look like secrets are rejected at synth.",
        )
        nag.acknowledge(
            self.execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken supports no resource-level permissions; image pulls are "
            "limited to the image's repository.",
        )
        own_listener = (
            self.listener if isinstance(self.listener, elbv2.ApplicationListener) else None
        )
        if own_listener is not None and self.listener_port is not None:
            self._acknowledge_front(own_listener, public, deletion_protection, web_acl)

    def _acknowledge_front(
        self,
        listener: elbv2.ApplicationListener,
        public: bool,
        deletion_protection: bool,
        web_acl: str | None,
    ) -> None:
        """The load balancer's and listeners' findings, on what this construct created."""
        front: Construct = self.load_balancer if self.owns_load_balancer else listener  # type: ignore[assignment]
        if not public and not self.https:
            internal_http = (
                "Internal load balancer in private subnets without an internet route; only "
                "callers its security group admits reach it. Pass certificate= for HTTPS "
                "(TLS 1.2+)."
            )
            nag.acknowledge_rules(front, _ALB_HTTP_INTERNAL, internal_http)
            checkov.skip_checks(listener, ("CKV_AWS_2", "CKV_AWS_103"), internal_http)
        if not self.owns_load_balancer:
            return
        if not public and web_acl is None:
            nag.acknowledge_rules(
                front,
                _ALB_WAF,
                "Internal load balancer, unreachable from the internet; callers are limited by "
                "its security group. A public service should associate a WAF web ACL.",
            )
        if public and self.load_balancer_security_group is not None:
            anyone = "A public model endpoint accepts HTTPS (and HTTP, redirected) from anywhere."
            nag.acknowledge(self.load_balancer_security_group, "AwsSolutions-EC23", anyone)
            checkov.skip(self.load_balancer_security_group, "CKV_AWS_260", anyone)
        redirect = self.redirect_listener
        if redirect is not None:
            nag.acknowledge_rules(
                redirect,
                _ACM_ON_LISTENER,
                "This HTTP listener only answers 301 redirects to the HTTPS listener; it serves "
                "no content, so it has no certificate.",
            )
        if not deletion_protection:
            nag.acknowledge_rules(
                front,
                _ALB_DELETION_PROTECTION,
                "deletion_protection=False was chosen for a disposable environment: the load "
                "balancer holds no data and is recreated with its stack.",
            )

    # --- public API ---------------------------------------------------------------------

    @property
    def connections(self) -> ec2.Connections:
        """The load balancer's security groups with the listener port as default port, so
        ``other.connections.allow_to_default_port(service)`` lets ``other`` call the service.
        (A property: jsii reads ``IConnectable.connections`` through a getter.)"""
        return self._connections

    def allow_from(self, peer: ec2.IConnectable, description: str = "") -> None:
        """Let ``peer`` call the service on its listener port: a CIDR or prefix list
        (``ec2.Peer.ipv4("10.0.0.0/16")``) or anything with security groups (a function, a
        service, an instance)."""
        self.connections.allow_default_port_from(
            peer, description or f"callers of {self.node.path}"
        )

    def metric_running_task_count(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Tasks running (Container Insights ``RunningTaskCount``), Minimum over 1 minute
        unless ``options`` say otherwise."""
        return build_metric(
            "ECS/ContainerInsights",
            "RunningTaskCount",
            {"ClusterName": self.cluster.cluster_name, "ServiceName": self.service.service_name},
            options,
            statistic="Minimum",
            period=Duration.minutes(1),
        )

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: traffic and errors, latency, tasks and utilisation."""
        metrics = self.target_group.metrics
        name = self.node.id
        return [
            cloudwatch.GraphWidget(
                title=f"{name}: requests and errors",
                left=[metrics.request_count()],
                right=[
                    metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
                    metrics.http_code_target(elbv2.HttpCodeTarget.TARGET_4XX_COUNT),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: response time (s)",
                left=[
                    metrics.target_response_time(statistic="p50"),
                    metrics.target_response_time(statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{name}: tasks and utilisation",
                left=[self.metric_running_task_count(), metrics.healthy_host_count()],
                right=[
                    self.service.metric_cpu_utilization(),
                    self.service.metric_memory_utilization(),
                ],
                width=8,
            ),
        ]


def _track_both_groups(
    policy: appscaling.TargetTrackingScalingPolicy,
    groups: list[elbv2.ApplicationTargetGroup],
) -> None:
    """Track requests per task across the blue and the green target group.

    ALBRequestCountPerTarget names one group, and after a blue/green deployment production
    traffic is on the other one: the policy would see no requests and stop scaling out. Both
    fleets are full-sized during a shift, so the sum of their per-target counts is the per-task
    load whichever group (or share) serves production; FILL makes an idle group count as 0.
    """
    cfn = cast(appscaling.CfnScalingPolicy, policy.node.default_child)
    config = "TargetTrackingScalingPolicyConfiguration"
    cfn.add_property_deletion_override(f"{config}.PredefinedMetricSpecification")
    queries: list[dict[str, object]] = [
        {
            "Id": f"g{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB",
                    "MetricName": "RequestCountPerTarget",
                    "Dimensions": [{"Name": "TargetGroup", "Value": group.target_group_full_name}],
                },
                "Stat": "Sum",
            },
            "ReturnData": False,
        }
        for index, group in enumerate(groups)
    ]
    queries.append(
        {
            "Id": "requests",
            "Expression": " + ".join(f"FILL(g{index}, 0)" for index in range(len(groups))),
            "Label": "Requests per task, both target groups",
            "ReturnData": True,
        }
    )
    cfn.add_property_override(f"{config}.CustomizedMetricSpecification", {"Metrics": queries})


def _ecs_image(bound: BoundImage) -> ecs.ContainerImage:
    """The bound image for ECS. Pull rights were granted by ``ContainerImage.bind`` on exactly
    its repository, so ECS is given the URI only and grants nothing more."""
    return ecs.ContainerImage.from_registry(bound.image_uri)


class _ExactSecret(ecs.Secret):
    """An ECS secret whose read grant keeps only what the ECS agent calls (see
    ``_SECRET_ACTIONS``), including ``kms:Decrypt`` on the secret's own key."""

    def __init__(self, secret: ecs.Secret) -> None:
        super().__init__()
        self.secret = secret

    @property
    def arn(self) -> str:
        return self.secret.arn

    @property
    def has_field(self) -> bool | None:
        return self.secret.has_field

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        return self.secret.grant_read(OnlyActions(grantee.grant_principal, _SECRET_ACTIONS))
