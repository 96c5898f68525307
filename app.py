#!/usr/bin/env python3
"""The mlops-cdk app.

One stage per environment in config/ (or those named with ``-c environments=dev,staging``),
and, when ``config/delivery.yaml`` exists and all environments are synthesized, the delivery
pipeline that deploys the same stages. Every cdk-nag pack checks the app when it synthesizes.
"""

import sys
from pathlib import Path

from aws_cdk import App, Environment

from mlops_cdk import ConfigurationError
from mlops_cdk.config import load_delivery, load_environments, with_approved_package
from mlops_cdk.stacks.app import add_compliance_checks, build_app, selected_environments
from mlops_cdk.stacks.delivery import DeliveryStack, cli_version


def main() -> int:
    app = App()
    selected = selected_environments(app)
    try:
        configs = load_environments(selected)
        delivery = load_delivery()
        pipeline_configs = load_environments(delivery.environments) if delivery else []
        # The delivery pipeline's synth step passes the newest approved registry package.
        approved = app.node.try_get_context("approved_model_package")
        configs = [with_approved_package(c, approved) for c in configs]
        pipeline_configs = [with_approved_package(c, approved) for c in pipeline_configs]
    except ConfigurationError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 1
    build_app(app, configs)
    if delivery is not None and selected is None:
        DeliveryStack(
            app,
            delivery.stack_name,
            settings=delivery,
            environments=pipeline_configs,
            cdk_cli_version=cli_version(Path("package.json")),
            env=Environment(account=delivery.account, region=delivery.region),
            stack_name=delivery.stack_name,
            description=f"{delivery.project}: delivery pipeline (test, synth, deploy)",
        )
    if app.node.try_get_context("nag") not in (False, "false"):
        add_compliance_checks(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
