"""ModelMonitorSchedule: drift detection with SageMaker Model Monitor or with our own drift job,
behind one contract (same inputs, same CloudWatch metrics, same alarms)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

from aws_cdk import Annotations, Duration, Fn, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from mlops_cdk._internal import alarms as alarm_helpers
from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.alarms import AlarmSet
from mlops_cdk._internal.iam import (
    ManagedPolicyRole,
    grant_key_use,
    grant_read_location,
    grant_write_prefix,
)
from mlops_cdk._internal.names import UUID_LENGTH, job_name_budget
from mlops_cdk._internal.network import select_subnets
from mlops_cdk._internal.notifications import topic_target
from mlops_cdk._internal.patterns import DEFAULT_INSTANCE_TYPE
from mlops_cdk._internal.sagemaker import (
    execution_role,
    grant_vpc_access,
    has_local_storage,
)
from mlops_cdk._internal.state_machines import logged_state_machine, retry_sagemaker_calls
from mlops_cdk._internal.triggers import (
    MAX_EVENT_AGE,
    RETRY_ATTEMPTS,
    alarm_rule,
    events_role,
    schedule,
)
from mlops_cdk._internal.validation import DURATION, KEY, ROLE, TOPIC, VPC, Checker, Said
from mlops_cdk.constructs.container_image import ContainerImage, check_image_region
from mlops_cdk.constructs.metric_options import MetricOptions, build_metric
from mlops_cdk.constructs.model_data import ModelData
from mlops_cdk.constructs.model_monitor._checks import REDUCE_MAX_RUNTIME, check
from mlops_cdk.constructs.model_monitor._images import CLARIFY_TYPES, native_image
from mlops_cdk.constructs.model_monitor._settings import Capture, MonitorSettings
from mlops_cdk.constructs.model_monitor.options import (
    Baseline,
    GroundTruth,
    MonitorBackend,
    MonitoredEndpoint,
    MonitoringType,
    QualityAlarm,
    ReportLocation,
)
from mlops_cdk.constructs.realtime_endpoint.construct import RealtimeEndpoint
from mlops_cdk.constructs.realtime_endpoint.existing import ExistingEndpoint

# The namespace both backends publish per-feature metrics to (dimensions Endpoint and
# MonitoringSchedule); the drift job's metrics.DATA_METRICS_NAMESPACE is the same string.
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
# Model Monitor's model-quality namespace (the drift job's quality.MODEL_METRICS_NAMESPACE).
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
RECORDS_METRIC = "drift_job_records_analyzed"
VIOLATIONS_METRIC = "drift_job_violations"
# Job names "<prefix>-<UUID>", made by the drift state machine with States.UUID() (36
# characters): the prefix leaves names NAME_MARGIN characters under the limit.
MAX_JOB_NAME_PREFIX = job_name_budget(UUID_LENGTH)
# The drift state machine only creates the job (request-response), so runs are short.
DRIFT_START_TIMEOUT = Duration.minutes(5)
# CloudWatch alarms on metric math take at most 10 metrics.
MAX_METRICS_PER_ALARM = 10
# The constraints' default comparison_threshold: the per-feature drift alarm's default.
DEFAULT_DRIFT_THRESHOLD = 0.1
# Processing-job paths of the drift job (the same defaults as its CLI, baseline as folders).
PROCESSING_BASELINE = "/opt/ml/processing/baseline"
PROCESSING_OUTPUT = "/opt/ml/processing/output"
ENDPOINT_INPUT = "/opt/ml/processing/input/endpoint"
GROUND_TRUTH_INPUT = "/opt/ml/processing/input/ground_truth"
# Multi-instance drift job: where each map host writes its partial, where the reduce job
# receives them all.
PARTIALS_OUTPUT = "/opt/ml/processing/partials"
PARTIALS_INPUT = "/opt/ml/processing/input/partials"
# The state machine of a multi-instance run waits for the map job: its runtime plus this for
# capacity and start-up.
MAP_JOB_START_MARGIN = Duration.minutes(30)
DRIFT_JOB_ENTRYPOINT = ("python", "-m", "mlops_runtime.drift", "analyze")
# CloudFormation resource class and property prefix per monitoring type.
_JOB_DEFINITIONS: dict[MonitoringType, tuple[Any, str]] = {
    MonitoringType.DATA_QUALITY: (
        sagemaker.CfnDataQualityJobDefinition,
        "data_quality",
    ),
    MonitoringType.MODEL_QUALITY: (
        sagemaker.CfnModelQualityJobDefinition,
        "model_quality",
    ),
    MonitoringType.MODEL_BIAS: (
        sagemaker.CfnModelBiasJobDefinition,
        "model_bias",
    ),
    MonitoringType.MODEL_EXPLAINABILITY: (
        sagemaker.CfnModelExplainabilityJobDefinition,
        "model_explainability",
    ),
}

Startable = sfn.IStateMachine | lambda_.IFunction | events.IRuleTarget


class ModelMonitorSchedule(Construct):
    """Scheduled drift detection for a SageMaker endpoint's captured traffic, with alarms.

    Two backends behind one contract. ``MonitorBackend.DRIFT_JOB`` (the default) runs the
    mlops-cdk drift job (``python -m mlops_runtime.drift analyze``) as a SageMaker Processing
    job started by EventBridge Scheduler; it reads only the window's hour folders of the
    capture straight from S3, compares every feature with the baseline and publishes
    ``feature_baseline_drift_<feature>`` / ``feature_non_null_<feature>`` in
    ``aws/sagemaker/Endpoints/data-metrics`` (dimensions ``Endpoint`` and
    ``MonitoringSchedule``), as Model Monitor does. ``MonitorBackend.MODEL_MONITOR`` creates an
    ``AWS::SageMaker::MonitoringSchedule`` with the job definition of the monitoring type
    (data quality, model quality, bias, explainability), for accounts that have Model Monitor.

    Example::

        ModelMonitorSchedule(self, "Drift",
            endpoint=endpoint,                      # a RealtimeEndpoint with data capture
            baseline=Baseline.from_bucket(artifacts, "churn/baseline/"),
            on_drift=retraining_state_machine)

    :param endpoint: a :class:`RealtimeEndpoint` with data capture, an
        :class:`ExistingEndpoint` (``RealtimeEndpoint.from_endpoint_name(...,
        data_capture=...)``: an endpoint deployed elsewhere whose capture is on), or a
        :class:`MonitoredEndpoint` (name and capture location only).
    :param baseline: constraints (and statistics) to compare with.
    :param monitoring_type: Default: ``DATA_QUALITY``. The drift job runs data and model
        quality; bias and explainability need ``MODEL_MONITOR``.
    :param backend: Default: ``DRIFT_JOB``.
    :param schedule: ``hourly``, ``daily`` or a Model Monitor cron form. Default: ``hourly``.
    :param instance_type: Default: ``ml.m5.large``.
    :param instance_count: 1-100. The drift job on N > 1 instances runs a map job (each host
        reads its share of the window's capture objects into a partial) and then a one-instance
        reduce job that merges the partials, checks and publishes. Default: 1.
    :param volume_size_gb: 1-16384. Default: 20.
    :param max_runtime: shorter than the schedule interval. Default: 50 minutes.
    :param problem_type: model quality: ``BinaryClassification``, ``MulticlassClassification``
        or ``Regression``. Default: none.
    :param ground_truth: model quality and bias: where labels are uploaded. Default: none.
    :param analysis_config: bias and explainability: Clarify ``analysis_config.json``.
    :param inference_attribute: model quality/bias/explainability: the prediction field.
    :param probability_attribute: the probability field. Default: none.
    :param probability_threshold: classification threshold on the probability. Default: none.
    :param features_attribute: bias/explainability: the features field. Default: none.
    :param drift_threshold: the drift alarm fires when any monitored feature's
        ``feature_baseline_drift_<feature>`` exceeds it. Only data-quality monitors with
        feature names (``features`` or ``baseline.features``) have such an alarm; elsewhere a
        given threshold has no effect and synth warns. Default: 0.1 (the constraints'
        default ``comparison_threshold``).
    :param features: features the drift alarm watches. Default: ``baseline.features``.
    :param reports: where each run writes its reports. Default: the capture bucket under
        ``monitoring/``.
    :param vpc: run the jobs in this VPC's private subnets. Default: no VPC.
    :param subnets: subnets of ``vpc``. Default: CDK's choice of private subnets.
    :param encryption_key: KMS key for reports, volumes, schedule and queue. Default: the
        endpoint's key (a new key with rotation for a :class:`MonitoredEndpoint`).
    :param alarm_topic: where alarms and failed-run notices go. Default: the endpoint's topic
        (a new encrypted topic for a :class:`MonitoredEndpoint`).
    :param on_drift: started when the drift alarm fires: a Step Functions state machine, a
        Lambda function or any EventBridge rule target. Default: nothing.
    :param min_records_per_run: drift job: alarm when two runs in a row analyze fewer records
        (capture stopped, sampling changed, traffic gone). Default: no such alarm.
    :param label_delay: model quality with the drift job: labels for a window arrive this much
        later (whole hours), so the run at ``T`` evaluates the captures of
        ``[T - delay - window, T - delay)`` with the labels uploaded until ``T``. Default: 0.
    :param quality_alarm: model quality: the drift alarm watches this metric against this
        threshold (one alarm). Default: the alarm fires on any constraint violation.
    :param schedule_name: the ``MonitoringSchedule`` dimension and Model Monitor schedule name.
        Default: generated from the construct path.
    :param image: drift job image. Default: the mlops-cdk runtime image.
    :param role: the role the monitoring jobs run with (SageMaker must be able to assume it); it
        receives exactly the grants a created role would, in a customer-managed policy this
        construct attaches to it. Default: a new least-privilege role.
    :param removal_policy: for the KMS key this creates (when neither ``encryption_key`` nor a
        :class:`RealtimeEndpoint`'s key is there to use) and the drift job's state machine log
        group. Default: RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: RealtimeEndpoint | ExistingEndpoint | MonitoredEndpoint,
        baseline: Baseline,
        monitoring_type: MonitoringType = MonitoringType.DATA_QUALITY,
        backend: MonitorBackend = MonitorBackend.DRIFT_JOB,
        schedule: str = "hourly",
        instance_type: str = DEFAULT_INSTANCE_TYPE,
        instance_count: int = 1,
        volume_size_gb: int = 20,
        max_runtime: Duration = Duration.minutes(50),  # noqa: B008 - immutable
        problem_type: str | None = None,
        ground_truth: GroundTruth | None = None,
        analysis_config: ModelData | None = None,
        inference_attribute: str | None = None,
        probability_attribute: str | None = None,
        probability_threshold: float | None = None,
        features_attribute: str | None = None,
        drift_threshold: float | None = None,
        features: Sequence[str] | None = None,
        reports: ReportLocation | None = None,
        vpc: ec2.IVpc | None = None,
        subnets: ec2.SubnetSelection | None = None,
        encryption_key: kms.IKey | None = None,
        alarm_topic: sns.ITopic | None = None,
        on_drift: Startable | None = None,
        min_records_per_run: int | None = None,
        label_delay: Duration | None = None,
        quality_alarm: QualityAlarm | None = None,
        schedule_name: str | None = None,
        image: ContainerImage | None = None,
        role: iam.IRole | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        Checker.of(self).types(
            (
                ("label_delay", label_delay, DURATION),
                ("vpc", vpc, VPC),
                ("encryption_key", encryption_key, KEY),
                ("role", role, ROLE),
                ("alarm_topic", alarm_topic, TOPIC),
                ("max_runtime", max_runtime, DURATION),
            )
        )
        settings = MonitorSettings(
            backend=backend,
            monitoring_type=monitoring_type,
            baseline=baseline,
            schedule=schedule,
            instance_type=instance_type,
            instance_count=instance_count,
            volume_size_gb=volume_size_gb,
            max_runtime=max_runtime,
            problem_type=problem_type,
            ground_truth=ground_truth,
            analysis_config=analysis_config,
            inference_attribute=inference_attribute,
            probability_attribute=probability_attribute,
            probability_threshold=probability_threshold,
            features_attribute=features_attribute,
            drift_threshold=drift_threshold,
            features=features,
            reports=reports,
            schedule_name=schedule_name,
            image=image,
            min_records_per_run=min_records_per_run,
            label_delay=label_delay,
            quality_alarm=quality_alarm,
        )
        self._cadence = check(Checker.of(self), endpoint, settings)
        if image is not None:  # the drift job's processing job pulls it in the stack's region
            check_image_region(self, image, "image")
        capture = Capture.of(endpoint)
        self.endpoint_name, self.monitoring_type, self.backend = (
            capture.endpoint_name,
            monitoring_type,
            backend,
        )
        self.image_uri: str | None = None
        if backend is MonitorBackend.MODEL_MONITOR:
            self.image_uri = native_image(Checker.of(self), self, monitoring_type)
        self.schedule_name = schedule_name or Names.unique_resource_name(
            self, max_length=63, separator="-"
        )
        self.features = list(features or baseline.features or [])
        self.reports = settings.reports_in(capture)
        self.capture_uri = (
            f"s3://{capture.bucket.bucket_name}/{capture.prefix}{self.endpoint_name}/"
        )
        self.report_uri = (
            f"s3://{self.reports.bucket.bucket_name}/{self.reports.prefix}{self.schedule_name}/"
        )
        # By default the endpoint's key and topic, when it is ours.
        # An ExistingEndpoint lends its topic; its capture key may be another team's.
        own = endpoint if isinstance(endpoint, RealtimeEndpoint) else None
        watched = endpoint if isinstance(endpoint, RealtimeEndpoint | ExistingEndpoint) else None
        self.encryption_key, self.alarm_topic = defaults.key_and_topic(
            self,
            key=encryption_key or (own.encryption_key if own else None),
            topic=alarm_topic or (watched.alarm_topic if watched else None),
            key_purpose="monitoring reports, volumes, schedule",
            topic_name="Monitor alarms",
            removal_policy=removal_policy,
        )
        self._removal_policy = removal_policy
        self._quality_alarm = quality_alarm
        self._add_role(capture, vpc, subnets, role)
        self.alarms: list[cloudwatch.IAlarm] = []
        self._alarm_set = AlarmSet(self, self.alarm_topic, into=self.alarms)
        self._add_backend(settings)
        self._add_alarms(settings)
        self.on_drift_rule = self._wire_on_drift(on_drift) if on_drift is not None else None

    def _add_alarms(self, settings: MonitorSettings) -> None:
        per_feature = self.monitoring_type is MonitoringType.DATA_QUALITY and bool(self.features)
        if settings.drift_threshold is not None and not per_feature:
            Annotations.of(self).add_warning_v2(
                "mlops-cdk:drift-threshold-ignored",
                f"drift_threshold={settings.drift_threshold:g} has no effect: the drift alarm "
                "compares per-feature drift only for data-quality monitors that know the "
                "feature names, and this one "
                + (
                    "has none (give features=[...] or a Baseline with features, e.g. "
                    "Baseline.from_directory)"
                    if self.monitoring_type is MonitoringType.DATA_QUALITY
                    else f"is a {self.monitoring_type.value} monitor"
                )
                + "; it alarms on constraint violations instead.",
            )
        threshold = settings.drift_threshold
        self.drift_alarm = self._drift_alarm(
            DEFAULT_DRIFT_THRESHOLD if threshold is None else threshold
        )
        self.job_failed_alarm = self._job_failed_alarm()
        least = settings.min_records_per_run
        if least is not None:
            self._alarm_set.add(
                "FewRecordsAlarm",
                self.metric(RECORDS_METRIC, statistic="Minimum"),
                least,
                f"fewer than {least} captured records per run (capture stopped, "
                "sampling changed or traffic gone)",
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                datapoints_to_alarm=2,
            )

    def _add_role(
        self,
        capture: Capture,
        vpc: ec2.IVpc | None,
        subnets: ec2.SubnetSelection | None,
        role: iam.IRole | None,
    ) -> None:
        """The role the monitoring jobs run with (``role`` when given), and where they run."""
        self.role = execution_role(
            self,
            "ExecutionRole",
            description=f"SageMaker monitoring job role of {self.node.path}",
            encryption_key=self.encryption_key,
            role=role,
        )
        self._grant_capture_read(capture.bucket, capture.prefix, capture.key)
        grant_write_prefix(
            self.role,
            self.reports.bucket,
            f"{self.reports.prefix}{self.schedule_name}/",
            writer="The monitoring job",
        )
        self.security_group: ec2.SecurityGroup | None = None
        self.subnet_ids: list[str] | None = None
        if vpc is not None:
            self._vpc(vpc, subnets)

    def _add_backend(self, settings: MonitorSettings) -> None:
        self.job_definition: Any = None
        self.job_definition_name: str | None = None
        self.monitoring_schedule: Any = None
        self.schedule: scheduler.Schedule | None = None
        self.dead_letter_queue: sqs.Queue | None = None
        self.job_name_prefix: str | None = None
        if settings.backend is MonitorBackend.DRIFT_JOB:
            self._drift_job(settings, settings.image or ContainerImage.model_server())
        else:
            self._model_monitor(settings)

    # --- access ---------------------------------------------------------------------------

    def _grant_capture_read(self, bucket: s3.IBucket, prefix: str, key: kms.IKey | None) -> None:
        folder = f"{prefix}{self.endpoint_name}/"
        grant_read_location(self.role, bucket_arn=bucket.bucket_arn, key=folder)
        if key is not None:
            grant_key_use(self.role, key)
        nag.acknowledge_wildcard_resource(
            self.role,
            bucket.arn_for_objects(f"{folder}*"),
            f"The monitoring job reads the captured requests of endpoint {self.endpoint_name} "
            f"({folder}<variant>/yyyy/mm/dd/hh/) and nothing else in the bucket.",
        )

    def _vpc(self, vpc: ec2.IVpc, subnets: ec2.SubnetSelection | None) -> None:
        self.security_group = defaults.https_egress_security_group(
            self, "SecurityGroup", vpc=vpc, description=f"{self.node.path} monitoring jobs"
        )
        selected = select_subnets(vpc, subnets)
        self.subnet_ids = list(selected.subnet_ids)
        grant_vpc_access(self.role, vpc)

    def _volume_key(self, instance_type: str) -> str | None:
        # NVMe instance storage is encrypted in hardware; SageMaker rejects a volume key there.
        return None if has_local_storage(instance_type) else self.encryption_key.key_arn

    def _grant_list_key(self, uri: str) -> None:
        if Token.is_unresolved(uri):
            return  # a deploy-time location: its bind granted listing its whole prefix
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[f"arn:{Stack.of(self).partition}:s3:::{bucket}"],
                conditions={"StringEquals": {"s3:prefix": [key]}},
            )
        )

    def _bind(self, child_id: str, location: ModelData) -> str:
        # Each location binds in its own scope: asset-backed ones create a fixed child ID.
        uri = location.bind(Construct(self, child_id), self.role).s3_uri
        # Monitoring jobs receive these files as S3-prefix Processing inputs, which SageMaker
        # lists before downloading: allow listing exactly that key.
        self._grant_list_key(uri)
        return uri

    # --- drift job backend ----------------------------------------------------------------

    def _drift_job(self, settings: MonitorSettings, image: ContainerImage) -> None:
        stack = Stack.of(self)
        baseline, instance_type = settings.baseline, settings.instance_type
        inputs = [
            _processing_input(
                "constraints", self._bind("BaselineConstraints", baseline.constraints)
            )
        ]
        if baseline.statistics is not None:  # required for data quality (checked)
            inputs.insert(
                0,
                _processing_input(
                    "statistics", self._bind("BaselineStatistics", baseline.statistics)
                ),
            )
        image_uri = image.bind(self, self.role).image_uri
        # Lower case: SageMaker ARNs carry job names in lower case, and the scheduler role's
        # CreateProcessingJob grant and the failure rule match this prefix exactly.
        prefix = Names.unique_resource_name(
            self, max_length=MAX_JOB_NAME_PREFIX, separator="-"
        ).lower()
        self.job_name_prefix = prefix
        window = self._cadence.window
        assert window is not None  # noqa: S101 - checked in _checks.check
        volume_key = self._volume_key(instance_type)

        def cluster(count: int) -> dict[str, Any]:
            config: dict[str, Any] = {
                "InstanceCount": count,
                "InstanceType": instance_type,
                "VolumeSizeInGB": settings.volume_size_gb,
            }
            if volume_key is not None:
                config["VolumeKmsKeyId"] = volume_key
            return config

        network: dict[str, Any] = {
            "EnableInterContainerTrafficEncryption": True,
            # The job lists capture in S3 and publishes metrics itself: it needs the network.
            "EnableNetworkIsolation": False,
        }
        if self.security_group is not None and self.subnet_ids is not None:
            network["VpcConfig"] = {
                "SecurityGroupIds": [self.security_group.security_group_id],
                "Subnets": self.subnet_ids,
            }
        # Each run's ID: States.UUID() in the state machine. EventBridge Scheduler documents its
        # context attributes as whole field values only (the scheduled time is passed so).
        run_id = sfn.JsonPath.string_at("$.run.id")
        environment: dict[str, Any] = {
            "dataset_source": self.capture_uri,
            "baseline_statistics": f"{PROCESSING_BASELINE}/statistics",
            "baseline_constraints": f"{PROCESSING_BASELINE}/constraints",
            "output_path": PROCESSING_OUTPUT,
            "sagemaker_endpoint_name": self.endpoint_name,
            "sagemaker_monitoring_schedule_name": self.schedule_name,
            "publish_cloudwatch_metrics": "Enabled",
            "DRIFT_WINDOW": window,
            # The window follows the scheduled time, not the time the job got capacity.
            "DRIFT_NOW": sfn.JsonPath.string_at("$.scheduledTime"),
        }
        if self.monitoring_type is MonitoringType.MODEL_QUALITY:
            environment.update(self._quality_environment(settings))
        report_output = {
            "OutputName": "report",
            "S3Output": {
                "S3Uri": sfn.JsonPath.format(f"{self.report_uri}{{}}/", run_id),
                "LocalPath": PROCESSING_OUTPUT,
                "S3UploadMode": "EndOfJob",
            },
        }
        request: dict[str, Any] = {
            "ProcessingJobName": sfn.JsonPath.format(f"{prefix}-{{}}", run_id),
            "RoleArn": self.role.role_arn,
            "AppSpecification": {
                "ImageUri": image_uri,
                "ContainerEntrypoint": list(DRIFT_JOB_ENTRYPOINT),
            },
            "Environment": environment,
            "ProcessingInputs": inputs,
            "ProcessingOutputConfig": {
                "Outputs": [report_output],
                "KmsKeyId": self.encryption_key.key_arn,
            },
            "ProcessingResources": {"ClusterConfig": cluster(1)},
            "StoppingCondition": {"MaxRuntimeInSeconds": int(settings.max_runtime.to_seconds())},
            "NetworkConfig": network,
        }
        jobs = stack.format_arn(
            service="sagemaker", resource="processing-job", resource_name=f"{prefix}-*"
        )
        reduce_request: dict[str, Any] | None = None
        if settings.instance_count > 1:
            request, reduce_request = self._map_reduce(request, settings.instance_count, cluster)
        self.drift_state_machine = self._drift_state_machine(
            request, jobs, reduce_request, settings.max_runtime
        )
        machine = self.drift_state_machine
        self.schedule = schedule(
            self,
            expression=self._cadence.expression,
            target=lambda **delivery: scheduler_targets.StepFunctionsStartExecution(
                machine,
                input=scheduler.ScheduleTargetInput.from_object(
                    {"scheduledTime": scheduler.ContextAttribute.scheduled_time}
                ),
                **delivery,
            ),
            encryption_key=self.encryption_key,
            dead_letter_queue=self._dead_letter_queue(),
            purpose="starts drift runs",
            description=f"Runs the drift job of {self.node.path} ({self.endpoint_name})",
            retry_attempts=3,
            max_event_age=Duration.minutes(15),
        )
        self._notify_on(
            "JobFailedRule",
            "A drift job failed or was stopped",
            {
                "ProcessingJobName": [{"prefix": f"{prefix}-"}],
                "ProcessingJobStatus": ["Failed", "Stopped"],
            },
        )

    def _quality_environment(self, settings: MonitorSettings) -> dict[str, str]:
        """The drift job's model-quality settings; grants reading the labels."""
        truth = settings.ground_truth
        assert truth is not None  # noqa: S101 - checked in _checks.check
        self._grant_ground_truth(truth)
        delay = settings.label_delay
        environment = {
            "DRIFT_MONITORING_TYPE": MonitoringType.MODEL_QUALITY.value,
            "problem_type": str(settings.problem_type),
            "ground_truth_source": f"s3://{truth.bucket.bucket_name}/{truth.prefix}",
            "DRIFT_LABEL_DELAY_HOURS": str(int(delay.to_hours()) if delay is not None else 0),
        }
        optional = {
            "inference_attribute": settings.inference_attribute,
            "probability_attribute": settings.probability_attribute,
            "probability_threshold_attribute": settings.probability_threshold,
        }
        environment.update({k: str(v) for k, v in optional.items() if v is not None})
        return environment

    def _grant_ground_truth(self, truth: GroundTruth) -> None:
        grant_read_location(
            self.role,
            bucket_arn=truth.bucket.bucket_arn,
            key=truth.prefix,
            encryption_key=truth.bucket.encryption_key,
        )
        nag.acknowledge_wildcard_resource(
            self.role,
            truth.bucket.arn_for_objects(f"{truth.prefix}*"),
            f"Ground-truth labels are uploaded under {truth.prefix} with names chosen by the "
            "labelling process.",
        )

    def _map_reduce(
        self, request: dict[str, Any], count: int, cluster: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The map job (``count`` hosts, each writing its partial under ``<run>/partials/``) and
        the one-host reduce job that merges them, writes the reports and publishes."""
        run_id = sfn.JsonPath.string_at("$.run.id")
        partials_uri = sfn.JsonPath.format(f"{self.report_uri}{{}}/partials/", run_id)
        environment = request["Environment"]
        map_request = {
            **request,
            "Environment": {**environment, "DRIFT_MODE": "map", "DRIFT_PARTIALS": PARTIALS_OUTPUT},
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "partials",
                        "S3Output": {
                            "S3Uri": partials_uri,
                            "LocalPath": PARTIALS_OUTPUT,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
                "KmsKeyId": self.encryption_key.key_arn,
            },
            "ProcessingResources": {"ClusterConfig": cluster(count)},
        }
        reduce_request = {
            **request,
            "ProcessingJobName": sfn.JsonPath.format(
                f"{self.job_name_prefix}-{{}}", sfn.JsonPath.string_at("$.run.reduceId")
            ),
            "Environment": {
                **environment,
                "DRIFT_MODE": "reduce",
                "DRIFT_PARTIALS": PARTIALS_INPUT,
            },
            "ProcessingInputs": [
                *request["ProcessingInputs"],
                {
                    "InputName": "partials",
                    "S3Input": {
                        "S3Uri": partials_uri,
                        "LocalPath": PARTIALS_INPUT,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                },
            ],
            "StoppingCondition": {"MaxRuntimeInSeconds": int(REDUCE_MAX_RUNTIME.to_seconds())},
        }
        # The reduce job reads the partials the map job wrote under this schedule's reports.
        grant_read_location(
            self.role,
            bucket_arn=self.reports.bucket.bucket_arn,
            key=f"{self.reports.prefix}{self.schedule_name}/",
        )
        return map_request, reduce_request

    def _drift_state_machine(
        self,
        request: dict[str, Any],
        jobs: str,
        reduce_request: dict[str, Any] | None = None,
        max_runtime: Duration | None = None,
    ) -> sfn.StateMachine:
        """Name the run (States.UUID()) and create its processing job; on several instances
        run the map job to completion (``.sync``), then create the reduce job."""
        role = ManagedPolicyRole(
            self,
            "DriftStateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Step Functions role of {self.node.path}: starts drift jobs",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        ids: dict[str, Any] = {"id": sfn.JsonPath.uuid()}
        if reduce_request is not None:
            ids["reduceId"] = sfn.JsonPath.uuid()
        name = sfn.Pass(
            self,
            "NameRun",
            comment="A unique ID per run: the job is <prefix>-<ID>, its reports under <ID>/",
            parameters=ids,
            result_path="$.run",
        )
        create = tasks.CallAwsService(
            self,
            "CreateProcessingJob" if reduce_request is None else "CreateReduceJob",
            service="sagemaker",
            action="createProcessingJob",
            parameters=request if reduce_request is None else reduce_request,
            iam_resources=[jobs],
            iam_action="sagemaker:CreateProcessingJob",
            result_path="$.job",
            comment="Start the drift job over the window before the scheduled time"
            if reduce_request is None
            else "Start the reduce job: merge the hosts' partials, check, report, publish",
        )
        retry_sagemaker_calls(create)
        timeout = DRIFT_START_TIMEOUT
        if reduce_request is None:
            definition: sfn.IChainable = name.next(create)
        else:
            assert max_runtime is not None  # noqa: S101 - given with reduce_request
            run_map = sfn.CustomState(
                self,
                "RunMapJob",
                state_json={
                    "Type": "Task",
                    "Comment": "Each host reads its share of the window into a partial; "
                    "waits for the job to end",
                    "Resource": f"arn:{Stack.of(self).partition}:states:::sagemaker:"
                    "createProcessingJob.sync",
                    "Parameters": sfn.FieldUtils.render_object(request),
                    "ResultPath": "$.map",
                    "ResultSelector": {"status.$": "$.ProcessingJobStatus"},
                },
            )
            run_map.add_retry(
                errors=["SageMaker.SageMakerException", "SageMaker.ThrottlingException"],
                interval=Duration.seconds(10),
                backoff_rate=2,
                max_attempts=4,
                jitter_strategy=sfn.JitterType.FULL,
            )
            self._grant_sync(role, jobs)
            definition = name.next(run_map).next(create)
            timeout = max_runtime.plus(MAP_JOB_START_MARGIN)
        machine, _ = logged_state_machine(
            self,
            "DriftStateMachine",
            log_group_id="DriftStateMachineLogs",
            definition=definition,
            role=role,
            timeout=timeout,
            comment=f"Starts the drift job of {self.node.path}. "
            'Input: {"scheduledTime": "<ISO 8601 time the window ends>"}',
            encryption_key=self.encryption_key,
            removal_policy=self._removal_policy,
            retention=defaults.DEFAULT_LOG_RETENTION,
        )
        nag.acknowledge_wildcard_resource(
            role,
            jobs,
            "Each run creates a processing job named <prefix>-<UUID>; the grant covers exactly "
            "that prefix.",
        )
        nag.acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:*LogDelivery, DescribeLogGroups and resource "
            "policies) and X-Ray trace writes support no resource-level permissions.",
        )
        self._alarm_set.add(
            "DriftStartFailedAlarm",
            machine.metric_failed(),
            1,
            "a drift run could not create its processing job"
            if reduce_request is None
            else "a drift run failed: its map job failed or the reduce job could not be created",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        return machine

    def _grant_sync(self, role: iam.IRole, jobs: str) -> None:
        """What Step Functions' ``createProcessingJob.sync`` needs besides creating the job:
        describe and stop it, and the managed EventBridge rule through which it learns the
        job ended (the same grants aws-cdk-lib gives its ``.sync`` SageMaker tasks)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:DescribeProcessingJob", "sagemaker:StopProcessingJob"],
                resources=[jobs],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    Stack.of(self).format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForSageMakerProcessingJobsRule",
                    )
                ],
            )
        )

    def _dead_letter_queue(self) -> sqs.Queue:
        if self.dead_letter_queue is not None:
            return self.dead_letter_queue
        queue = defaults.dead_letter_queue(
            self,
            "DeadLetterQueue",
            encryption_key=self.encryption_key,
            used_by="the schedule and the notification rules",
        )
        self.dead_letter_queue = queue
        return queue

    # --- Model Monitor backend ------------------------------------------------------------

    def _model_monitor(self, settings: MonitorSettings) -> None:
        baseline, ground_truth = settings.baseline, settings.ground_truth
        analysis_config, instance_type = settings.analysis_config, settings.instance_type
        assert self.image_uri is not None  # noqa: S101 - resolved in __init__
        ContainerImage.from_uri(self.image_uri).bind(self, self.role)
        kind = self.monitoring_type
        cfn, name = _JOB_DEFINITIONS[kind]
        constraints = self._bind("BaselineConstraints", baseline.constraints)
        baseline_config: dict[str, Any] = {
            "constraints_resource": cfn.ConstraintsResourceProperty(s3_uri=constraints)
        }
        if kind is MonitoringType.DATA_QUALITY and baseline.statistics is not None:
            statistics = self._bind("BaselineStatistics", baseline.statistics)
            baseline_config["statistics_resource"] = cfn.StatisticsResourceProperty(
                s3_uri=statistics
            )
        app: dict[str, Any] = {"image_uri": self.image_uri}
        if kind is MonitoringType.MODEL_QUALITY:
            app["problem_type"] = settings.problem_type
        if kind in CLARIFY_TYPES:
            assert analysis_config is not None  # noqa: S101 - checked in _checks.check
            app["config_uri"] = self._bind("AnalysisConfig", analysis_config)
        endpoint_input: dict[str, Any] = {
            "endpoint_name": self.endpoint_name,
            "local_path": ENDPOINT_INPUT,
            "s3_input_mode": "File",
            "s3_data_distribution_type": "FullyReplicated",
        }
        if kind is not MonitoringType.DATA_QUALITY:
            optional = {
                "inference_attribute": settings.inference_attribute,
                "probability_attribute": settings.probability_attribute,
                "probability_threshold_attribute": settings.probability_threshold,
            }
            if kind in CLARIFY_TYPES:
                optional["features_attribute"] = settings.features_attribute
            endpoint_input.update({k: v for k, v in optional.items() if v is not None})
        job_input: dict[str, Any] = {"endpoint_input": cfn.EndpointInputProperty(**endpoint_input)}
        if ground_truth is not None and kind in (
            MonitoringType.MODEL_QUALITY,
            MonitoringType.MODEL_BIAS,
        ):
            self._grant_ground_truth(ground_truth)
            job_input["ground_truth_s3_input"] = cfn.MonitoringGroundTruthS3InputProperty(
                s3_uri=f"s3://{ground_truth.bucket.bucket_name}/{ground_truth.prefix}"
            )
        vpc_config = None
        if self.security_group is not None and self.subnet_ids is not None:
            vpc_config = cfn.VpcConfigProperty(
                security_group_ids=[self.security_group.security_group_id],
                subnets=self.subnet_ids,
            )
        props: dict[str, Any] = {
            f"{name}_app_specification": getattr(cfn, f"{_camel(name)}AppSpecificationProperty")(
                **app
            ),
            f"{name}_baseline_config": getattr(cfn, f"{_camel(name)}BaselineConfigProperty")(
                **baseline_config
            ),
            f"{name}_job_input": getattr(cfn, f"{_camel(name)}JobInputProperty")(**job_input),
            f"{name}_job_output_config": cfn.MonitoringOutputConfigProperty(
                monitoring_outputs=[
                    cfn.MonitoringOutputProperty(
                        s3_output=cfn.S3OutputProperty(
                            local_path=PROCESSING_OUTPUT,
                            s3_uri=self.report_uri,
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
                kms_key_id=self.encryption_key.key_arn,
            ),
            "job_resources": cfn.MonitoringResourcesProperty(
                cluster_config=cfn.ClusterConfigProperty(
                    instance_count=settings.instance_count,
                    instance_type=instance_type,
                    volume_size_in_gb=settings.volume_size_gb,
                    volume_kms_key_id=self._volume_key(instance_type),
                )
            ),
            "network_config": cfn.NetworkConfigProperty(
                enable_inter_container_traffic_encryption=True,
                enable_network_isolation=True,
                vpc_config=vpc_config,
            ),
            "role_arn": self.role.role_arn,
            "stopping_condition": cfn.StoppingConditionProperty(
                max_runtime_in_seconds=int(settings.max_runtime.to_seconds())
            ),
        }
        # No JobDefinitionName: every property is create-only, so CloudFormation must be free
        # to replace the definition (with a new generated name) on any change.
        self.job_definition = cfn(self, "JobDefinition", **props)
        self.job_definition.node.add_dependency(self.role)
        if kind is MonitoringType.DATA_QUALITY and self._volume_key(instance_type) is None:
            checkov.skip(
                self.job_definition,
                "CKV_AWS_368",
                f"{instance_type} has NVMe instance storage, which is encrypted in hardware; "
                "SageMaker rejects a volume KMS key for such instance types.",
            )
        # The resource returns only its ARN (arn:...:<type>-job-definition/<name>); the schedule
        # needs the name. GetAtt JobDefinitionName is not in the resource schema.
        self.job_definition_name = Fn.select(
            1, Fn.split("/", self.job_definition.attr_job_definition_arn)
        )
        self.monitoring_schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "MonitoringSchedule",
            monitoring_schedule_name=self.schedule_name,
            endpoint_name=self.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=self.job_definition_name,
                monitoring_type=kind.value,
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=self._cadence.expression
                ),
            ),
        )
        schedule_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="monitoring-schedule", resource_name=self.schedule_name
        )
        # Monitoring executions are processing jobs; DescribeProcessingJob (the event detail)
        # names their schedule and carries the execution's ExitMessage. SageMaker may report
        # the ARN in lower case, so the match ignores case.
        self.violations_rule = self._notify_on(
            "ViolationsRule",
            "A monitoring run completed with violations",
            {
                "MonitoringScheduleArn": [{"equals-ignore-case": schedule_arn}],
                "ExitMessage": [{"prefix": "CompletedWithViolations"}],
            },
        )
        self._notify_on(
            "JobFailedRule",
            "A monitoring run failed or was stopped",
            {
                "MonitoringScheduleArn": [{"equals-ignore-case": schedule_arn}],
                "ProcessingJobStatus": ["Failed", "Stopped"],
            },
        )

    # --- events and alarms ----------------------------------------------------------------

    def _events_role(self) -> ManagedPolicyRole:
        return events_role(self, purpose="notifications and on_drift", topic=self.alarm_topic)

    def _notify_on(self, construct_id: str, what: str, detail: dict[str, Any]) -> events.Rule:
        rule = events.Rule(
            self,
            construct_id,
            description=f"{self.node.path}: {what}",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail=detail,
            ),
        )
        rule.add_target(
            topic_target(
                self.alarm_topic,
                role=self._events_role(),
                dead_letter_queue=self._dead_letter_queue(),
                max_event_age=Duration.hours(1),
                message={
                    "monitor": self.node.path,
                    "endpoint": self.endpoint_name,
                    "event": what,
                    "job": events.EventField.from_path("$.detail.ProcessingJobName"),
                    "status": events.EventField.from_path("$.detail.ProcessingJobStatus"),
                    "reason": events.EventField.from_path("$.detail.FailureReason"),
                    "exitMessage": events.EventField.from_path("$.detail.ExitMessage"),
                },
            )
        )
        if construct_id == "JobFailedRule":
            self.job_failed_rule = rule
        return rule

    def _period(self) -> Duration:
        return Duration.seconds(self._cadence.interval_seconds)

    def _drift_alarm(self, threshold: float) -> cloudwatch.IAlarm:
        wanted = self._quality_alarm
        if wanted is not None:
            below = not wanted.lower_is_better
            return self._alarm_set.add(
                "DriftAlarm",
                self.metric(wanted.metric, statistic="Minimum" if below else "Maximum"),
                wanted.threshold,
                f"model quality: {wanted.metric} "
                + ("below " if below else "above ")
                + f"{wanted.threshold:g}",
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
                if below
                else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                datapoints_to_alarm=1,
            )
        if self.monitoring_type is MonitoringType.DATA_QUALITY and self.features:
            chunks = [
                self.features[i : i + MAX_METRICS_PER_ALARM]
                for i in range(0, len(self.features), MAX_METRICS_PER_ALARM)
            ]
            parts = [
                self._alarm_set.add(
                    "DriftAlarm" if len(chunks) == 1 else f"DriftAlarm{index + 1}",
                    cloudwatch.MathExpression(
                        expression="MAX([" + ", ".join(f"f{j}" for j in range(len(chunk))) + "])",
                        using_metrics={
                            f"f{j}": self.metric_feature_drift(feature)
                            for j, feature in enumerate(chunk)
                        },
                        label="largest feature drift",
                        period=self._period(),
                    ),
                    threshold,
                    f"feature drift above {threshold:g} for "
                    + ", ".join(chunk[:3])
                    + (" ..." if len(chunk) > 3 else ""),
                    comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                    evaluation_periods=1,
                    datapoints_to_alarm=1,
                )
                for index, chunk in enumerate(chunks)
            ]
            if len(parts) == 1:
                return parts[0]
            composite = self._alarm_set.any_of(
                "DriftAlarm", parts, f"feature drift above {threshold:g}"
            )
            self.alarms.append(composite)
            return composite
        if self.backend is MonitorBackend.DRIFT_JOB:
            return self._alarm_set.add(
                "DriftAlarm",
                self.metric(VIOLATIONS_METRIC, statistic="Maximum"),
                1,
                "the drift job reported constraint violations",
                evaluation_periods=1,
                datapoints_to_alarm=1,
            )
        return self._alarm_set.add(
            "DriftAlarm",
            _rule_metric(self.violations_rule, self._period()),
            1,
            f"a {self.monitoring_type.value} run completed with violations",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )

    def _job_failed_alarm(self) -> cloudwatch.Alarm:
        queue = self._dead_letter_queue()
        self._alarm_set.add(
            "DeadLetters",
            queue.metric_approximate_number_of_messages_visible(statistic="Maximum"),
            1,
            "a schedule run or notification could not be delivered (see the dead-letter queue)",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )
        if self.backend is MonitorBackend.DRIFT_JOB:
            # One datum per run: none for two intervals means the job did not run (or failed
            # before publishing).
            return self._alarm_set.add(
                "JobNotRunningAlarm",
                self.metric(RECORDS_METRIC, statistic="SampleCount"),
                1,
                "no drift-job result for two schedule intervals (the job did not run or failed)",
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                datapoints_to_alarm=2,
                missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
        return self._alarm_set.add(
            "JobFailedAlarm",
            _rule_metric(self.job_failed_rule, self._period()),
            1,
            "a monitoring run failed or was stopped",
            evaluation_periods=1,
            datapoints_to_alarm=1,
        )

    def _wire_on_drift(self, target: Startable) -> events.Rule:
        rule = alarm_rule(
            self,
            "OnDriftRule",
            alarm_arns=[self.drift_alarm.alarm_arn],
            description=f"{self.node.path}: drift alarm -> on_drift",
        )
        delivery: dict[str, Any] = {
            "dead_letter_queue": self._dead_letter_queue(),
            "retry_attempts": RETRY_ATTEMPTS,
            "max_event_age": MAX_EVENT_AGE,
        }
        rule_target: events.IRuleTarget
        if hasattr(target, "state_machine_arn"):
            machine: sfn.IStateMachine = target  # type: ignore[assignment]
            role = self._events_role()
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[machine.state_machine_arn]
                )
            )
            rule_target = events_targets.SfnStateMachine(
                machine,
                role=role,
                **delivery,
                input=events.RuleTargetInput.from_object(
                    {
                        "reason": "drift",
                        "endpoint": self.endpoint_name,
                        "monitoringSchedule": self.schedule_name,
                        "alarm": events.EventField.from_path("$.detail.alarmName"),
                    }
                ),
            )
        elif hasattr(target, "function_arn"):
            rule_target = events_targets.LambdaFunction(
                target,  # type: ignore[arg-type]
                **delivery,
            )
        elif hasattr(target, "bind"):
            rule_target = target
        else:
            Checker.of(self).fail(
                "on_drift",
                "a Step Functions state machine, a Lambda function or an EventBridge rule target",
                Said(type(target).__name__),
            )
        rule.add_target(rule_target)
        return rule

    # --- public API -----------------------------------------------------------------------

    def metric(self, metric_name: str, **options: Unpack[MetricOptions]) -> cloudwatch.Metric:
        """A metric in ``aws/sagemaker/Endpoints/data-metrics`` (``.../model-metrics`` for model
        quality) for this endpoint and schedule, e.g. ``feature_baseline_drift_age``, ``auc`` or
        ``drift_job_records_analyzed``; Maximum over the schedule's interval unless ``options``
        say otherwise."""
        return build_metric(
            MODEL_METRICS_NAMESPACE
            if self.monitoring_type is MonitoringType.MODEL_QUALITY
            else DATA_METRICS_NAMESPACE,
            metric_name,
            {"Endpoint": self.endpoint_name, "MonitoringSchedule": self.schedule_name},
            options,
            statistic="Maximum",
            period=self._period(),
        )

    def metric_feature_drift(
        self, feature: str, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """``feature_baseline_drift_<feature>``: the distance compared with the threshold
        (Maximum)."""
        return self.metric(f"feature_baseline_drift_{feature}", **options)

    def metric_feature_completeness(
        self, feature: str, **options: Unpack[MetricOptions]
    ) -> cloudwatch.Metric:
        """``feature_non_null_<feature>``: the share of records with a value, 0-1 (Minimum)."""
        merged: MetricOptions = {"statistic": "Minimum", **options}
        return self.metric(f"feature_non_null_{feature}", **merged)

    def dashboard_widgets(self) -> list[cloudwatch.IWidget]:
        """Drift and completeness per monitored feature, the watched model-quality metric
        against its alarm threshold, and the job's record count."""
        widgets: list[cloudwatch.IWidget] = []
        if self.features:
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}: feature drift",
                    left=[self.metric_feature_drift(f) for f in self.features[:20]],
                    width=12,
                )
            )
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}: completeness",
                    left=[self.metric_feature_completeness(f) for f in self.features[:20]],
                    width=12,
                )
            )
        if self._quality_alarm is not None:
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}: {self._quality_alarm.metric}",
                    left=[self.metric(self._quality_alarm.metric)],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(
                            value=self._quality_alarm.threshold, label="alarm threshold"
                        )
                    ],
                    width=12,
                )
            )
        if self.backend is MonitorBackend.DRIFT_JOB:
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"{self.node.id}: records analyzed and violations",
                    left=[self.metric(RECORDS_METRIC, statistic="Sum")],
                    right=[self.metric(VIOLATIONS_METRIC)],
                    width=12,
                )
            )
        return widgets


# --- helpers ------------------------------------------------------------------------------


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def _processing_input(name: str, s3_uri: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": s3_uri,
            "LocalPath": f"{PROCESSING_BASELINE}/{name}",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _rule_metric(rule: events.Rule, period: Duration) -> cloudwatch.Metric:
    return alarm_helpers.metric(
        "AWS/Events", "TriggeredRules", {"RuleName": rule.rule_name}, period=period
    )
