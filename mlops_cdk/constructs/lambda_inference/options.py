"""Option groups of :class:`~mlops_cdk.constructs.LambdaInference`: provisioned concurrency, the
REST API in front of the function, S3-triggered inference, alarm thresholds and guarded
deployments.

Each option checks its own invariants when it is created; the construct checks the rules that
need more than one option (timeouts, concurrency limits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal.alarms import check_latency
from mlops_cdk._internal.patterns import LatencyPercentile
from mlops_cdk._internal.validation import BUCKET, DURATION, Checker, Said, is_unresolved
from mlops_cdk.constructs.inference_api import (  # the API option group both APIs share
    AUTH_MODES as AUTH_MODES,
)
from mlops_cdk.constructs.inference_api import (
    MAX_INTEGRATION_TIMEOUT as MAX_INTEGRATION_TIMEOUT,
)
from mlops_cdk.constructs.inference_api import InferenceApi as InferenceApi

# Asynchronous invocation limits (AWS::Lambda::EventInvokeConfig).
MAX_ASYNC_RETRIES = 2
MIN_EVENT_AGE_S, MAX_EVENT_AGE_S = 60, 21600
# A sanity bound for one traffic-shift step: CloudFormation waits for the whole deployment.
MAX_SHIFT_MINUTES = 2880


@dataclass(frozen=True, kw_only=True)
class ProvisionedConcurrency:
    """Pre-initialised execution environments on the ``live`` alias, scaled by Application Auto
    Scaling on their utilisation.

    Provisioned concurrency is billed while it exists and counts against the account's
    concurrency quota (and the function's reserved concurrency, if set).

    :param min_capacity: environments kept warm at all times. Default: 1.
    :param max_capacity: most environments the scaling policy may provision; equal to
        ``min_capacity`` for a fixed amount without scaling. Default: 5.
    :param target_utilization: the share of provisioned environments in use that the policy
        keeps (0.1-0.9). Default: 0.7, headroom for bursts while new environments initialise.
    """

    min_capacity: int = 1
    max_capacity: int = 5
    target_utilization: float = 0.7

    def __post_init__(self) -> None:
        check = Checker("ProvisionedConcurrency")
        check.at_least("min_capacity", self.min_capacity, 1)
        check.require(
            self.max_capacity >= self.min_capacity,
            "min_capacity",
            f"at most max_capacity ({self.max_capacity})",
            self.min_capacity,
        )
        check.in_range("target_utilization", self.target_utilization, 0.1, 0.9)

    @property
    def scales(self) -> bool:
        """True when Application Auto Scaling manages the amount."""
        return self.max_capacity > self.min_capacity


@dataclass(frozen=True, kw_only=True)
class S3Trigger:
    """Score every object created under ``input_prefix`` of ``bucket``, asynchronously, into
    ``output_prefix``.

    An EventBridge rule (``source: aws.s3``, ``Object Created``, this bucket and prefix) invokes
    the ``live`` alias; the bucket must send its events to EventBridge (the Data stack's
    ``batch-input`` bucket does). Failed events (after ``retry_attempts``) land in the
    construct's encrypted failure queue.

    :param bucket: the bucket to watch. Default: none (required).
    :param input_prefix: objects under it are scored. Default: none (required).
    :param output_prefix: where ``<relative key>.out`` results are written. It must sit outside
        ``input_prefix`` (and not contain it) in the same bucket, or the results would trigger
        the function again. Default: none (required).
    :param output_bucket: write results to another bucket. Default: ``bucket``.
    :param retry_attempts: retries of a failed invocation (0-2). Default: 2.
    :param max_event_age: how long an event may wait for an execution environment before it is
        sent to the failure queue (60 s to 6 h). Default: 1 hour.
    """

    bucket: s3.IBucket
    input_prefix: str
    output_prefix: str
    output_bucket: s3.IBucket | None = None
    retry_attempts: int = MAX_ASYNC_RETRIES
    max_event_age: Duration = field(default_factory=lambda: Duration.hours(1))

    def __post_init__(self) -> None:
        check = Checker("S3Trigger")
        check.types(
            (
                ("bucket", self.bucket, BUCKET),
                ("output_bucket", self.output_bucket, BUCKET),
                ("max_event_age", self.max_event_age, DURATION),
            )
        )
        check.key_prefixes(self, "input_prefix", "output_prefix")
        if self.output_bucket is None or self.output_bucket is self.bucket:
            check.require(
                not self.output_prefix.startswith(self.input_prefix),
                "output_prefix",
                f"outside input_prefix {self.input_prefix!r} when results go to the same "
                "bucket (results under it would invoke the function again: a recursive loop)",
                self.output_prefix,
            )
            check.require(
                not self.input_prefix.startswith(self.output_prefix),
                "output_prefix",
                f"a prefix that does not contain input_prefix {self.input_prefix!r} when "
                "results go to the same bucket (results could land under the input prefix: a "
                "recursive loop)",
                self.output_prefix,
            )
        check.in_range("retry_attempts", self.retry_attempts, 0, MAX_ASYNC_RETRIES)
        check.in_range(
            "max_event_age", self.max_event_age.to_seconds(), MIN_EVENT_AGE_S, MAX_EVENT_AGE_S, "s"
        )

    @property
    def results_bucket(self) -> s3.IBucket:
        """Where results are written."""
        return self.output_bucket or self.bucket


@dataclass(frozen=True, kw_only=True)
class LambdaAlarms:
    """Alarm thresholds. Every alarm notifies the construct's alarm topic; the error and
    duration alarms also roll a CodeDeploy deployment back.

    Example (p95 duration above 200 ms): ``LambdaAlarms(latency_percentile="p95",
    latency=Duration.millis(200))``.

    :param error_rate_percent: function errors per invocation. Default: 1 %.
    :param latency: ``Duration`` at ``latency_percentile`` that fires the duration alarm; less
        than the function's timeout (an invocation never lasts longer). Default: 80 % of the
        timeout.
    :param latency_percentile: ``p50``, ``p90``, ``p95`` or ``p99``. Default: ``p99``.
    """

    error_rate_percent: float = 1.0
    latency: Duration | None = None
    latency_percentile: LatencyPercentile = "p99"

    def __post_init__(self) -> None:
        check = Checker("LambdaAlarms")
        check.in_range("error_rate_percent", self.error_rate_percent, 0.01, 100, "%")
        check_latency(
            check, latency=self.latency, latency_p99=None, percentile=self.latency_percentile
        )


LambdaDeploymentKind = Literal["CANARY", "LINEAR", "ALL_AT_ONCE"]


@dataclass(frozen=True, kw_only=True)
class LambdaDeployment:
    """How CodeDeploy shifts the ``live`` alias to a new version; it rolls back automatically
    when one of the construct's rollback alarms fires (errors, throttles, p99 duration).

    The same shape as the endpoint's :class:`DeploymentPolicy`: use the factories,
    ``LambdaDeployment.canary(10, Duration.minutes(5))``,
    ``.linear(10, Duration.minutes(1))``, ``.all_at_once()``.

    :param kind: ``CANARY``, ``LINEAR`` or ``ALL_AT_ONCE``.
    :param percent: traffic shifted first (canary) or per step (linear), 1-99 %. Default: 100
        (all at once).
    :param wait: how long each step bakes while the alarms are watched: whole minutes, 1 minute
        to 2 days (CodeDeploy counts in minutes). Default: none (all at once).
    """

    kind: LambdaDeploymentKind
    percent: int = 100
    wait: Duration | None = None

    @staticmethod
    def canary(percent: int = 10, wait: Duration | None = None) -> LambdaDeployment:
        """Shift ``percent`` of traffic, bake for ``wait`` watching the alarms, then shift the
        rest. Default: 10 % for 5 minutes."""
        return LambdaDeployment(kind="CANARY", percent=percent, wait=wait or Duration.minutes(5))

    @staticmethod
    def linear(step_percent: int = 10, wait: Duration | None = None) -> LambdaDeployment:
        """Shift ``step_percent`` more every ``wait`` until all traffic has moved. Default: 10 %
        every minute."""
        return LambdaDeployment(
            kind="LINEAR", percent=step_percent, wait=wait or Duration.minutes(1)
        )

    @staticmethod
    def all_at_once() -> LambdaDeployment:
        """Shift all traffic at once (alarms still roll back a bad version afterwards)."""
        return LambdaDeployment(kind="ALL_AT_ONCE")

    def __post_init__(self) -> None:
        check = Checker(f"LambdaDeployment.{self.kind.lower()}")
        check.one_of("kind", self.kind, ("CANARY", "LINEAR", "ALL_AT_ONCE"))
        if self.kind == "ALL_AT_ONCE":
            return
        check.in_range(
            "step_percent" if self.kind == "LINEAR" else "percent", self.percent, 1, 99, "%"
        )
        check.require(self.wait is not None, "wait", "a Duration for a traffic shift", None)
        seconds = cast(Duration, self.wait).to_seconds()
        if not is_unresolved(seconds):
            check.require(
                seconds % 60 == 0,
                "wait",
                "whole minutes (CodeDeploy counts in minutes)",
                Said(f"{seconds:g} s"),
            )
            check.in_range("wait", int(seconds) // 60, 1, MAX_SHIFT_MINUTES, "minutes")

    @property
    def minutes(self) -> int:
        """``wait`` in whole minutes (0 for all at once)."""
        return 0 if self.wait is None else int(self.wait.to_seconds()) // 60

    @property
    def predefined_name(self) -> str | None:
        """The CodeDeploy predefined configuration with these settings, if there is one, as
        named on ``aws_codedeploy.LambdaDeploymentConfig`` (``CANARY_10_PERCENT_5_MINUTES``)."""
        if self.kind == "ALL_AT_ONCE":
            return "ALL_AT_ONCE"
        if self.percent != 10:
            return None
        if self.kind == "CANARY" and self.minutes in (5, 10, 15, 30):
            return f"CANARY_10_PERCENT_{self.minutes}_MINUTES"
        if self.kind == "LINEAR" and self.minutes in (1, 2, 3, 10):
            suffix = "MINUTE" if self.minutes == 1 else "MINUTES"
            return f"LINEAR_10_PERCENT_EVERY_{self.minutes}_{suffix}"
        return None
