"""Value types of :class:`~mlops_cdk.constructs.ModelMonitorSchedule`.

Each checks its own invariants when created; rules that involve the monitor as a whole
(backend against monitoring type, schedule against runtime) are checked by the construct.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal.model_quality import LOWER_IS_BETTER, QUALITY_METRICS
from mlops_cdk._internal.patterns import (
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MEANING,
)
from mlops_cdk._internal.runtime_assets import demo_model_dir
from mlops_cdk._internal.validation import BUCKET, KEY, Checker, Said
from mlops_cdk.constructs.model_data import ModelData


class MonitoringType(Enum):
    """What a monitor checks (the ``MonitoringType`` of a SageMaker monitoring schedule)."""

    DATA_QUALITY = "DataQuality"
    MODEL_QUALITY = "ModelQuality"
    MODEL_BIAS = "ModelBias"
    MODEL_EXPLAINABILITY = "ModelExplainability"


class MonitorBackend(Enum):
    """Who runs the analysis.

    ``MODEL_MONITOR``: SageMaker Model Monitor (``AWS::SageMaker::MonitoringSchedule``), for
    accounts that have it (closed to new customers in 2026). ``DRIFT_JOB``: the mlops-cdk drift
    job as a scheduled SageMaker Processing job; data quality and model quality, same metrics.
    """

    MODEL_MONITOR = "MODEL_MONITOR"
    DRIFT_JOB = "DRIFT_JOB"


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """The baseline a window is compared with: Model Monitor's ``constraints.json`` and
    ``statistics.json`` (our drift job's ``baseline`` command writes both), or for bias and
    explainability Clarify's ``analysis.json`` as ``constraints``.

    :param constraints: the constraints file.
    :param statistics: the statistics file (data quality needs it). Default: none.
    :param features: feature names, for the per-feature drift alarm. Default: read from a local
        ``constraints.json`` by :meth:`from_directory`; otherwise unknown.
    """

    constraints: ModelData
    statistics: ModelData | None = None
    features: Sequence[str] | None = None

    def __post_init__(self) -> None:
        check = Checker("Baseline")
        check.require(
            isinstance(self.constraints, ModelData),
            "constraints",
            "a ModelData location (from_asset, from_bucket or from_s3_uri)",
            Said(type(self.constraints).__name__),
        )
        if self.features is not None:
            check.require(
                len(self.features) > 0 and all(self.features),
                "features",
                "a non-empty list of feature names",
                Said(repr(list(self.features))),
            )

    @staticmethod
    def from_bucket(
        bucket: s3.IBucket, prefix: str, *, features: Sequence[str] | None = None
    ) -> Baseline:
        """``<prefix>constraints.json`` and ``<prefix>statistics.json`` in ``bucket``."""
        check = Checker("Baseline.from_bucket")
        check.instance_of("bucket", bucket, BUCKET)
        prefix = check.key_prefix("prefix", prefix)
        return Baseline(
            constraints=ModelData.from_bucket(bucket, f"{prefix}constraints.json"),
            statistics=ModelData.from_bucket(bucket, f"{prefix}statistics.json"),
            features=features,
        )

    @staticmethod
    def demo_model() -> Baseline:
        """The baseline of :meth:`ModelData.demo_model`, computed from its training data."""
        return Baseline.from_directory(demo_model_dir() / "baseline")

    @staticmethod
    def demo_model_quality() -> Baseline:
        """The model-quality baseline of :meth:`ModelData.demo_model` (binary classification,
        its held-out test scores; ``scripts/make_demo_quality_baseline.py``)."""
        folder = demo_model_dir() / "quality_baseline"
        return Baseline(
            constraints=ModelData.from_asset(folder / "constraints.json"),
            statistics=ModelData.from_asset(folder / "statistics.json"),
        )

    @staticmethod
    def from_directory(path: str | Path) -> Baseline:
        """A local folder with ``constraints.json`` and ``statistics.json``, uploaded as assets.

        The feature names are read from ``constraints.json`` now, so the drift alarm can watch
        one ``feature_baseline_drift_<feature>`` metric per feature.
        """
        folder = Path(path)
        check = Checker("Baseline.from_directory")
        for name in ("constraints.json", "statistics.json"):
            check.require(
                (folder / name).is_file(), "path", f"a folder holding {name}", str(folder)
            )
        try:
            document = json.loads((folder / "constraints.json").read_text(encoding="utf-8"))
            features = [str(feature["name"]) for feature in document["features"]]
        except (ValueError, KeyError, TypeError) as exc:
            check.fail("path", "a folder whose constraints.json lists features[].name", str(exc))
        return Baseline(
            constraints=ModelData.from_asset(folder / "constraints.json"),
            statistics=ModelData.from_asset(folder / "statistics.json"),
            features=features,
        )


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    """Where ground-truth labels are uploaded (model quality and bias merge them with
    captured predictions by ``eventId``).

    :param bucket: the bucket.
    :param prefix: key prefix ending in ``/``.
    """

    bucket: s3.IBucket
    prefix: str

    def __post_init__(self) -> None:
        check = Checker("GroundTruth")
        check.instance_of("bucket", self.bucket, BUCKET)
        check.key_prefixes(self, "prefix")


@dataclass(frozen=True, kw_only=True)
class QualityAlarm:
    """Alarm when a model-quality metric crosses a threshold: below it for metrics where
    higher is better (accuracy, auc, f1, r2, ...), above it for error rates and errors
    (``false_positive_rate``, ``false_negative_rate``, ``mae``, ``mse``, ``rmse``).

    :param metric: a metric name Model Monitor's model-quality monitor publishes, e.g. ``auc``.
    :param threshold: the threshold.
    """

    metric: str
    threshold: float

    def __post_init__(self) -> None:
        check = Checker("QualityAlarm")
        known = sorted({name for names in QUALITY_METRICS.values() for name in names})
        check.one_of("metric", self.metric, known)
        check.require(
            isinstance(self.threshold, int | float) and not isinstance(self.threshold, bool),
            "threshold",
            "a number",
            Said(repr(self.threshold)),
        )

    @property
    def lower_is_better(self) -> bool:
        """True for error rates and errors (the alarm fires above the threshold)."""
        return self.metric in LOWER_IS_BETTER


@dataclass(frozen=True, kw_only=True)
class MonitoredEndpoint:
    """An endpoint deployed elsewhere (not a :class:`RealtimeEndpoint` of this app) whose data
    capture writes to ``s3://<bucket>/<prefix><endpoint_name>/...``.

    :param endpoint_name: the SageMaker endpoint name.
    :param bucket: the capture bucket.
    :param prefix: the capture prefix (``DataCaptureConfig.DestinationS3Uri`` after the bucket).
    :param encryption_key: the KMS key capture files are encrypted with. Default: the
        bucket's key when CDK knows it.
    """

    endpoint_name: str
    bucket: s3.IBucket
    prefix: str = "data-capture/"
    encryption_key: kms.IKey | None = None

    def __post_init__(self) -> None:
        check = Checker("MonitoredEndpoint")
        check.types((("bucket", self.bucket, BUCKET), ("encryption_key", self.encryption_key, KEY)))
        check.matches("endpoint_name", self.endpoint_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
        check.key_prefixes(self, "prefix")


@dataclass(frozen=True, kw_only=True)
class ReportLocation:
    """Where each run writes its reports (``constraint_violations.json`` and friends).

    :param bucket: the bucket.
    :param prefix: key prefix ending in ``/``. Default: ``monitoring/``.
    """

    bucket: s3.IBucket
    prefix: str = "monitoring/"

    def __post_init__(self) -> None:
        check = Checker("ReportLocation")
        check.instance_of("bucket", self.bucket, BUCKET)
        check.key_prefixes(self, "prefix")
