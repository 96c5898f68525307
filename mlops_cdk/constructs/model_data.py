"""Where a model's artifact lives in S3, and the right to read exactly that."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import grant_read_location
from mlops_cdk._internal.runtime_assets import demo_model_dir
from mlops_cdk._internal.validation import BUCKET, Checker, is_unresolved
from mlops_cdk._internal.validators.s3 import s3_uri_problem

MAX_URI_LENGTH = 1024


@dataclass(frozen=True, kw_only=True)
class BoundModelData:
    """A model artifact bound to a scope, in the shape SageMaker's ``S3DataSource`` wants."""

    s3_uri: str
    s3_data_type: Literal["S3Object", "S3Prefix"]
    compression: Literal["Gzip", "None"]

    @property
    def compressed(self) -> bool:
        """True for a ``model.tar.gz`` that SageMaker unpacks into ``/opt/ml/model``."""
        return self.compression == "Gzip"

    def to_model_data_source(self) -> dict[str, object]:
        """The ``ModelDataSource`` property of a SageMaker container definition."""
        return {
            "S3DataSource": {
                "S3Uri": self.s3_uri,
                "S3DataType": self.s3_data_type,
                "CompressionType": self.compression,
            }
        }


class ModelData(ABC):
    """A model artifact: a ``.tar.gz`` SageMaker unpacks, a single uncompressed file (such as
    ``model.onnx``), or an S3 prefix of uncompressed files (a key ending in ``/``).

    The construct that uses it calls :meth:`bind`, which returns the location and grants read
    access on exactly that object or prefix.
    """

    @staticmethod
    def from_asset(path: str | Path) -> ModelData:
        """Upload a local file with the app's assets.

        A ``.tar.gz`` is unpacked by SageMaker into ``/opt/ml/model``; any other single file is
        copied there uncompressed. Directories are rejected: CDK would zip them, which SageMaker
        cannot read (pack one with ``tar czf model.tar.gz -C <dir> .``).
        """
        file = Path(path)
        Checker("ModelData.from_asset").require(
            file.is_file(), "path", "an existing file (a .tar.gz or a single model file)", str(file)
        )
        return _AssetModelData(file)

    @staticmethod
    def from_bucket(bucket: s3.IBucket, key: str) -> ModelData:
        """An object (or a prefix ending in ``/``) in a bucket of the app or imported into it.

        Read access includes the bucket's KMS key when CDK knows it.
        """
        check = Checker("ModelData.from_bucket")
        check.instance_of("bucket", bucket, BUCKET)
        check.require(
            not key.startswith("s3://"),
            "key",
            "a key inside the bucket, not an s3:// URI (use ModelData.from_s3_uri for a URI)",
            key,
        )
        check.require(
            bool(key) and not key.startswith("/"), "key", "a key without a leading /", key
        )
        return _BucketModelData(bucket, key)

    @staticmethod
    def from_s3_uri(uri: str, *, compressed: bool | None = None) -> ModelData:
        """An ``s3://bucket/key`` location outside the app.

        :param compressed: whether the object is a ``.tar.gz`` to unpack. Default: inferred
            from the key (``.tar.gz`` means compressed, a trailing ``/`` means a prefix).
        """
        check = Checker("ModelData.from_s3_uri")
        check.max_length("uri", uri, MAX_URI_LENGTH)
        # Called directly, not through check.valid: a deploy-time token is rejected too, since
        # the bucket and key name the read grant.
        problem = s3_uri_problem(uri)
        if problem is not None:
            check.fail("uri", problem, uri)
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if compressed:
            check.require(
                key.endswith(".tar.gz"), "uri", "a key ending in .tar.gz when compressed=True", uri
            )
        if compressed is False and key.endswith(".tar.gz"):
            check.fail(
                "compressed", "True for a .tar.gz key (SageMaker must unpack it)", compressed
            )
        return _UriModelData(bucket, key)

    @staticmethod
    def from_deploy_time_uri(
        uri: str, *, bucket: s3.IBucket, prefix: str, compressed: bool
    ) -> ModelData:
        """An object whose URI is known only at deploy time (a token, e.g. a model package's
        ``ModelDataUrl`` read by a custom resource), somewhere under ``prefix`` in ``bucket``.

        The grant covers the prefix (``s3:GetObject`` on ``<prefix>*``, ``s3:ListBucket``
        limited to it), since the exact key is unknown until then; the bucket's KMS key is
        included when CDK knows it.

        :param compressed: whether the object is a ``.tar.gz`` SageMaker unpacks.
        """
        check = Checker("ModelData.from_deploy_time_uri")
        check.instance_of("bucket", bucket, BUCKET)
        prefix = check.key_prefix("prefix", prefix)
        if not is_unresolved(uri):
            problem = s3_uri_problem(uri)
            if problem is not None:
                check.fail("uri", problem, uri)
        return _DeployTimeModelData(uri, bucket, prefix, compressed=compressed)

    @staticmethod
    def demo_model(*, archive: bool = True) -> ModelData:
        """The demo churn scorer shipped with the package (an ONNX model the runtime serves).

        :param archive: ``model.tar.gz``, which SageMaker unpacks to ``/opt/ml/model``; False
            gives the single ``model.onnx``, for servers that download the model themselves
            (ECS, Lambda). Default: True.
        """
        name = "model.tar.gz" if archive else "model.onnx"
        return ModelData.from_asset(demo_model_dir() / name)

    @abstractmethod
    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundModelData:
        """Resolve the location in ``scope`` and let ``grantee`` read it."""


def _bound(s3_uri: str, key: str) -> BoundModelData:
    if key.endswith("/"):
        return BoundModelData(s3_uri=s3_uri, s3_data_type="S3Prefix", compression="None")
    compression: Literal["Gzip", "None"] = "Gzip" if key.endswith(".tar.gz") else "None"
    return BoundModelData(s3_uri=s3_uri, s3_data_type="S3Object", compression=compression)


class _AssetModelData(ModelData):
    def __init__(self, file: Path) -> None:
        self.file = file
        self._assets: dict[str, s3_assets.Asset] = {}

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundModelData:
        asset = self._assets.get(scope.node.path)
        if asset is None:
            asset = s3_assets.Asset(scope, "ModelDataAsset", path=str(self.file))
            self._assets[scope.node.path] = asset
        grant_read_location(grantee, bucket_arn=asset.bucket.bucket_arn, key=asset.s3_object_key)
        # The asset key keeps only the last suffix (".gz"), so the layout follows the file name.
        return _bound(asset.s3_object_url, self.file.name)


class _BucketModelData(ModelData):
    def __init__(self, bucket: s3.IBucket, key: str) -> None:
        self.bucket, self.key = bucket, key

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundModelData:
        grant_read_location(
            grantee,
            bucket_arn=self.bucket.bucket_arn,
            key=self.key,
            encryption_key=self.bucket.encryption_key,
        )
        return _bound(f"s3://{self.bucket.bucket_name}/{self.key}", self.key)


class _UriModelData(ModelData):
    def __init__(self, bucket: str, key: str) -> None:
        self.bucket, self.key = bucket, key

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundModelData:
        bucket_arn = f"arn:{Stack.of(scope).partition}:s3:::{self.bucket}"
        grant_read_location(grantee, bucket_arn=bucket_arn, key=self.key)
        return _bound(f"s3://{self.bucket}/{self.key}", self.key)


class _DeployTimeModelData(ModelData):
    def __init__(self, uri: str, bucket: s3.IBucket, prefix: str, *, compressed: bool) -> None:
        self.uri, self.bucket, self.prefix, self.compressed = uri, bucket, prefix, compressed

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> BoundModelData:
        grant_read_location(
            grantee,
            bucket_arn=self.bucket.bucket_arn,
            key=self.prefix,
            encryption_key=self.bucket.encryption_key,
        )
        if isinstance(grantee, Construct):
            nag.acknowledge_wildcard_resource(
                grantee,
                self.bucket.arn_for_objects(f"{self.prefix}*"),
                "The object's key is known only at deploy time (e.g. a model package's "
                "ModelDataUrl); the grant is the prefix it lies under, read-only.",
            )
        return BoundModelData(
            s3_uri=self.uri,
            s3_data_type="S3Object",
            compression="Gzip" if self.compressed else "None",
        )
