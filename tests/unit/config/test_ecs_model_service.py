"""The ecs_model_service section of an environment file: defaults, the checked-in values, and
one precise error per rule (Fargate sizes, counts, networking, prod requirements)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EcsModelServiceSettings, EnvironmentConfig, load_environment

CERTIFICATE = "arn:aws:acm:eu-west-1:444444444444:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"

BASE: dict[str, Any] = {
    "name": "qa",
    "account": "444444444444",
    "region": "eu-west-1",
    "removal_policy": "destroy",
    "network": {
        "availability_zones": ["eu-west-1a", "eu-west-1b"],
        "interface_endpoints": True,
    },
    "tags": {"owner": "ml-platform", "cost_centre": "ML-1"},
}


def load(tmp_path: Path, service: dict[str, Any], **top: Any) -> EnvironmentConfig:
    name = top.pop("name", "qa")
    data = {**BASE, "name": name, **top, "ecs_model_service": service}
    if name == "prod":
        data["removal_policy"] = "retain"
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_environment(name, config_dir=tmp_path, environ={})


def test_defaults_are_off_and_sized_for_fargate() -> None:
    settings = EcsModelServiceSettings()
    assert settings.enabled is False
    assert (settings.cpu, settings.memory_mib, settings.desired_count) == (1024, 2048, 2)
    assert settings.deletion_protection is True
    assert settings.health_check_grace_seconds == 120


def test_checked_in_environments(environment_configs: list[EnvironmentConfig]) -> None:
    by_name = {c.name: c.ecs_model_service for c in environment_configs}
    assert by_name["dev"].enabled is False
    assert by_name["staging"].enabled is True
    assert by_name["prod"].enabled is True
    assert by_name["prod"].desired_count >= 2
    scaling = by_name["prod"].autoscaling
    assert scaling is not None
    assert scaling.min_capacity >= 2
    assert by_name["prod"].deletion_protection is True


def test_a_full_section_loads(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "enabled": True,
            "cpu": 2048,
            "memory_mib": 6144,
            "desired_count": 3,
            "autoscaling": {"min_capacity": 2, "max_capacity": 6, "requests_per_target": 500},
            "health_check_grace_seconds": 300,
            "deletion_protection": False,
            "certificate_arn": CERTIFICATE,
        },
    )
    service = config.ecs_model_service
    assert service.autoscaling is not None
    assert service.autoscaling.requests_per_target == 500
    assert service.certificate_arn is not None


INVALID: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "memory-not-in-fargate-table",
        {"cpu": 1024, "memory_mib": 512},
        {},
        r"ecs_model_service.memory_mib: must be between 2048 and 8192 in steps of 1024 for cpu "
        r"1024 on Fargate \(got 512\)",
    ),
    ("cpu-not-fargate", {"cpu": 3000}, {}, r"ecs_model_service.cpu: .*256.*\(got 3000\)"),
    (
        "desired-outside-autoscaling",
        {"desired_count": 5, "autoscaling": {"min_capacity": 1, "max_capacity": 4}},
        {},
        r"ecs_model_service.desired_count: must be between autoscaling.min_capacity \(1\) and "
        r"max_capacity \(4\) \(got 5\)",
    ),
    (
        "autoscaling-inverted",
        {"desired_count": 3, "autoscaling": {"min_capacity": 3, "max_capacity": 2}},
        {},
        r"ecs_model_service.autoscaling.max_capacity: must be at least min_capacity \(3\) "
        r"\(got 2\)",
    ),
    (
        "grace-negative",
        {"health_check_grace_seconds": -1},
        {},
        r"ecs_model_service.health_check_grace_seconds: .*(greater than or equal to 0).*\(got -1\)",
    ),
    (
        "certificate-not-an-arn",
        {"certificate_arn": "my-cert"},
        {},
        r"ecs_model_service\.certificate_arn: must be an acm certificate ARN "
        r"arn:aws:acm:<region>:<account>:certificate/<id>, not a name or ID \(got 'my-cert'\)$",
    ),
    (
        "certificate-other-region",
        {"certificate_arn": CERTIFICATE.replace("eu-west-1", "us-east-1")},
        {},
        r"ecs_model_service\.certificate_arn: must be an acm certificate ARN .* in region "
        r"eu-west-1 \(this one is in us-east-1\) \(got 'arn:aws:acm:us-east-1:",
    ),
    (
        "certificate-resource-not-an-id",
        {"certificate_arn": "arn:aws:acm:eu-west-1:444444444444:certificate/abc-123"},
        {},
        r"ecs_model_service\.certificate_arn: must be an acm certificate ARN .*\(the resource "
        r"part 'certificate/abc-123' is not one\)",
    ),
    (
        "unknown-key",
        {"spot": True},
        {},
        r"ecs_model_service.spot: unknown key \(allowed keys here: enabled, cpu, memory_mib",
    ),
    (
        "enabled-without-endpoints-or-nat",
        {"enabled": True},
        {"network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]}},
        r"ecs_model_service.enabled: false unless network.interface_endpoints is true or "
        r"nat_gateways is at least 1: tasks in isolated subnets cannot pull their image or ship "
        r"logs without them \(got True\)",
    ),
    (
        "prod-single-task",
        {"enabled": True, "desired_count": 1},
        {"name": "prod"},
        r"ecs_model_service.desired_count: must be at least 2 in prod, so that tasks run in more "
        r"than one zone \(got 1\)",
    ),
    (
        "prod-scales-in-to-one",
        {"enabled": True, "autoscaling": {"min_capacity": 1, "max_capacity": 4}},
        {"name": "prod"},
        r"ecs_model_service.autoscaling.min_capacity: must be at least 2 in prod, .*\(got 1\)",
    ),
    (
        "prod-without-deletion-protection",
        {"enabled": True, "deletion_protection": False},
        {"name": "prod"},
        r"ecs_model_service.deletion_protection: must be true in prod \(got False\)",
    ),
]


@pytest.mark.parametrize(
    ("case", "service", "top", "message"), INVALID, ids=[case[0] for case in INVALID]
)
def test_invalid_sections_name_the_key(
    tmp_path: Path, case: str, service: dict[str, Any], top: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=rf"\.yaml: {message}"):
        load(tmp_path, service, **top)


def test_nat_gateways_are_enough_for_ecs(tmp_path: Path) -> None:
    network = {"availability_zones": ["eu-west-1a", "eu-west-1b"], "nat_gateways": 1}
    config = load(tmp_path, {"enabled": True}, network=network)
    assert config.ecs_model_service.enabled is True


def test_deployment_defaults_to_blue_green_with_rollback() -> None:
    deployment = EcsModelServiceSettings().deployment
    assert deployment.strategy == "blue_green"
    assert deployment.rollback_on_alarms is True
    assert deployment.bake_minutes is None  # the construct's 10 minutes


def test_checked_in_deployments_are_guarded(environment_configs: list[EnvironmentConfig]) -> None:
    by_name = {c.name: c.ecs_model_service.deployment for c in environment_configs}
    assert (by_name["staging"].strategy, by_name["staging"].bake_minutes) == ("blue_green", 5)
    prod = by_name["prod"]
    assert (prod.strategy, prod.canary_percent, prod.step_interval_minutes) == ("canary", 10, 10)
    assert all(d.rollback_on_alarms for d in by_name.values())


DEPLOYMENT_INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown-strategy",
        {"strategy": "all_at_once"},
        r"ecs_model_service.deployment.strategy: .*'rolling', 'blue_green', 'linear' or 'canary'",
    ),
    (
        "bake-with-rolling",
        {"strategy": "rolling", "bake_minutes": 5},
        r"ecs_model_service.deployment.bake_minutes: left out with strategy rolling \(it applies "
        r"to blue/green, linear and canary deployments\) \(got 5\)",
    ),
    (
        "canary-percent-with-linear",
        {"strategy": "linear", "canary_percent": 10},
        r"ecs_model_service.deployment.canary_percent: left out with strategy linear",
    ),
    (
        "canary-percent-off-step",
        {"strategy": "canary", "canary_percent": 0.05},
        r"ecs_model_service.deployment.canary_percent: between 0\.1 and 100 % in steps of 0\.1 "
        r"\(got 0\.05\)",
    ),
    (
        "step-percent-low",
        {"strategy": "linear", "step_percent": 2},
        r"ecs_model_service.deployment.step_percent: between 3 and 100 % in steps of 0\.1",
    ),
    (
        "bake-shorter-than-alarms",
        {"strategy": "blue_green", "bake_minutes": 2},
        r"ecs_model_service.deployment.bake_minutes: at least 3 minutes \(3 alarm periods of 60 "
        r"s: .*\) \(got 2\)",
    ),
    (
        "bake-too-long",
        {"bake_minutes": 1441},
        r"ecs_model_service.deployment.bake_minutes: .*less than or equal to 1440",
    ),
]


@pytest.mark.parametrize(
    ("case", "deployment", "message"), DEPLOYMENT_INVALID, ids=[c[0] for c in DEPLOYMENT_INVALID]
)
def test_invalid_deployment_is_refused(
    tmp_path: Path, case: str, deployment: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(tmp_path, {"deployment": deployment})


def test_no_bake_is_fine_without_alarm_rollback(tmp_path: Path) -> None:
    config = load(tmp_path, {"deployment": {"bake_minutes": 0, "rollback_on_alarms": False}})
    assert config.ecs_model_service.deployment.bake_minutes == 0
