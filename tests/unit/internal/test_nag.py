"""Acknowledgements that must match cdk-nag's findings on the synthesized templates."""

from __future__ import annotations

import tempfile

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from mlops_cdk._internal import nag
from mlops_cdk.constructs import ContainerImage, DataCapture, RealtimeEndpoint

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1"


def synth_team_app() -> None:
    """A team's app: its bucket in one stack, an endpoint capturing into it in another (a
    cross-stack reference CDK resolves only during synthesis), with AwsSolutions on."""
    app = cdk.App(outdir=tempfile.mkdtemp(), builtin_cloud_formation_validation=False)
    team = cdk.Stack(app, "Team", env=ENV)
    bucket = s3.Bucket(team, "Data", enforce_ssl=True)
    nag.acknowledge(bucket, "AwsSolutions-S1", "Test scaffolding: the team's own bucket.")
    serving = cdk.Stack(app, "Serving", env=ENV)
    RealtimeEndpoint(
        serving,
        "Online",
        image=ContainerImage.from_uri(IMAGE),
        data_capture=DataCapture(bucket=bucket, prefix="capture/"),
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


def test_a_wildcard_on_another_stacks_bucket_is_acknowledged_as_synthesized() -> None:
    synth_team_app()  # raises ValidationFailed on any unacknowledged finding


def test_without_the_late_acknowledgement_the_cross_stack_wildcard_is_a_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nag._LateAcknowledgement, "validate", lambda self: [])
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth_team_app()
