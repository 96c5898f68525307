"""The delivery pipeline: CDK Pipelines that tests, synthesizes and deploys every environment.

Commits (and model approvals) start it; it runs the same ``make test`` and ``cdk synth`` a
workstation runs, then deploys the same :class:`EnvironmentStage` per environment in promotion
order, with a smoke test of every serving target after each stage (:mod:`mlops_cdk.stacks.smoke`)
and a manual approval before prod.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from aws_cdk import RemovalPolicy, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codestarnotifications as notifications
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from mlops_cdk import config as cfg
from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk.stacks import smoke
from mlops_cdk.stacks.stage import EnvironmentStage

# The commands a workstation runs, so the pipeline can never test or build differently.
SYNTH_COMMANDS = ("make test", "make synth")
# app.py asks the registry for the newest approved package of each endpoint's group
# (ModelPackage.latest_approved's lookup); the pin is served when there is none yet.
APPROVED_PACKAGE_CONTEXT = ' CDK_CONTEXT_ARGS="-c approved_model_package=latest"'


def cli_version(package_json: Path) -> str:
    """The CDK CLI version pinned in package.json (used by self-mutation and asset publishing)."""
    pinned: str = json.loads(package_json.read_text(encoding="utf-8"))["devDependencies"]["aws-cdk"]
    return pinned.lstrip("^~=")


class DeliveryStack(Stack):
    """A self-mutating CDK pipeline in the tooling account that deploys every environment.

    :param settings: source, notification and model-approval settings (``config/delivery.yaml``).
    :param environments: the environments in promotion order; the last one is production and
        waits for a manual approval.
    :param cdk_cli_version: the CLI version to use, read from package.json by the caller.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: cfg.DeliverySettings,
        environments: Sequence[cfg.EnvironmentConfig],
        cdk_cli_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self._smoke_test_role: iam.Role | None = None
        self.encryption_key = defaults.encryption_key(
            self, "Key", description="Delivery pipeline: notifications and build logs"
        )
        self.topic = defaults.alarm_topic(
            self, "Notifications", encryption_key=self.encryption_key, display_name="Delivery"
        )
        if settings.notification_email:
            self.topic.add_subscription(
                subscriptions.EmailSubscription(settings.notification_email)
            )
            nag.acknowledge(
                self.topic,
                "Serverless-SNSRedrivePolicy",
                "The only subscription is an e-mail address for people; failed deliveries show in "
                "the topic's NumberOfNotificationsFailed metric.",
            )
        source = pipelines.CodePipelineSource.connection(
            settings.repository, settings.branch, connection_arn=settings.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            synth=self._synth_step(source, settings),
            cli_version=cdk_cli_version,
            cross_account_keys=True,
            enable_key_rotation=True,
            self_mutation=True,
            publish_assets_in_parallel=False,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                ),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(
                        log_group=defaults.log_group(
                            self,
                            "BuildLogs",
                            encryption_key=self.encryption_key,
                            removal_policy=RemovalPolicy.DESTROY,
                        )
                    )
                ),
            ),
        )
        self.stages: list[EnvironmentStage] = []
        for index, environment in enumerate(environments):
            self._add_environment(environment, last=index == len(environments) - 1)
        self.pipeline.build_pipeline()
        self._use_connection_with_its_prefix(settings.connection_arn)
        self._harden_artifact_bucket()
        self._notify(settings)
        _acknowledge_generated_findings(self.pipeline)

    def _use_connection_with_its_prefix(self, connection_arn: str) -> None:
        """Grant ``UseConnection`` under the connection ARN's own service prefix.

        CDK (2.275) grants ``codestar-connections:UseConnection`` whatever the ARN; IAM needs the
        action's prefix to match the resource's ("Connections rename - Summary of changes",
        AWS Developer Tools guide), so a ``codeconnections`` connection would be refused. The
        generated statement is rewritten to the matching prefix.
        """
        prefix = connection_arn.split(":")[2] if connection_arn.count(":") >= 5 else ""
        if prefix != "codeconnections":
            return
        for node in self.pipeline.pipeline.node.find_all():
            if not isinstance(node, iam.CfnPolicy):
                continue
            document = self.resolve(node.policy_document)
            generated = [
                statement
                for statement in document.get("Statement", [])
                if statement.get("Action") == "codestar-connections:UseConnection"
                and statement.get("Resource") == connection_arn
            ]
            for statement in generated:
                statement["Action"] = "codeconnections:UseConnection"
            if generated:
                node.add_property_override("PolicyDocument", document)

    def _synth_step(
        self, source: pipelines.CodePipelineSource, settings: cfg.DeliverySettings
    ) -> pipelines.CodeBuildStep:
        commands: list[str] = []
        statements: list[iam.PolicyStatement] = []
        context = ""
        if settings.model_package_group:
            group = settings.model_package_group
            stack = Stack.of(self)
            registry = settings.registry_account
            # app.py lists the group's packages (by ARN when in another account: its resource
            # policy lets this account list it).
            context = APPROVED_PACKAGE_CONTEXT
            # ListModelPackages is authorized on the packages (its only resource type in the
            # Service Authorization Reference), not on the group.
            statements.append(
                iam.PolicyStatement(
                    actions=["sagemaker:ListModelPackages"],
                    resources=[
                        stack.format_arn(
                            service="sagemaker",
                            account=registry,
                            resource="model-package",
                            resource_name=f"{group}/*",
                        )
                    ],
                )
            )
        commands.append(SYNTH_COMMANDS[0])
        commands.append(SYNTH_COMMANDS[1] + context)
        return pipelines.CodeBuildStep(
            "Synth",
            input=source,
            commands=commands,
            role_policy_statements=statements or None,
            primary_output_directory="cdk.out",
        )

    def _add_environment(self, environment: cfg.EnvironmentConfig, *, last: bool) -> None:
        stage = EnvironmentStage(
            self, environment.stage_name, config=environment, delivery=self.settings
        )
        self.stages.append(stage)
        pre: list[pipelines.Step] = []
        post: list[pipelines.Step] = []
        if last and len(self.stages) > 1:
            gate = self._package_image_gate(stage)
            if gate is not None:
                pre.append(gate)
            approval = pipelines.ManualApprovalStep(
                "PromoteToProduction",
                comment=f"Deploy {environment.stage_name}? The previous stages passed their "
                "smoke tests.",
            )
            if gate is not None:
                approval.add_step_dependency(gate)
            pre.append(approval)
        smoke_test = self._smoke_test(stage)
        if smoke_test is not None:
            post.append(smoke_test)
        self.pipeline.add_stage(stage, pre=pre, post=post)

    def _smoke_role(self) -> iam.Role:
        """The delivery account's role of every smoke step (its name is what the environments'
        smoke-test roles trust)."""
        if self._smoke_test_role is None:
            self._smoke_test_role = iam.Role(
                self.pipeline,
                "SmokeTestRole",
                role_name=smoke.delivery_role_name(self.settings.project),
                assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
                description="Runs the smoke tests: assumes each environment's smoke-test role",
            )
        return self._smoke_test_role

    def _smoke_test(self, stage: EnvironmentStage) -> pipelines.Step | None:
        """Call every serving target the stage enables with the model's sample request, as
        the stage's smoke-test role (:mod:`mlops_cdk.stacks.smoke`)."""
        serving, config = stage.serving, stage.config
        targets = serving.smoke_targets
        if not targets.any or serving.smoke_test_role is None:
            return None
        role_arn = Stack.of(self).format_arn(
            service="iam",
            region="",
            account=config.account,
            resource="role",
            resource_name=smoke.environment_role_name(config.stage_name),
        )
        role = self._smoke_role()
        role.add_to_policy(iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn]))
        return pipelines.CodeBuildStep(
            "SmokeTest",
            env_from_cfn_outputs=smoke.environment_variables(targets),
            commands=smoke.commands(role_arn=role_arn, region=str(config.region), targets=targets),
            role=role,
        )

    def _package_image_gate(self, stage: EnvironmentStage) -> pipelines.Step | None:
        """Before a stage that serves another account's package with its own model server
        build: check that the package was registered with the same image (same asset tag), so
        the model runs on the server it was evaluated with."""
        package = stage.serving.foreign_package
        if package is None or package.image_tag is None:
            return None
        config = stage.config
        describe = (
            f"aws sagemaker describe-model-package --region {config.region} "
            f"--model-package-name {package.arn} "
            "--query 'InferenceSpecification.Containers[0].Image' --output text"
        )
        return pipelines.CodeBuildStep(
            "CheckPackageImage",
            commands=[
                f'PACKAGE_IMAGE="$({describe})"',
                'echo "package image: $PACKAGE_IMAGE"',
                f'test "${{PACKAGE_IMAGE##*:}}" = "{package.image_tag}" || '
                f'{{ echo "{package.arn} was registered with another model server image than '
                f'{config.stage_name} builds (tag {package.image_tag})"; exit 1; }}',
            ],
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=["sagemaker:DescribeModelPackage"], resources=[package.arn]
                )
            ],
        )

    def _harden_artifact_bucket(self) -> None:
        """Versioning, access logs and expiry for the bucket CDK Pipelines creates."""
        bucket = self.pipeline.pipeline.artifact_bucket
        logs = defaults.access_log_bucket(self, "AccessLogs", removal_policy=RemovalPolicy.RETAIN)
        cfn_bucket = cast(s3.CfnBucket, bucket.node.default_child)
        # L1 properties (not overrides), so compliance rules see them too.
        cfn_bucket.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(
            status="Enabled"
        )
        cfn_bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=logs.bucket_name, log_file_prefix="artifacts/"
        )
        cfn_bucket.lifecycle_configuration = s3.CfnBucket.LifecycleConfigurationProperty(
            rules=[
                s3.CfnBucket.RuleProperty(
                    id="ExpireOldArtifacts",
                    status="Enabled",
                    noncurrent_version_expiration=s3.CfnBucket.NoncurrentVersionExpirationProperty(
                        noncurrent_days=30
                    ),
                    abort_incomplete_multipart_upload=s3.CfnBucket.AbortIncompleteMultipartUploadProperty(
                        days_after_initiation=7
                    ),
                )
            ]
        )
        logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[logs.arn_for_objects("artifacts/*")],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        nag.acknowledge_rules(
            bucket,
            nag.S3_REPLICATION,
            "Build artifacts are regenerated from the repository on every run; a cross-region "
            "copy would add nothing.",
        )

    def _notify(self, settings: cfg.DeliverySettings) -> None:
        pipeline = self.pipeline.pipeline
        notifications.NotificationRule(
            self,
            "PipelineEvents",
            source=pipeline,
            events=[
                "codepipeline-pipeline-pipeline-execution-failed",
                "codepipeline-pipeline-manual-approval-needed",
                "codepipeline-pipeline-pipeline-execution-succeeded",
            ],
            targets=[self.topic],
        )
        self.encryption_key.grant(
            iam.ServicePrincipal("codestar-notifications.amazonaws.com"),
            "kms:Decrypt",
            "kms:GenerateDataKey",
        )
        if settings.model_package_group:
            if settings.registry_account != settings.account:
                # The statement form (Action/Principal are deprecated), limited to the
                # registry account's SageMaker events.
                events.CfnEventBusPolicy(
                    self,
                    "AcceptApprovalsFromRegistry",
                    statement_id="AcceptModelApprovalsFromRegistryAccount",
                    event_bus_name="default",
                    statement={
                        "Sid": "AcceptModelApprovalsFromRegistryAccount",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": f"arn:{self.partition}:iam::{settings.registry_account}:root"
                        },
                        "Action": "events:PutEvents",
                        "Resource": self.format_arn(
                            service="events", resource="event-bus", resource_name="default"
                        ),
                        "Condition": {"StringEquals": {"events:source": "aws.sagemaker"}},
                    },
                )
            events.Rule(
                self,
                "OnModelApproved",
                description="Deploy when a model package in the registry is approved",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Model Package State Change"],
                    detail={
                        "ModelPackageGroupName": [settings.model_package_group],
                        "ModelApprovalStatus": ["Approved"],
                    },
                ),
                targets=[
                    targets.CodePipeline(
                        pipeline,
                        dead_letter_queue=self._dead_letter_queue(),
                        retry_attempts=3,
                    )
                ],
            )

    def _dead_letter_queue(self) -> sqs.Queue:
        queue = defaults.dead_letter_queue(
            self,
            "StartFailures",
            encryption_key=self.encryption_key,
            used_by="the model-approval trigger",
        )
        return queue


# What CDK Pipelines generates and why it is acceptable. Anything else stays a finding.
_GENERATED_WILDCARDS = (
    (
        r"\[Action::s3:(GetObject|GetBucket|List|DeleteObject|Abort)\*\]",
        "CDK Pipelines' grants on its own artifact bucket: read, write, clean up artifacts.",
    ),
    (
        r"\[Action::kms:(GenerateDataKey|ReEncrypt)\*\]",
        "CDK Pipelines' grants on its own artifact key, which encrypts the artifact bucket.",
    ),
    (
        r"\[Resource::<PipelineArtifactsBucket[A-Z0-9]+\.Arn>/\*\]",
        "Objects of the pipeline's own artifact bucket; artifact keys are generated per run.",
    ),
    (
        r"\[Resource::arn:\*:iam::\d{12}:role/\*\]",
        "sts:AssumeRole limited by condition to roles tagged aws-cdk:bootstrap-role "
        "(file-publishing, image-publishing, deploy): the bootstrap roles of the target accounts.",
    ),
    (
        r"\[Resource::arn:aws[a-z-]*:(codebuild:[^:]+:\d{12}:report-group|logs:[^:]+:\d{12}:"
        r"log-group:/aws/codebuild)/<Pipeline[A-Za-z0-9]+>(-\*|:\*)\]",
        "Report groups and log streams named after the pipeline's own CodeBuild projects.",
    ),
    (
        r"\[Resource::arn:aws[a-z-]*:(logs:[^:]+:\d{12}:log-group:/aws/codebuild|codebuild:[^:]+:"
        r"\d{12}:report-group)/\*\]",
        "The asset-publishing roles write logs and reports of the asset projects CDK Pipelines "
        "creates per asset, whose names are not known when the role is defined (aws-cdk design).",
    ),
    (
        r"\[Resource::\*\]",
        "Generated by CDK Pipelines for actions without resource-level scoping in its design: "
        "cloudformation:DescribeStacks and s3:ListBucket for self-mutation, codebuild "
        "Start/Stop/BatchGetBuilds for asset publishing.",
    ),
)


_PACKAGE_LISTING = (
    (
        r"\[Resource::arn:aws[a-z-]*:sagemaker:[^:]+:\d{12}:model-package/[A-Za-z0-9-]+/\*\]",
        "The synth step lists the packages of the configured registry group to find the newest "
        "approved one; package versions are numbered at registration.",
    ),
)


def _acknowledge_generated_findings(pipeline: pipelines.CodePipeline) -> None:
    """CDK Pipelines generates its roles, projects and bucket; accept what is right to accept,
    finding by finding, and leave anything unexpected as a finding."""
    nag.acknowledge_generated_wildcards(pipeline, _GENERATED_WILDCARDS + _PACKAGE_LISTING)
    for node in pipeline.node.find_all():
        if isinstance(node, iam.CfnPolicy) and _starts_builds_anywhere(node):
            checkov.skip(
                node,
                "CKV_AWS_111",
                "CDK Pipelines' asset-publishing role starts and stops the asset projects it "
                "creates per asset, whose names are not known when the role is defined; "
                "codebuild:BatchGetBuilds supports no resource-level permissions.",
            )
    nag.acknowledge_rules(
        pipeline,
        (
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        ),
        "CDK Pipelines creates one role per action with an inline policy sized to that action; "
        "the policy lives and dies with its role, which self-mutation regenerates.",
    )
    nag.acknowledge_rules(
        pipeline,
        (
            "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
            "PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
        ),
        "These projects take their source from CodePipeline artifacts, not from a repository "
        "URL; the repository is reached through a CodeConnections connection, never with "
        "credentials in the project.",
    )


def _starts_builds_anywhere(policy: iam.CfnPolicy) -> bool:
    """Whether ``policy`` lets its role start CodeBuild builds of any project."""
    document = Stack.of(policy).resolve(policy.policy_document)
    return any(
        statement.get("Resource") == "*"
        and "codebuild:StartBuild" in (statement.get("Action") or [])
        for statement in document.get("Statement", [])
    )
