"""key_and_topic: the given key and topic, or new ones; RETAIN is the key's default."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk._internal.defaults import key_and_topic
from tests.helpers.apps import unit_stack


def test_given_key_and_topic_are_used_as_they_are() -> None:
    stack = unit_stack()
    key, topic = kms.Key(stack, "Given"), sns.Topic(stack, "GivenTopic")
    scope = Construct(stack, "Thing")
    assert key_and_topic(scope, key=key, topic=topic, key_purpose="x", topic_name="y") == (
        key,
        topic,
    )
    assert scope.node.try_find_child("Key") is None
    assert scope.node.try_find_child("AlarmTopic") is None


def test_new_topic_is_encrypted_with_the_key_in_use() -> None:
    stack = unit_stack()
    given = kms.Key(stack, "Given")
    scope = Construct(stack, "Thing")
    key, topic = key_and_topic(scope, key=given, topic=None, key_purpose="x", topic_name="Alarms")
    assert key is given
    assert topic.master_key is given
    assert topic.node.id == "AlarmTopic"


def _template(**kwargs: RemovalPolicy) -> dict[str, Any]:
    stack = unit_stack()
    key_and_topic(
        Construct(stack, "Thing"),
        key=None,
        topic=None,
        key_purpose="logs",
        topic_name="Alarms",
        **kwargs,
    )
    return dict(Template.from_stack(stack).to_json())


@pytest.mark.parametrize("policy", [RemovalPolicy.RETAIN, RemovalPolicy.DESTROY])
def test_new_key_is_described_and_removed_per_policy(policy: RemovalPolicy) -> None:
    template = _template(removal_policy=policy)
    resources = template["Resources"]
    (key,) = [r for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["Description"] == "Test/Thing: logs"
    assert key["DeletionPolicy"] == ("Retain" if policy is RemovalPolicy.RETAIN else "Delete")


def test_passing_retain_changes_nothing() -> None:
    """Constructs that pass their removal policy and those that leave the default agree."""
    assert _template(removal_policy=RemovalPolicy.RETAIN) == _template()
