"""The Data stack of each environment: encrypted, private, versioned storage and alarm topic."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk.config import EnvironmentConfig, RemovalPolicy
from tests.helpers.apps import SynthesizedApp

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def data_templates(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {env: Template.from_json(templates[f"mlops-{env}-data"]) for env in ENVIRONMENTS}


def buckets(template: Template) -> dict[str, Any]:
    return dict(template.find_resources("AWS::S3::Bucket"))


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_rotates_and_lets_logs_and_alarm_publishers_use_it(
    data_templates: dict[str, Template], env: str
) -> None:
    template = data_templates[env]
    template.resource_count_is("AWS::KMS::Key", 1)
    key = next(iter(template.find_resources("AWS::KMS::Key").values()))
    assert key["Properties"]["EnableKeyRotation"] is True
    sids = {s.get("Sid") for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert {"AllowCloudWatchLogsOfThisAccount", "AllowServicesToPublishToEncryptedTopics"} <= sids


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_six_buckets_all_private_versioned_and_expiring_old_versions(
    data_templates: dict[str, Template], env: str
) -> None:
    found = buckets(data_templates[env])
    assert len(found) == 6
    for bucket in found.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        rule = props["LifecycleConfiguration"]["Rules"][0]
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 90}
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_the_access_log_bucket_uses_sse_s3(
    data_templates: dict[str, Template], env: str
) -> None:
    algorithms = sorted(
        b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        for b in buckets(data_templates[env]).values()
    )
    assert algorithms == ["AES256"] + ["aws:kms"] * 5


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_bucket_denies_plain_http(data_templates: dict[str, Template], env: str) -> None:
    policies = data_templates[env].find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 6
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


# batch-input always sends events to EventBridge; artifacts too where the training pipeline
# retrains on new data.
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kms_buckets_log_access_and_batch_input_emits_events(
    data_templates: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    event_buckets = 2 if configs[env].ml_pipeline.retrain_on_new_data else 1
    logged = [
        b
        for b in buckets(data_templates[env]).values()
        if "LoggingConfiguration" in b["Properties"]
    ]
    assert len(logged) == 5
    eventful = [
        b
        for b in buckets(data_templates[env]).values()
        if b["Properties"].get("NotificationConfiguration")
        == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    ]
    assert len(eventful) == event_buckets
    # Natively, without CDK's notification custom resource.
    data_templates[env].resource_count_is("AWS::Lambda::Function", 0)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_removal_policy_follows_config(
    data_templates: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    policy = "Retain" if configs[env].removal_policy is RemovalPolicy.RETAIN else "Delete"
    for kind in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in data_templates[env].find_resources(kind).values():
            assert resource["DeletionPolicy"] == policy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarm_topic_is_encrypted_tls_only_and_mails_the_configured_address(
    data_templates: dict[str, Template], env: str
) -> None:
    template = data_templates[env]
    template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": Match.object_like({"Fn::GetAtt": Match.any_value()})}
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": Match.string_like_regexp("@")}
    )


def test_environment_tags_reach_resources(
    data_templates: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    config = configs["prod"]
    key = next(iter(data_templates["prod"].find_resources("AWS::KMS::Key").values()))
    tags = {t["Key"]: t["Value"] for t in key["Properties"]["Tags"]}
    assert tags == {
        "cost-centre": config.tags.cost_centre,
        **config.tags.extra,
        "environment": config.name,
        "owner": config.tags.owner,
        "project": config.project,
    }


def test_staging_forwards_approvals_to_the_delivery_account(
    data_templates: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    delivery = configs["staging"].ml_pipeline.forward_approvals_to
    assert configs["prod"].ml_pipeline.forward_approvals_to is None
    rules = data_templates["staging"].find_resources("AWS::Events::Rule")
    (rule,) = [r for key, r in rules.items() if "ForwardApprovals" in key]
    assert rule["Properties"]["EventPattern"]["detail"]["ModelApprovalStatus"] == ["Approved"]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == f"arn:aws:events:eu-west-1:{delivery}:event-bus/default"
    assert "DeadLetterConfig" in target
    assert not [
        k for k in data_templates["prod"].find_resources("AWS::Events::Rule") if "Forward" in k
    ]
