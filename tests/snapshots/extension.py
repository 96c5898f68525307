"""A syrupy JSON extension for CloudFormation templates.

Drops what changes without meaning (the bootstrap-version parameter and rule, and each
resource's ``aws:cdk:path`` metadata, which the CLI adds and a rename of a construct ID changes
alongside the logical ID the snapshot already shows) and masks content
hashes of assets (64 hex characters) and the hash suffix CDK appends to a Lambda function's
``CurrentVersion`` logical ID (it changes with every edit of the runtime) and to an API Gateway
``Deployment``'s (it changes with any change of the API, and with the path metadata), so a
snapshot changes only when the infrastructure does.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension

ASSET_HASH = re.compile(r"[0-9a-f]{64}")
# CDK appends a content hash to a Lambda version's and an API Gateway deployment's logical ID.
VERSION_HASH = re.compile(r"((?:CurrentVersion|Deployment)[0-9A-F]{8})[0-9a-f]{32}")


def normalise(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` without bootstrap-version noise and with asset hashes masked."""
    result = copy.deepcopy(template)
    result.get("Parameters", {}).pop("BootstrapVersion", None)
    result.get("Rules", {}).pop("CheckBootstrapVersion", None)
    for resource in result.get("Resources", {}).values():
        metadata = resource.get("Metadata")
        if isinstance(metadata, dict):
            metadata.pop("aws:cdk:path", None)
            if not metadata:
                del resource["Metadata"]
    for section in ("Parameters", "Rules"):
        if section in result and not result[section]:
            del result[section]
    masked: dict[str, Any] = _mask(result)
    return masked


def _mask_text(text: str) -> str:
    return VERSION_HASH.sub(r"\1<code-hash>", ASSET_HASH.sub("<asset-hash>", text))


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {_mask_text(k): _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, str):
        return _mask_text(value)
    return value


class TemplateSnapshot(JSONSnapshotExtension):
    """Serialises a CloudFormation template after :func:`normalise`."""

    def serialize(self, data: Any, **kwargs: Any) -> Any:
        return super().serialize(normalise(data), **kwargs)
