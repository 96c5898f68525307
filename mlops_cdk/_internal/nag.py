"""Acknowledging cdk-nag findings next to the resource they are about.

cdk-nag 3 runs as a CDK policy-validation plugin; it honours CDK's own acknowledgements. Use the
plain rule ID (``AwsSolutions-S1``) or a granular finding ID
(``AwsSolutions-IAM5[Action::s3:GetObject*]``) and always give a reason a reviewer can check.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding of ``rule_id`` on ``scope`` (and its children) for ``reason``."""
    if len(reason.strip()) < 20:
        msg = f"acknowledgement of {rule_id} on {scope.node.path} needs a real reason"
        raise ValueError(msg)
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def finding_text(scope: IConstruct, value: str) -> str:
    """How cdk-nag prints ``value`` (often a token) inside a granular finding ID: ``GetAtt``
    as ``<Logical.Attr>``, ``Ref`` as ``<Logical>``, ``Fn::Join`` concatenated."""
    return _render(Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(_render(part) for part in parts)
    return json.dumps(value)


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Accept the ``AwsSolutions-IAM5`` finding for exactly ``resource`` (a prefix wildcard)."""
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{finding_text(scope, resource)}]", reason)


def acknowledge_rules(scope: IConstruct, rule_ids: tuple[str, ...], reason: str) -> None:
    """Accept several rules that all fire for the same ``reason`` (one per compliance pack)."""
    for rule_id in rule_ids:
        acknowledge(scope, rule_id, reason)


# The same control is checked under a different name by each compliance pack; these tuples keep
# acknowledgements of one decision in one place.
S3_REPLICATION = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)
S3_KMS = (
    "HIPAA.Security-S3DefaultEncryptionKMS",
    "NIST.800.53.R5-S3DefaultEncryptionKMS",
    "PCI.DSS.321-S3DefaultEncryptionKMS",
)
S3_LOGGING = (
    "AwsSolutions-S1",
    "HIPAA.Security-S3BucketLoggingEnabled",
    "NIST.800.53.R5-S3BucketLoggingEnabled",
    "PCI.DSS.321-S3BucketLoggingEnabled",
)
