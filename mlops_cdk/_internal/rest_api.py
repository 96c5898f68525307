"""The REST API in front of a model (LambdaInference's function, an EndpointApi's SageMaker
endpoint): the API with its request model, validator, methods, usage plan and caller key, JSON
access logs, X-Ray, throttling, the stage's WAF association and nag acknowledgements, and the
stack's one ``AWS::ApiGateway::Account`` whose role writes execution logs. One implementation:
the constructs pass only their integration. Every resource is created in the scope it is given,
so construct IDs are those of the construct that calls it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from aws_cdk import Aws, Names, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.iam import service_role


class ApiSettings(Protocol):
    """What the shared API reads from the public ``InferenceApi`` option group."""

    @property
    def auth(self) -> Literal["iam", "api_key"]: ...
    @property
    def throttle_rate(self) -> float: ...
    @property
    def throttle_burst(self) -> int: ...
    @property
    def stage_name(self) -> str: ...
    @property
    def web_acl_arn(self) -> str | None: ...
    @property
    def configure_account_logging(self) -> bool: ...


@dataclass(frozen=True)
class Route:
    """One method of the API: ``POST /invocations`` and the like.

    :param validate_body: validate JSON bodies against the ``{"instances": [[numbers]]}``
        request model.
    :param request_parameters: method request parameters (``True``: required), validated.
    :param method_responses: the method's responses. Default: API Gateway's.
    """

    method: str
    path: str
    integration: apigateway.Integration
    validate_body: bool = False
    request_parameters: Mapping[str, bool] = field(default_factory=dict)
    method_responses: Sequence[apigateway.MethodResponse] | None = None


_API_CACHE = (
    "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
    "NIST.800.53.R5-APIGWCacheEnabledAndEncrypted",
    "PCI.DSS.321-APIGWCacheEnabledAndEncrypted",
)
_API_CLIENT_CERT = (
    "HIPAA.Security-APIGWSSLEnabled",
    "NIST.800.53.R5-APIGWSSLEnabled",
    "PCI.DSS.321-APIGWSSLEnabled",
)
_API_WAF = (
    "AwsSolutions-APIG3",
    "NIST.800.53.R5-APIGWAssociatedWithWAF",
    "PCI.DSS.321-APIGWAssociatedWithWAF",
)
# The actions of AmazonAPIGatewayPushToCloudWatchLogs. API Gateway checks the account's role for
# them when the setting is made (a role limited to fewer actions or to its own log-group names
# is reported to be refused: repost.aws "least privilege cloudwatch logs policy for api
# gateway"), so they are kept, on this account's and region's log groups instead of "*" -
# except logs:DescribeLogGroups, which takes no resource type: only Resource "*" allows it.
_DESCRIBE_LOG_GROUPS = "logs:DescribeLogGroups"
_EXECUTION_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
)


def inference_rest_api(
    scope: Construct,
    *,
    options: ApiSettings,
    routes: Sequence[Route],
    backend: str,
    encryption_key: kms.IKey,
    retention: logs.RetentionDays,
    removal: RemovalPolicy,
) -> tuple[apigateway.RestApi, apigateway.IApiKey | None]:
    """The REST API with ``routes`` (bodies of those that say so validated against the request
    model), IAM or usage-plan-key auth, access logs, throttling and the stage's protections;
    returns the API and its caller key (``None`` with IAM auth).

    :param backend: how API Gateway reaches the model, for the client-certificate
        acknowledgement (``"Lambda, invoked through the Lambda API with SigV4"``).
    """
    access_logs = defaults.log_group(
        scope,
        "ApiAccessLogs",
        encryption_key=encryption_key,
        removal_policy=removal,
        retention=retention,
    )
    api = apigateway.RestApi(
        scope,
        "Api",
        rest_api_name=Names.unique_resource_name(scope, max_length=128, separator="-"),
        description=f"{scope.node.path}: " + ", ".join(f"{r.method} /{r.path}" for r in routes),
        endpoint_types=[apigateway.EndpointType.REGIONAL],
        cloud_watch_role=False,
        fail_on_warnings=True,
        deploy_options=apigateway.StageOptions(
            stage_name=options.stage_name,
            access_log_destination=apigateway.LogGroupLogDestination(access_logs),
            access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            logging_level=apigateway.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,  # request bodies (features) stay out of the logs
            metrics_enabled=True,
            tracing_enabled=True,
            throttling_rate_limit=options.throttle_rate,
            throttling_burst_limit=options.throttle_burst,
        ),
    )
    if options.configure_account_logging:
        api.deployment_stage.node.add_dependency(_api_gateway_account(scope))
    model = _request_model(api) if any(r.validate_body for r in routes) else None
    validator = api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True
    )
    iam_auth = options.auth == "iam"
    api_key: apigateway.IApiKey | None = None
    method_options: dict[str, Any] = {
        "authorization_type": apigateway.AuthorizationType.IAM
        if iam_auth
        else apigateway.AuthorizationType.NONE,
        "api_key_required": not iam_auth,
        "request_validator": validator,
    }
    methods = [
        api.root.add_resource(route.path).add_method(
            route.method,
            route.integration,
            request_models={"application/json": model} if route.validate_body and model else None,
            request_parameters=dict(route.request_parameters) or None,
            method_responses=list(route.method_responses) if route.method_responses else None,
            **method_options,
        )
        for route in routes
    ]
    for method in methods:
        if iam_auth:
            nag.acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers are AWS principals authorised by IAM (SigV4, execute-api:Invoke "
                "granted with grant_invoke); there are no end users for a Cognito pool.",
            )
        else:
            nag.acknowledge_rules(
                method,
                ("AwsSolutions-APIG4", "AwsSolutions-COG4"),
                "InferenceApi(auth='api_key') was chosen: every request must carry a key of "
                "the construct's usage plan, which identifies and throttles the caller; use "
                "auth='iam' where callers must be authenticated.",
            )
    if not iam_auth:
        api_key = api.add_api_key("ApiKey", description=f"Caller key of {scope.node.path}")
        plan = api.add_usage_plan(
            "UsagePlan",
            description=f"Throttling of {scope.node.path} callers",
            throttle=apigateway.ThrottleSettings(
                rate_limit=options.throttle_rate, burst_limit=options.throttle_burst
            ),
            api_stages=[apigateway.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
        )
        plan.add_api_key(api_key)
    _protect_stage(scope, api, options, backend)
    return api, api_key


def grant_execute(
    grantee: iam.IGrantable, api: apigateway.RestApi, routes: Sequence[tuple[str, str]]
) -> iam.Grant:
    """Let ``grantee`` call exactly ``routes`` (method, path) of ``api``'s stage (IAM auth)."""
    stage = api.deployment_stage.stage_name
    return iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["execute-api:Invoke"],
        resource_arns=[api.arn_for_execute_api(m, f"/{p}", stage) for m, p in routes],
    )


def _request_model(api: apigateway.RestApi) -> apigateway.Model:
    """The ``{"instances": [[numbers], ...]}`` body of the model server contract."""
    return api.add_model(
        "InferenceRequest",
        content_type="application/json",
        description='{"instances": [[numbers], ...]}',
        schema=apigateway.JsonSchema(
            schema=apigateway.JsonSchemaVersion.DRAFT4,
            title="InferenceRequest",
            type=apigateway.JsonSchemaType.OBJECT,
            required=["instances"],
            properties={
                "instances": apigateway.JsonSchema(
                    type=apigateway.JsonSchemaType.ARRAY,
                    min_items=1,
                    items=apigateway.JsonSchema(
                        type=apigateway.JsonSchemaType.ARRAY,
                        min_items=1,
                        items=apigateway.JsonSchema(type=apigateway.JsonSchemaType.NUMBER),
                    ),
                )
            },
        ),
    )


def _protect_stage(
    scope: Construct, api: apigateway.RestApi, options: ApiSettings, backend: str
) -> None:
    stage = api.deployment_stage
    no_cache = (
        "Caching is off on purpose: cached responses would serve stale predictions after a "
        "model rollout, and API Gateway keys its cache on parameters, not on POST bodies, "
        "so one caller's features could return another's prediction."
    )
    nag.acknowledge_rules(stage, _API_CACHE, no_cache)
    checkov.skip(stage, "CKV_AWS_120", no_cache)
    nag.acknowledge_rules(
        stage,
        _API_CLIENT_CERT,
        "A stage client certificate authenticates API Gateway to HTTP backends; the only "
        f"integration here is {backend}. Clients reach the stage over TLS only.",
    )
    if options.web_acl_arn is not None:
        wafv2.CfnWebACLAssociation(
            scope,
            "WebAclAssociation",
            resource_arn=stage.stage_arn,
            web_acl_arn=options.web_acl_arn,
        )
    else:
        nag.acknowledge_rules(
            stage,
            _API_WAF,
            "No web ACL was given (InferenceApi.web_acl_arn): every request must be signed "
            "with IAM credentials or carry a usage-plan key, the body is validated against "
            "the request model and the stage is throttled; attach a regional web ACL where "
            "the API faces untrusted networks.",
        )


def _api_gateway_account(scope: Construct) -> apigateway.CfnAccount:
    """The stack's ``AWS::ApiGateway::Account`` (one per account and region): the role API
    Gateway uses to write execution logs, with the AWS managed policy's actions in a
    customer-managed policy limited to this account's and region's log groups."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("ApiGatewayAccount")
    if existing is not None:
        return cast(apigateway.CfnAccount, existing.node.find_child("Account"))
    holder = Construct(stack, "ApiGatewayAccount")
    role = service_role(
        holder,
        "CloudWatchRole",
        service="apigateway.amazonaws.com",
        description="API Gateway writes REST API execution logs of this account and region",
    )
    groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(_EXECUTION_LOG_ACTIONS), resources=[groups, f"{groups}:log-stream:*"]
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=[_DESCRIBE_LOG_GROUPS], resources=["*"])
    )
    nag.acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        f"{_DESCRIBE_LOG_GROUPS} supports no resource type (Service Authorization Reference): "
        "it is allowed only on Resource '*', in a statement of its own; it lists log group "
        "names and settings, no log data.",
    )
    # Other APIs of the account rely on this setting: keep the role if the stack goes.
    role.apply_removal_policy(RemovalPolicy.RETAIN)
    for resource in (groups, f"{groups}:log-stream:*"):
        nag.acknowledge_wildcard_resource(
            role,
            resource,
            "API Gateway writes execution logs of every REST API of the account and region "
            "through this one role, into log groups it names at run time "
            "(API-Gateway-Execution-Logs_<api id>/<stage>); the actions are those of "
            "AmazonAPIGatewayPushToCloudWatchLogs, limited to this account and region.",
        )
    account = apigateway.CfnAccount(holder, "Account", cloud_watch_role_arn=role.role_arn)
    if role.policy is not None:
        account.node.add_dependency(role.policy)
    return account
