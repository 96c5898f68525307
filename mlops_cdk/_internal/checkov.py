"""Suppressing checkov findings next to the resource they are about.

checkov reads ``Metadata.checkov.skip: [{id, comment}]`` on a CloudFormation resource. Use the
check ID (``CKV_AWS_18``) and always give a reason a reviewer can check; prefer fixing.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource
from constructs import IConstruct

METADATA_KEY = "checkov"


def skip(scope: IConstruct, check_id: str, reason: str, *, resource_type: str | None = None) -> int:
    """Skip ``check_id`` on ``scope``'s CloudFormation resource for ``reason``.

    ``scope`` is an L1 resource or an L2 construct with a default child; with ``resource_type``
    (e.g. ``AWS::Lambda::Function``), every resource of that type under ``scope`` instead.
    Returns how many resources got the suppression; raises if none did.
    """
    if len(reason.strip()) < 20:
        msg = f"checkov skip of {check_id} on {scope.node.path} needs a real reason"
        raise ValueError(msg)
    resources = _resources(scope, resource_type)
    if not resources:
        msg = (
            f"checkov skip of {check_id}: no {resource_type or 'resource'} under {scope.node.path}"
        )
        raise ValueError(msg)
    for resource in resources:
        metadata: dict[str, Any] = dict(resource.get_metadata(METADATA_KEY) or {})
        skips = [s for s in metadata.get("skip", []) if s.get("id") != check_id]
        metadata["skip"] = [*skips, {"id": check_id, "comment": reason}]
        resource.add_metadata(METADATA_KEY, metadata)
    return len(resources)


def skip_checks(
    scope: IConstruct, check_ids: tuple[str, ...], reason: str, *, resource_type: str | None = None
) -> None:
    """Skip several checks that all fire for the same ``reason``."""
    for check_id in check_ids:
        skip(scope, check_id, reason, resource_type=resource_type)


def _resources(scope: IConstruct, resource_type: str | None) -> list[CfnResource]:
    if resource_type is not None:
        return [
            node
            for node in scope.node.find_all()
            if isinstance(node, CfnResource) and node.cfn_resource_type == resource_type
        ]
    if isinstance(scope, CfnResource):
        return [scope]
    child = scope.node.default_child
    return [child] if isinstance(child, CfnResource) else []
