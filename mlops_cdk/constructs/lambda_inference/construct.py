"""LambdaInference: the reference model server as a container-image Lambda function, behind a
REST API, a function URL and/or S3 events, with guarded CodeDeploy rollouts and alarms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.alarms import AlarmSet, latency_alarm_id
from mlops_cdk._internal.iam import (
    grant_key_use,
    grant_network_interfaces,
    grant_read_location,
    grant_write_prefix,
    permissions_policy,
    role_for,
    service_role,
)
from mlops_cdk._internal.network import default_subnets
from mlops_cdk._internal.rest_api import Route, grant_execute, inference_rest_api
from mlops_cdk._internal.triggers import MAX_EVENT_AGE, new_objects_rule
from mlops_cdk._internal.validation import DURATION, KEY, ROLE, TOPIC, VPC, Checker
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.lambda_inference._checks import check
from mlops_cdk.constructs.lambda_inference.options import (
    InferenceApi,
    LambdaAlarms,
    LambdaDeployment,
    ProvisionedConcurrency,
    S3Trigger,
)
from mlops_cdk.constructs.metric_options import MetricOptions, check_options
from mlops_cdk.constructs.model_data import ModelData

ALIAS_NAME = "live"
ONE_MINUTE = Duration.minutes(1)
DEFAULT_TIMEOUT = Duration.seconds(30)
_LAMBDA_CONCURRENCY = ("HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaConcurrency")
_LAMBDA_DLQ = (
    "HIPAA.Security-LambdaDLQ",
    "NIST.800.53.R5-LambdaDLQ",
    "Serverless-LambdaDLQ",
)
_LAMBDA_IN_VPC = (
    "HIPAA.Security-LambdaInsideVPC",
    "NIST.800.53.R5-LambdaInsideVPC",
    "PCI.DSS.321-LambdaInsideVPC",
)
# What the function's execution role needs to attach the function to a VPC (the actions of
# AWSLambdaVPCAccessExecutionRole, which we do not attach: no AWS managed policies).
_VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


# The API methods callers are granted (IAM auth).
API_ROUTES = (("POST", "invocations"), ("GET", "ping"))


class LambdaInference(Construct):
    """A model served by a container-image Lambda function running the project's runtime
    (``mlops_runtime.lambda_handler``): the model is fetched from S3 once per execution
    environment, callers reach the ``live`` alias through a REST API, an IAM function URL,
    direct invocation or new S3 objects, and CodeDeploy shifts the alias to new versions while
    watching the construct's alarms.

    Example::

        inference = LambdaInference(self, "Churn",
            model_data=ModelData.from_bucket(artifacts, "churn/model.tar.gz"),
            api=InferenceApi(auth="iam"),
            deployment=LambdaDeployment.canary(10, 5))
        inference.grant_invoke(client_role)

    :param model_data: the model artifact (``model.onnx``, or a ``.tar.gz`` holding it; the
        runtime recognises archives by content); the function may read exactly this object.
        Default: none (required).
    :param image: the function image. Default: the runtime's Lambda image
        (``mlops_cdk/runtime/Dockerfile.lambda``), built at deploy time.
    :param model_sha256: the artifact's SHA-256; the runtime refuses a model that differs.
        Default: not checked.
    :param memory_size_mb: 128-10240 MB (CPU grows with memory). Default: 2048.
    :param timeout: at most 900 s, and at most ``api.integration_timeout`` with an API. Default:
        30 s; with an API, the API's integration timeout (29 s by default), so the function
        never keeps working after API Gateway has answered 504.
    :param architecture: Default: x86_64 (an asset image then builds natively on common CI
        hosts; ARM_64 is cheaper per GB-second and builds the asset for linux/arm64).
    :param reserved_concurrency: the most concurrent executions, reserved for this function.
        Default: none (shares the account pool; see docs: reserving fails on accounts whose
        concurrency quota is below the reservation + 100).
    :param provisioned_concurrency: warm environments on the alias. Default: none.
    :param api: a REST API in front of the alias. Default: none.
    :param function_url: an IAM-authenticated function URL on the alias. Default: False.
    :param s3_trigger: score new objects under a prefix into another prefix. Default: none.
    :param deployment: CodeDeploy traffic shifting with automatic rollback. Default: none (a new
        version takes all traffic when the stack updates).
    :param vpc: run the function in this VPC. Default: no VPC.
    :param subnets: subnets of ``vpc``. Default: the VPC's private subnets (isolated ones
        included).
    :param outside_vpc_reason: why the function runs outside a VPC; it becomes the reason of the
        HIPAA/NIST/PCI ``LambdaInsideVPC`` acknowledgement (without it those packs report the
        function). Default: none.
    :param encryption_key: KMS key for logs, environment variables and the failure queue.
        Default: a new key with rotation.
    :param alarm_topic: where alarms go. Default: a new KMS-encrypted topic.
    :param environment: extra environment variables (see docs/runtime.md). Default: none.
    :param log_retention: function and API log retention. Default: one year.
    :param removal_policy: what happens to the log groups when the stack is deleted. Default:
        RETAIN (logs are an audit trail).
    :param role: the function's execution role (Lambda must be able to assume it); it receives
        exactly the grants a created role would, in a customer-managed policy this construct
        attaches to it. Default: a new least-privilege role.
    :param alarm_thresholds: Default: :class:`LambdaAlarms` defaults (errors above 1 %, p99
        duration above 80 % of the timeout).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_data: ModelData,
        image: ContainerImage | None = None,
        model_sha256: str | None = None,
        memory_size_mb: int = 2048,
        timeout: Duration | None = None,
        architecture: lambda_.Architecture | None = None,
        reserved_concurrency: int | None = None,
        provisioned_concurrency: ProvisionedConcurrency | None = None,
        api: InferenceApi | None = None,
        function_url: bool = False,
        s3_trigger: S3Trigger | None = None,
        deployment: LambdaDeployment | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        outside_vpc_reason: str | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        environment: Mapping[str, str] | None = None,
        log_retention: logs.RetentionDays = defaults.DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        role: iam.IRole | None = None,
        alarm_thresholds: LambdaAlarms | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("timeout", timeout, DURATION),
                ("vpc", vpc, VPC),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
            )
        )
        check(
            Checker.of(self),
            timeout=timeout,
            api=api,
            memory_size_mb=memory_size_mb,
            reserved_concurrency=reserved_concurrency,
            provisioned_concurrency=provisioned_concurrency,
            vpc=vpc,
            subnets=subnets,
            outside_vpc_reason=outside_vpc_reason,
            environment=environment or {},
            model_sha256=model_sha256,
            alarm_thresholds=alarm_thresholds,
            effective_timeout=timeout or _default_timeout(api),
        )
        self.timeout = timeout or _default_timeout(api)
        self.architecture = architecture or lambda_.Architecture.X86_64
        self.api_options, self.s3_trigger = api, s3_trigger
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="logs, environment and failure queue",
            topic_name="Inference alarms",
        )
        self.role = role_for(
            self,
            "Role",
            role,
            lambda: service_role(
                self,
                "Role",
                service="lambda.amazonaws.com",
                description=f"Execution role of the {self.node.path} inference function",
            ),
        )
        self.log_group = defaults.log_group(
            self,
            "Logs",
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
            retention=log_retention,
        )
        self.failure_queue = self._failure_queue()
        self.model_s3_uri = model_data.bind(self, self.role).s3_uri
        self.security_group = self._security_group(vpc)
        self.function = self._function(
            image or ContainerImage.lambda_model_server(),
            memory_size_mb=memory_size_mb,
            reserved_concurrency=reserved_concurrency,
            environment={**(environment or {}), **self._runtime_environment(model_sha256)},
            vpc=vpc,
            subnets=subnets,
        )
        self._grant_runtime(vpc)
        self._acknowledge_function(reserved_concurrency, outside_vpc_reason)
        self._add_alias(provisioned_concurrency)
        self._add_entry_points(api, function_url, log_retention, removal_policy)
        self.alarms: list[cloudwatch.Alarm] = []
        self.rollback_alarms: list[cloudwatch.Alarm] = []
        self._add_alarms(alarm_thresholds or LambdaAlarms())
        self.deployment_group: codedeploy.LambdaDeploymentGroup | None = None
        if deployment is not None:
            self.deployment_group = self._deployment_group(deployment)

    # --- function ---------------------------------------------------------------------------

    def _function(
        self,
        image: ContainerImage,
        *,
        memory_size_mb: int,
        reserved_concurrency: int | None,
        environment: Mapping[str, str],
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
    ) -> lambda_.DockerImageFunction:
        return lambda_.DockerImageFunction(
            self,
            "Function",
            code=image.lambda_code(self, architecture=self.architecture),
            architecture=self.architecture,
            description=f"{self.node.path}: model inference (mlops_runtime)",
            memory_size=memory_size_mb,
            timeout=self.timeout,
            tracing=lambda_.Tracing.ACTIVE,
            role=self.role,
            log_group=self.log_group,
            environment=dict(environment),
            environment_encryption=self.encryption_key,
            reserved_concurrent_executions=reserved_concurrency,
            vpc=vpc,
            vpc_subnets=(subnets or default_subnets(vpc)) if vpc else None,
            security_groups=[self.security_group] if self.security_group else None,
        )

    def _add_alias(self, provisioned_concurrency: ProvisionedConcurrency | None) -> None:
        self.alias = lambda_.Alias(
            self,
            "LiveAlias",
            alias_name=ALIAS_NAME,
            version=self.function.current_version,
            provisioned_concurrent_executions=provisioned_concurrency.min_capacity
            if provisioned_concurrency
            else None,
            description="The version callers use; CodeDeploy shifts it to new versions",
        )
        self.async_config = self._async_invoke_config(self.s3_trigger)
        if provisioned_concurrency is not None and provisioned_concurrency.scales:
            self.alias.add_auto_scaling(
                min_capacity=provisioned_concurrency.min_capacity,
                max_capacity=provisioned_concurrency.max_capacity,
            ).scale_on_utilization(utilization_target=provisioned_concurrency.target_utilization)

    def _add_entry_points(
        self,
        api: InferenceApi | None,
        function_url: bool,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        """The ways callers reach the alias: REST API, function URL, new S3 objects."""
        self.api: apigateway.RestApi | None = None
        self.api_key: apigateway.IApiKey | None = None
        if api is not None:
            integration = apigateway.LambdaIntegration(
                self.alias, proxy=True, timeout=api.integration_timeout, allow_test_invoke=False
            )
            self.api, self.api_key = inference_rest_api(
                self,
                options=api,
                routes=[
                    Route("POST", "invocations", integration, validate_body=True),
                    Route("GET", "ping", integration),
                ],
                backend="Lambda, invoked through the Lambda API with SigV4",
                encryption_key=self.encryption_key,
                retention=log_retention,
                removal=removal_policy,
            )
        self.function_url: lambda_.FunctionUrl | None = None
        if function_url:
            self.function_url = self.alias.add_function_url(
                auth_type=lambda_.FunctionUrlAuthType.AWS_IAM
            )
        self.rule: events.Rule | None = None
        if self.s3_trigger is not None:
            self.rule = self._s3_rule(self.s3_trigger)

    def _runtime_environment(self, model_sha256: str | None) -> dict[str, str]:
        trigger = self.s3_trigger
        variables = {"MLOPS_MODEL_S3_URI": self.model_s3_uri}
        if model_sha256:
            variables["MLOPS_MODEL_SHA256"] = model_sha256
        if trigger is not None:
            variables["MLOPS_INPUT_PREFIX"] = trigger.input_prefix
            variables["MLOPS_OUTPUT_PREFIX"] = trigger.output_prefix
            if trigger.output_bucket is not None:
                variables["MLOPS_OUTPUT_BUCKET"] = trigger.output_bucket.bucket_name
        return variables

    def _security_group(self, vpc: ec2.IVpc | None) -> ec2.SecurityGroup | None:
        if vpc is None:
            return None
        return defaults.https_egress_security_group(
            self, "SecurityGroup", vpc=vpc, description=f"{self.node.path} inference function"
        )

    def _grant_runtime(self, vpc: ec2.IVpc | None) -> None:
        role = self.role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        grant_key_use(role, self.encryption_key)  # environment variables and failure queue
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.failure_queue.queue_arn]
            )
        )
        if vpc is not None:
            grant_network_interfaces(role, vpc, _VPC_ACTIONS)
        trigger = self.s3_trigger
        if trigger is not None:
            grant_read_location(
                role,
                bucket_arn=trigger.bucket.bucket_arn,
                key=trigger.input_prefix,
                encryption_key=trigger.bucket.encryption_key,
            )
            nag.acknowledge_wildcard_resource(
                role,
                trigger.bucket.arn_for_objects(f"{trigger.input_prefix}*"),
                f"The function scores any object created under {trigger.input_prefix}; it reads "
                "nothing else in the bucket.",
            )
            grant_write_prefix(
                role, trigger.results_bucket, trigger.output_prefix, writer="The inference function"
            )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords"
            + (" and the EC2 Describe calls Lambda makes in a VPC" if vpc else "")
            + " support no resource-level permissions.",
        )

    def _acknowledge_function(
        self, reserved_concurrency: int | None, outside_vpc_reason: str | None
    ) -> None:
        function = self.function
        # Each decision is explained once, to cdk-nag and to checkov alike.
        if reserved_concurrency is None:
            no_reservation = (
                "No reserved_concurrency was given: reserving fails to deploy on accounts whose "
                "concurrency quota is below the reservation + 100 (new accounts start at 10), so "
                "the library does not reserve by default; set reserved_concurrency to cap it."
            )
            nag.acknowledge_rules(function, _LAMBDA_CONCURRENCY, no_reservation)
            checkov.skip(function, "CKV_AWS_115", no_reservation)
        failures = (
            "Failed asynchronous invocations of the live alias go to an on-failure destination "
            "(the construct's KMS-encrypted FailureQueue, with the error and request context); "
            "a function-level dead-letter queue would receive the same events a second time."
        )
        nag.acknowledge_rules(function, _LAMBDA_DLQ, failures)
        checkov.skip(function, "CKV_AWS_116", failures)
        if outside_vpc_reason is not None:
            nag.acknowledge_rules(function, _LAMBDA_IN_VPC, outside_vpc_reason)
            checkov.skip(function, "CKV_AWS_117", outside_vpc_reason)

    def _failure_queue(self) -> sqs.Queue:
        queue = defaults.dead_letter_queue(
            self,
            "FailureQueue",
            encryption_key=self.encryption_key,
            used_by="asynchronous invocations and the S3 trigger rule",
        )
        return queue

    def _async_invoke_config(self, trigger: S3Trigger | None) -> lambda_.CfnEventInvokeConfig:
        """Retries, event age and the on-failure destination of asynchronous invocations of
        the alias (S3 events, or anyone invoking with InvocationType=Event)."""
        config = lambda_.CfnEventInvokeConfig(
            self,
            "AsyncInvokeConfig",
            function_name=self.function.function_name,
            qualifier=ALIAS_NAME,
            maximum_retry_attempts=trigger.retry_attempts if trigger else 2,
            maximum_event_age_in_seconds=int(trigger.max_event_age.to_seconds())
            if trigger
            else 21600,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(
                    destination=self.failure_queue.queue_arn
                )
            ),
        )
        config.node.add_dependency(self.alias)
        policy = permissions_policy(self.role)
        if policy is not None:  # Lambda checks the role may send to the destination
            config.node.add_dependency(policy)
        return config

    # --- S3-triggered inference -------------------------------------------------------------

    def _s3_rule(self, trigger: S3Trigger) -> events.Rule:
        rule = new_objects_rule(
            self,
            "NewObjectRule",
            bucket=trigger.bucket,
            prefix=trigger.input_prefix,
            description=f"Objects created under {trigger.input_prefix} invoke {self.node.path}",
            trigger="S3Trigger",
        )
        rule.add_target(
            events_targets.LambdaFunction(
                self.alias,
                dead_letter_queue=self.failure_queue,
                retry_attempts=8,
                max_event_age=MAX_EVENT_AGE,
            )
        )
        return rule

    # --- alarms and deployments -------------------------------------------------------------

    def _add_alarms(self, thresholds: LambdaAlarms) -> None:
        timeout_ms = self.timeout.to_milliseconds()
        alarms = AlarmSet(
            self, self.alarm_topic, into=self.alarms, evaluation_periods=5, datapoints_to_alarm=3
        )
        errors = alarms.add(
            "Errors",
            cloudwatch.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": self.metric("Errors"),
                    "invocations": self.metric("Invocations"),
                },
                label="Errors %",
                period=ONE_MINUTE,
            ),
            thresholds.error_rate_percent,
            "function errors (unhandled exceptions, timeouts, out of memory) above "
            f"{thresholds.error_rate_percent:g} % of invocations",
        )
        percentile, latency = thresholds.latency_percentile, thresholds.latency
        duration = alarms.add(
            latency_alarm_id("Duration", percentile),
            self.metric("Duration", statistic=percentile),
            latency.to_milliseconds() if latency else round(timeout_ms * 0.8),
            f"{percentile} duration above {latency.to_milliseconds():g} ms"
            if latency
            else f"{percentile} duration above 80 % of the {timeout_ms / 1000:g} s timeout",
        )
        self.rollback_alarms += [errors, duration]
        alarms.add(
            "Throttles",
            self.metric("Throttles"),
            1,
            "invocations throttled (concurrency exhausted: raise reserved or provisioned "
            "concurrency, or the account quota)",
        )
        alarms.add(
            "FailedAsyncInvocations",
            self.failure_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=ONE_MINUTE
            ),
            1,
            "asynchronous invocations (S3 events) failed after their retries; see FailureQueue",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        if self.api is not None:
            server_errors = alarms.add(
                "Api5xx",
                self.api.metric_server_error(period=ONE_MINUTE, statistic="Sum"),
                1,
                "the API answered 5XX (handler errors, integration timeouts)",
            )
            self.rollback_alarms.append(server_errors)

    def _deployment_group(self, deployment: LambdaDeployment) -> codedeploy.LambdaDeploymentGroup:
        role = service_role(
            self,
            "DeploymentRole",
            service="codedeploy.amazonaws.com",
            description=f"CodeDeploy role shifting the {ALIAS_NAME} alias of {self.node.path}",
        )
        function_arn = self.function.function_arn
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "lambda:GetAlias",
                    "lambda:UpdateAlias",
                    "lambda:GetProvisionedConcurrencyConfig",
                ],
                resources=[function_arn, f"{function_arn}:{ALIAS_NAME}"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=["*"])
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:DescribeAlarms is a list call CodeDeploy makes to read the rollback "
            "alarms; the Lambda actions are limited to this function and its alias.",
        )
        name = deployment.predefined_name
        config: codedeploy.ILambdaDeploymentConfig
        if name is not None:
            config = cast(
                codedeploy.ILambdaDeploymentConfig, getattr(codedeploy.LambdaDeploymentConfig, name)
            )
        else:
            routing = (
                codedeploy.TrafficRouting.time_based_canary
                if deployment.kind == "CANARY"
                else codedeploy.TrafficRouting.time_based_linear
            )
            config = codedeploy.LambdaDeploymentConfig(
                self,
                "DeploymentConfig",
                traffic_routing=routing(
                    interval=Duration.minutes(deployment.minutes), percentage=deployment.percent
                ),
            )
        group = codedeploy.LambdaDeploymentGroup(
            self,
            "DeploymentGroup",
            alias=self.alias,
            deployment_config=config,
            alarms=list(self.rollback_alarms),
            auto_rollback=codedeploy.AutoRollbackConfig(
                failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
            ),
            # CDK attaches AWSCodeDeployRoleForLambdaLimited to any role it can change; the
            # immutable view keeps the role to the exact statements above.
            role=role.without_policy_updates(),
        )
        if role.policy is not None:
            group.node.add_dependency(role.policy)
        return group

    # --- public API -------------------------------------------------------------------------

    @property
    def url(self) -> str | None:
        """The HTTPS endpoint callers use: the API stage URL, else the function URL."""
        if self.api is not None:
            return self.api.url
        if self.function_url is not None:
            return self.function_url.url
        return None

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric of the ``live`` alias (``AWS/Lambda``, ``FunctionName`` and ``Resource``
        dimensions), Sum over 1 minute unless ``options`` say otherwise."""
        check_options(options)
        merged: MetricOptions = {"statistic": "Sum", "period": ONE_MINUTE, **options}
        extra = options.get("dimensions_map")
        if extra:  # the alias replaces its dimensions with the caller's; keep its own
            function_name = self.function.function_name
            merged["dimensions_map"] = {
                "FunctionName": function_name,
                "Resource": f"{function_name}:{ALIAS_NAME}",
                **extra,
            }
        return self.alias.metric(metric_name, **merged)

    def metric_invocations(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Invocations of the alias (Sum)."""
        return self.metric("Invocations", **options)

    def metric_errors(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Function errors of the alias (Sum)."""
        return self.metric("Errors", **options)

    def metric_duration(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Duration in milliseconds (default statistic p99)."""
        merged: MetricOptions = {"statistic": "p99", **options}
        return self.metric("Duration", **merged)

    def metric_throttles(self, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """Throttled invocations (Sum)."""
        return self.metric("Throttles", **options)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call the model every way this construct exposes: invoke the ``live``
        alias, its function URL (both actions Lambda requires for URLs created since October
        2025) and, with ``auth="iam"``, the API's two methods."""
        grant = self.alias.grant_invoke(grantee)
        if self.function_url is not None:
            self.alias.grant_invoke_url(grantee)
        options = self.api_options
        if self.api is not None and options is not None and options.auth == "iam":
            grant_execute(grantee, self.api, API_ROUTES)
        return grant

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Graphs for a CloudWatch dashboard: traffic and errors, duration, concurrency."""
        title = self.node.id
        return [
            cloudwatch.GraphWidget(
                title=f"{title}: invocations and errors",
                left=[self.metric_invocations()],
                right=[self.metric_errors(), self.metric_throttles()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{title}: duration (ms)",
                left=[
                    self.metric_duration(statistic="p50"),
                    self.metric_duration(statistic="p99"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title=f"{title}: concurrency",
                left=[
                    self.metric("ConcurrentExecutions", statistic="Maximum"),
                    self.metric("ProvisionedConcurrencyUtilization", statistic="Maximum"),
                ],
                width=8,
            ),
        ]


def _default_timeout(api: InferenceApi | None) -> Duration:
    """30 s; with an API, the longest whole-second timeout within its integration timeout (so
    the function never keeps working after API Gateway has answered 504)."""
    if api is None:
        return DEFAULT_TIMEOUT
    return Duration.seconds(max(1, api.integration_timeout.to_milliseconds() // 1000))
