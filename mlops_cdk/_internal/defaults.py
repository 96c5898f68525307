"""Secure-by-default factories for the resources every construct needs.

Encrypted, SSL-only, versioned buckets; KMS keys with rotation; log groups with retention and
KMS; SNS topics that are encrypted and refuse plain-HTTP publishing. Constructs call these when
the caller did not pass their own resource.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Annotations, Aws, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk._internal import checkov, nag
from mlops_cdk._internal.patterns import LOG_RETENTION_PERIODS

# Enough history for an audit trail without paying forever for old object versions.
NONCURRENT_VERSION_DAYS = 90
INCOMPLETE_UPLOAD_DAYS = 7
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR
# RetentionDays members are listed shortest first, like LOG_RETENTION_PERIODS.
RETENTION_BY_DAYS: dict[int, logs.RetentionDays] = dict(
    zip(
        LOG_RETENTION_PERIODS,
        [r for r in logs.RetentionDays if r is not logs.RetentionDays.INFINITE],
        strict=True,
    )
)


def retention(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a number of days CloudWatch Logs accepts."""
    return RETENTION_BY_DAYS[days]


def encryption_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> kms.Key:
    """A symmetric KMS key with yearly rotation that CloudWatch Logs, alarms and events can use.

    The key policy lets this region's CloudWatch Logs encrypt log groups of this account, and lets
    CloudWatch alarms and EventBridge rules publish to topics encrypted with it.
    """
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=Duration.days(30),
    )
    allow_cloudwatch_logs(key)
    allow_service_publishers(key, ("cloudwatch.amazonaws.com", "events.amazonaws.com"))
    return key


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs in this region use ``key`` for this account's log groups only."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )


def allow_service_publishers(key: kms.Key, services: tuple[str, ...]) -> None:
    """Let AWS services that publish to encrypted SNS topics (alarms, rules) use ``key``."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowServicesToPublishToEncryptedTopics",
            principals=[iam.ServicePrincipal(service) for service in services],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
        )
    )


def access_log_bucket(
    scope: Construct,
    construct_id: str,
    *,
    removal_policy: RemovalPolicy,
    bucket_name: str | None = None,
) -> s3.Bucket:
    """The server-access-log target bucket.

    S3 server access logging only delivers to buckets encrypted with SSE-S3, so this is the one
    bucket that is not KMS-encrypted; the findings that flags are acknowledged here with that
    reason.
    """
    bucket = _private_bucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        removal_policy=removal_policy,
        encryption=s3.BucketEncryption.S3_MANAGED,
    )
    nag.acknowledge_rules(
        bucket,
        nag.S3_LOGGING,
        "This is the server access log target; logging it into itself would loop.",
    )
    checkov.skip(bucket, "CKV_AWS_18", "The server access log target; logging it would loop.")
    nag.acknowledge_rules(
        bucket,
        nag.S3_KMS,
        "S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.",
    )
    nag.acknowledge_rules(
        bucket,
        nag.S3_REPLICATION,
        "Access logs are audit data kept in-region; cross-region copies add cost, not safety.",
    )
    return bucket


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    encryption_key: kms.IKey,
    access_logs: s3.IBucket,
    access_logs_prefix: str,
    removal_policy: RemovalPolicy,
    event_bridge: bool = False,
    bucket_name: str | None = None,
) -> s3.Bucket:
    """A KMS-encrypted, SSL-only, versioned, private bucket that logs access to ``access_logs``.

    ``event_bridge`` sends the bucket's object events to EventBridge (for new-data triggers).
    """
    bucket = _private_bucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        removal_policy=removal_policy,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=encryption_key,
        bucket_key_enabled=True,
    )
    log_access(bucket, into=access_logs, prefix=access_logs_prefix)
    if event_bridge:
        send_events_to_event_bridge(bucket)
    nag.acknowledge_rules(
        bucket,
        nag.S3_REPLICATION,
        "Objects are versioned and the bucket is retained in staging and prod; cross-region "
        "replication is a disaster-recovery choice made per organisation, not a library default.",
    )
    return bucket


def log_access(bucket: s3.Bucket, *, into: s3.IBucket, prefix: str) -> None:
    """Server access logs of ``bucket`` delivered under ``prefix`` of ``into``, by a bucket
    policy for the S3 logging service, whatever the consumer app's feature flags: CDK's
    ``server_access_logs_bucket`` grants by ACL unless the app has
    ``@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy``, and ACLs are disabled on our buckets
    (BucketOwnerEnforced), so that path fails synth. This renders what the flag renders."""
    cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
    cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
        destination_bucket_name=into.bucket_name, log_file_prefix=prefix
    )
    conditions = None
    if Stack.of(into).node.path == Stack.of(bucket).node.path:
        conditions = {
            "ArnLike": {"aws:SourceArn": bucket.bucket_arn},
            "StringEquals": {"aws:SourceAccount": bucket.env.account},
        }
    into.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
            actions=["s3:PutObject"],
            resources=[into.arn_for_objects(f"{prefix}*")],
            conditions=conditions,
        )
    )


def _private_bucket(
    scope: Construct,
    construct_id: str,
    *,
    bucket_name: str | None,
    removal_policy: RemovalPolicy,
    **encryption_and_logging: Any,
) -> s3.Bucket:
    """What every bucket of ours has: SSL only, versioned, private, owner-enforced, old versions
    and abandoned uploads expired; the caller adds encryption and access logging."""
    return s3.Bucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=removal_policy,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireOldVersionsAndAbandonedUploads",
                noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(INCOMPLETE_UPLOAD_DAYS),
            )
        ],
        **encryption_and_logging,
    )


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
    retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
    log_group_name: str | None = None,
) -> logs.LogGroup:
    """A KMS-encrypted log group with a retention period."""
    return logs.LogGroup(
        scope,
        construct_id,
        encryption_key=encryption_key,
        retention=retention,
        removal_policy=removal_policy,
        log_group_name=log_group_name,
    )


def alarm_topic(
    scope: Construct,
    construct_id: str,
    *,
    encryption_key: kms.IKey,
    display_name: str,
) -> sns.Topic:
    """A KMS-encrypted SNS topic that only accepts publishing over TLS."""
    return sns.Topic(
        scope,
        construct_id,
        master_key=encryption_key,
        enforce_ssl=True,
        display_name=display_name,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, *, encryption_key: kms.IKey, used_by: str
) -> sqs.Queue:
    """A KMS-encrypted, SSL-only queue that keeps failed deliveries for 14 days.

    ``used_by`` names what sends its failures here; it completes the acknowledgement of the
    rules asking a queue to have a dead-letter queue of its own.
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=encryption_key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    nag.acknowledge_rules(
        queue,
        ("AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"),
        f"This queue is itself the dead-letter queue of {used_by}; a queue for its own failures "
        "would have no reader.",
    )
    return queue


def https_egress_security_group(
    scope: Construct,
    construct_id: str,
    *,
    vpc: ec2.IVpc,
    description: str,
    rule_description: str = "HTTPS to AWS APIs through VPC endpoints",
) -> ec2.SecurityGroup:
    """A security group with no inbound rules that may only call out over HTTPS (AWS APIs
    through VPC endpoints, or NAT)."""
    group = ec2.SecurityGroup(
        scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False
    )
    group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), rule_description)
    return group


def key_and_topic(
    scope: Construct,
    *,
    key: kms.IKey | None,
    topic: sns.ITopic | None,
    key_purpose: str,
    topic_name: str,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> tuple[kms.IKey, sns.ITopic]:
    """The key and alarm topic of a construct: ``key`` and ``topic`` when given, else a new key
    ``Key`` (described as ``<construct path>: <key_purpose>``, removed per ``removal_policy``)
    and a new topic ``AlarmTopic`` encrypted with the key in use."""
    used_key = key or encryption_key(
        scope,
        "Key",
        description=f"{scope.node.path}: {key_purpose}",
        removal_policy=removal_policy,
    )
    used_topic = topic or alarm_topic(
        scope, "AlarmTopic", encryption_key=used_key, display_name=topic_name
    )
    return used_key, used_topic


# Context key on an imported bucket: its owner has turned its EventBridge notifications on.
SENDS_EVENTS = "mlops-cdk:bucket-sends-events-to-eventbridge"


def send_events_to_event_bridge(bucket: s3.Bucket) -> None:
    """Send ``bucket``'s object events to EventBridge, natively on the bucket (the L2
    ``event_bridge_enabled`` flag would add a custom-resource Lambda). A bucket whose L2
    notifications already exist keeps them as the one owner of the setting."""
    if bucket.node.try_find_child("Notifications") is not None:
        bucket.enable_event_bridge_notification()
        return
    cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
    cfn_bucket.add_property_override(
        "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
    )


def declare_sends_events(bucket: s3.IBucket) -> None:
    """Record that imported ``bucket`` already sends its events to EventBridge (its own stack
    turned them on), so new-data triggers on it need no warning."""
    bucket.node.set_context(SENDS_EVENTS, True)


def ensure_sends_events(scope: Construct, bucket: s3.IBucket, trigger: str) -> None:
    """Make ``bucket`` send object events to EventBridge for ``trigger``: turned on for a
    bucket of this app; a loud synth warning for an imported one, which cannot be changed."""
    if isinstance(bucket, s3.Bucket):
        send_events_to_event_bridge(bucket)
        return
    if bucket.node.try_get_context(SENDS_EVENTS):
        return
    name = bucket.bucket_name
    shown = name if not Token.is_unresolved(name) else "(name resolved at deploy time)"
    Annotations.of(scope).add_warning_v2(
        "mlops-cdk:bucket-events-not-enabled",
        f"{trigger} watches imported bucket {shown}, whose EventBridge notifications this app "
        "cannot turn on: unless they are on, no run ever starts. Turn them on where the bucket "
        "is defined (s3.Bucket(event_bridge_enabled=True) or NotificationConfiguration."
        "EventBridgeConfiguration.EventBridgeEnabled: true), or with "
        f"aws s3api put-bucket-notification-configuration --bucket {shown} "
        "--notification-configuration '{\"EventBridgeConfiguration\": {}}' (this replaces "
        "the bucket's other notifications: merge them in).",
    )
