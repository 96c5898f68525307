"""Option groups of :class:`~mlops_cdk.constructs.BatchTransformJob`: where a job reads and
where it writes.

Each is a frozen dataclass that checks its own invariants when it is created; rules that involve
both (an output prefix inside the input prefix) are checked by the job, with its construct path
in the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from aws_cdk import aws_s3 as s3

from mlops_cdk._internal.patterns import TransformAssembleWith, TransformSplitType
from mlops_cdk._internal.validation import BUCKET, Checker

SplitType = TransformSplitType
CompressionType = Literal["None", "Gzip"]
AssembleWith = TransformAssembleWith

SPLIT_TYPES: tuple[str, ...] = get_args(TransformSplitType)
COMPRESSION_TYPES: tuple[str, ...] = ("None", "Gzip")
ASSEMBLE_WITH: tuple[str, ...] = get_args(TransformAssembleWith)
# ContentType and Accept (API_TransformInput, API_TransformOutput): at most 256 characters.
MAX_MIME_TYPE = 256
# S3 URIs in a transform request are at most 1024 characters (S3DataSource.S3Uri, S3OutputPath);
# the output path adds the 63-character job name and a "/", the bucket name up to 63 more.
MAX_PREFIX = 1024 - len("s3://") - 63 - 1 - 63 - 1


def _or_none(value: str | None) -> str:
    """The API spelling of "not set": the string ``None``."""
    return "None" if value is None else value


def _check_prefix(check: Checker, options: TransformInput | TransformOutput) -> None:
    check.instance_of("bucket", options.bucket, BUCKET)
    check.key_prefixes(options, "prefix")
    check.max_length("prefix", options.prefix, MAX_PREFIX)


@dataclass(frozen=True, kw_only=True)
class TransformInput:
    """What a batch transform job reads: every object under ``prefix`` of ``bucket`` (scheduled
    and manual runs), or one new object there (``run_on_new_data``).

    :param bucket: the input bucket. For ``run_on_new_data`` it must send its events to
        EventBridge (the Data stack's ``batch-input`` bucket does).
    :param prefix: key prefix ending in ``/``, such as ``scoring/input/``.
    :param content_type: MIME type SageMaker sends with each request. Default: ``text/csv``.
    :param split_type: how objects are split into records: ``Line``, ``RecordIO``, ``TFRecord``
        or ``None`` (one request per object). Default: ``Line``.
    :param compression: ``Gzip`` when the objects are gzipped (SageMaker decompresses them).
        Default: none.
    """

    bucket: s3.IBucket
    prefix: str
    content_type: str = "text/csv"
    split_type: SplitType | None = "Line"
    compression: CompressionType | None = None

    def __post_init__(self) -> None:
        check = Checker("TransformInput")
        _check_prefix(check, self)
        check.max_length("content_type", self.content_type, MAX_MIME_TYPE)
        check.one_of("split_type", _or_none(self.split_type), SPLIT_TYPES)
        check.one_of("compression", _or_none(self.compression), COMPRESSION_TYPES)

    @property
    def splits(self) -> bool:
        """True when objects are split into records (any split type but ``None``)."""
        return _or_none(self.split_type) != "None"


@dataclass(frozen=True, kw_only=True)
class TransformOutput:
    """Where a batch transform job writes: ``<prefix><job name>/<input object name>.out``.

    Each run writes under its own job name, so runs never overwrite each other's results.

    :param bucket: the output bucket.
    :param prefix: key prefix ending in ``/``; must not be the input prefix or under it.
    :param accept: MIME type asked of the model. Default: ``text/csv``.
    :param assemble_with: how results of one object are joined: ``Line`` (one result per line)
        or ``None`` (concatenated). Default: ``Line``.
    """

    bucket: s3.IBucket
    prefix: str
    accept: str = "text/csv"
    assemble_with: AssembleWith | None = "Line"

    def __post_init__(self) -> None:
        check = Checker("TransformOutput")
        _check_prefix(check, self)
        check.max_length("accept", self.accept, MAX_MIME_TYPE)
        check.one_of("assemble_with", _or_none(self.assemble_with), ASSEMBLE_WITH)
