"""Building the whole CDK app (every selected environment) from configuration."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)

from mlops_cdk import config as cfg
from mlops_cdk.stacks.delivery import DeliveryStack, cli_version
from mlops_cdk.stacks.stage import EnvironmentStage

NAG_PACKS = (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)


def selected_environments(app: App) -> list[str] | None:
    """Environment names from ``-c environments=dev,staging``; ``None`` means all."""
    value = app.node.try_get_context("environments")
    if value is None or value == "" or value == "all":
        return None
    names = value if isinstance(value, list) else str(value).split(",")
    return [name.strip() for name in names if name.strip()]


def build_app(
    app: App,
    configs: Sequence[cfg.EnvironmentConfig],
    delivery: cfg.DeliverySettings | None = None,
) -> list[EnvironmentStage]:
    """Add one :class:`EnvironmentStage` per configuration to ``app``.

    Stages are named ``<project>-<env>`` (``mlops-dev``): the CDK CLI selects stacks by that
    path, so ``cdk deploy "mlops-dev/*"`` deploys one environment. With ``delivery`` (the
    pipeline's settings) they are the stages the pipeline deploys, smoke-test roles included.
    """
    return [
        EnvironmentStage(app, config.stage_name, config=config, delivery=delivery)
        for config in configs
    ]


def add_delivery(
    app: App,
    settings: cfg.DeliverySettings,
    environments: Sequence[cfg.EnvironmentConfig],
    *,
    package_json: Path = Path("package.json"),
) -> DeliveryStack:
    """Add the delivery pipeline (``config/delivery.yaml``) that deploys ``environments``, in
    order, with the CDK CLI version pinned in ``package_json``."""
    return DeliveryStack(
        app,
        settings.stack_name,
        settings=settings,
        environments=environments,
        cdk_cli_version=cli_version(package_json),
        env=Environment(account=settings.account, region=settings.region),
        stack_name=settings.stack_name,
        description=f"{settings.project}: delivery pipeline (test, synth, deploy)",
    )


def add_compliance_checks(app: App) -> None:
    """Run every cdk-nag pack as a policy-validation plugin when ``app`` synthesizes."""
    Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))
