"""The model_host section of an environment file: defaults, the checked-in values, and one
precise error per rule (ranges, copies, the keys a model host refuses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EnvironmentConfig, ModelHostSettings, load_environment
from tests.helpers.config import VALID, write_config

MODEL = {"name": "Churn"}


def load(tmp_path: Path, host: dict[str, Any]) -> EnvironmentConfig:
    write_config(tmp_path, "qa", {**VALID, "model_host": host})
    return load_environment("qa", config_dir=tmp_path, environ={})


def test_defaults_are_off_with_one_to_two_instances() -> None:
    settings = ModelHostSettings()
    assert settings.enabled is False
    assert (settings.min_instances, settings.max_instances) == (1, 2)
    assert settings.models == []


def test_checked_in_environments(configs: dict[str, EnvironmentConfig]) -> None:
    assert configs["dev"].model_host.enabled is False
    # prod idles at $397.56 of its $400 ceiling: no always-on host there (see docs/model-host.md).
    assert configs["prod"].model_host.enabled is False
    staging = configs["staging"].model_host
    assert staging.enabled is True
    assert staging.min_instances == 0  # scales to zero: idles at no instance cost
    assert [m.name for m in staging.models] == ["Churn", "Candidate"]
    assert all(m.min_copies == 0 for m in staging.models)


def test_a_full_section_loads(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "enabled": True,
            "instance_type": "ml.g5.xlarge",
            "initial_instance_count": 2,
            "min_instances": 0,
            "max_instances": 3,
            "in_vpc": False,
            "models": [
                {"name": "Churn", "memory_mb": 4096, "cpu_cores": 2, "copy_count": 2},
                {"name": "Fraud", "min_copies": 0, "max_copies": 4, "copy_count": 1},
            ],
        },
    )
    host = config.model_host
    assert host.models[1].max_copies == 4
    assert host.instance_type == "ml.g5.xlarge"


INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "serverless",
        {"serverless": {"memory_size_mb": 2048}},
        r"model_host.serverless: must be left out: serverless endpoints cannot host inference "
        r"components \(got \{'memory_size_mb': 2048\}\)",
    ),
    (
        "async",
        {"async_inference": {"max_capacity": 2}},
        r"model_host.async_inference: must be left out: asynchronous endpoints cannot host "
        r"inference components",
    ),
    (
        "model-on-variant",
        {"model_name": "churn"},
        r"model_host.model_name: must be left out: the host's variant names no model: give each "
        r"entry of models its own \(got 'churn'\)",
    ),
    (
        "mode",
        {"mode": "serverless"},
        r"model_host.mode: must be left out: a model host is always instance-based",
    ),
    (
        "min-above-max",
        {"min_instances": 3, "max_instances": 2},
        r"model_host.min_instances: must be at most max_instances \(2\) \(got 3\)",
    ),
    (
        "initial-above-max",
        {"initial_instance_count": 3, "max_instances": 2},
        r"model_host.initial_instance_count: must be at most max_instances \(2\) \(got 3\)",
    ),
    (
        "instance-type",
        {"instance_type": "ml.c5n.xlarge"},
        r"model_host.instance_type: must be an instance type CreateEndpointConfig accepts",
    ),
    (
        "no-models",
        {"enabled": True},
        r"model_host.models: must list at least one model when enabled \(got \[\]\)",
    ),
    (
        "duplicate-models",
        {"models": [MODEL, MODEL]},
        r"model_host.models: must have unique names \(got \['Churn'\]\)",
    ),
    (
        "copies-half-given",
        {"models": [{"name": "Churn", "max_copies": 2}]},
        r"model_host.models\[Churn\].max_copies: given together with min_copies",
    ),
    (
        "copy-count-outside",
        {"models": [{"name": "Churn", "copy_count": 3, "min_copies": 0, "max_copies": 2}]},
        r"model_host.models\[Churn\].copy_count: must be between min_copies \(0\) and "
        r"max_copies \(2\) \(got 3\)",
    ),
    (
        "memory-too-small",
        {"models": [{"name": "Churn", "memory_mb": 64}]},
        r"model_host.models\[0\].memory_mb: .*greater than or equal to 128.*\(got 64\)",
    ),
    (
        "bad-model-name",
        {"models": [{"name": "churn-v2"}]},
        r"model_host.models\[0\].name: .*pattern.*\(got 'churn-v2'\)",
    ),
]


@pytest.mark.parametrize(("case", "host", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_sections_name_the_key(
    tmp_path: Path, case: str, host: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=rf"qa\.yaml: {message}"):
        load(tmp_path, host)
