#!/usr/bin/env python3
"""The mlops-cdk app: one stage per environment in config/ (or those named with
``-c environments=dev,staging``), checked by every cdk-nag pack when it synthesizes."""

import sys

from aws_cdk import App

from mlops_cdk import ConfigurationError
from mlops_cdk.config import load_environments
from mlops_cdk.stacks.app import add_compliance_checks, build_app, selected_environments


def main() -> int:
    app = App()
    try:
        configs = load_environments(selected_environments(app))
    except ConfigurationError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 1
    build_app(app, configs)
    if app.node.try_get_context("nag") not in (False, "false"):
        add_compliance_checks(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
