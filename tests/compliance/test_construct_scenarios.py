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


# CDK's provider that closes the default security group of the scenario's own VPC: test
# scaffolding, not a construct under test (the Network stack explains it for the environments).
SCAFFOLDING = "CustomVpcRestrictDefaultSGCustomResourceProvider"


def test_checkov_finds_nothing_unexplained(scenario: dict[str, Any], tmp_path: Path) -> None:
    """The constructs explain their own findings on their resources (a consumer's app gets the
    same suppressions as this repository's environments)."""
    path = tmp_path / "constructs.template.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    report = scan([path])
    assert report.passed > 50
    unexplained = [str(r) for r in report.failed if SCAFFOLDING not in r.resource]
    assert unexplained == [], report.version
    assert [str(r) for r in report.skipped if len((r.comment or "").strip()) < 20] == []


def test_the_nag_packs_find_nothing_unacknowledged() -> None:
    """The five packs over every construct (the environments' check covers only what the
    config enables; ExistingEndpoint and EndpointApi, for example, are here only)."""
    from mlops_cdk.stacks.app import NAG_PACKS

    app = unit_app()
    every_construct(cdk.Stack(app, "Constructs", env=TEST_ENV))
    found = sorted(
        f"{violation.rule_name} [{resource.construct_path}]"
        for pack in NAG_PACKS
        for violation in pack().validate_scope(app).violations
        for resource in violation.violating_resources
        if not (resource.construct_path or "").startswith("Constructs/Vpc/")  # scaffolding
    )
    assert found == []
