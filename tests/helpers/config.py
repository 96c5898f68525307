"""Writing environment configuration files for config and stack tests."""

from __future__ import annotations

from pathlib import Path

import yaml

# The smallest valid environment file (a "qa" environment); sections are added per test.
VALID: dict[str, object] = {
    "name": "qa",
    "account": "444444444444",
    "region": "eu-west-1",
    "removal_policy": "destroy",
    "network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]},
    "tags": {"owner": "ml-platform", "cost_centre": "ML-1"},
}


def write_config(directory: Path, name: str, data: object) -> Path:
    """``<directory>/<name>.yaml`` holding ``data`` (YAML-dumped unless it is already text)."""
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def with_changes(**changes: object) -> dict[str, object]:
    """VALID with top-level keys replaced (None removes the key)."""
    data = {**VALID, **changes}
    return {key: value for key, value in data.items() if value is not None}
