"""EndpointApi: API Gateway calling a SageMaker endpoint's InvokeEndpoint directly (an AWS
integration, no Lambda in between), with the same API as LambdaInference's."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal import defaults
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.iam import service_role
from mlops_cdk._internal.rest_api import Route, grant_execute, inference_rest_api
from mlops_cdk._internal.validation import KEY, TOPIC, Checker
from mlops_cdk.constructs.endpoint_api._checks import check
from mlops_cdk.constructs.inference_api import InferenceApi
from mlops_cdk.constructs.realtime_endpoint import ExistingEndpoint, RealtimeEndpoint

ROUTES = (("POST", "invocations"),)
# The body goes to InvokeEndpoint unchanged, for these content types only (others: 415).
CONTENT_TYPES = ("application/json", "text/csv")
CONTENT_TYPE = "method.request.header.Content-Type"


class EndpointApi(Construct):
    """A regional REST API whose ``POST /invocations`` calls ``InvokeEndpoint`` of a SageMaker
    endpoint directly (an API Gateway AWS integration with ``runtime.sagemaker``; no function
    in between, so no cold starts and no second timeout), with the options, logging and
    protections of ``LambdaInference(api=...)`` (one implementation)::

        endpoint = RealtimeEndpoint(self, "Churn", ...)   # or RealtimeEndpoint.from_endpoint_name
        api = EndpointApi(self, "ChurnApi", endpoint=endpoint, api=InferenceApi(auth="iam"))
        api.grant_invoke(caller_role)

    JSON (``application/json``, validated against ``{"instances": [[numbers]]}`` unless
    ``validate_instances=False``) and CSV (``text/csv``) bodies pass to the endpoint unchanged,
    with their ``Content-Type``; other content types are refused (415). SageMaker's 4XX
    answers become 400, its 5XX 500, with SageMaker's error body.

    :param endpoint: a :class:`RealtimeEndpoint` (not asynchronous) or an
        :class:`ExistingEndpoint`.
    :param api: auth, throttling, stage, WAF, account logging. Default: ``InferenceApi()``
        (IAM auth).
    :param validate_instances: validate JSON bodies against the model server contract
        ``{"instances": [[numbers]]}``; turn off for containers with other JSON shapes (LLM
        containers' ``{"inputs": ...}``). Default: True.
    :param encryption_key: KMS key of the access log group. Default: the endpoint's key for a
        RealtimeEndpoint, else a new key with rotation.
    :param alarm_topic: where the API's alarm goes. Default: the endpoint's topic.
    :param log_retention: access log retention. Default: one year.
    :param removal_policy: for the log group (and a created key). Default: RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: RealtimeEndpoint | ExistingEndpoint,
        api: InferenceApi | None = None,
        validate_instances: bool = True,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays = defaults.DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        options = api or InferenceApi()
        checker = Checker.of(self)
        checker.types(
            (("encryption_key", encryption_key, KEY), ("alarm_topic", alarm_topic, TOPIC))
        )
        check(checker, endpoint, options)
        self.endpoint, self.api_options = endpoint, options
        own_key = endpoint.encryption_key if isinstance(endpoint, RealtimeEndpoint) else None
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key or own_key,
            topic=alarm_topic or endpoint.alarm_topic,
            key_purpose="API access logs",
            topic_name="API alarms",
            removal_policy=removal_policy,
        )
        self.integration_role = service_role(
            self,
            "IntegrationRole",
            service="apigateway.amazonaws.com",
            description=f"API Gateway invokes SageMaker endpoint {endpoint.node.path}",
        )
        # Exactly the one action on the one endpoint (not the async or streaming ones).
        self.integration_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:InvokeEndpoint"], resources=[endpoint.endpoint_arn]
            )
        )
        route = Route(
            "POST",
            "invocations",
            self._integration(options.integration_timeout),
            validate_body=validate_instances,
            request_parameters={CONTENT_TYPE: True},
            method_responses=[
                apigateway.MethodResponse(
                    status_code="200",
                    response_parameters={"method.response.header.Content-Type": True},
                ),
                apigateway.MethodResponse(status_code="400"),
                apigateway.MethodResponse(status_code="500"),
            ],
        )
        self.api, self.api_key = inference_rest_api(
            self,
            options=options,
            routes=[route],
            backend="the SageMaker runtime API, called with SigV4 as the integration role",
            encryption_key=self.encryption_key,
            retention=log_retention,
            removal=removal_policy,
        )
        self.alarms: list[cloudwatch.Alarm] = []
        AlarmSet(self, self.alarm_topic, into=self.alarms).add(
            "Api5xx",
            self.api.metric_server_error(period=Duration.minutes(1), statistic="Sum"),
            1,
            "the API answered 5XX (endpoint errors, integration timeouts)",
        )

    def _integration(self, timeout: Duration) -> apigateway.AwsIntegration:
        return apigateway.AwsIntegration(
            service="runtime.sagemaker",
            path=f"endpoints/{self.endpoint.endpoint_name}/invocations",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=self.integration_role,
                timeout=timeout,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,
                request_templates=dict.fromkeys(CONTENT_TYPES, "$input.body"),
                request_parameters={"integration.request.header.Content-Type": CONTENT_TYPE},
                integration_responses=[
                    apigateway.IntegrationResponse(
                        status_code="200",
                        response_parameters={
                            "method.response.header.Content-Type": (
                                "integration.response.header.Content-Type"
                            )
                        },
                    ),
                    apigateway.IntegrationResponse(status_code="400", selection_pattern=r"4\d{2}"),
                    apigateway.IntegrationResponse(status_code="500", selection_pattern=r"5\d{2}"),
                ],
            ),
        )

    @property
    def url(self) -> str:
        """The stage URL; callers POST to ``<url>invocations``."""
        return self.api.url

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` call ``POST /invocations`` (``execute-api:Invoke``; with
        ``auth="api_key"`` give them the key instead)."""
        return grant_execute(grantee, self.api, ROUTES)
