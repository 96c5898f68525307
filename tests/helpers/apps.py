"""Small apps for unit tests: cdk.json feature flags, no template validation, no nag plugin."""

from __future__ import annotations

import aws_cdk as cdk

from tests.conftest import cdk_json_context

TEST_ENV = cdk.Environment(account="123456789012", region="eu-west-1")


def unit_app() -> cdk.App:
    """An App with the project's feature flags and the (slow) schema validation off."""
    return cdk.App(context=cdk_json_context(), builtin_cloud_formation_validation=False)


def unit_stack(app: cdk.App | None = None, name: str = "Test") -> cdk.Stack:
    """A stack in a fixed account and region, in a fresh app unless one is given."""
    return cdk.Stack(app or unit_app(), name, env=TEST_ENV)
