"""MLPipeline: a SageMaker training pipeline (preprocess, train, evaluate, gate, register) with
retraining triggers, an overlap guard and notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import jsii
from aws_cdk import Duration, Names, RemovalPolicy, Resource, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from mlops_cdk._internal import defaults, nag
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.iam import ManagedPolicyRole, grant_read_location, grant_write_prefix
from mlops_cdk._internal.network import select_subnets
from mlops_cdk._internal.notifications import topic_target
from mlops_cdk._internal.patterns import (
    DEFAULT_APPROVAL,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_TRAINING_INSTANCE_TYPE,
    ApprovalStatus,
    OverlapPolicy,
)
from mlops_cdk._internal.sagemaker import (
    execution_role,
    grant_vpc_access,
)
from mlops_cdk._internal.state_machines import logged_state_machine, retry_sagemaker_calls
from mlops_cdk._internal.triggers import (
    MAX_EVENT_AGE,
    RETRY_ATTEMPTS,
    alarm_rule,
    events_role,
    new_objects_rule,
    schedule,
)
from mlops_cdk._internal.validation import BUCKET, DURATION, KEY, ROLE, TOPIC, VPC, Checker
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.ml_pipeline._checks import MAX_PIPELINE_NAME, check
from mlops_cdk.constructs.ml_pipeline._graph import standard_graph
from mlops_cdk.constructs.ml_pipeline._settings import RetrainTriggers, TrainingSettings
from mlops_cdk.constructs.ml_pipeline.steps import (
    ConditionType,
    PipelineSteps,
)
from mlops_cdk.constructs.ml_pipeline.target import add_pipeline_target as add_pipeline_target
from mlops_cdk.constructs.model_registry.construct import (
    STATE_CHANGE,
    IModelRegistry,
)

EXECUTION_STATUS_CHANGE = "SageMaker Model Building Pipeline Execution Status Change"


@jsii.implements(sagemaker.IPipeline)
class _PipelineRef(Resource):
    """``IPipeline`` for our ``CfnPipeline`` (aws-cdk-lib 2.275 has the interface, no L2), so
    the EventBridge Scheduler target ``SageMakerStartPipelineExecution`` can use it."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, arn: str) -> None:
        super().__init__(scope, construct_id)
        self._name, self._arn = name, arn

    @property
    def pipeline_name(self) -> str:
        return self._name

    @property
    def pipeline_arn(self) -> str:
        return self._arn

    @property
    def pipeline_ref(self) -> sagemaker_refs.PipelineReference:
        return sagemaker_refs.PipelineReference(pipeline_name=self._name)

    def grant_start_pipeline_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:StartPipelineExecution"],
            resource_arns=[self._arn],
        )


class MLPipeline(Construct):
    """A SageMaker training pipeline that closes the MLOps loop.

    The standard graph (``steps=None``) runs the shipped training code
    (``mlops_runtime.training``) baked into the training image: **Preprocess** (processing:
    ``python3 -m mlops_runtime.training.preprocess`` splits the input into ``train/train.csv``,
    ``test/test.csv`` and the features-only ``features/train.csv``) → **Train** (training:
    the image's ``train``, network-isolated, managed spot with checkpointing when ``use_spot``)
    → **Evaluate** (processing: ``python3 -m mlops_runtime.training.evaluate`` writes
    ``evaluation.json`` with ``{"metrics": {"<name>": {"value": x}}}``) and **DriftBaseline**
    (the model server image's ``mlops_runtime.drift baseline`` over ``features/``) →
    **CheckMetric** (``metric_name`` vs the ``MetricThreshold`` parameter) → **Register** (a
    model package in ``registry`` served by the model server image, with the evaluation
    report as model quality metrics and the drift baselines) or **MetricBelowThreshold**
    (Fail, with the reason).

    Executions can override the parameters ``InputDataUrl``, ``ProcessingInstanceType``,
    ``TrainingInstanceType``, ``MetricThreshold``, ``ModelApprovalStatus`` and ``Trigger``.
    Triggers (all optional): ``retrain_schedule``, ``retrain_on_new_data`` (objects created
    under ``input_prefix``) and ``retrain_on_alarms`` (an alarm entering ALARM, e.g. drift). With
    ``on_overlap="skip"`` (default) triggers go through a small Step Functions state machine
    that starts an execution only when none is executing; ``"allow"`` starts the pipeline
    directly. Execution failures (and successes) and registered packages go to
    ``alarm_topic``.

    The standard graph reads no code from S3: the images carry it. A ``training_image`` of
    your own must keep the training image's contract (``train`` on ``PATH``,
    ``python3 -m mlops_runtime.training.preprocess|evaluate``, no network at training time).

    Example::

        MLPipeline(self, "Churn", registry=registry, data_bucket=data, input_prefix="churn/",
            metric_name="auc", metric_threshold=0.85)

    :param registry: the model package group to register in.
    :param data_bucket: holds the input and every output.
    :param input_prefix: training data, e.g. ``churn/input/`` (the InputDataUrl default).
    :param steps: your own graph (a :class:`PipelineSteps`). Default: the standard graph.
    :param training_image: the training image. Default: :meth:`ContainerImage.training`.
    :param processing_image: image for Preprocess and Evaluate. Default: ``training_image``.
    :param inference_image: image registered with the model. Default:
        :meth:`ContainerImage.model_server` (serves the trained ``model.tar.gz`` as-is).
    :param training_instance_type: Default: ``ml.m5.xlarge``.
    :param processing_instance_type: Default: ``ml.m5.large``.
    :param use_spot: managed spot training with checkpoints. Default: True.
    :param max_runtime: training max runtime. Default: 2 hours.
    :param max_wait: spot max wait (at least ``max_runtime``). Default: twice ``max_runtime``.
    :param metric_name: the evaluation metric the gate reads, e.g. ``accuracy``.
    :param metric_threshold: the gate's threshold (the MetricThreshold default).
    :param metric_comparison: how the metric must compare. Default: ``GreaterThanOrEqualTo``.
    :param approval: status of registered packages. Default: ``PendingManualApproval``.
    :param hyperparameters: training hyperparameters (strings). The project's training image
        accepts ``C``, ``max_iter``, ``class_weight`` (``none`` | ``balanced``) and ``label``.
        Default: none (its defaults).
    :param drift_baselines: compute drift baselines and register them. Default: True.
    :param output_prefix: where runs write (``<prefix><execution id>/...``). Default:
        ``ml-pipeline/runs/``.
    :param code_prefix: scripts a custom graph (``steps``) reads; the role may read it only
        then. Default: ``ml-pipeline/code/``.
    :param retrain_schedule: EventBridge Scheduler expression. Default: none.
    :param schedule_time_zone: Default: UTC.
    :param retrain_on_new_data: retrain when objects are created under ``input_prefix`` (the
        bucket must send events to EventBridge). Default: False.
    :param retrain_on_alarms: alarms whose ALARM state starts a retraining. Default: none.
    :param on_overlap: ``skip`` or ``allow`` triggered executions while one runs. Default:
        ``skip``.
    :param pipeline_name: Default: derived from the construct path.
    :param vpc: run jobs in this VPC. Default: no VPC.
    :param subnets: Default: CDK's choice of private subnets.
    :param encryption_key: outputs, volumes, logs, queue. Default: a new key with rotation.
    :param alarm_topic: notifications and alarms. Default: a new encrypted topic.
    :param notify_success: also notify succeeded executions. Default: True.
    :param log_retention: guard state machine logs. Default: one year.
    :param removal_policy: for the key and log group this creates. Default: RETAIN.
    :param role: the role that runs the pipeline and its jobs (SageMaker must be able to assume
        it); it receives exactly the grants a created role would, in a customer-managed policy
        this construct attaches to it. Default: a new least-privilege role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: IModelRegistry,
        data_bucket: s3.IBucket,
        input_prefix: str,
        steps: PipelineSteps | None = None,
        training_image: ContainerImage | None = None,
        processing_image: ContainerImage | None = None,
        inference_image: ContainerImage | None = None,
        training_instance_type: str = DEFAULT_TRAINING_INSTANCE_TYPE,
        processing_instance_type: str = DEFAULT_INSTANCE_TYPE,
        use_spot: bool = True,
        max_runtime: Duration = Duration.hours(2),  # noqa: B008 - immutable
        max_wait: Duration | None = None,
        metric_name: str,
        metric_threshold: float,
        metric_comparison: ConditionType = "GreaterThanOrEqualTo",
        approval: ApprovalStatus = DEFAULT_APPROVAL,
        hyperparameters: Mapping[str, str] | None = None,
        drift_baselines: bool = True,
        output_prefix: str = "ml-pipeline/runs/",
        code_prefix: str = "ml-pipeline/code/",
        retrain_schedule: str | None = None,
        schedule_time_zone: str | None = None,
        retrain_on_new_data: bool = False,
        retrain_on_alarms: Sequence[cloudwatch.IAlarm] = (),
        on_overlap: OverlapPolicy = "skip",
        pipeline_name: str | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        notify_success: bool = True,
        log_retention: logs.RetentionDays = defaults.DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("data_bucket", data_bucket, BUCKET),
                ("vpc", vpc, VPC),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
                ("max_runtime", max_runtime, DURATION),
                ("max_wait", max_wait, DURATION),
            )
        )
        shipped = training_image is None
        training_image = training_image or ContainerImage.training()
        server = ContainerImage.model_server()
        settings = TrainingSettings(
            input_prefix=input_prefix,
            output_prefix=output_prefix,
            code_prefix=code_prefix,
            training_image=training_image,
            processing_image=processing_image or training_image,
            inference_image=inference_image or server,
            baseline_image=server,
            shipped_training_code=shipped,
            training_instance_type=training_instance_type,
            processing_instance_type=processing_instance_type,
            use_spot=use_spot,
            max_runtime=max_runtime,
            max_wait=max_wait or max_runtime.plus(max_runtime),
            metric_name=metric_name,
            metric_threshold=metric_threshold,
            metric_comparison=metric_comparison,
            approval=approval,
            hyperparameters=hyperparameters or {},
            drift_baselines=drift_baselines,
            pipeline_name=pipeline_name,
        )
        triggers = RetrainTriggers(
            schedule=retrain_schedule,
            time_zone=schedule_time_zone,
            on_new_data=retrain_on_new_data,
            on_alarms=retrain_on_alarms,
            on_overlap=on_overlap,
        )
        check(Checker.of(self), self, settings, triggers)
        self.registry, self.data_bucket, self.metric_name = registry, data_bucket, metric_name
        # The prefixes as checked: "churn/input" and "churn/input/" alike end in "/".
        self.input_prefix, self.output_prefix = settings.input_prefix, settings.output_prefix
        self.code_prefix, self.on_overlap = settings.code_prefix, on_overlap
        self.pipeline_name = pipeline_name or Names.unique_resource_name(
            self, max_length=MAX_PIPELINE_NAME, separator="-"
        ).lower().strip("-")
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="training outputs, volumes, logs and triggers",
            topic_name="Training pipeline notifications",
            removal_policy=removal_policy,
        )

        # One role runs the pipeline and its jobs; it may pass only itself.
        self.role = execution_role(
            self,
            "ExecutionRole",
            description=f"SageMaker pipeline and job role of {self.node.path}",
            encryption_key=self.encryption_key,
            role=role,
        )
        self._grant_pipeline_permissions(custom_graph=steps is not None)
        self._add_pipeline(steps, settings, vpc, subnets)
        self._notifications(notify_success=notify_success)
        self._add_triggers(triggers, log_retention, removal_policy)
        self.alarms: list[cloudwatch.Alarm] = []
        self._add_alarms()

    # --- the pipeline -----------------------------------------------------------------

    def _add_pipeline(
        self,
        steps: PipelineSteps | None,
        settings: TrainingSettings,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
    ) -> None:
        self.pipeline_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name
        )
        self.security_group: ec2.SecurityGroup | None = None
        self._vpc_config: dict[str, Any] | None = None
        if vpc is not None:
            self._vpc_config = self._network(vpc, subnets)
        self.steps = steps or standard_graph(
            self,
            role=self.role,
            encryption_key=self.encryption_key,
            data_bucket=self.data_bucket,
            registry=self.registry,
            vpc_config=self._vpc_config,
            settings=settings,
        )
        self.definition: dict[str, Any] = self.steps.render(Checker.of(self))
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=self.pipeline_name,
            pipeline_definition={
                "PipelineDefinitionBody": Stack.of(self).to_json_string(self.definition)
            },
            role_arn=self.role.role_arn,
            pipeline_description=f"Training pipeline of {self.node.path}"[:3072],
            # A plain mapping: the property is untyped JSON, so the struct's Python field names
            # would be written as they are (maxParallelExecutionSteps).
            parallelism_configuration={"MaxParallelExecutionSteps": 2},
        )
        # SageMaker checks the role's permissions when the pipeline is created and run.
        self.pipeline.node.add_dependency(self.role)
        self.pipeline_ref: sagemaker.IPipeline = _PipelineRef(
            self, "PipelineRef", name=self.pipeline_name, arn=self.pipeline_arn
        )

    # --- triggers ---------------------------------------------------------------------

    def _add_triggers(
        self,
        triggers: RetrainTriggers,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        self.state_machine: sfn.StateMachine | None = None
        self.schedule: scheduler.Schedule | None = None
        if triggers.any and triggers.on_overlap == "skip":
            self.state_machine = self._guard(log_retention, removal_policy)
        if triggers.schedule is not None:
            self.schedule = self._schedule(triggers.schedule, triggers.time_zone)
        if triggers.on_new_data:
            self.rules["NewData"] = self._add_trigger(
                new_objects_rule(
                    self,
                    "NewDataRule",
                    bucket=self.data_bucket,
                    prefix=self.input_prefix,
                    description=f"New objects under {self.input_prefix} retrain {self.node.path}",
                ),
                "new-data",
            )
        if triggers.on_alarms:
            self.rules["Alarms"] = self._add_trigger(
                alarm_rule(
                    self,
                    "AlarmRule",
                    alarm_arns=[alarm.alarm_arn for alarm in triggers.on_alarms],
                    description=f"Alarms entering ALARM retrain {self.node.path}",
                ),
                "alarm",
            )

    # --- permissions ------------------------------------------------------------------

    def _grant_pipeline_permissions(self, *, custom_graph: bool) -> None:
        role, bucket, stack = self.role, self.data_bucket, Stack.of(self)
        readable = [
            (self.input_prefix, "training data"),
            (self.output_prefix, "run outputs (later steps read earlier ones)"),
        ]
        if custom_graph:  # the standard graph's code is in its images
            readable.insert(1, (self.code_prefix, "scripts"))
        for prefix, what in readable:
            grant_read_location(
                role, bucket_arn=bucket.bucket_arn, key=prefix, encryption_key=bucket.encryption_key
            )
            nag.acknowledge_wildcard_resource(
                role,
                bucket.arn_for_objects(f"{prefix}*"),
                f"The pipeline reads the {what} under {prefix} and nothing else in the bucket.",
            )
        grant_write_prefix(role, bucket, self.output_prefix, writer="The pipeline's jobs")
        jobs = [
            stack.format_arn(service="sagemaker", resource=kind, resource_name="*")
            for kind in ("processing-job", "training-job")
        ]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunPipelineJobs",
                actions=[
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=jobs,
            )
        )
        for job in jobs:
            nag.acknowledge_wildcard_resource(
                role,
                job,
                "SageMaker Pipelines names each processing and training job per execution at "
                "run time; the grant covers only these two job types.",
            )
        self.registry.grant_register(role)
        for packages in self.registry.packages_arns:
            nag.acknowledge_wildcard_resource(
                role,
                packages,
                "Each registration creates the next numbered version in this model package "
                "group only.",
            )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassOnlyItself",
                actions=["iam:PassRole"],
                resources=[role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )

    def _network(self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection | None) -> dict[str, Any]:
        self.security_group = defaults.https_egress_security_group(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{self.node.path} processing and training containers",
        )
        grant_vpc_access(self.role, vpc)
        selected = select_subnets(vpc, subnets)
        return {
            "SecurityGroupIds": [self.security_group.security_group_id],
            "Subnets": list(selected.subnet_ids),
        }

    # --- notifications ----------------------------------------------------------------

    def _events_role(self) -> ManagedPolicyRole:
        return events_role(self, purpose="notifies and starts runs", topic=self.alarm_topic)

    def _notifications(self, *, notify_success: bool) -> None:
        # Undeliverable notifications and triggers land here (and raise an alarm).
        self.dead_letter_queue: sqs.Queue = defaults.dead_letter_queue(
            self,
            "DeadLetterQueue",
            encryption_key=self.encryption_key,
            used_by="the notification and retraining rules",
        )
        self.rules: dict[str, events.Rule] = {}
        role = self._events_role()
        statuses = ["Failed", "Succeeded"] if notify_success else ["Failed"]
        executions = events.Rule(
            self,
            "ExecutionStatusRule",
            description=f"{self.node.path}: pipeline executions that end",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[EXECUTION_STATUS_CHANGE],
                detail={
                    "pipelineArn": [self.pipeline_arn],
                    "currentPipelineExecutionStatus": statuses,
                },
            ),
        )
        notify = partial(
            topic_target,
            self.alarm_topic,
            role=role,
            dead_letter_queue=self.dead_letter_queue,
            max_event_age=Duration.hours(6),
        )
        executions.add_target(
            notify(
                message={
                    "pipeline": self.node.path,
                    "status": events.EventField.from_path(
                        "$.detail.currentPipelineExecutionStatus"
                    ),
                    "execution": events.EventField.from_path("$.detail.pipelineExecutionArn"),
                },
            )
        )
        packages = events.Rule(
            self,
            "ModelPackageRule",
            description=f"{self.node.path}: model packages registered or approved/rejected",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[STATE_CHANGE],
                detail={"ModelPackageGroupName": [self.registry.group_name]},
            ),
        )
        packages.add_target(
            notify(
                message={
                    "group": self.registry.group_name,
                    "package": events.EventField.from_path("$.detail.ModelPackageArn"),
                    "status": events.EventField.from_path("$.detail.ModelApprovalStatus"),
                },
            )
        )
        self.rules["ExecutionStatus"] = executions
        self.rules["ModelPackage"] = packages

    # --- triggers ---------------------------------------------------------------------

    def _parameters(self, trigger: str) -> dict[str, str]:
        declared = {p.name for p in self.steps.parameters}
        return {"Trigger": trigger} if "Trigger" in declared else {}

    def _guard(
        self, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy
    ) -> sfn.StateMachine:
        """Start an execution unless one is executing (skip, never queue)."""
        role = ManagedPolicyRole(
            self,
            "GuardRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Step Functions role of {self.node.path}: starts pipeline executions",
        )
        running = tasks.CallAwsService(
            self,
            "ListExecutions",
            service="sagemaker",
            action="listPipelineExecutions",
            parameters={
                "PipelineName": self.pipeline_name,
                "SortBy": "CreationTime",
                "SortOrder": "Descending",
                "MaxResults": 20,
            },
            iam_resources=[self.pipeline_arn],
            iam_action="sagemaker:ListPipelineExecutions",
            result_selector={
                "running.$": "$.PipelineExecutionSummaries[?(@.PipelineExecutionStatus "
                "== 'Executing')].PipelineExecutionArn"
            },
            result_path="$.guard",
            comment="The pipeline's most recent executions that are still executing",
        )
        start = tasks.CallAwsService(
            self,
            "StartExecution",
            service="sagemaker",
            action="startPipelineExecution",
            parameters={
                "PipelineName": self.pipeline_name,
                "ClientRequestToken.$": "States.UUID()",
                "PipelineExecutionDescription.$": "States.Format('Started by {}', $.trigger)",
                "PipelineParameters.$": "$.parameters",
            },
            iam_resources=[self.pipeline_arn],
            iam_action="sagemaker:StartPipelineExecution",
            result_path="$.started",
            comment="Start the pipeline with the trigger's parameters",
        )
        for task in (running, start):
            retry_sagemaker_calls(task)
        skipped = sfn.Succeed(
            self, "AlreadyRunning", comment="An execution is running: skip this trigger"
        )
        decide = (
            sfn.Choice(self, "AlreadyRunning?")
            .when(sfn.Condition.is_present("$.guard.running[0]"), skipped)
            .otherwise(start)
        )
        machine, _ = logged_state_machine(
            self,
            "Guard",
            log_group_id="GuardLogs",
            definition=running.next(decide),
            role=role,
            timeout=Duration.minutes(15),
            comment=f"Starts {self.pipeline_name} unless an execution is already executing. "
            'Input: {"trigger": "<who>", "parameters": [{"Name": ..., "Value": ...}]}',
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
            retention=log_retention,
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups and resource "
            "policies) and X-Ray trace writes support no resource-level permissions.",
        )
        return machine

    def _guard_input(self, trigger: str) -> dict[str, Any]:
        return {
            "trigger": trigger,
            "parameters": [
                {"Name": name, "Value": value} for name, value in self._parameters(trigger).items()
            ],
        }

    def _schedule(self, expression: str, time_zone: str | None) -> scheduler.Schedule:
        machine = self.state_machine

        def target(**delivery: Any) -> scheduler.IScheduleTarget:
            if machine is not None:
                return scheduler_targets.StepFunctionsStartExecution(
                    machine,
                    input=scheduler.ScheduleTargetInput.from_object(self._guard_input("schedule")),
                    **delivery,
                )
            return scheduler_targets.SageMakerStartPipelineExecution(
                self.pipeline_ref,
                pipeline_parameter_list=[
                    scheduler_targets.SageMakerPipelineParameter(name=name, value=value)
                    for name, value in self._parameters("schedule").items()
                ],
                **delivery,
            )

        return schedule(
            self,
            expression=expression,
            time_zone=time_zone,
            target=target,
            encryption_key=self.encryption_key,
            dead_letter_queue=self.dead_letter_queue,
            purpose="starts retraining",
            description=f"Retrains {self.node.path}",
        )

    def _add_trigger(self, rule: events.Rule, trigger: str) -> events.Rule:
        """Make ``rule`` start a retraining, through the overlap guard when there is one."""
        role = self._events_role()
        if self.state_machine is None:
            add_pipeline_target(
                rule,
                pipeline_arn=self.pipeline_arn,
                role=role,
                parameters=self._parameters(trigger),
                dead_letter_queue=self.dead_letter_queue,
            )
            return rule
        rule.add_target(
            events_targets.SfnStateMachine(
                self.state_machine,
                input=events.RuleTargetInput.from_object(self._guard_input(trigger)),
                role=role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
            )
        )
        return rule

    # --- alarms -----------------------------------------------------------------------

    def _add_alarms(self) -> None:
        alarms = AlarmSet(
            self, self.alarm_topic, into=self.alarms, evaluation_periods=1, datapoints_to_alarm=1
        )
        if self.state_machine is not None:
            alarms.add(
                "GuardFailed",
                self.state_machine.metric_failed(),
                1,
                "the overlap guard could not start a retraining",
            )
        alarms.add(
            "DeadLetters",
            self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum"
            ),
            1,
            "a notification or retraining trigger could not be delivered (see the dead-letter "
            "queue)",
        )

    # --- public API -------------------------------------------------------------------

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start executions: through the overlap guard when there is one
        (``states:StartExecution``), otherwise ``sagemaker:StartPipelineExecution``."""
        if self.state_machine is not None:
            return self.state_machine.grant_start_execution(grantee)
        return self.pipeline_ref.grant_start_pipeline_execution(grantee)
