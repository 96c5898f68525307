"""Job settings: batch transform, model monitoring and the training pipeline."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from mlops_cdk._internal.model_quality import QUALITY_METRICS
from mlops_cdk._internal.monitor_schedules import (
    DRIFT_JOB_SCHEDULE_MEANING,
    parse_schedule,
)
from mlops_cdk._internal.patterns import (
    DEFAULT_APPROVAL,
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_TRAINING_INSTANCE_TYPE,
    METRIC_NAME,
    METRIC_NAME_MEANING,
    TRANSFORM_MAX_PAYLOAD_MB,
    ApprovalStatus,
    OverlapPolicy,
    TransformAssembleWith,
    TransformBatchStrategy,
    TransformSplitType,
)
from mlops_cdk.config._fields import (
    AccountId,
    AlarmName,
    EcrImageUri,
    FieldError,
    KeyPrefix,
    ModelPackageGroupName,
    MonitorScheduleExpression,
    ProcessingInstanceType,
    ScheduleExpression,
    Section,
    TrainingInstanceType,
    TransformInstanceType,
    matches,
)

# The drift job's reduce step on several instances (ModelMonitorSchedule's REDUCE_MAX_RUNTIME).
REDUCE_MINUTES = 5


class BatchTransformSettings(Section):
    """The batch transform job scoring the Data stack's batch-input bucket into batch-output.
    A job needs at least one way to start: a schedule, new data, or ``manual: true``
    (aws stepfunctions start-execution)."""

    enabled: bool = False
    instance_type: TransformInstanceType = DEFAULT_INSTANCE_TYPE
    instance_count: int = Field(default=1, ge=1)
    schedule: ScheduleExpression | None = None
    run_on_new_data: bool = False
    manual: bool = False
    input_prefix: KeyPrefix = "transform/input/"
    output_prefix: KeyPrefix = "transform/output/"
    max_runtime_hours: int = Field(default=24, ge=1, le=8760)
    in_vpc: bool = True
    # Tuning (CreateTransformJob): parallel requests per instance (0 or none: SageMaker asks
    # the container, else 1), the largest request, and how records split, batch and join.
    max_concurrent_transforms: int | None = Field(default=None, ge=0)
    max_payload_mb: int = Field(default=6, ge=0, le=TRANSFORM_MAX_PAYLOAD_MB)
    split_type: TransformSplitType = "Line"
    batch_strategy: TransformBatchStrategy = "MultiRecord"
    assemble_with: TransformAssembleWith = "Line"

    @model_validator(mode="after")
    def _tuning_fits(self) -> BatchTransformSettings:
        concurrent, payload = self.max_concurrent_transforms, self.max_payload_mb
        if concurrent and concurrent * payload > TRANSFORM_MAX_PAYLOAD_MB:
            raise FieldError(
                "batch_transform.max_concurrent_transforms",
                f"must keep max_concurrent_transforms x max_payload_mb at most "
                f"{TRANSFORM_MAX_PAYLOAD_MB} MB (x {payload} MB = {concurrent * payload} MB)",
                concurrent,
            )
        if self.batch_strategy == "MultiRecord" and self.split_type == "None":
            raise FieldError(
                "batch_transform.batch_strategy",
                "must be SingleRecord when split_type is None (records are only batched when "
                "objects are split into them)",
                self.batch_strategy,
            )
        return self

    @model_validator(mode="after")
    def _can_start(self) -> BatchTransformSettings:
        if self.enabled and self.schedule is None and not (self.run_on_new_data or self.manual):
            raise FieldError(
                "batch_transform",
                "needs schedule, run_on_new_data: true or manual: true when enabled "
                "(a job nobody can start is a mistake)",
                "none",
            )
        return self


class ModelQualitySettings(Section):
    """Model-quality monitoring beside drift: captured predictions merged with ground-truth
    labels uploaded to the Data stack's capture bucket under ``ground_truth_prefix``
    (``yyyy/mm/dd/hh/`` folders, Model Monitor's format), labels arriving up to
    ``label_delay_hours`` after the predictions; one alarm when ``metric`` crosses
    ``threshold`` (below it, or above it for error rates and errors), which starts retraining
    like the drift alarm when ``ml_pipeline.retrain_on_drift`` is set. The drift job only."""

    enabled: bool = False
    problem_type: Literal["BinaryClassification", "MulticlassClassification", "Regression"] = (
        "BinaryClassification"
    )
    ground_truth_prefix: KeyPrefix = "ground-truth/"
    label_delay_hours: int = Field(default=24, ge=0, le=720)
    metric: str = "auc"
    threshold: float = 0.8
    probability_threshold: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _metric_of_the_problem_type(self) -> ModelQualitySettings:
        names = QUALITY_METRICS[self.problem_type]
        if self.metric not in names:
            raise FieldError(
                "model_monitor.model_quality.metric",
                f"must be one of {', '.join(names)} for {self.problem_type}",
                self.metric,
            )
        return self


class ModelMonitorSettings(Section):
    """Drift detection on the environment's RealtimeEndpoint.

    Needs an instance-mode endpoint with data capture. ``drift_job`` runs the mlops-cdk drift
    job; ``model_monitor`` uses SageMaker Model Monitor (accounts that have it).
    ``instance_count`` above 1 splits each run of the drift job over that many instances
    (a map job, then a 5-minute reduce job).
    """

    enabled: bool = False
    backend: Literal["drift_job", "model_monitor"] = "drift_job"
    schedule: MonitorScheduleExpression = "hourly"
    instance_type: ProcessingInstanceType = DEFAULT_INSTANCE_TYPE
    instance_count: int = Field(default=1, ge=1, le=100)
    volume_size_gb: int = Field(default=20, ge=1, le=16384)
    max_runtime_minutes: int = Field(default=50, ge=1, le=1440)
    drift_threshold: float = Field(default=0.1, gt=0)
    reports_prefix: KeyPrefix = "monitoring/"
    in_vpc: bool = True
    model_quality: ModelQualitySettings = ModelQualitySettings()

    @model_validator(mode="after")
    def _fits_schedule(self) -> ModelMonitorSettings:
        parsed = parse_schedule(self.schedule)
        assert parsed is not None  # noqa: S101 - the field validator ran
        drift_job = self.backend == "drift_job"
        if drift_job and parsed.window is None:
            raise FieldError(
                "model_monitor.schedule", f"must be {DRIFT_JOB_SCHEDULE_MEANING}", self.schedule
            )
        reduce_minutes = REDUCE_MINUTES if drift_job and self.instance_count > 1 else 0
        if (self.max_runtime_minutes + reduce_minutes) * 60 >= parsed.interval_seconds:
            raise FieldError(
                "model_monitor.max_runtime_minutes",
                f"must be less than the schedule interval ({parsed.interval_seconds // 60} "
                "minutes"
                + (f", less the {reduce_minutes}-minute reduce step" if reduce_minutes else "")
                + "), so a run ends before the next one starts",
                self.max_runtime_minutes,
            )
        if self.model_quality.enabled and not drift_job:
            raise FieldError(
                "model_monitor.model_quality.enabled",
                "must be false with backend model_monitor (the drift job runs model quality here)",
                True,
            )
        return self


class MLPipelineSettings(Section):
    """The training pipeline and model registry.

    The registry (a model package group named ``group_name``) lives in the Data stack, so it is
    kept with the data; the Training stack runs the pipeline over the Data stack's artifacts
    bucket: training data under ``input_prefix``, scripts under ``code_prefix``, run outputs
    under ``output_prefix``. The jobs run the project's training image (its code baked in),
    unless ``training_image`` names an ECR image with the same contract. The gate defaults to
    ``auc >= 0.85``, which the demo data passes reliably (see docs/training.md).
    """

    enabled: bool = False
    group_name: ModelPackageGroupName | None = None
    cross_account_readers: list[AccountId] = Field(default_factory=list)
    # Accounts whose endpoints serve this registry's packages (realtime_endpoint.model_package
    # of another account): they may describe the packages, and get and list the objects under
    # output_prefix (model artifacts, drift baselines) and decrypt them through S3.
    serving_accounts: list[AccountId] = Field(default_factory=list)
    training_image: EcrImageUri | None = None
    training_instance_type: TrainingInstanceType = DEFAULT_TRAINING_INSTANCE_TYPE
    processing_instance_type: ProcessingInstanceType = DEFAULT_INSTANCE_TYPE
    use_spot: bool = True
    max_runtime_hours: int = Field(default=2, ge=1, le=672)
    metric_name: Annotated[str, matches(METRIC_NAME, METRIC_NAME_MEANING)] = "auc"
    metric_threshold: float = 0.85
    approval: ApprovalStatus = DEFAULT_APPROVAL
    input_prefix: KeyPrefix = "training/input/"
    output_prefix: KeyPrefix = "training/runs/"
    code_prefix: KeyPrefix = "training/code/"
    retrain_schedule: ScheduleExpression | None = None
    retrain_on_new_data: bool = False
    retrain_on_alarm_names: list[AlarmName] = Field(default_factory=list)
    retrain_on_drift: bool = False
    # The delivery pipeline's (tooling) account: approvals in this registry are forwarded to its
    # default event bus, where they start a release. List it in cross_account_readers too.
    forward_approvals_to: AccountId | None = None
    on_overlap: OverlapPolicy = "skip"
    in_vpc: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> MLPipelineSettings:
        if self.retrain_on_new_data:
            for key in ("output_prefix", "code_prefix"):
                prefix = getattr(self, key)
                if prefix.startswith(self.input_prefix) or self.input_prefix.startswith(prefix):
                    raise FieldError(
                        f"ml_pipeline.{key}",
                        f"must be outside input_prefix {self.input_prefix!r} with "
                        "retrain_on_new_data (the pipeline's own writes would retrain it)",
                        prefix,
                    )
        return self

    def registry_group(self, project: str) -> str:
        """The model package group: ``group_name``, or ``<project>-models``."""
        return self.group_name or f"{project}-models"
