"""The standard step graph of an MLPipeline: preprocess, train (optionally managed spot),
evaluate, an optional drift-baseline step, then a metric gate that registers the model package
or fails the execution. It builds the SageMaker pipeline definition's steps and parameters only;
the construct creates the pipeline, its role and its triggers.

The steps run the shipped training code (``mlops_cdk/runtime/training``, the package
``mlops_runtime.training`` in the training image) with its defaults, so the local paths here
are that code's SageMaker paths; ``tests/loop`` checks each joint against a real run.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk._internal.sagemaker import has_local_storage
from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.ml_pipeline._settings import TrainingSettings
from mlops_cdk.constructs.ml_pipeline.steps import (
    EXECUTION_ID,
    PipelineCondition,
    PipelineSteps,
    PropertyFile,
    get,
    join,
)
from mlops_cdk.constructs.model_registry.construct import IModelRegistry

# Step and parameter names of the standard graph (they appear in the SageMaker console).
PREPROCESS, TRAIN, EVALUATE, BASELINE, CHECK, REGISTER, FAIL = (
    "Preprocess",
    "Train",
    "Evaluate",
    "DriftBaseline",
    "CheckMetric",
    "Register",
    "MetricBelowThreshold",
)
EVALUATION_REPORT = "EvaluationReport"
PROCESSING = "/opt/ml/processing"
#: The training image's step modules (``python3 -m <module>``).
PREPROCESS_MODULE = "mlops_runtime.training.preprocess"
EVALUATE_MODULE = "mlops_runtime.training.evaluate"
#: What the model server reads and answers (mlops_cdk/runtime/codecs.py: JSON, CSV, JSON
#: lines), registered as the package's SupportedContentTypes and SupportedResponseMIMETypes.
SERVED_CONTENT_TYPES = ("application/json", "text/csv", "application/jsonlines")


def standard_graph(
    scope: Construct,
    *,
    role: iam.IRole,
    encryption_key: kms.IKey,
    data_bucket: s3.IBucket,
    registry: IModelRegistry,
    vpc_config: dict[str, Any] | None,
    settings: TrainingSettings,
) -> PipelineSteps:
    """The standard graph of an MLPipeline (see its docstring): Preprocess, Train, Evaluate,
    optionally DriftBaseline, then CheckMetric registering the model or failing. Images are
    bound in child scopes of ``scope`` and every job runs as ``role``."""
    key_arn = encryption_key.key_arn
    bucket = data_bucket.bucket_name
    bound: dict[int, str] = {}

    def image(construct_id: str, given: ContainerImage) -> str:
        """Bind each image once (the training image also runs processing by default)."""
        if id(given) not in bound:
            bound[id(given)] = given.bind(Construct(scope, construct_id), role).image_uri
        return bound[id(given)]

    train_uri = image("TrainingImage", settings.training_image)
    processing_uri = image("ProcessingImage", settings.processing_image)
    inference_uri = image("InferenceImage", settings.inference_image)

    steps = PipelineSteps()
    input_url = steps.parameter("InputDataUrl", "String", f"s3://{bucket}/{settings.input_prefix}")
    processing_type = steps.parameter(
        "ProcessingInstanceType", "String", settings.processing_instance_type
    )
    training_type = steps.parameter(
        "TrainingInstanceType", "String", settings.training_instance_type
    )
    threshold = steps.parameter("MetricThreshold", "Float", float(settings.metric_threshold))
    status = steps.parameter("ModelApprovalStatus", "String", settings.approval)
    trigger = steps.parameter("Trigger", "String", "manual")

    def processing(
        *,
        entrypoint: list[Any],
        image: str,
        inputs: list[tuple[str, Any, str]],
        outputs: list[tuple[str, str]],
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": processing_type.ref,
                    "VolumeSizeInGB": 30,
                    **_volume_key(settings.processing_instance_type, key_arn),
                }
            },
            "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": entrypoint},
            "RoleArn": role.role_arn,
            "ProcessingInputs": [
                {
                    "InputName": name,
                    "AppManaged": False,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": local,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
                for name, uri, local in inputs
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": name,
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": _uri(data_bucket, settings.output_prefix, name),
                            "LocalPath": f"{PROCESSING}/{local}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for name, local in outputs
                ],
                "KmsKeyId": key_arn,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": int(settings.max_runtime.to_seconds())},
        }
        if vpc_config is not None:
            request["NetworkConfig"] = {
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": vpc_config,
            }
        return request

    def output(step: str, name: str) -> dict[str, Any]:
        return get(f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri")

    steps.processing(
        PREPROCESS,
        description="Split the input into train, test and features-only sets "
        f"({PREPROCESS_MODULE})",
        arguments=processing(
            entrypoint=["python3", "-m", PREPROCESS_MODULE],
            image=processing_uri,
            inputs=[("input", input_url.ref, f"{PROCESSING}/input/data")],
            outputs=[("train", "train"), ("test", "test"), ("features", "features")],
        ),
    )
    artifacts = get(f"Steps.{TRAIN}.ModelArtifacts.S3ModelArtifacts")
    training: dict[str, Any] = {
        "AlgorithmSpecification": {"TrainingImage": train_uri, "TrainingInputMode": "File"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "text/csv",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": output(PREPROCESS, "train"),
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ],
        "OutputDataConfig": {
            "S3OutputPath": _uri(data_bucket, settings.output_prefix, "model"),
            "KmsKeyId": key_arn,
        },
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": training_type.ref,
            "VolumeSizeInGB": 30,
            **_volume_key(settings.training_instance_type, key_arn),
        },
        "RoleArn": role.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": int(settings.max_runtime.to_seconds())},
        # The image holds the code and its dependencies: the container needs no network
        # (SageMaker itself still fetches the channel and uploads the model and checkpoints).
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    if settings.hyperparameters:
        training["HyperParameters"] = dict(settings.hyperparameters)
    if settings.use_spot:
        training["EnableManagedSpotTraining"] = True
        training["StoppingCondition"]["MaxWaitTimeInSeconds"] = int(settings.max_wait.to_seconds())
        training["CheckpointConfig"] = {
            "S3Uri": _uri(data_bucket, settings.output_prefix, "checkpoints"),
            "LocalPath": "/opt/ml/checkpoints",
        }
    if vpc_config is not None:
        training["VpcConfig"] = vpc_config
    steps.training(
        TRAIN, arguments=training, description="Train the model (the training image's train)"
    )
    steps.processing(
        EVALUATE,
        description=f"Score the test set ({EVALUATE_MODULE}) and write evaluation.json",
        arguments=processing(
            entrypoint=["python3", "-m", EVALUATE_MODULE],
            image=processing_uri,
            inputs=[
                ("model", artifacts, f"{PROCESSING}/model"),
                ("test", output(PREPROCESS, "test"), f"{PROCESSING}/test"),
            ],
            outputs=[("evaluation", "evaluation")],
        ),
        property_files=[
            PropertyFile(
                name=EVALUATION_REPORT,
                output_name="evaluation",
                path="evaluation.json",
                metrics=(settings.metric_name,),
            )
        ],
    )
    quality_baseline = {
        name: {
            "ContentType": "application/json",
            "S3Uri": join("/", [output(EVALUATE, "evaluation"), f"{name.lower()}.json"]),
        }
        for name in ("Statistics", "Constraints")
    }
    register: dict[str, Any] = {
        "ModelPackageGroupName": registry.group_name,
        "ModelPackageDescription": join(
            " ", ["Trained by", get("Execution.PipelineExecutionArn"), "trigger:", trigger.ref]
        ),
        "ModelApprovalStatus": status.ref,
        "InferenceSpecification": {
            "Containers": [{"Image": inference_uri, "ModelDataUrl": artifacts}],
            "SupportedContentTypes": list(SERVED_CONTENT_TYPES),
            "SupportedResponseMIMETypes": list(SERVED_CONTENT_TYPES),
        },
        # evaluate writes Model Monitor's model-quality statistics.json and constraints.json of
        # the test split: the package's quality, and the drift job's model-quality baseline.
        "ModelMetrics": {"ModelQuality": quality_baseline},
        "DriftCheckBaselines": {"ModelQuality": quality_baseline},
    }
    if settings.drift_baselines:
        steps.processing(
            BASELINE,
            description="Drift baselines (statistics.json, constraints.json) of the "
            "training split's features, for ModelMonitorSchedule and the drift job",
            arguments=processing(
                entrypoint=[
                    "python",
                    "-m",
                    "mlops_runtime.drift",
                    "baseline",
                    "--train",
                    f"{PROCESSING}/input/features/train.csv",
                    "--out",
                    f"{PROCESSING}/baseline",
                ],
                image=image("BaselineImage", settings.baseline_image),
                # The request columns only: with the label, every window would miss it.
                inputs=[
                    ("features", output(PREPROCESS, "features"), f"{PROCESSING}/input/features")
                ],
                outputs=[("baseline", "baseline")],
            ),
        )
        baseline = output(BASELINE, "baseline")
        register["DriftCheckBaselines"]["ModelDataQuality"] = {
            name: {
                "ContentType": "application/json",
                "S3Uri": join("/", [baseline, f"{name.lower()}.json"]),
            }
            for name in ("Statistics", "Constraints")
        }
    steps.condition(
        CHECK,
        conditions=[
            PipelineCondition(
                type=settings.metric_comparison,
                left=steps.metric(EVALUATE, EVALUATION_REPORT, settings.metric_name),
                right=threshold.ref,
            )
        ],
        if_steps=[REGISTER],
        else_steps=[FAIL],
    )
    steps.register_model(REGISTER, arguments=register)
    steps.fail(
        FAIL,
        error_message=join(
            " ",
            [
                f"{settings.metric_name} did not pass {settings.metric_comparison}",
                threshold.ref,
                "(MetricThreshold); the model was not registered.",
            ],
        ),
    )
    return steps


def _uri(bucket: s3.IBucket, prefix: str, *parts: Any) -> dict[str, Any]:
    """``s3://<bucket>/<prefix><execution id>/<parts>`` at run time."""
    base = f"s3://{bucket.bucket_name}/{prefix.rstrip('/')}"
    return join("/", [base, EXECUTION_ID, *parts])


def _volume_key(instance_type: str, key_arn: str) -> dict[str, str]:
    # NVMe instance storage is encrypted in hardware; SageMaker rejects a volume key there.
    return {} if has_local_storage(instance_type) else {"VolumeKmsKeyId": key_arn}
