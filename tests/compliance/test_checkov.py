"""checkov finds nothing unexplained in any deployed template: each finding is fixed or
suppressed on its resource (``Metadata.checkov.skip``, through ``mlops_cdk._internal.checkov``)
with a reason; a canary proves checkov runs and honours exactly those suppressions."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from mlops_cdk._internal import checkov
from tests.helpers.apps import SynthesizedApp, unit_app, unit_stack
from tests.helpers.checkov_scan import scan


def canary_template(folder: Path, *, skip: bool) -> Path:
    """A bucket without access logging (CKV_AWS_18), suppressed through our helper or not."""
    stack = unit_stack(unit_app(), "CheckovCanary")
    bucket = s3.Bucket(stack, "Plain")
    if skip:
        checkov.skip(bucket, "CKV_AWS_18", "canary: this suppression must be honoured")
    template = cdk.assertions.Template.from_stack(stack).to_json()
    path = folder / f"canary-{'skipped' if skip else 'plain'}.template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return path


def approved_template_files(approved_app: SynthesizedApp, folder: Path) -> list[Path]:
    """The stacks that change when a package is approved (staging, prod: serving, monitoring)."""
    files = []
    for name, template in approved_app.templates().items():
        if name.endswith(("-serving", "-monitoring")):
            path = folder / f"approved-{name}.template.json"
            path.write_text(json.dumps(template), encoding="utf-8")
            files.append(path)
    return files


def test_every_template_passes_checkov_or_explains_why(
    deployed_template_files: list[Path], approved_app: SynthesizedApp, tmp_path: Path
) -> None:
    """One checkov process (its start-up is most of its cost) over every deployed template (and
    those serving an approved package) and two canaries: a failing bucket, and the same bucket
    suppressed through our helper."""
    plain, skipped = canary_template(tmp_path, skip=False), canary_template(tmp_path, skip=True)
    approved = approved_template_files(approved_app, tmp_path)
    assert len(approved) == 4
    deployed_template_files = [*deployed_template_files, *approved]
    report = scan([*deployed_template_files, plain, skipped])
    canaries = {plain.name, skipped.name}

    # The canaries: checkov runs, reports the failure, honours exactly our suppression.
    failed = {(r.file, r.check_id) for r in report.failed}
    assert (plain.name, "CKV_AWS_18") in failed
    assert (skipped.name, "CKV_AWS_18") not in failed
    assert (skipped.name, "CKV_AWS_21") in failed  # versioning: not suppressed, still reported
    (suppressed,) = [r for r in report.skipped if r.file == skipped.name]
    assert (suppressed.check_id, suppressed.comment) == (
        "CKV_AWS_18",
        "canary: this suppression must be honoured",
    )

    # The deployed templates: nothing fails, every suppression has a reason.
    assert report.passed > 500
    assert [str(r) for r in report.failed if r.file not in canaries] == [], report.version
    deployed = [r for r in report.skipped if r.file not in canaries]
    assert [str(r) for r in deployed if len((r.comment or "").strip()) < 20] == []
    assert {r.file for r in deployed} <= {p.name for p in deployed_template_files}


def test_suppression_needs_a_real_reason_and_a_resource() -> None:
    stack = unit_stack(unit_app(), "Reasonless")
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError, match="needs a real reason"):
        checkov.skip(bucket, "CKV_AWS_18", "ok")
    with pytest.raises(ValueError, match="no AWS::Lambda::Function"):
        checkov.skip(
            stack,
            "CKV_AWS_116",
            "a reason long enough to pass",
            resource_type="AWS::Lambda::Function",
        )


def test_suppressions_of_one_resource_accumulate_and_replace_by_id() -> None:
    stack = unit_stack(unit_app(), "Accumulate")
    bucket = s3.Bucket(stack, "Bucket")
    checkov.skip(bucket, "CKV_AWS_18", "first reason, long enough to pass")
    checkov.skip(bucket, "CKV_AWS_21", "second reason, long enough to pass")
    checkov.skip(bucket, "CKV_AWS_18", "replaced reason, long enough to pass")
    (resource,) = (
        cdk.assertions.Template.from_stack(stack).find_resources("AWS::S3::Bucket").values()
    )
    assert resource["Metadata"]["checkov"]["skip"] == [
        {"id": "CKV_AWS_21", "comment": "second reason, long enough to pass"},
        {"id": "CKV_AWS_18", "comment": "replaced reason, long enough to pass"},
    ]
