"""ExistingEndpoint: a SageMaker endpoint deployed elsewhere (another team's stack, the console,
the SageMaker SDK), watched and used like a :class:`RealtimeEndpoint` of this app."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk._internal import defaults
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.patterns import SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.validation import KEY, TOPIC, Checker, Said
from mlops_cdk.constructs.realtime_endpoint._base import (
    DATAPOINTS_TO_ALARM,
    EVALUATION_PERIODS,
    EndpointBase,
)
from mlops_cdk.constructs.realtime_endpoint.options import DataCapture, EndpointAlarms

DEFAULT_VARIANTS = ("AllTraffic",)
MAX_VARIANTS = 10


@jsii.implements(sagemaker.IEndpoint)
class ExistingEndpoint(EndpointBase):
    """An endpoint this app does not create, by name: the same metrics, alarm set, grants and
    dashboard widgets as a :class:`RealtimeEndpoint`, and a valid ``endpoint`` for
    :class:`ModelMonitorSchedule` and :class:`EndpointApi`. Made with
    :meth:`RealtimeEndpoint.from_endpoint_name`::

        churn = RealtimeEndpoint.from_endpoint_name(self, "Churn", "churn-prod",
            variant_names=["AllTraffic"], instance_type="ml.m5.large",
            alarm_topic=topic)
        churn.grant_invoke(caller_role)

    It changes nothing on the endpoint: data capture, for example, must already be on
    (``data_capture`` describes where it writes, for a monitor).

    :param endpoint_name: the endpoint's name, in this stack's account and region.
    :param variant_names: its production variants (metric dimensions). Default: ``AllTraffic``,
        the name the SageMaker SDK and this library give a single variant.
    :param instance_type: the variants' instance type, so the CPU alarm can scale with the
        vCPUs. Default: unknown (no CPU alarm; memory, errors and latency are watched).
    :param serverless: the endpoint is serverless (no instance metrics). Default: False.
    :param data_capture: where the endpoint's existing data capture writes (bucket and prefix;
        ``DataCaptureConfig.DestinationS3Uri``). Default: none (no capture to monitor).
    :param encryption_key: the KMS key the capture files are encrypted with. Default: the
        capture bucket's key when CDK knows it.
    :param alarm_topic: where the alarms go. Default: a new KMS-encrypted topic.
    :param alarm_thresholds: Default: :class:`EndpointAlarms` defaults.
    :param removal_policy: for the key of a created topic. Default: RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_names: Sequence[str] = DEFAULT_VARIANTS,
        instance_type: str | None = None,
        serverless: bool = False,
        data_capture: DataCapture | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        alarm_thresholds: EndpointAlarms | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        check = Checker.of(self)
        check.types((("encryption_key", encryption_key, KEY), ("alarm_topic", alarm_topic, TOPIC)))
        _check(
            check,
            endpoint_name=endpoint_name,
            variant_names=variant_names,
            instance_type=instance_type,
            serverless=serverless,
            data_capture=data_capture,
        )
        self._init_endpoint(
            endpoint_name,
            _endpoint_arn(Stack.of(self), endpoint_name),
            variant_names,
            instance_based=not serverless,
        )
        self.instance_type, self.data_capture = instance_type, data_capture
        self.serverless = serverless
        self.encryption_key: kms.IKey | None = encryption_key or (
            data_capture.bucket.encryption_key
            if data_capture is not None and data_capture.bucket is not None
            else None
        )
        if alarm_topic is None:
            _, alarm_topic = defaults.key_and_topic(
                self,
                key=None,
                topic=None,
                key_purpose="alarm topic",
                topic_name="Endpoint alarms",
                removal_policy=removal_policy,
            )
        self.alarm_topic: sns.ITopic = alarm_topic
        self.alarms: list[cloudwatch.Alarm] = []
        alarm_set = AlarmSet(
            self,
            self.alarm_topic,
            into=self.alarms,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=DATAPOINTS_TO_ALARM,
        )
        self.rollback_alarms = self._variant_alarms(
            alarm_set, alarm_thresholds or EndpointAlarms(), lambda _name: instance_type
        )

    def apply_removal_policy(self, policy: RemovalPolicy) -> None:
        """Nothing to apply: the endpoint belongs to whoever deployed it."""


def _endpoint_arn(stack: Stack, endpoint_name: str) -> str:
    """The endpoint's ARN. SageMaker writes endpoint names in ARNs in lower case (an endpoint
    ``Churn`` has ARN ``.../endpoint/churn``) and IAM compares ARNs case-sensitively, so a grant
    on the name as written would not match."""
    name = endpoint_name if Token.is_unresolved(endpoint_name) else endpoint_name.lower()
    return stack.format_arn(service="sagemaker", resource="endpoint", resource_name=name)


def _check(
    check: Checker,
    *,
    endpoint_name: str,
    variant_names: Sequence[str],
    instance_type: str | None,
    serverless: bool,
    data_capture: DataCapture | None,
) -> None:
    check.require(
        isinstance(endpoint_name, str) and bool(endpoint_name),
        "endpoint_name",
        "the name of a SageMaker endpoint",
        endpoint_name,
    )
    check.matches("endpoint_name", endpoint_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
    check.require(
        not isinstance(variant_names, str),
        "variant_names",
        "a list of variant names (not one string)",
        variant_names,
    )
    names = list(variant_names)
    check.require(
        1 <= len(names) <= MAX_VARIANTS,
        "variant_names",
        f"1-{MAX_VARIANTS} production variant names",
        Said(f"{len(names)} names"),
    )
    for name in names:
        check.matches("variant_names", name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    check.require(not duplicates, "variant_names", "unique", Said(", ".join(duplicates)))
    check_instance_type(check, "instance_type", instance_type, api="endpoint")
    if serverless and instance_type is not None:
        check.not_together("serverless", "instance_type", "serverless endpoints have no instances")
    if serverless and data_capture is not None:
        check.not_together(
            "serverless", "data_capture", "serverless endpoints do not support data capture"
        )
