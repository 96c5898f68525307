"""Session fixtures: the real configuration, and the whole app synthesized once."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mlops_cdk.config import (
    EnvironmentConfig,
    load_delivery,
    load_environments,
    with_approved_package,
)
from mlops_cdk.stacks.app import build_app
from tests.helpers.apps import SynthesizedApp, cdk_json_context
from tests.helpers.paths import CONFIG_DIR

# Every template a test builds is audited like the deployed ones (tests/helpers/template_audit.py).
pytest_plugins = ["tests.helpers.template_audit"]


@pytest.fixture(scope="session")
def environment_configs() -> list[EnvironmentConfig]:
    """dev, staging and prod as checked in (no account/region from the shell environment)."""
    return load_environments(config_dir=CONFIG_DIR, environ={})


@pytest.fixture(scope="session")
def configs(environment_configs: list[EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
    """The same configurations by name, for tests that compare a template with its config."""
    return {config.name: config for config in environment_configs}


@pytest.fixture(scope="session")
def synthesized_app(
    environment_configs: list[EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """Every environment in one app, synthesized once per session.

    This is the one synth with the built-in template validation on (the cdk.json flag makes
    schema errors fail it), exactly like ``make synth``; no nag plugin is registered here, the
    compliance tests run the packs on the construct tree directly. Like the CLI, it writes each
    resource's construct path into its metadata (the templates that deploy carry it; the size
    limits count it, and the construct-level diagram reads it).
    """
    outdir = tmp_path_factory.mktemp("cdk.out")
    context = {**cdk_json_context(), "aws:cdk:enable-path-metadata": True}
    app = cdk.App(context=context, outdir=str(outdir))
    stages = {
        stage.config.name: stage
        for stage in build_app(app, environment_configs, load_delivery(CONFIG_DIR))
    }
    assembly = app.synth()
    return SynthesizedApp(app, stages, assembly, outdir)


# A package staging's pipeline registered and approved (staging's registry account).
APPROVED_PACKAGE = "arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/7"


@pytest.fixture(scope="session")
def approved_app(
    environment_configs: list[EnvironmentConfig], tmp_path_factory: pytest.TempPathFactory
) -> SynthesizedApp:
    """staging and prod as ``make synth CDK_CONTEXT_ARGS="-c approved_model_package=<arn>"``
    builds them: serving (and drift-checking against) the approved package, synthesized once
    with the built-in template validation on (a separate app: names equal the plain ones)."""
    outdir = tmp_path_factory.mktemp("cdk.out.approved")
    context = {**cdk_json_context(), "aws:cdk:enable-path-metadata": True}
    app = cdk.App(context=context, outdir=str(outdir))
    configs = [
        with_approved_package(c, APPROVED_PACKAGE)
        for c in environment_configs
        if c.name in ("staging", "prod")
    ]
    stages = {
        stage.config.name: stage for stage in build_app(app, configs, load_delivery(CONFIG_DIR))
    }
    assembly = app.synth()
    return SynthesizedApp(app, stages, assembly, outdir)
