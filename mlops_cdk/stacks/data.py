"""The stateful part of an environment: its KMS key, buckets, alarm topic and model registry."""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import defaults, nag
from mlops_cdk._internal.iam import service_role
from mlops_cdk.constructs import ModelRegistry


class DataStack(Stack):
    """KMS key, buckets and the alarm topic of one environment.

    Retained in environments whose ``removal_policy`` is ``retain`` so that serving stacks can be
    replaced freely while data, keys and model artifacts survive.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: cfg.EnvironmentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        removal = removal_policy(config)
        self.encryption_key: kms.IKey = defaults.encryption_key(
            self,
            "DataKey",
            description=f"{config.project} {config.name}: data, logs and notifications",
            removal_policy=removal,
        )
        self.config = config
        self.access_logs: s3.IBucket = defaults.access_log_bucket(
            self,
            "AccessLogs",
            removal_policy=removal,
            bucket_name=config.bucket_name("access-logs"),
        )

        self._event_purposes: set[str] = set()

        def bucket(construct_id: str, purpose: str, *, event_bridge: bool = False) -> s3.IBucket:
            if event_bridge:
                self._event_purposes.add(purpose)
            return defaults.secure_bucket(
                self,
                construct_id,
                bucket_name=config.bucket_name(purpose),
                encryption_key=self.encryption_key,
                access_logs=self.access_logs,
                access_logs_prefix=f"{construct_id}/",
                removal_policy=removal,
                event_bridge=event_bridge,
            )

        # Retraining on new training data needs the artifacts bucket's events (EventBridge).
        self.artifacts = bucket(
            "Artifacts", "artifacts", event_bridge=config.ml_pipeline.retrain_on_new_data
        )
        self.data_capture = bucket("DataCapture", "capture")
        # New objects in the input bucket can start batch jobs and retraining (EventBridge).
        self.batch_input = bucket("BatchInput", "batch-input", event_bridge=True)
        self.batch_output = bucket("BatchOutput", "batch-output")
        self.monitoring_reports = bucket("MonitoringReports", "reports")
        self.alarm_topic = self._alarm_topic(config)
        # The model registry is state (the record of every trained and approved model), so it
        # lives here and outlives the Training stack; other stacks import it by name.
        self.model_registry: ModelRegistry | None = None
        if config.ml_pipeline.enabled:
            self.model_registry = ModelRegistry(
                self,
                "ModelRegistry",
                group_name=config.ml_pipeline.registry_group(config.project),
                description=f"{config.project} {config.name}: models trained by the pipeline",
                cross_account_readers=config.ml_pipeline.cross_account_readers,
                serving_accounts=config.ml_pipeline.serving_accounts,
                artifact_bucket=self.artifacts,
                artifact_prefix=config.ml_pipeline.output_prefix,
                encryption_key=self.encryption_key,
                removal_policy=removal,
            )
            if config.ml_pipeline.forward_approvals_to:
                self._forward_approvals(config.ml_pipeline.forward_approvals_to)

    def _forward_approvals(self, account: str) -> None:
        """Send this registry's approvals to the delivery account's default event bus."""
        registry = self.model_registry
        if registry is None:
            return
        bus = events.EventBus.from_event_bus_arn(
            self,
            "DeliveryEventBus",
            f"arn:{self.partition}:events:{self.region}:{account}:event-bus/default",
        )
        role = service_role(
            self,
            "ForwardApprovalsRole",
            service="events.amazonaws.com",
            description="Puts model approval events on the delivery account's event bus",
        )
        dead_letters = defaults.dead_letter_queue(
            self,
            "ForwardApprovalsDeadLetters",
            encryption_key=self.encryption_key,
            used_by="the approval forwarding rule",
        )
        registry.on_approval(
            targets.EventBus(bus, role=role, dead_letter_queue=dead_letters),
            construct_id="ForwardApprovals",
        )

    def _alarm_topic(self, config: cfg.EnvironmentConfig) -> sns.ITopic:
        if config.alarms.existing_topic_arn:
            return sns.Topic.from_topic_arn(self, "AlarmTopic", config.alarms.existing_topic_arn)
        topic = defaults.alarm_topic(
            self,
            "AlarmTopic",
            encryption_key=self.encryption_key,
            display_name=f"{config.project} {config.name} alarms",
        )
        if config.alarms.email:
            topic.add_subscription(subscriptions.EmailSubscription(config.alarms.email))
            nag.acknowledge(
                topic,
                "Serverless-SNSRedrivePolicy",
                "The only subscription is an e-mail address for people; failed deliveries show "
                "in the topic's NumberOfNotificationsFailed metric and a dead-letter queue for "
                "alarm e-mails would have no reader.",
            )
        return topic

    def shared_bucket(self, scope: Construct, purpose: str) -> s3.IBucket:
        """One of this stack's buckets, imported into ``scope`` by its literal name.

        Other stacks use these instead of the bucket objects: a literal ARN creates no
        CloudFormation export (stacks stay independently deployable), and IAM findings about
        prefix wildcards read the same at construction and after synthesis.
        """
        construct_id = f"{purpose.title().replace('-', '')}Bucket"
        existing = scope.node.try_find_child(construct_id)
        if existing is not None:  # imported once per scope, shared by its users
            return cast(s3.IBucket, existing)
        imported = s3.Bucket.from_bucket_attributes(
            scope,
            construct_id,
            bucket_name=self.config.bucket_name(purpose),
            encryption_key=None if purpose == "access-logs" else self.encryption_key,
        )
        if purpose in self._event_purposes:
            defaults.declare_sends_events(imported)
        return imported


def removal_policy(config: cfg.EnvironmentConfig) -> RemovalPolicy:
    """The CDK removal policy for the environment's stateful resources."""
    if config.removal_policy is cfg.RemovalPolicy.RETAIN:
        return RemovalPolicy.RETAIN
    return RemovalPolicy.DESTROY
