#!/usr/bin/env python3
"""The mlops-cdk app.

One stage per environment in config/ (or those named with ``-c environments=dev,staging``),
and, when ``config/delivery.yaml`` exists and all environments are synthesized, the delivery
pipeline that deploys the same stages. Every cdk-nag pack checks the app when it synthesizes.
"""

import sys
from pathlib import Path

from aws_cdk import App

from mlops_cdk import ConfigurationError
from mlops_cdk.config import (
    CONFIG_DIR,
    LATEST_APPROVED,
    EnvironmentConfig,
    load_delivery,
    load_environments,
    with_approved_package,
    with_latest_approved_packages,
)
from mlops_cdk.cost import ceiling_problem, estimate_assembly
from mlops_cdk.stacks.app import (
    add_compliance_checks,
    add_delivery,
    build_app,
    selected_environments,
)


def main() -> int:
    app = App()
    selected = selected_environments(app)
    try:
        configs = load_environments(selected)
        delivery = load_delivery()
        pipeline_configs = load_environments(delivery.environments) if delivery else []
        # A registry package to serve: "latest" (the delivery pipeline's synth step) asks the
        # registry for the newest approved one (the pin when it cannot); an ARN is served as is.
        approved = app.node.try_get_context("approved_model_package")
        if approved == LATEST_APPROVED:
            configs = with_latest_approved_packages(configs)
            pipeline_configs = with_latest_approved_packages(pipeline_configs)
        else:
            configs = [with_approved_package(c, approved) for c in configs]
            pipeline_configs = [with_approved_package(c, approved) for c in pipeline_configs]
    except ConfigurationError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return 1
    build_app(app, configs, delivery)
    if delivery is not None and selected is None:
        add_delivery(app, delivery, pipeline_configs)
    if app.node.try_get_context("nag") not in (False, "false"):
        add_compliance_checks(app)
    assembly = app.synth()
    problems = cost_ceiling_problems(Path(assembly.directory), configs)
    for problem in problems:
        print(f"configuration error:\n{problem}", file=sys.stderr)
    return 1 if problems else 0


def cost_ceiling_problems(assembly: Path, configs: list[EnvironmentConfig]) -> list[str]:
    """One line per environment whose idle cost estimate exceeds its ``cost_ceiling_usd``."""
    ceilings = {c.stage_name: c for c in configs if c.cost_ceiling_usd is not None}
    if not ceilings:
        return []
    problems = []
    for stage, estimate in estimate_assembly(assembly).items():
        config = ceilings.get(stage)
        if config is None or config.cost_ceiling_usd is None:
            continue
        problem = ceiling_problem(stage, estimate, config.cost_ceiling_usd)
        if problem is not None:
            problems.append(f"{CONFIG_DIR / config.name}.yaml: cost_ceiling_usd: {problem}")
    return problems


if __name__ == "__main__":
    sys.exit(main())
