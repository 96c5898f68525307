"""What starts the constructs' runs: EventBridge Scheduler schedules with their role, the
EventBridge rules' role, and the rule that matches new objects under an S3 prefix.

Every construct builds these the same way, so the roles, retry policies and event patterns are
defined once here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_cdk import Duration, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.defaults import ensure_sends_events
from mlops_cdk._internal.iam import ManagedPolicyRole, grant_key_use

# How often and how long a schedule or rule target retries before giving up to its queue.
RETRY_ATTEMPTS = 5
MAX_EVENT_AGE = Duration.hours(1)
EVENTS_ROLE = "EventsRole"

ScheduleTarget = Callable[..., scheduler.IScheduleTarget]


def schedule(
    scope: Construct,
    *,
    expression: str,
    target: ScheduleTarget,
    encryption_key: kms.IKey,
    dead_letter_queue: sqs.IQueue,
    purpose: str,
    description: str,
    time_zone: str | None = None,
    statements: Sequence[iam.PolicyStatement] = (),
    wildcards: Sequence[tuple[str, str]] = (),
    retry_attempts: int = RETRY_ATTEMPTS,
    max_event_age: Duration = MAX_EVENT_AGE,
) -> scheduler.Schedule:
    """An EventBridge Scheduler schedule ``Schedule`` of ``scope``, encrypted with
    ``encryption_key``, run by its own role ``SchedulerRole``.

    The role may be assumed by EventBridge Scheduler of this account only; it holds
    ``statements`` and the use of ``encryption_key`` (the encrypted schedule and dead-letter
    queue). ``target`` is called with the keywords every scheduler target takes (``role``,
    ``dead_letter_queue``, ``retry_attempts``, ``max_event_age``) and returns the target.

    :param purpose: what the role does, completing its description ("starts runs").
    :param wildcards: (resource, reason) pairs: prefix wildcards in ``statements`` and why they
        are right, acknowledged on the role.
    """
    role = ManagedPolicyRole(
        scope,
        "SchedulerRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}},
        ),
        description=f"EventBridge Scheduler role of {scope.node.path}: {purpose}",
    )
    for statement in statements:
        role.add_to_principal_policy(statement)
    grant_key_use(role, encryption_key)
    for resource, reason in wildcards:
        nag.acknowledge_wildcard_resource(role, resource, reason)
    return scheduler.Schedule(
        scope,
        "Schedule",
        schedule=scheduler.ScheduleExpression.expression(
            expression, TimeZone.of(time_zone) if time_zone else None
        ),
        target=target(
            role=role,
            dead_letter_queue=dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        ),
        key=encryption_key,
        description=description,
    )


def events_role(
    scope: Construct,
    *,
    purpose: str,
    topic: sns.ITopic | None,
    construct_id: str = EVENTS_ROLE,
) -> ManagedPolicyRole:
    """The role ``construct_id`` through which the EventBridge rules of ``scope`` deliver to
    their targets (created on first use, then shared).

    :param purpose: what the rules do, completing the role's description.
    :param topic: the topic the rules notify, if any; when it is encrypted, the wildcard KMS
        action ``Topic.grant_publish`` adds for its key is acknowledged.
    """
    existing = scope.node.try_find_child(construct_id)
    if isinstance(existing, ManagedPolicyRole):
        return existing
    role = ManagedPolicyRole(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
        description=f"EventBridge role of {scope.node.path}: {purpose}",
    )
    if topic is not None and topic.master_key is not None:
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Topic.grant_publish (used by the SNS rule target) allows GenerateDataKey and "
            "GenerateDataKeyWithoutPlaintext on the topic's key only, to publish encrypted.",
        )
    return role


def new_objects_rule(
    scope: Construct,
    construct_id: str,
    *,
    bucket: s3.IBucket,
    prefix: str,
    description: str,
    trigger: str = "A new-data trigger",
) -> events.Rule:
    """A rule matching objects created under ``prefix`` of ``bucket``, whose events are sent
    to EventBridge (turned on for a bucket of the app; a synth warning naming ``trigger`` for
    an imported one). Empty objects (folder markers) are left out: there is nothing in them to
    process."""
    ensure_sends_events(scope, bucket, f"{trigger} of {scope.node.path}")
    detail: dict[str, Any] = {
        "bucket": {"name": [bucket.bucket_name]},
        "object": {"key": [{"prefix": prefix}], "size": [{"numeric": [">", 0]}]},
    }
    return events.Rule(
        scope,
        construct_id,
        description=description,
        event_pattern=events.EventPattern(
            source=["aws.s3"], detail_type=["Object Created"], detail=detail
        ),
    )


ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


def alarm_rule(
    scope: Construct, construct_id: str, *, alarm_arns: Sequence[str], description: str
) -> events.Rule:
    """A rule matching the alarms ``alarm_arns`` when they enter the ALARM state."""
    return events.Rule(
        scope,
        construct_id,
        description=description,
        event_pattern=events.EventPattern(
            source=["aws.cloudwatch"],
            detail_type=[ALARM_STATE_CHANGE],
            resources=list(alarm_arns),
            detail={"state": {"value": ["ALARM"]}},
        ),
    )
