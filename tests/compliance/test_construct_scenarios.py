"""The offline AWS checks over the construct-level scenario as well as the environments: one
fully featured instance of every construct (tests/helpers/scenarios.every_construct) embeds
requests that match AWS's API models, policies that IAM's data says can work, sizes and names
within deploy limits (with the environments' margins). checkov runs over it, like over every
template a test builds, in the template audit (tests/helpers/template_audit.py)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from tests.helpers import deploy_limits as limits
from tests.helpers.apps import TEST_ENV, unit_app
from tests.helpers.aws_requests import embedded_requests, request_findings
from tests.helpers.iam_policies import policy_findings
from tests.helpers.scenarios import every_construct


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
    """With the environments' margins (tests/helpers/deploy_limits.py CHECKS)."""
    assert all(measure(scenario, {}) for measure, _ in limits.CHECKS.values())
    assert limits.limit_findings(scenario) == []


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
