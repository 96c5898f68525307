"""The REST API option group every inference construct shares: :class:`InferenceApi`, taken
by ``LambdaInference(api=...)`` and ``EndpointApi(api=...)`` (one API implementation,
``mlops_cdk._internal.rest_api``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Duration

from mlops_cdk._internal.validation import Checker
from mlops_cdk._internal.validators.arns import arn_problem

AUTH_MODES = ("iam", "api_key")
# API Gateway's default maximum integration timeout for REST APIs (50 ms to 29 s).
MAX_INTEGRATION_TIMEOUT = Duration.seconds(29)
MIN_INTEGRATION_TIMEOUT_MS = 50
STAGE_NAME = r"[A-Za-z0-9_-]{1,128}"


@dataclass(frozen=True, kw_only=True)
class InferenceApi:
    """A regional REST API in front of a model: ``POST /invocations`` (JSON bodies validated
    against ``{"instances": [[numbers]]}``; CSV passes to the model, which checks it), and for
    a LambdaInference ``GET /ping``.

    :param auth: ``"iam"`` (SigV4-signed requests from principals granted
        ``execute-api:Invoke``) or ``"api_key"`` (a usage plan with one generated key; keys
        identify and throttle callers, they are not strong authentication). Default: ``"iam"``.
    :param throttle_rate: steady-state requests per second for the stage (and the usage plan).
        Default: 50.
    :param throttle_burst: burst capacity in requests. Default: 100.
    :param integration_timeout: how long API Gateway waits for the model (50 ms to 29 s).
        Default: 29 s, the REST API maximum without a quota increase.
    :param stage_name: Default: ``"v1"``.
    :param web_acl_arn: a regional AWS WAF web ACL to associate with the stage. Default: none
        (IAM auth and throttling are the controls; see docs/lambda-inference.md).
    :param configure_account_logging: create the region's API Gateway CloudWatch Logs role
        (``AWS::ApiGateway::Account``, one per account and region) that execution logging needs.
        Turn off when a platform stack already manages it. Default: True.
    """

    auth: Literal["iam", "api_key"] = "iam"
    throttle_rate: float = 50
    throttle_burst: int = 100
    integration_timeout: Duration = field(default_factory=lambda: MAX_INTEGRATION_TIMEOUT)
    stage_name: str = "v1"
    web_acl_arn: str | None = None
    configure_account_logging: bool = True

    def __post_init__(self) -> None:
        check = Checker("InferenceApi")
        check.one_of("auth", self.auth, AUTH_MODES)
        check.positive("throttle_rate", self.throttle_rate)
        check.positive("throttle_burst", self.throttle_burst)
        check.in_range(
            "integration_timeout",
            self.integration_timeout.to_milliseconds(),
            MIN_INTEGRATION_TIMEOUT_MS,
            MAX_INTEGRATION_TIMEOUT.to_milliseconds(),
            "ms",
        )
        check.matches("stage_name", self.stage_name, STAGE_NAME, "1-128 letters, digits, - or _")
        check.valid(
            "web_acl_arn",
            self.web_acl_arn,
            arn_problem,
            service="wafv2",
            resource_type="regional/webacl",
        )
