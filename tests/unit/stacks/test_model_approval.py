"""Approval -> deploy: the Serving stack serves the newest approved registry package passed by the
delivery pipeline as context, falls back to the configured pin offline, and can read the
package's artifact and image (the project's model server, or the one the config names)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.registry import RegistryUnavailable
from mlops_cdk.config import (
    EnvironmentConfig,
    with_approved_package,
    with_latest_approved_packages,
)
from mlops_cdk.stacks.app import NAG_PACKS
from mlops_cdk.stacks.stage import EnvironmentStage
from tests.helpers.apps import unit_app

SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PINNED = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"
APPROVED = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/7"


def serving_package(config: EnvironmentConfig, **package: Any) -> EnvironmentConfig:
    data = config.model_dump(mode="json")
    data["realtime_endpoint"]["model_package"] = {"group": "churn", "pinned_arn": PINNED, **package}
    return EnvironmentConfig.model_validate(data)


@pytest.fixture(scope="module")
def dev(environment_configs: list[EnvironmentConfig]) -> EnvironmentConfig:
    return next(c for c in environment_configs if c.name == "dev")


def test_without_context_the_pin_is_served(dev: EnvironmentConfig) -> None:
    config = serving_package(dev)
    assert with_approved_package(config, None) is config
    assert config.realtime_endpoint.model_package is not None
    assert config.realtime_endpoint.model_package.arn == PINNED
    assert config.realtime_endpoint.model_package.image is None  # the project's model server


def test_the_approved_package_of_the_group_replaces_the_pin(dev: EnvironmentConfig) -> None:
    updated = with_approved_package(serving_package(dev), APPROVED)
    package = updated.realtime_endpoint.model_package
    assert package is not None
    assert package.arn == APPROVED
    assert package.pinned_arn == PINNED


def test_packages_of_other_groups_and_endpoints_without_packages_are_untouched(
    dev: EnvironmentConfig,
) -> None:
    other = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud/2"
    config = serving_package(dev)
    assert with_approved_package(config, other) is config
    assert with_approved_package(dev, APPROVED) is dev


def test_a_malformed_context_value_fails_precisely(dev: EnvironmentConfig) -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"^-c approved_model_package: must be a versioned model package ARN .*"
        r"\(got 'churn/7'\)",
    ):
        with_approved_package(serving_package(dev), "churn/7")


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ({"pinned_arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud/1"},
         r"realtime_endpoint\.model_package\.pinned_arn: must be a package of group 'churn'"),
        ({"pinned_arn": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn"},
         r"must be a versioned model package ARN"),
        ({"image": "python:3.12"}, r"must be an ECR image URI"),
        ({"artifact_prefix": "/runs"}, r"must be a key prefix without a leading /"),
        ({"pinned_arn": "arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/3"},
         r"realtime_endpoint\.model_package\.artifact_bucket: required for a package of "
         r"account 222222222222"),
        ({"pinned_arn": "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3"},
         r"realtime_endpoint\.model_package\.pinned_arn: must be a package in region "
         r"eu-west-1"),
        ({"artifact_bucket": "Registry_Artifacts"}, r"must be an S3 bucket name"),
        ({"registry_account": "2222"},
         r"model_package\.registry_account\s+Value error, must be a 12-digit AWS account ID"),
    ],
    ids=["other-group", "unversioned", "image", "prefix", "foreign-without-bucket",
         "other-region", "bucket-name", "registry-account"],
)  # fmt: skip
def test_invalid_package_settings_are_rejected(
    dev: EnvironmentConfig, package: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        serving_package(dev, **package)


def serving_stage(config: EnvironmentConfig) -> tuple[EnvironmentStage, Template]:
    stage = EnvironmentStage(
        unit_app(), "mlops-dev", config=with_approved_package(config, APPROVED)
    )
    return stage, Template.from_stack(stage.serving)


@pytest.fixture(scope="module")
def serving(dev: EnvironmentConfig) -> tuple[EnvironmentStage, Template]:
    """Packages registered by MLPipeline: served by the project's model server image."""
    return serving_stage(serving_package(dev))


def pulls(template: Template) -> list[str]:
    """The resources the Serving stack's roles may pull images from, as JSON text."""
    return [
        json.dumps(s["Resource"])
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in s["Action"]
    ]


def test_the_endpoint_serves_the_approved_package(
    serving: tuple[EnvironmentStage, Template],
) -> None:
    _, template = serving
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelPackageName"] == APPROVED
    assert "Image" not in container
    assert "ModelDataSource" not in container


def test_the_endpoint_role_can_read_the_package_artifact_and_image(
    serving: tuple[EnvironmentStage, Template],
) -> None:
    _, template = serving
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    resources = {s["Resource"]: s["Action"] for s in statements if isinstance(s["Resource"], str)}
    assert resources[APPROVED] == "sagemaker:DescribeModelPackage"
    artifacts = "arn:aws:s3:::mlops-dev-artifacts-111111111111-eu-west-1/training/runs/*"
    assert resources[artifacts] == "s3:GetObject"
    # The model server image MLPipeline registers: the app's container asset repository.
    assert any("container-assets" in r for r in pulls(template)), pulls(template)


def test_a_configured_image_is_pulled_instead(dev: EnvironmentConfig) -> None:
    _, template = serving_stage(serving_package(dev, image=SKLEARN))
    assert any("repository/sagemaker-scikit-learn" in r for r in pulls(template))


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_serving_a_package_passes_the_nag_packs(
    serving: tuple[EnvironmentStage, Template], pack: Any
) -> None:
    stage, _ = serving
    report = pack().validate_scope(stage.serving)
    found = [
        f"{v.rule_name} [{c.construct_path}]"
        for v in report.violations
        for c in v.violating_resources
    ]
    assert found == []


def test_app_reads_the_context_key_the_delivery_pipeline_sets() -> None:
    root = Path(__file__).resolve().parents[3]
    app = (root / "app.py").read_text(encoding="utf-8")
    delivery = (root / "mlops_cdk" / "stacks" / "delivery.py").read_text(encoding="utf-8")
    assert 'try_get_context("approved_model_package")' in app
    assert "-c approved_model_package=latest" in delivery
    assert "LATEST_APPROVED" in app


def test_latest_asks_the_registry_of_the_pin_once_per_group(dev: EnvironmentConfig) -> None:
    asked: list[tuple[str, str]] = []
    notes: list[str] = []

    def lookup(group: str, region: str) -> str | None:
        asked.append((group, region))
        return APPROVED

    configs = [serving_package(dev), serving_package(dev), dev]
    updated = with_latest_approved_packages(configs, lookup=lookup, note=notes.append)
    assert asked == [
        ("arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn", "eu-west-1")
    ]
    served = [c.realtime_endpoint.model_package for c in updated]
    assert [p.arn if p else None for p in served] == [APPROVED, APPROVED, None]
    assert notes[0].startswith("config/dev.yaml: realtime_endpoint.model_package: serving")


def test_latest_offline_serves_the_pin_and_says_so(dev: EnvironmentConfig) -> None:
    calls: list[str] = []
    notes: list[str] = []

    def offline(group: str, region: str) -> str | None:
        calls.append(group)
        raise RegistryUnavailable("no AWS credentials")

    configs = [serving_package(dev), serving_package(dev)]
    updated = with_latest_approved_packages(configs, lookup=offline, note=notes.append)
    assert [
        c.realtime_endpoint.model_package.arn for c in updated if c.realtime_endpoint.model_package
    ] == [PINNED, PINNED]
    assert len(calls) == 1  # an unreachable registry is not asked again per environment
    assert "registry not reachable (no AWS credentials); serving the pinned package" in notes[0]


def test_latest_without_a_pin_asks_the_registry_account_and_falls_back_to_the_demo_model(
    dev: EnvironmentConfig,
) -> None:
    """No pin: the group of ``registry_account`` (else the environment's own account), in the
    environment's region; offline or with nothing approved, the demo model (no package)."""
    asked: list[str] = []
    notes: list[str] = []
    unpinned = serving_package(dev, pinned_arn=None, registry_account="222222222222")
    own = serving_package(dev, pinned_arn=None)

    def lookup(group: str, region: str) -> str | None:
        asked.append(group)
        return None  # nothing approved yet

    updated = with_latest_approved_packages([unpinned, own], lookup=lookup, note=notes.append)
    assert asked == [
        "arn:aws:sagemaker:eu-west-1:222222222222:model-package-group/churn",
        f"arn:aws:sagemaker:eu-west-1:{dev.account}:model-package-group/churn",
    ]
    assert [
        c.realtime_endpoint.model_package.arn for c in updated if c.realtime_endpoint.model_package
    ] == [None, None]
    assert "no approved package yet; serving the fallback (no pin)" in notes[0]
