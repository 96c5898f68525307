"""BatchTransformJob: SageMaker batch transform run by Step Functions, on a schedule, on new data
in S3, or on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Unpack

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from mlops_cdk._internal import defaults, nag
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.iam import (
    ManagedPolicyRole,
    grant_key_use,
    grant_read_location,
    grant_write_prefix,
)
from mlops_cdk._internal.names import UUID_LENGTH, generated_prefix
from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE, TransformBatchStrategy
from mlops_cdk._internal.sagemaker import execution_role
from mlops_cdk._internal.state_machines import logged_state_machine
from mlops_cdk._internal.triggers import (
    MAX_EVENT_AGE,
    RETRY_ATTEMPTS,
    events_role,
    new_objects_rule,
    schedule,
)
from mlops_cdk._internal.validation import DURATION, KEY, ROLE, TOPIC, VPC, Checker
from mlops_cdk.constructs._sagemaker_model import ModelSource, SageMakerModel
from mlops_cdk.constructs.batch_transform._checks import check
from mlops_cdk.constructs.batch_transform._request import transform_task
from mlops_cdk.constructs.batch_transform._settings import JobSettings, Triggers
from mlops_cdk.constructs.batch_transform.options import TransformInput, TransformOutput
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.metric_options import MetricOptions, check_options
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_package import ModelPackage

BatchStrategy = TransformBatchStrategy
JoinSource = Literal["Input", "None"]

# Time after the job for naming, notifications and the end of the execution.
EXECUTION_OVERHEAD = Duration.minutes(15)
MAX_SNS_SUBJECT = 100
MANIFESTS = "manifests/"


class BatchTransformJob(Construct):
    """A SageMaker batch transform job that someone (or something) can actually run.

    CloudFormation has no transform-job resource, so this builds a runner: the SageMaker model,
    and a Step Functions state machine that names each run, starts ``CreateTransformJob`` and
    waits for it (run-job pattern), retries throttled API calls, times out after
    ``max_runtime``, and notifies the alarm topic of success or failure. Runs start on a
    ``schedule`` (EventBridge Scheduler), on every new object under the input prefix
    (``run_on_new_data``), or by hand (``manual=True``)::

        aws stepfunctions start-execution --state-machine-arn <arn> --input '{}'

    An empty input transforms every object under the input prefix; ``{"key": "<input key>"}``
    transforms one object (that is what the new-data rule sends). Results go to
    ``s3://<output bucket>/<output prefix><job name>/``.

    Example::

        job = BatchTransformJob(self, "Scoring",
            model_data=ModelData.from_bucket(artifacts, "churn/model.tar.gz"),
            input=TransformInput(bucket=data, prefix="scoring/input/"),
            output=TransformOutput(bucket=data, prefix="scoring/output/"),
            schedule="cron(0 2 * * ? *)")

    :param image: model server image. Default: the mlops-cdk model server when
        ``model_data`` is given.
    :param model_data: model artifact. Give it, or ``image`` or ``model_package``.
    :param model_package: a model registry package instead of image and artifact.
    :param input: what to transform (required).
    :param output: where results go (required); not the input prefix or under it.
    :param instance_type: Default: ``ml.m5.large``.
    :param instance_count: Default: 1.
    :param max_concurrent_transforms: parallel requests per instance; 0 lets SageMaker ask the
        container (``/execution-parameters``). Default: unset (SageMaker's default, 1).
    :param max_payload_mb: largest request, 0-100 MB (0: chunked, for containers that
        support it). Default: 6.
    :param batch_strategy: ``MultiRecord`` (as many records per request as fit) or
        ``SingleRecord``. Default: ``MultiRecord``.
    :param join_source: ``Input`` joins each input record to its result. Default: none.
    :param input_filter: JSONPath selecting what the model sees, e.g. ``$[1:]``. Default: all.
    :param output_filter: JSONPath selecting what is written, e.g. ``$[0,-1]``. Default: all.
    :param schedule: EventBridge Scheduler expression (``cron(...)``, ``rate(...)``,
        ``at(...)``). Default: no schedule.
    :param schedule_time_zone: time zone for ``schedule``. Default: UTC.
    :param run_on_new_data: start a run for objects created under the input prefix: one run per
        object, or one per batch window. Default: False.
    :param new_data_batch_window: with ``run_on_new_data``, collect new objects for up to this
        long (1 s to 5 minutes) and transform them in one run, through a manifest. Default:
        none (one run per object).
    :param new_data_batch_size: most objects per batched run, 1-200. Default: 100.
    :param manual: no trigger; runs are started with ``StartExecution`` only. Default: False
        (a job with no trigger and no ``manual=True`` is rejected).
    :param invocation_timeout: per-request timeout, 1-3600 s. Default: 10 minutes.
    :param invocation_max_retries: per-request retries, 0-3. Default: 3.
    :param max_runtime: how long a run may take before it is stopped. Default: 24 hours.
    :param vpc: run the model in this VPC. Default: no VPC.
    :param subnets: subnets of ``vpc``. Default: CDK's choice of private subnets.
    :param network_isolation: no network access for the container. Default: True.
    :param encryption_key: KMS key for output, volumes, logs, queue and schedule. Default: a new
        key with rotation.
    :param alarm_topic: where alarms and run notifications go. Default: a new encrypted topic.
    :param environment: container environment variables for the job. Default: none.
    :param job_name_prefix: first part of each job name (at most 26 characters: with the
        36-character run UUID, 63). Default: ``<stack name>-<construct id>``, cut and hashed to
        at most 18 characters so generated names keep 8 characters of margin.
    :param notify_success: also notify the topic when a run succeeds. Default: True.
    :param log_retention: state machine log retention. Default: one year.
    :param removal_policy: for the key and log group this creates. Default: RETAIN.
    :param role: the SageMaker execution role the job runs with (SageMaker must be able to
        assume it); it receives exactly the grants a created role would, in a customer-managed
        policy this construct attaches to it. Default: a new least-privilege role.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ContainerImage | None = None,
        model_data: ModelData | None = None,
        model_package: ModelPackage | None = None,
        input: TransformInput,
        output: TransformOutput,
        instance_type: str = DEFAULT_INSTANCE_TYPE,
        instance_count: int = 1,
        max_concurrent_transforms: int | None = None,
        max_payload_mb: int = 6,
        batch_strategy: BatchStrategy = "MultiRecord",
        join_source: JoinSource | None = None,
        input_filter: str | None = None,
        output_filter: str | None = None,
        schedule: str | None = None,
        schedule_time_zone: str | None = None,
        run_on_new_data: bool = False,
        new_data_batch_window: Duration | None = None,
        new_data_batch_size: int = 100,
        manual: bool = False,
        invocation_timeout: Duration = Duration.minutes(10),  # noqa: B008 - immutable
        invocation_max_retries: int = 3,
        max_runtime: Duration = Duration.hours(24),  # noqa: B008 - immutable
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        network_isolation: bool = True,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        environment: Mapping[str, str] | None = None,
        job_name_prefix: str | None = None,
        notify_success: bool = True,
        log_retention: logs.RetentionDays = defaults.DEFAULT_LOG_RETENTION,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("vpc", vpc, VPC),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
                ("invocation_timeout", invocation_timeout, DURATION),
                ("max_runtime", max_runtime, DURATION),
                ("new_data_batch_window", new_data_batch_window, DURATION),
            )
        )
        job = JobSettings(
            input=input,
            output=output,
            instance_type=instance_type,
            instance_count=instance_count,
            max_concurrent_transforms=max_concurrent_transforms,
            max_payload_mb=max_payload_mb,
            batch_strategy=batch_strategy,
            join_source=join_source,
            input_filter=input_filter,
            output_filter=output_filter,
            invocation_timeout=invocation_timeout,
            invocation_max_retries=invocation_max_retries,
            max_runtime=max_runtime,
            environment=environment,
            name_prefix=job_name_prefix,
        )
        triggers = Triggers(
            schedule=schedule,
            time_zone=schedule_time_zone,
            run_on_new_data=run_on_new_data,
            batch_window=new_data_batch_window,
            batch_size=new_data_batch_size,
            manual=manual,
        )
        source = ModelSource(image, model_data, model_package)
        check(Checker.of(self), self, source=source, job=job, triggers=triggers)
        self.input, self.output, self.instance_type = input, output, instance_type
        self.batch_window, self.batch_size = new_data_batch_window, new_data_batch_size
        self.job_name_prefix = job_name_prefix or _default_job_name_prefix(self)
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key,
            topic=alarm_topic,
            key_purpose="batch transform output, volumes, logs and triggers",
            topic_name="Batch transform alarms",
            removal_policy=removal_policy,
        )

        # The model and the role SageMaker runs the job with.
        self.role = execution_role(
            self,
            "ExecutionRole",
            description=f"SageMaker execution role of {self.node.path}",
            encryption_key=self.encryption_key,
            role=role,
        )
        self._grant_data_access()
        self._add_model(
            source.with_default_image(ContainerImage.model_server()),
            vpc,
            subnets,
            network_isolation,
        )
        self._add_runner(job, notify_success, log_retention, removal_policy)
        self._add_triggers(triggers)
        self.alarms: list[cloudwatch.Alarm] = []
        self._add_alarms()

    # --- the model --------------------------------------------------------------------

    def _add_model(
        self,
        source: ModelSource,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
        network_isolation: bool,
    ) -> None:
        self.security_group: ec2.SecurityGroup | None = None
        if vpc is not None:
            self.security_group = defaults.https_egress_security_group(
                self,
                "SecurityGroup",
                vpc=vpc,
                description=f"{self.node.path} transform containers",
            )
        self.model = SageMakerModel(
            self,
            "Model",
            source=source,
            role=self.role,
            network_isolation=network_isolation,
            vpc=vpc,
            subnets=subnets,
            security_groups=[self.security_group] if self.security_group else [],
        )
        self.model_name = self.model.model_name

    # --- the runner -------------------------------------------------------------------

    def _add_runner(
        self,
        job: JobSettings,
        notify_success: bool,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        self.state_machine_role = ManagedPolicyRole(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Step Functions role of {self.node.path}: runs transform jobs",
        )
        request = transform_task(
            self,
            role=self.role,
            model_name=self.model_name,
            job=job,
            encryption_key=self.encryption_key,
        )
        self.state_machine, self.log_group = logged_state_machine(
            self,
            "StateMachine",
            log_group_id="Logs",
            definition=self._definition(request, notify_success=notify_success),
            role=self.state_machine_role,
            timeout=job.max_runtime.plus(EXECUTION_OVERHEAD),
            comment=f"Batch transform of {self.node.path}: input {{}} runs over the whole input "
            'prefix, {"key": "<key>"} over one object',
            encryption_key=self.encryption_key,
            removal_policy=removal_policy,
            retention=log_retention,
        )
        self._grant_notifications()
        self._acknowledge_state_machine_role()

    # --- model access -----------------------------------------------------------------

    def _grant_data_access(self) -> None:
        bucket = self.input.bucket
        grant_read_location(
            self.role,
            bucket_arn=bucket.bucket_arn,
            key=self.input.prefix,
            encryption_key=bucket.encryption_key,
        )
        nag.acknowledge_wildcard_resource(
            self.role,
            bucket.arn_for_objects(f"{self.input.prefix}*"),
            f"The job reads every object under the input prefix {self.input.prefix} (scheduled "
            "runs) or a new one there (new-data runs) and nothing else in the bucket.",
        )
        grant_write_prefix(
            self.role, self.output.bucket, self.output.prefix, writer="Batch transform"
        )
        if self.batch_window is not None:
            # Batched runs read a manifest the state machine writes next to the results.
            manifests = f"{self.output.prefix}{MANIFESTS}"
            grant_read_location(
                self.role,
                bucket_arn=self.output.bucket.bucket_arn,
                key=manifests,
                encryption_key=self.output.bucket.encryption_key,
            )
            nag.acknowledge_wildcard_resource(
                self.role,
                self.output.bucket.arn_for_objects(f"{manifests}*"),
                "Batched runs read the manifest of their own run, named after the job.",
            )

    # --- the state machine ------------------------------------------------------------

    def _definition(
        self, task: tasks.SageMakerCreateTransformJob, *, notify_success: bool
    ) -> sfn.IChainable:
        bucket = self.input.bucket.bucket_name
        prefix = self.input.prefix
        name = sfn.Pass(
            self,
            "NameJob",
            comment="A unique, valid job name per run: <prefix>-<UUID>",
            parameters={
                "name": sfn.JsonPath.format(f"{self.job_name_prefix}-{{}}", sfn.JsonPath.uuid())
            },
            result_path="$.job",
        )
        one_object = sfn.Pass(
            self,
            "OneObject",
            comment="Transform the object named by the input key",
            parameters={
                "uri": sfn.JsonPath.format(f"s3://{bucket}/{{}}", sfn.JsonPath.string_at("$.key")),
                "type": "S3Prefix",
            },
            result_path="$.input",
        )
        whole_prefix = sfn.Pass(
            self,
            "WholePrefix",
            comment="Transform every object under the input prefix",
            parameters={"uri": f"s3://{bucket}/{prefix}", "type": "S3Prefix"},
            result_path="$.input",
        )
        outside = sfn.Fail(
            self,
            "KeyOutsideInputPrefix",
            error="InvalidInput",
            cause=f"key must be an object key under the input prefix {prefix}",
        )
        check_key = (
            sfn.Choice(self, "KeyUnderInputPrefix?")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_string("$.key"),
                    sfn.Condition.string_matches("$.key", f"{prefix}*"),
                    sfn.Condition.not_(sfn.Condition.string_equals("$.key", prefix)),
                ),
                one_object,
            )
            .otherwise(outside)
        )
        what = sfn.Choice(self, "OneObjectOrWholePrefix?")
        start: sfn.IChainable = name
        if self.batch_window is not None:
            manifest = self._write_manifest()
            manifest.next(task)
            what.when(sfn.Condition.is_present("$.keys"), manifest)
            start = (
                sfn.Choice(self, "Batch?")
                .when(
                    sfn.Condition.is_present("$[0]"),
                    sfn.Pass(
                        self,
                        "CollectKeys",
                        comment="A batch from the new-data pipe: [{key}, ...] -> {keys: [...]}",
                        parameters={"keys.$": "$[*].key"},
                    ).next(name),
                )
                .otherwise(name)
            )
        what.when(sfn.Condition.is_present("$.key"), check_key).otherwise(whole_prefix)
        failed = self._notify("NotifyFailure", "failed", error=True).next(
            sfn.Fail(
                self,
                "TransformFailed",
                error_path="$.error.Error",
                cause_path="$.error.Cause",
            )
        )
        # A timed-out task leaves the job running unless someone stops it; CreateTransformJob
        # has no stopping condition of its own, so stop it explicitly (best effort).
        stop = tasks.CallAwsService(
            self,
            "StopJob",
            comment="Stop the job after max_runtime; CreateTransformJob has no time limit",
            service="sagemaker",
            action="stopTransformJob",
            iam_action="sagemaker:StopTransformJob",
            iam_resources=[self._transform_jobs_arn()],
            parameters={"TransformJobName": sfn.JsonPath.string_at("$.job.name")},
            result_path=sfn.JsonPath.DISCARD,
        )
        stop.add_catch(failed, errors=[sfn.Errors.ALL], result_path=sfn.JsonPath.DISCARD)
        stop.next(failed)
        task.add_catch(stop, errors=[sfn.Errors.TIMEOUT], result_path="$.error")
        task.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.error")
        done: sfn.IChainable = sfn.Succeed(self, "Done")
        if notify_success:
            done = self._notify("NotifySuccess", "succeeded", error=False).next(done)
        task.next(done)
        one_object.next(task)
        whole_prefix.next(task)
        name.next(what)
        return start

    def _write_manifest(self) -> tasks.CallAwsService:
        """A JSONata state (JSONPath has no array concatenation) that writes the run's manifest:
        ``[{"prefix": "s3://<input bucket>/"}, "<key>", ...]``."""
        output = self.output
        bucket = output.bucket.bucket_name
        manifests = f"{output.prefix}{MANIFESTS}"
        key = f"'{manifests}' & $states.input.job.name & '.manifest'"
        state = tasks.CallAwsService.jsonata(
            self,
            "WriteManifest",
            comment="One manifest per batched run, listing the new objects",
            service="s3",
            action="putObject",
            iam_action="s3:PutObject",
            iam_resources=[output.bucket.arn_for_objects(f"{manifests}*")],
            parameters={
                "Bucket": bucket,
                "Key": f"{{% {key} %}}",
                "Body": "{% $string($append([{'prefix': 's3://"
                + self.input.bucket.bucket_name
                + "/'}], $states.input.keys)) %}",
                "ContentType": "application/json",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": self.encryption_key.key_arn,
            },
            outputs="{% $merge([$states.input, {'input': {'uri': 's3://"
            + bucket
            + f"/' & {key}, 'type': 'ManifestFile'}}}}]) %}}",
        )
        if output.bucket.encryption_key is not None:
            grant_key_use(self.state_machine_role, output.bucket.encryption_key)
        grant_key_use(self.state_machine_role, self.encryption_key)
        nag.acknowledge_wildcard_resource(
            self.state_machine_role,
            output.bucket.arn_for_objects(f"{manifests}*"),
            "Each batched run writes one manifest named after its job under this prefix.",
        )
        return state

    def _notify(self, construct_id: str, outcome: str, *, error: bool) -> tasks.SnsPublish:
        message: dict[str, Any] = {
            "outcome": outcome,
            "construct": self.node.path,
            "execution": sfn.JsonPath.execution_id,
            "job": sfn.JsonPath.string_at("$.job.name"),
        }
        if error:
            message["error"] = sfn.JsonPath.string_at("$.error.Error")
            message["cause"] = sfn.JsonPath.string_at("$.error.Cause")
        else:
            message["input"] = sfn.JsonPath.string_at("$.input.uri")
            message["output"] = sfn.JsonPath.string_at("$.result.output")
        subject = f"Batch transform {outcome}: {self.node.path}"
        publish = tasks.SnsPublish(
            self,
            construct_id,
            topic=self.alarm_topic,
            subject=_ascii(subject)[:MAX_SNS_SUBJECT],
            message=sfn.TaskInput.from_object(message),
            result_path=sfn.JsonPath.DISCARD,
        )
        publish.add_retry(errors=[sfn.Errors.ALL], max_attempts=3, backoff_rate=2)
        return publish

    def _grant_notifications(self) -> None:
        # SnsPublish grants sns:Publish; an encrypted topic also needs its key.
        topic = self.alarm_topic
        if isinstance(topic, sns.Topic) and topic.master_key is not None:
            grant_key_use(self.state_machine_role, topic.master_key)

    def _transform_jobs_arn(self) -> str:
        return Stack.of(self).format_arn(
            service="sagemaker", resource="transform-job", resource_name="*"
        )

    def _acknowledge_state_machine_role(self) -> None:
        nag.acknowledge_wildcard_resource(
            self.state_machine_role,
            self._transform_jobs_arn(),
            "Job names are generated per run (<prefix>-<UUID>) at run time; the run-job "
            "integration creates, describes, tags and stops those jobs.",
        )
        nag.acknowledge(
            self.state_machine_role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups and resource "
            "policies), X-Ray trace writes and sagemaker:ListTags support no resource-level "
            "permissions.",
        )

    # --- triggers ---------------------------------------------------------------------

    def _add_triggers(self, triggers: Triggers) -> None:
        self.dead_letter_queue: sqs.Queue | None = None
        self.schedule: scheduler.Schedule | None = None
        self.rule: events.Rule | None = None
        self.new_data_queue: sqs.Queue | None = None
        self.pipe: pipes.CfnPipe | None = None
        if not triggers.any:
            return
        self.dead_letter_queue = dead_letters = defaults.dead_letter_queue(
            self,
            "TriggerDeadLetterQueue",
            encryption_key=self.encryption_key,
            used_by="the schedule and the new-data rule",
        )
        if triggers.schedule is not None:
            self.schedule = schedule(
                self,
                expression=triggers.schedule,
                time_zone=triggers.time_zone,
                target=lambda **delivery: scheduler_targets.StepFunctionsStartExecution(
                    self.state_machine,
                    input=scheduler.ScheduleTargetInput.from_object({}),
                    **delivery,
                ),
                encryption_key=self.encryption_key,
                dead_letter_queue=dead_letters,
                purpose="starts runs",
                description=f"Runs the batch transform of {self.node.path}",
            )
        if triggers.run_on_new_data:
            self.rule = self._new_data_rule(dead_letters)

    def _new_data_rule(self, dead_letters: sqs.IQueue) -> events.Rule:
        rule = new_objects_rule(
            self,
            "NewDataRule",
            bucket=self.input.bucket,
            prefix=self.input.prefix,
            description=f"New objects under {self.input.prefix} start {self.node.path}",
            trigger="run_on_new_data",
        )
        message = events.RuleTargetInput.from_object(
            {"key": events.EventField.from_path("$.detail.object.key")}
        )
        delivery: dict[str, Any] = {
            "dead_letter_queue": dead_letters,
            "retry_attempts": RETRY_ATTEMPTS,
            "max_event_age": MAX_EVENT_AGE,
        }
        window = self.batch_window
        if window is None:
            role = events_role(
                self, purpose="starts runs on new data", topic=None, construct_id="RuleRole"
            )
            rule.add_target(
                events_targets.SfnStateMachine(
                    self.state_machine, input=message, role=role, **delivery
                )
            )
        else:
            self.new_data_queue = self._new_data_queue(dead_letters, window)
            rule.add_target(
                events_targets.SqsQueue(self.new_data_queue, message=message, **delivery)
            )
            self.pipe = self._batching_pipe(self.new_data_queue, window)
        return rule

    def _new_data_queue(self, dead_letters: sqs.IQueue, window: Duration) -> sqs.Queue:
        return sqs.Queue(
            self,
            "NewDataQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            # The pipe holds messages for the batch window, then while it starts the run.
            visibility_timeout=window.plus(Duration.minutes(2)),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=3, queue=dead_letters),
        )

    def _batching_pipe(self, queue: sqs.Queue, window: Duration) -> pipes.CfnPipe:
        """An EventBridge Pipe that starts one run per batch of new objects.

        The state machine receives ``[{"key": ...}, ...]`` (a Standard workflow is started
        asynchronously, and Pipes pass a batch to Step Functions as one JSON array).
        """
        stack = Stack.of(self)
        role = ManagedPolicyRole(
            self,
            "PipeRole",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"EventBridge Pipes role of {self.node.path}: batches new objects",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                resources=[queue.queue_arn],
            )
        )
        grant_key_use(role, self.encryption_key)
        self.state_machine.grant_start_execution(role)
        pipe = pipes.CfnPipe(
            self,
            "NewDataPipe",
            description=f"Batches new objects for {self.node.path}",
            role_arn=role.role_arn,
            source=queue.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(
                    batch_size=self.batch_size,
                    maximum_batching_window_in_seconds=int(window.to_seconds()),
                )
            ),
            target=self.state_machine.state_machine_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                # Each SQS body is {"key": ...} (the rule's message); keep only the key.
                input_template='{"key": "<$.body.key>"}',
                step_function_state_machine_parameters=(
                    pipes.CfnPipe.PipeTargetStateMachineParametersProperty(
                        invocation_type="FIRE_AND_FORGET"
                    )
                ),
            ),
            kms_key_identifier=self.encryption_key.key_arn,
        )
        pipe.node.add_dependency(role)
        return pipe

    # --- alarms -----------------------------------------------------------------------

    def _add_alarms(self) -> None:
        machine = self.state_machine
        alarms = AlarmSet(
            self, self.alarm_topic, into=self.alarms, evaluation_periods=1, datapoints_to_alarm=1
        )
        alarms.add("ExecutionsFailed", machine.metric_failed(), 1, "a run failed")
        alarms.add("ExecutionsTimedOut", machine.metric_timed_out(), 1, "a run timed out")
        alarms.add(
            "ExecutionsThrottled",
            machine.metric_throttled(),
            1,
            "Step Functions throttled the state machine",
        )
        if self.dead_letter_queue is not None:
            alarms.add(
                "TriggerDeadLetters",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    statistic="Maximum"
                ),
                1,
                "a schedule or new-data trigger could not start a run (see the dead-letter queue)",
            )
        if self.new_data_queue is not None and self.batch_window is not None:
            waited = self.batch_window.plus(Duration.minutes(15)).to_seconds()
            alarms.add(
                "NewDataWaiting",
                self.new_data_queue.metric_approximate_age_of_oldest_message(statistic="Maximum"),
                waited,
                f"new objects waited more than {waited:g} s for a run (the pipe is not "
                "starting runs)",
            )

    # --- public API -------------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        """The ARN to start runs with (``aws stepfunctions start-execution``)."""
        return self.state_machine.state_machine_arn

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start runs of this job (and nothing else)."""
        return self.state_machine.grant_start_execution(grantee)

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A Step Functions metric of the runner (``AWS/States``, ``StateMachineArn``), such as
        ``ExecutionsSucceeded``; Sum over 5 minutes unless ``options`` say otherwise."""
        check_options(options)
        return self.state_machine.metric(metric_name, **options)


# --- naming ---------------------------------------------------------------------------


def _default_job_name_prefix(scope: Construct) -> str:
    """``<stack name>-<construct id>`` in job-name characters, so jobs are recognisable in the
    SageMaker console; cut and hashed when long, so that with the UUID each run appends the name
    stays NAME_MARGIN characters under the limit for any stack or construct name."""
    stack_name = Stack.of(scope).stack_name
    return generated_prefix(
        f"{stack_name}-{scope.node.id}", UUID_LENGTH, fallback="batch-transform"
    )


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("?", "-")
