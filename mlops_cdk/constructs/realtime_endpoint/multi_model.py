"""Multi-model endpoints: every ``model.tar.gz`` under one S3 prefix, served by one container."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import grant_read_location
from mlops_cdk._internal.validation import BUCKET, Checker
from mlops_cdk.constructs._sagemaker_model import MultiModelContainer

#: Set on the container so the runtime in ``mlops_cdk/runtime`` serves the ``/models`` API.
MULTI_MODEL_ENVIRONMENT = {"MLOPS_MULTI_MODEL": "true"}


@dataclass(frozen=True, kw_only=True)
class MultiModel:
    """A SageMaker multi-model endpoint (container ``Mode: MultiModel``): many small models of
    one framework behind one container, loaded on their first request and cached.

    Callers pick a model per request with ``TargetModel`` (the key relative to ``prefix``,
    e.g. ``"churn-eu.tar.gz"``); SageMaker downloads it from ``s3://<bucket>/<prefix><target>``
    on first use, and unloads least recently used models when the instance runs short of
    memory. Upload a model by putting its ``.tar.gz`` under the prefix; no redeploy.

    Example::

        RealtimeEndpoint(self, "Tenants", image=ContainerImage.from_asset("mlops_cdk/runtime"),
            multi_model=MultiModel(bucket=artifacts, prefix="tenants/"))

    :param bucket: the bucket holding the models; the execution role may read ``prefix`` only.
    :param prefix: the key prefix of the ``.tar.gz`` files (``"tenants"`` = ``"tenants/"``).
    :param model_cache: keep loaded models in memory between requests (SageMaker's
        ``MultiModelConfig.ModelCacheSetting``). Disable it only for very many rarely used
        models. Default: True.
    """

    bucket: s3.IBucket
    prefix: str
    model_cache: bool = True

    def __post_init__(self) -> None:
        check = Checker("MultiModel")
        check.instance_of("bucket", self.bucket, BUCKET)
        check.key_prefixes(self, "prefix")

    def bind(self, role: iam.IRole) -> MultiModelContainer:
        """The container settings; lets ``role`` read the objects under the prefix."""
        grant_read_location(
            role,
            bucket_arn=self.bucket.bucket_arn,
            key=self.prefix,
            encryption_key=self.bucket.encryption_key,
        )
        nag.acknowledge_wildcard_resource(
            role,
            self.bucket.arn_for_objects(f"{self.prefix}*"),
            f"A multi-model endpoint loads any model under {self.prefix} that a caller names "
            "(TargetModel), and nothing else in the bucket.",
        )
        return MultiModelContainer(
            model_data_url=f"s3://{self.bucket.bucket_name}/{self.prefix}",
            model_cache=self.model_cache,
        )
