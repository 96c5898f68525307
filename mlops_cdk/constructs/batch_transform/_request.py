"""The CreateTransformJob request of a BatchTransformJob run: the Step Functions task that
starts the job and waits for it, with the model, input, output, resources and client settings
the construct was given, the per-run values (job name, input location) read from the state,
and retries of throttled SageMaker API calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration, Size
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from mlops_cdk._internal.sagemaker import has_local_storage
from mlops_cdk.constructs.batch_transform._settings import JobSettings

# Step Functions reports SageMaker API errors, throttling included, as this error name.
SAGEMAKER_API_ERROR = "SageMaker.AmazonSageMakerException"
_SPLIT_TYPES = {
    "None": tasks.SplitType.NONE,
    "Line": tasks.SplitType.LINE,
    "RecordIO": tasks.SplitType.RECORD_IO,
    "TFRecord": tasks.SplitType.TF_RECORD,
}
_COMPRESSION = {"None": tasks.CompressionType.NONE, "Gzip": tasks.CompressionType.GZIP}
_ASSEMBLE_WITH = {"None": tasks.AssembleWith.NONE, "Line": tasks.AssembleWith.LINE}
_BATCH_STRATEGIES = {
    "MultiRecord": tasks.BatchStrategy.MULTI_RECORD,
    "SingleRecord": tasks.BatchStrategy.SINGLE_RECORD,
}


class _CreateTransformJob(tasks.SageMakerCreateTransformJob):
    """``SageMakerCreateTransformJob`` plus the request fields its L2 does not model yet.

    The L2 task (aws-cdk-lib 2.275) has no ``DataProcessing`` (input/output filters and joining
    the input to the output). Everything else, including its IAM policy for the run-job
    pattern, comes from the L2; this only adds keys to the rendered ``Parameters``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        extra: Mapping[str, Any],
        data_source: Mapping[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._extra = dict(extra)
        self._data_source = dict(data_source)

    def to_state_json(self, top_level_query_language: Any = None) -> Mapping[str, Any]:
        state = dict(super().to_state_json(top_level_query_language))
        parameters = {**state["Parameters"], **self._extra}
        # The L2 takes S3DataType as a constant; a run decides it (S3Prefix or ManifestFile).
        transform_input = dict(parameters["TransformInput"])
        transform_input["DataSource"] = {"S3DataSource": self._data_source}
        parameters["TransformInput"] = transform_input
        state["Parameters"] = parameters
        return state


def transform_task(
    scope: Construct,
    *,
    role: iam.IRole,
    model_name: str,
    job: JobSettings,
    encryption_key: kms.IKey,
) -> tasks.SageMakerCreateTransformJob:
    """The ``Transform`` state of ``scope``: runs one transform job (run-job pattern) named
    ``$.job.name`` over ``$.input`` (``uri`` and ``type``) and writes its results under
    ``<output prefix><job name>/``."""
    # NVMe instance storage is encrypted in hardware; SageMaker rejects a volume key there.
    input, output, instance_type = job.input, job.output, job.instance_type
    volume_key = None if has_local_storage(instance_type) else encryption_key
    data_processing = {
        key: value
        for key, value in (
            ("InputFilter", job.input_filter),
            ("OutputFilter", job.output_filter),
            ("JoinSource", job.join_source),
        )
        if value is not None
    }
    task = _CreateTransformJob(
        scope,
        "Transform",
        extra={"DataProcessing": data_processing} if data_processing else {},
        data_source={"S3DataType.$": "$.input.type", "S3Uri.$": "$.input.uri"},
        integration_pattern=sfn.IntegrationPattern.RUN_JOB,
        # CreateTransformJob takes no role (the model has one); the L2 only needs one to
        # scope iam:PassRole, and without it would create one with AmazonSageMakerFullAccess.
        role=role,
        model_name=model_name,
        transform_job_name=sfn.JsonPath.string_at("$.job.name"),
        transform_input=tasks.TransformInput(
            transform_data_source=tasks.TransformDataSource(
                s3_data_source=tasks.TransformS3DataSource(
                    s3_uri=sfn.JsonPath.string_at("$.input.uri"),
                    s3_data_type=tasks.S3DataType.S3_PREFIX,
                )
            ),
            content_type=input.content_type,
            split_type=_SPLIT_TYPES[input.split_type] if input.split_type else None,
            compression_type=_COMPRESSION[input.compression] if input.compression else None,
        ),
        transform_output=tasks.TransformOutput(
            s3_output_path=sfn.JsonPath.format(
                f"s3://{output.bucket.bucket_name}/{output.prefix}{{}}/",
                sfn.JsonPath.string_at("$.job.name"),
            ),
            accept=output.accept,
            assemble_with=_ASSEMBLE_WITH[output.assemble_with] if output.assemble_with else None,
            encryption_key=encryption_key,
        ),
        transform_resources=tasks.TransformResources(
            instance_count=job.instance_count,
            instance_type=ec2.InstanceType(instance_type.removeprefix("ml.")),
            volume_encryption_key=volume_key,
        ),
        batch_strategy=_BATCH_STRATEGIES[job.batch_strategy],
        max_concurrent_transforms=job.max_concurrent_transforms,
        max_payload=Size.mebibytes(job.max_payload_mb),
        model_client_options=tasks.ModelClientOptions(
            invocations_max_retries=job.invocation_max_retries,
            invocations_timeout=job.invocation_timeout,
        ),
        environment=dict(job.environment) if job.environment else None,
        task_timeout=sfn.Timeout.duration(job.max_runtime),
        result_selector={
            "name.$": "$.TransformJobName",
            "status.$": "$.TransformJobStatus",
            "output.$": "$.TransformOutput.S3OutputPath",
        },
        result_path="$.result",
        comment="Creates the transform job and waits until it ends",
    )
    task.add_retry(
        errors=[SAGEMAKER_API_ERROR],
        interval=Duration.seconds(10),
        backoff_rate=2,
        max_attempts=5,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return task
