"""Compliance fixtures: every template the project deploys (the three environments from the
session synth, and the delivery stack from ``config/delivery.yaml``), synthesized once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from mlops_cdk.config import load_delivery, load_environments
from mlops_cdk.stacks.delivery import DeliveryStack, cli_version
from tests.helpers.apps import SynthesizedApp, cdk_json_context
from tests.helpers.paths import CONFIG_DIR, ROOT

Template = Mapping[str, Any]


@pytest.fixture(scope="session")
def delivery_template() -> dict[str, Any]:
    """The delivery stack as ``app.py`` builds it from the checked-in configuration."""
    settings = load_delivery(CONFIG_DIR)
    assert settings is not None, "config/delivery.yaml is checked in"
    app = cdk.App(context=cdk_json_context(), builtin_cloud_formation_validation=False)
    stack = DeliveryStack(
        app,
        settings.stack_name,
        settings=settings,
        environments=load_environments(settings.environments, config_dir=CONFIG_DIR, environ={}),
        cdk_cli_version=cli_version(ROOT / "package.json"),
        env=cdk.Environment(account=settings.account, region=settings.region),
        stack_name=settings.stack_name,
    )
    template: dict[str, Any] = app.synth().get_stack_artifact(stack.artifact_id).template
    return template


@pytest.fixture(scope="session")
def deployed_templates(
    synthesized_app: SynthesizedApp, delivery_template: dict[str, Any]
) -> dict[str, Template]:
    """Stack name -> template: every environment stack and the delivery stack."""
    return {**synthesized_app.templates(), "mlops-delivery": delivery_template}


@pytest.fixture(scope="session")
def deployed_template_files(
    deployed_templates: dict[str, Template], tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """The same templates as files (as the CLI writes them), one per stack."""
    folder = tmp_path_factory.mktemp("templates")
    files = []
    for name, template in deployed_templates.items():
        path = folder / f"{name}.template.json"
        path.write_text(json.dumps(template, indent=1), encoding="utf-8")
        files.append(path)
    return files
