"""Every prefix option accepts ``"capture"`` and ``"capture/"`` alike and keeps the
trailing-slash form (the intent is unambiguous; one rule in ``Checker.key_prefix``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk.constructs import (
    AsyncInference,
    Baseline,
    DataCapture,
    GroundTruth,
    MonitoredEndpoint,
    ReportLocation,
    S3Trigger,
    TransformInput,
    TransformOutput,
)
from tests.helpers.apps import unit_stack
from tests.helpers.scenarios import pipeline

BUCKET = s3.Bucket.from_bucket_name(unit_stack(), "Bucket", "data-bucket")

CASES: list[tuple[str, Callable[[str], object], Callable[[object], str]]] = [
    ("data-capture", lambda p: DataCapture(bucket=BUCKET, prefix=p), lambda o: o.prefix),  # type: ignore[attr-defined]
    (
        "async-output",
        lambda p: AsyncInference(output_bucket=BUCKET, output_prefix=p),
        lambda o: o.output_prefix,  # type: ignore[attr-defined]
    ),
    (
        "async-failure",
        lambda p: AsyncInference(output_bucket=BUCKET, failure_prefix=p),
        lambda o: o.failure_prefix,  # type: ignore[attr-defined]
    ),
    ("transform-input", lambda p: TransformInput(bucket=BUCKET, prefix=p), lambda o: o.prefix),  # type: ignore[attr-defined]
    ("transform-output", lambda p: TransformOutput(bucket=BUCKET, prefix=p), lambda o: o.prefix),  # type: ignore[attr-defined]
    (
        "s3-trigger-input",
        lambda p: S3Trigger(bucket=BUCKET, input_prefix=p, output_prefix="scored/"),
        lambda o: o.input_prefix,  # type: ignore[attr-defined]
    ),
    (
        "s3-trigger-output",
        lambda p: S3Trigger(bucket=BUCKET, input_prefix="incoming/", output_prefix=p),
        lambda o: o.output_prefix,  # type: ignore[attr-defined]
    ),
    ("ground-truth", lambda p: GroundTruth(bucket=BUCKET, prefix=p), lambda o: o.prefix),  # type: ignore[attr-defined]
    (
        "monitored-endpoint",
        lambda p: MonitoredEndpoint(endpoint_name="churn", bucket=BUCKET, prefix=p),
        lambda o: o.prefix,  # type: ignore[attr-defined]
    ),
    ("report-location", lambda p: ReportLocation(bucket=BUCKET, prefix=p), lambda o: o.prefix),  # type: ignore[attr-defined]
]


@pytest.mark.parametrize(("make", "read"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("given", ["capture", "capture/"], ids=["no-slash", "slash"])
def test_prefix_accepts_both_spellings(
    make: Callable[[str], object], read: Callable[[object], str], given: str
) -> None:
    assert read(make(given)) == "capture/"


def test_baseline_from_bucket_normalises_its_prefix() -> None:
    baseline = Baseline.from_bucket(BUCKET, "baseline")
    assert baseline.constraints.key == "baseline/constraints.json"  # type: ignore[attr-defined]


def test_pipeline_prefixes_are_normalised() -> None:
    built = pipeline(unit_stack(), input_prefix="churn/input", code_prefix="code")
    assert (built.input_prefix, built.code_prefix) == ("churn/input/", "code/")
