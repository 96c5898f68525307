"""The template audit (tests/helpers/template_audit.py) catches a planted defect of each kind in
a template a test builds, attributes it to the test or fixture that built it, fails that owner,
honours exemptions, fails unused ones, and runs checkov over what the tests built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.compliance import template_findings
from tests.helpers.paths import ROOT
from tests.helpers.template_audit import (
    Built,
    CheckovExemption,
    Exemption,
    TemplateAudit,
    checkov_problems,
)

TRANSFORM = {
    "TransformJobName": "score-nightly",
    "ModelName": "churn",
    "TransformInput": {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/x/"}}
    },
    "TransformOutput": {"S3OutputPath": "s3://out/x/"},
    "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
}


def transform_stack(**changes: Any) -> cdk.Stack:
    """A state machine with one CreateTransformJob task whose parameters get ``changes``
    (a key with a ``None`` value is removed)."""
    stack = unit_stack(name="Planted")
    parameters: dict[str, Any] = json.loads(json.dumps(TRANSFORM))
    for key, value in changes.items():
        target, _, member = key.rpartition(".")
        node = parameters
        for part in filter(None, target.split(".")):
            node = node[part]
        if value is None:
            del node[member]
        else:
            node[member] = value
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
    definition = {
        "StartAt": "Transform",
        "States": {
            "Transform": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync",
                "Parameters": parameters,
                "End": True,
            }
        },
    }
    sfn.CfnStateMachine(
        stack, "Machine", role_arn=role.role_arn, definition_string=json.dumps(definition)
    )
    return stack


def findings_of(audit: TemplateAudit, stack: cdk.Stack) -> list[str]:
    with audit.expect_findings() as found:
        Template.from_stack(stack)
    return found


def test_a_clean_small_scenario_has_no_findings(template_audit: TemplateAudit) -> None:
    assert findings_of(template_audit, transform_stack()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"TransformInput": None, "TransformInptu": {"DataSource": {}}},
            "Transform': sagemaker:CreateTransformJob TransformInptu: unknown member",
        ),
        (
            {"TransformResources.InstanceType": "ml.c5d.xlarge"},
            "TransformResources.InstanceType: 'ml.c5d.xlarge' is not one of",
        ),
        (
            {"TransformJobName": "n" * 64},
            f"TransformJobName: '{'n' * 64}' has 64 characters, more than the maximum 63",
        ),
    ],
    ids=["misspelled-member", "instance-type-not-in-the-transform-enum", "over-long-job-name"],
)
def test_a_planted_request_defect_is_reported(
    template_audit: TemplateAudit, changes: dict[str, Any], expected: str
) -> None:
    found = findings_of(template_audit, transform_stack(**changes))
    assert any(f.startswith("Planted: request: ") and expected in f for f in found), found


def test_an_unknown_action_is_reported(template_audit: TemplateAudit) -> None:
    stack = unit_stack(name="Planted")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObjects"], resources=["*"]))
    found = findings_of(template_audit, stack)
    assert any("Planted: iam: " in f and "s3:GetObjects: no such action" in f for f in found), found


def test_an_over_long_physical_name_is_reported(template_audit: TemplateAudit) -> None:
    stack = unit_stack(name="Planted")
    s3.CfnBucket(stack, "Bucket", bucket_name="b" * 64)
    found = findings_of(template_audit, stack)
    assert any(
        "limit: physical-names: Bucket.BucketName" in f and "64 > 100% of 63" in f for f in found
    )


def test_a_cross_stack_reference_is_resolved_through_the_sibling_template(
    template_audit: TemplateAudit,
) -> None:
    """A grant on another stack's bucket: the policy's resource is an import. Alone, the checker
    cannot tell it is a bucket ARN (IAM finding); with the sibling template it follows the
    export to the bucket and the policy works as written."""
    app = unit_app()
    bucket = s3.Bucket(unit_stack(app, "Producer"), "Bucket")
    consumer = unit_stack(app, "Consumer")
    role = iam.Role(consumer, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")])
    )
    with template_audit.expect_findings() as found:
        template = Template.from_stack(consumer).to_json()
    assert "Fn::GetStackOutput" in json.dumps(template) or "Fn::ImportValue" in json.dumps(template)
    assert found == []
    alone = template_findings(template, margins=False)
    assert any("iam: " in f and "s3:GetObject" in f for f in alone), alone


def test_checkov_runs_over_what_was_built_and_honours_exemptions(tmp_path: Path) -> None:
    audit = TemplateAudit((), (), tmp_path)
    stack = unit_stack(name="Plain")
    s3.Bucket(stack, "Bucket", enforce_ssl=True)
    Template.from_stack(stack)  # the plugin audits it as this test's (exempted scaffolding)
    with audit.owned_by("tests/x.py::test_plain"):
        audit.record(stack)  # and this audit, to see what it reports
    output = audit.run_checkov()
    assert output["templates"] == 1
    results = [{**r, "owners": ["tests/x.py::test_plain"]} for r in output["failed"]]
    problems = checkov_problems(results, (), whole_suite=False)
    assert any(
        "AWS::S3::Bucket.Bucket83908E77: CKV_AWS_18" in p
        and "(built by tests/x.py::test_plain)" in p
        for p in problems
    ), problems
    exempt = CheckovExemption(
        ("CKV_AWS_18", "CKV_AWS_21", "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"),
        "Bucket83908E77",
        "scaffolding",
        owner="tests/x.py",
    )
    unused = CheckovExemption(("CKV_AWS_7",), "Key", "nothing has it")
    assert checkov_problems(results, (exempt,), whole_suite=True) == []
    assert checkov_problems(results, (exempt, unused), whole_suite=False) == []
    assert checkov_problems(results, (exempt, unused), whole_suite=True) == [
        "exemption explained nothing (remove it): CKV_AWS_7 'Key' "
    ]
    elsewhere = CheckovExemption(exempt.check_ids, "Bucket83908E77", "x", owner="tests/y.py")
    assert len(checkov_problems(results, (elsewhere,), whole_suite=False)) == 6


def test_exemptions_are_per_owner_and_unused_ones_are_reported() -> None:
    owner = "tests/x.py::test_a"
    finding = "Planted: request: M state 'T': sagemaker:CreateTransformJob X: unknown member"
    audit = TemplateAudit(
        (
            Exemption(owner, "X: unknown member", "planted"),
            Exemption(owner, "Y: unknown member", "stale"),
            Exemption("tests/x.py::test_b", "X: unknown member", "another test's"),
        ),
        (),
        None,
    )
    with audit.owned_by(owner) as built:
        built.built.append(_built(finding))
    assert audit.problems(built) == ["exemption explained nothing (remove it): 'Y: unknown member'"]
    with audit.owned_by("tests/x.py::test_c") as other:
        other.built.append(_built(finding))
    assert audit.problems(other) == [finding]


def _built(finding: str) -> Built:
    stack, _, text = finding.partition(": ")
    return Built("digest", stack, (text,))


# The plugin end to end, in a pytest of its own (the only way to see a test fail) --------------

_CASES = """
    import pytest
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Template

    from tests.helpers.apps import unit_stack


    def planted(name):
        stack = unit_stack(name=name)
        s3.CfnBucket(stack, "Bucket", bucket_name="b" * 64)
        return Template.from_stack(stack)


    @pytest.fixture(scope="module")
    def broken_fixture():
        return planted("FromFixture")


    def test_builds_a_defect():
        planted("InTest")


    def test_uses_the_fixture(broken_fixture):
        pass


    def test_uses_the_fixture_again(broken_fixture):
        pass


    def test_exempted():
        planted("Exempted")


    def test_clean_but_exempted():
        pass
"""

_EXEMPTIONS = """
    from tests.helpers.template_audit import Exemption

    EXEMPTIONS = (
        Exemption("test_cases.py::test_exempted", "Bucket.BucketName", "planted on purpose"),
        Exemption("test_cases.py::test_clean_but_exempted", "BucketName", "stale"),
    )
    CHECKOV_EXEMPTIONS = ()
"""


def test_the_plugin_fails_the_owner_of_a_defect(tmp_path: Path) -> None:
    (tmp_path / "test_cases.py").write_text(textwrap.dedent(_CASES), encoding="utf-8")
    (tmp_path / "planted_exemptions.py").write_text(textwrap.dedent(_EXEMPTIONS), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.helpers.template_audit",
            "--template-audit-exemptions=planted_exemptions",
            "--template-audit-checkov=off",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--rootdir",
            str(tmp_path),
            "-c",
            "/dev/null",
            "test_cases.py",
        ],
        cwd=tmp_path,
        env={**_environ(), "PYTHONPATH": f"{ROOT}:{tmp_path}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "FAILED test_cases.py::test_builds_a_defect" in out
    assert "InTest: limit: physical-names: Bucket.BucketName" in out
    # A fixture that builds a defect errors every test that uses it.
    assert "ERROR test_cases.py::test_uses_the_fixture " in out
    assert "ERROR test_cases.py::test_uses_the_fixture_again" in out
    assert "test_cases.py::broken_fixture built break what AWS accepts" in out
    assert "PASSED test_cases.py::test_exempted" in out
    assert "FAILED test_cases.py::test_clean_but_exempted" in out
    assert "exemption explained nothing (remove it): 'BucketName'" in out
    assert "2 failed, 1 passed, 2 errors" in out


def _environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
