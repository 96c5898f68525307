"""One reviewed snapshot per environment stack. Update with ``make snapshots`` and read the diff."""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.helpers.apps import SynthesizedApp
from tests.snapshots.extension import TemplateSnapshot, normalise

STACKS = [
    f"mlops-{env}-{part}"
    for env in ("dev", "staging", "prod")
    for part in ("data", "network", "serving", "batch", "training")
]
# Monitoring runs where the endpoint captures traffic (staging and prod).
STACKS += [f"mlops-{env}-monitoring" for env in ("staging", "prod")]


# With -c approved_model_package=<arn>: staging serves its own registry's package, prod the
# package promoted from staging; both drift-check against the package's baselines.
APPROVED_STACKS = [
    f"mlops-{env}-{part}" for env in ("staging", "prod") for part in ("serving", "monitoring")
]


@pytest.fixture
def template_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TemplateSnapshot)


def test_every_stack_has_a_snapshot(synthesized_app: SynthesizedApp) -> None:
    assert sorted(synthesized_app.templates()) == sorted(STACKS)


@pytest.mark.parametrize("stack_name", STACKS)
def test_stack_template_matches_snapshot(
    synthesized_app: SynthesizedApp, template_snapshot: SnapshotAssertion, stack_name: str
) -> None:
    assert synthesized_app.templates()[stack_name] == template_snapshot


@pytest.mark.parametrize("stack_name", APPROVED_STACKS)
def test_approved_package_stack_template_matches_snapshot(
    approved_app: SynthesizedApp, template_snapshot: SnapshotAssertion, stack_name: str
) -> None:
    assert approved_app.templates()[stack_name] == template_snapshot


def test_normalise_masks_hashes_and_drops_bootstrap_noise() -> None:
    digest = "ab" * 32
    template: dict[str, Any] = {
        "Parameters": {"BootstrapVersion": {"Type": "String"}},
        "Rules": {"CheckBootstrapVersion": {}},
        "Resources": {
            "Fn": {
                "Properties": {"Code": {"S3Key": f"{digest}.zip"}},
                "Metadata": {"aws:cdk:path": "Stage/Stack/Fn/Resource"},
            },
            "Bucket": {"Metadata": {"aws:cdk:path": "Stage/Stack/Bucket", "checkov": {"skip": []}}},
        },
    }
    assert normalise(template) == {
        "Resources": {
            "Fn": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}}},
            "Bucket": {"Metadata": {"checkov": {"skip": []}}},
        }
    }
