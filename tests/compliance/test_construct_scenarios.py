"""The offline AWS checks over the construct-level scenario as well as the environments: one
fully featured instance of every construct (tests/helpers/scenarios.every_construct) embeds
requests that match AWS's API models, policies that IAM's data says can work, sizes and names
within deploy limits, and nothing checkov reports without a reason on the resource."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tests.helpers import deploy_limits as limits
from tests.helpers.apps import TEST_ENV, unit_app
from tests.helpers.aws_requests import embedded_requests, request_findings
from tests.helpers.checkov_scan import scan
from tests.helpers.iam_policies import policy_findings
from tests.helpers.scenarios import every_construct

# The same shares the environment checks use (tests/compliance/test_deploy_limits.py).
HEADROOM = 0.9


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    stack = cdk.Stack(unit_app(), "Constructs", env=TEST_ENV)
    every_construct(stack)
    template = dict(Template.from_stack(stack).to_json())
    return template


def test_every_embedded_request_matches_its_aws_model(scenario: dict[str, Any]) -> None:
    requests = list(embedded_requests(scenario))
    assert len(requests) >= 5  # the batch runner, schedules, rule targets, pipeline steps
    assert request_findings(scenario) == []


def test_every_policy_works_as_written(scenario: dict[str, Any]) -> None:
    assert policy_findings(scenario) == []


def test_sizes_and_names_are_within_deploy_limits(scenario: dict[str, Any]) -> None:
    measures = [
        *((m, HEADROOM) for m in limits.template_size(scenario)),
        *((m, HEADROOM) for m in limits.policy_sizes(scenario, {})),
        *((m, 1.0) for m in limits.physical_names(scenario, {})),
        *((m, 1.0) for m in limits.alarm_metrics(scenario)),
        *((m, 1.0) for m in limits.rule_targets(scenario)),
    ]
    assert measures
    assert [m for m, share in measures if m[1] > share * m[2]] == []


# What checkov reports for the constructs used directly, outside this repository's stacks: the
# environments carry these suppressions (with reasons) from mlops_cdk/stacks and
# _internal/defaults, so a consumer's app sees them unexplained. They belong on the resources
# inside the constructs; until they move, this list is exact (the test fails when one is fixed
# or a new one appears). The first is CDK's provider for the scenario's own VPC.
KNOWN_UNEXPLAINED = {
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandler", "CKV_AWS_115"),
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandler", "CKV_AWS_116"),
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandler", "CKV_AWS_117"),
    ("LambdaFunction", "CKV_AWS_115"),
    ("LambdaFunction", "CKV_AWS_116"),
    ("LambdaFunction", "CKV_AWS_117"),
    ("LambdaApiDeploymentStage", "CKV_AWS_120"),
    ("GpuInstanceRolePermissions", "CKV_AWS_111"),
    ("GpuLoadBalancerPublicListener", "CKV_AWS_2"),
    ("GpuLoadBalancerPublicListener", "CKV_AWS_103"),
}


def test_checkov_findings_are_the_known_ones(scenario: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "constructs.template.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    report = scan([path])
    assert report.passed > 50
    found = {
        (
            next(
                (k for k, _ in KNOWN_UNEXPLAINED if r.resource.split(".")[-1].startswith(k)),
                r.resource,
            ),
            r.check_id,
        )
        for r in report.failed
    }
    assert found == KNOWN_UNEXPLAINED, report.version
