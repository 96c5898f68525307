"""EventBridge rule targets that notify an alarm topic the same way in every construct."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

RETRY_ATTEMPTS = 5


def topic_target(
    topic: sns.ITopic,
    *,
    role: iam.IRole,
    dead_letter_queue: sqs.IQueue,
    message: Mapping[str, object],
    max_event_age: Duration,
) -> events_targets.SnsTopic:
    """Publish ``message`` (JSON, may hold ``EventField`` paths) to ``topic`` through ``role``
    (so the topic's policy never changes), retrying, then giving up to ``dead_letter_queue``."""
    return events_targets.SnsTopic(
        topic,
        authorize_using_role=True,
        role=role,
        dead_letter_queue=dead_letter_queue,
        retry_attempts=RETRY_ATTEMPTS,
        max_event_age=max_event_age,
        message=events.RuleTargetInput.from_object(dict(message)),
    )
