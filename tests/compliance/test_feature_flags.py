"""The constructs do not depend on the consumer app's feature flags (DESIGN §3.1): every
construct-level scenario and the prod EnvironmentStage build the same resources in an app with
no context at all as in an app with this repository's cdk.json flags; nothing creates a launch
configuration (accounts opened since late 2024 cannot); the no-flags app passes the 5 packs and
the template audit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest

from mlops_cdk.config import load_environment
from mlops_cdk.stacks.app import NAG_PACKS
from mlops_cdk.stacks.stage import EnvironmentStage
from tests.helpers.apps import TEST_ENV, cdk_json_context
from tests.helpers.scenarios import every_construct
from tests.helpers.template_audit import TemplateAudit

LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"


def build(app: cdk.App) -> cdk.App:
    every_construct(cdk.Stack(app, "Constructs", env=TEST_ENV))
    EnvironmentStage(app, "prod", config=load_environment("prod"))
    return app


def no_flags() -> cdk.App:
    return build(cdk.App(builtin_cloud_formation_validation=False))


def with_flags() -> cdk.App:
    return build(cdk.App(context=cdk_json_context(), builtin_cloud_formation_validation=False))


def resource_counts(app: cdk.App) -> dict[str, Counter[str]]:
    """Stack path -> resource type -> count, over every stack of the app (stages included)."""
    assembly = app.synth()
    stacks = list(assembly.stacks)
    for nested in assembly.nested_assemblies:
        stacks.extend(nested.nested_assembly.stacks_recursively)
    return {
        stack.hierarchical_id: Counter(r["Type"] for r in stack.template["Resources"].values())
        for stack in stacks
    }


@pytest.fixture(scope="module")
def apps() -> dict[str, cdk.App]:
    return {"no-flags": no_flags(), "cdk.json": with_flags()}


@pytest.fixture(scope="module")
def counts(apps: dict[str, cdk.App]) -> dict[str, dict[str, Counter[str]]]:
    return {name: resource_counts(app) for name, app in apps.items()}


def test_the_same_resources_with_and_without_feature_flags(
    counts: dict[str, dict[str, Counter[str]]],
) -> None:
    bare, flagged = counts["no-flags"], counts["cdk.json"]
    assert sorted(bare) == sorted(flagged)
    assert len(bare) >= 7  # the construct stack and the prod stage's stacks
    differences = {
        stack: {
            kind: (bare[stack][kind], flagged[stack][kind])
            for kind in set(bare[stack]) | set(flagged[stack])
            if bare[stack][kind] != flagged[stack][kind]
        }
        for stack in bare
    }
    assert {s: d for s, d in differences.items() if d} == {}


@pytest.mark.parametrize("app_name", ["no-flags", "cdk.json"])
def test_no_launch_configuration_anywhere(
    counts: dict[str, dict[str, Counter[str]]], app_name: str
) -> None:
    assert {
        s: c[LAUNCH_CONFIGURATION] for s, c in counts[app_name].items() if c[LAUNCH_CONFIGURATION]
    } == {}
    assert any(c["AWS::EC2::LaunchTemplate"] for c in counts[app_name].values())


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_the_app_without_flags_passes_every_nag_pack(
    apps: dict[str, cdk.App], pack: Callable[[], object]
) -> None:
    report = pack().validate_scope(apps["no-flags"])  # type: ignore[attr-defined]
    found = sorted(
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
        if "/Vpc/" not in (r.construct_path or "")  # the stand-in VPC is not under test
    )
    assert found == []


def test_the_app_without_flags_is_deploy_checked(
    apps: dict[str, cdk.App], template_audit: TemplateAudit
) -> None:
    """Its templates differ from the flagged ones in properties, not only in counts: the
    template audit checks them like every template a test builds (requests, IAM, limits here,
    checkov at the session's end), and fails this test on a finding."""
    outdir = Path(apps["no-flags"].synth().directory)
    assert template_audit.record_assembly(outdir) >= 7
