"""Session fixtures: the real configuration, and the whole app synthesized once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import cx_api

from mlops_cdk.config import EnvironmentConfig, load_environments
from mlops_cdk.stacks.app import build_app
from mlops_cdk.stacks.stage import EnvironmentStage

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and settings from cdk.json, as the CLI would pass them."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


@pytest.fixture(scope="session")
def environment_configs() -> list[EnvironmentConfig]:
    """dev, staging and prod as checked in (no account/region from the shell environment)."""
    return load_environments(config_dir=CONFIG_DIR, environ={})


@dataclass
class SynthesizedApp:
    """The whole app, synthesized once with CloudFormation schema validation on."""

    app: cdk.App
    stages: dict[str, EnvironmentStage]
    assembly: cx_api.CloudAssembly
    outdir: Path

    def templates(self) -> dict[str, dict[str, Any]]:
        """Stack name -> template, for every stack of every environment."""
        return {
            stack.stack_name: stack.template
            for stage in self.stages.values()
            for stack in self.assembly.get_nested_assembly(stage.artifact_id).stacks_recursively
        }

    def template_files(self) -> list[Path]:
        """The template files written to the cloud assembly."""
        return sorted(self.outdir.glob("assembly-*/*.template.json"))


@pytest.fixture(scope="session")
def synthesized_app(
    environment_configs: list[EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """Every environment in one app, synthesized once per session.

    This is the one synth with the built-in template validation on (the cdk.json flag makes
    schema errors fail it), exactly like ``make synth``; no nag plugin is registered here, the
    compliance tests run the packs on the construct tree directly.
    """
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    stages = {stage.config.name: stage for stage in build_app(app, environment_configs)}
    assembly = app.synth()
    return SynthesizedApp(app, stages, assembly, outdir)
