"""The shared trigger plumbing: schedules and their role, the rules' role, new-object rules."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from mlops_cdk._internal.defaults import declare_sends_events
from mlops_cdk._internal.triggers import alarm_rule, events_role, new_objects_rule, schedule
from tests.helpers.apps import unit_stack
from tests.helpers.templates import managed_policy_actions


def test_schedule_role_is_scoped_to_this_account_and_gets_statements_and_the_key() -> None:
    stack = unit_stack()
    scope = Construct(stack, "Thing")
    key = kms.Key(stack, "Key")
    queue = sqs.Queue(stack, "Queue")
    given: dict[str, Any] = {}

    def target(**delivery: Any) -> scheduler.IScheduleTarget:
        given.update(delivery)
        return scheduler_targets.Universal(service="sqs", action="sendMessage", **delivery)

    created = schedule(
        scope,
        expression="rate(1 hour)",
        time_zone="Europe/Paris",
        target=target,
        encryption_key=key,
        dead_letter_queue=queue,
        purpose="starts things",
        description="Runs things",
        statements=[iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["*"])],
        retry_attempts=3,
        max_event_age=Duration.minutes(15),
    )
    assert created.node.id == "Schedule"
    assert given["dead_letter_queue"] is queue
    assert (given["retry_attempts"], given["max_event_age"].to_minutes()) == (3, 15)
    template = Template.from_stack(stack)
    (role,) = template.find_resources("AWS::IAM::Role").values()
    assert (
        role["Properties"]["Description"]
        == "EventBridge Scheduler role of Test/Thing: starts things"
    )
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    actions = managed_policy_actions(template, "ThingSchedulerRole")
    assert "sqs:SendMessage" in actions
    assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} <= set(actions)
    (props,) = [
        r["Properties"] for r in template.find_resources("AWS::Scheduler::Schedule").values()
    ]
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert "KmsKeyArn" in props


def test_events_role_is_created_once_and_acknowledges_kms_only_for_encrypted_topics() -> None:
    stack = unit_stack()
    scope = Construct(stack, "Thing")
    plain = sns.Topic(stack, "Plain")
    role = events_role(scope, purpose="notifies", topic=plain)
    assert events_role(scope, purpose="ignored", topic=plain) is role
    assert role.node.id == "EventsRole"
    encrypted = sns.Topic(stack, "Encrypted", master_key=kms.Key(stack, "Key"))
    other = Construct(stack, "Other")
    events_role(other, purpose="notifies", topic=encrypted)
    (description,) = {
        r["Properties"]["Description"]
        for r in Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
        if "Thing" in r["Properties"]["Description"]
    }
    assert description == "EventBridge role of Test/Thing: notifies"


def test_new_objects_rule_matches_non_empty_objects_under_the_prefix() -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Bucket", "data-bucket")
    new_objects_rule(stack, "Rule", bucket=bucket, prefix="in/", description="New data")
    (rule,) = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["data-bucket"]},
            "object": {"key": [{"prefix": "in/"}], "size": [{"numeric": [">", 0]}]},
        },
    }


def test_alarm_rule_matches_the_alarms_entering_alarm() -> None:
    stack = unit_stack()
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:drift"
    alarm_rule(stack, "Rule", alarm_arns=[arn], description="Drift")
    (rule,) = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [arn],
        "detail": {"state": {"value": ["ALARM"]}},
    }


# --- new-object rules need the bucket's events in EventBridge ---------------------------


def event_bridge_enabled(template: Template) -> list[object]:
    return [
        b.get("Properties", {}).get("NotificationConfiguration", {}).get("EventBridgeConfiguration")
        for b in template.find_resources("AWS::S3::Bucket").values()
    ]


def test_a_bucket_of_the_app_is_made_to_send_events_natively() -> None:
    stack = unit_stack()
    bucket = s3.Bucket(stack, "Data")
    new_objects_rule(stack, "Rule", bucket=bucket, prefix="in/", description="New data")
    template = Template.from_stack(stack)
    assert event_bridge_enabled(template) == [{"EventBridgeEnabled": True}]
    # Natively on the bucket, not through the L2 flag's custom-resource Lambda.
    assert template.find_resources("Custom::S3BucketNotifications") == {}


def test_a_bucket_whose_l2_already_sends_events_is_left_to_it() -> None:
    stack = unit_stack()
    bucket = s3.Bucket(stack, "Data", event_bridge_enabled=True)
    new_objects_rule(stack, "Rule", bucket=bucket, prefix="in/", description="New data")
    template = Template.from_stack(stack)
    assert event_bridge_enabled(template) == [None]  # the custom resource owns the setting
    assert len(template.find_resources("Custom::S3BucketNotifications")) == 1


def test_an_imported_bucket_gets_a_warning_naming_the_fix() -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "scoring-input")
    new_objects_rule(stack, "Rule", bucket=bucket, prefix="in/", description="New data")
    (warning,) = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    text = str(warning.entry.data)
    assert "imported bucket scoring-input" in text
    assert "EventBridgeConfiguration" in text


def test_an_imported_bucket_declared_to_send_events_gets_no_warning() -> None:
    stack = unit_stack()
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "scoring-input")
    declare_sends_events(bucket)
    new_objects_rule(stack, "Rule", bucket=bucket, prefix="in/", description="New data")
    assert Annotations.from_stack(stack).find_warning("*", Match.any_value()) == []
