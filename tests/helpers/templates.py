"""Reading synthesized templates in tests: the permissions a construct's roles hold."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def managed_policy_statements(template: Template, prefix: str) -> list[dict[str, Any]]:
    """Statements of the managed policies whose logical ID starts with ``prefix``."""
    return [
        statement
        for key, policy in template.find_resources("AWS::IAM::ManagedPolicy").items()
        if key.startswith(prefix)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def managed_policy_actions(template: Template, prefix: str) -> set[str]:
    """Every action those statements allow."""
    return {
        action
        for statement in managed_policy_statements(template, prefix)
        for action in as_list(statement["Action"])
    }
