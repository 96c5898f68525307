"""Reading synthesized templates in tests: the permissions a construct's roles hold, references
between resources, and matching one value against an ``aws_cdk.assertions.Match`` pattern."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Template

# An image built from a local asset: the bootstrap container-assets repository, by content hash
# (the part of the image URI after the registry host, as it appears in Fn::Sub or Fn::Join).
ASSET_IMAGE = r"/cdk-[a-z0-9]+-container-assets-[0-9]{12}-[a-z0-9-]+:[0-9a-f]{64}$"


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


def logical_id(template: Template, kind: str, prefix: str) -> str:
    """The logical ID of the one resource of ``kind`` whose logical ID starts with ``prefix``."""
    (found,) = [key for key in template.find_resources(kind) if key.startswith(prefix)]
    return found


def ref(template: Template, kind: str, prefix: str) -> dict[str, str]:
    """``{"Ref": <logical ID>}`` of that resource."""
    return {"Ref": logical_id(template, kind, prefix)}


def get_att(template: Template, kind: str, prefix: str, attribute: str = "Arn") -> dict[str, Any]:
    """``{"Fn::GetAtt": [<logical ID>, attribute]}`` of that resource."""
    return {"Fn::GetAtt": [logical_id(template, kind, prefix), attribute]}


def assert_matches(actual: Any, pattern: Any) -> None:
    """Assert that one template value matches ``pattern`` (literals and ``Match``/``Capture``
    objects, with the same semantics as ``Template.has_resource_properties``)."""
    template = Template.from_json(
        {"Resources": {"Value": {"Type": "Test::Value", "Properties": {"Value": actual}}}}
    )
    try:
        template.has_resource_properties("Test::Value", {"Value": pattern})
    except RuntimeError as error:  # jsii reports the assertions library's failure this way
        raise AssertionError(str(error)) from None


def resolve_join(value: Any) -> str:
    """A Fn::Join of literals and references as one string (references as <Logical.Attr>)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(resolve_join(part) for part in value["Fn::Join"][1])
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if "Fn::Sub" in value:
        return str(value["Fn::Sub"])
    raise AssertionError(value)


def widget_metrics(rows: Any) -> list[list[Any]]:
    """Every metric row (``[namespace, name, dimension, value, ..., options]``) of resolved
    dashboard widgets: a widget, a list of widgets or rows of widgets, or a dashboard body."""
    if isinstance(rows, list):
        return [row for item in rows for row in widget_metrics(item)]
    if isinstance(rows, dict):
        if "widgets" in rows:
            return widget_metrics(rows["widgets"])
        metrics: list[list[Any]] = rows.get("properties", {}).get("metrics", [])
        return metrics
    return []
