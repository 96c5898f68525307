"""AlarmSet: one construct's alarms, described with its path and notifying its topic."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk._internal.alarms import AlarmSet, metric
from tests.helpers.apps import unit_stack


def test_alarms_use_the_set_defaults_unless_overridden_and_are_recorded_in_order() -> None:
    stack = unit_stack()
    scope = Construct(stack, "Thing")
    topic = sns.Topic(stack, "Topic")
    recorded: list[cloudwatch.Alarm] = []
    alarms = AlarmSet(scope, topic, into=recorded, evaluation_periods=5, datapoints_to_alarm=3)
    first = alarms.add("First", metric("NS", "A", {"D": "x"}), 1, "a happened")
    second = alarms.add(
        "Second",
        metric("NS", "B", {"D": "x"}),
        2,
        "b is low",
        comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=1,
        datapoints_to_alarm=1,
    )
    assert recorded == [first, second]
    found = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    props = {k.split("Thing")[1][:6]: v["Properties"] for k, v in found.items()}
    assert props["First1"]["AlarmDescription"] == "Test/Thing: a happened"
    assert (props["First1"]["EvaluationPeriods"], props["First1"]["DatapointsToAlarm"]) == (5, 3)
    assert props["First1"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["First1"]["TreatMissingData"] == "notBreaching"
    assert (props["Second"]["EvaluationPeriods"], props["Second"]["DatapointsToAlarm"]) == (1, 1)
    assert props["Second"]["ComparisonOperator"] == "LessThanThreshold"
    topic_ref = {"Ref": stack.get_logical_id(topic.node.default_child)}  # type: ignore[arg-type]
    for alarm in props.values():
        assert alarm["AlarmActions"] == [topic_ref]
        assert alarm["OKActions"] == [topic_ref]


def test_composite_alarm_notifies_the_topic_and_is_left_to_the_caller() -> None:
    stack = unit_stack()
    scope = Construct(stack, "Thing")
    recorded: list[cloudwatch.IAlarm] = []
    alarms = AlarmSet(scope, sns.Topic(stack, "Topic"), into=recorded)
    parts = [alarms.add(f"Part{i}", metric("NS", f"M{i}", {}), 1, f"part {i}") for i in (1, 2)]
    composite = alarms.any_of("Any", parts, "either part")
    assert composite not in recorded
    (props,) = [
        r["Properties"]
        for r in Template.from_stack(stack)
        .find_resources("AWS::CloudWatch::CompositeAlarm")
        .values()
    ]
    assert props["AlarmDescription"] == "Test/Thing: either part"
    assert len(props["AlarmActions"]) == 1
    assert props["OKActions"] == props["AlarmActions"]
