"""Acknowledging cdk-nag findings next to the resource they are about.

cdk-nag 3 runs as a CDK policy-validation plugin; it honours CDK's own acknowledgements. Use the
plain rule ID (``AwsSolutions-S1``) or a granular finding ID
(``AwsSolutions-IAM5[Action::s3:GetObject*]``) and always give a reason a reviewer can check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct, IValidation


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding of ``rule_id`` on ``scope`` (and its children) for ``reason``."""
    if len(reason.strip()) < 20:
        msg = f"acknowledgement of {rule_id} on {scope.node.path} needs a real reason"
        raise ValueError(msg)
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def finding_text(scope: IConstruct, value: str) -> str:
    """How cdk-nag prints ``value`` (often a token) inside a granular finding ID."""
    return flatten_reference(Stack.of(scope).resolve(value))


def flatten_reference(node: Any) -> str:
    """A port of cdk-nag's ``flattenCfnReference``: ``Fn::GetAtt`` as ``<Logical.Attr>``,
    ``Ref`` as ``<Logical>``, ``Fn::Join`` concatenated, ``${x}`` as ``<x>``."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return str(separator).join(flatten_reference(part) for part in parts)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def wildcard_findings(document: Any) -> list[str]:
    """The ``AwsSolutions-IAM5`` finding IDs of a resolved policy document, as cdk-nag makes
    them: wildcard actions and wildcard resources of ``Allow`` statements."""
    findings: dict[str, None] = {}
    for statement in (document or {}).get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if isinstance(action, str) and "*" in action:
                findings[f"AwsSolutions-IAM5[Action::{action}]"] = None
        for resource in _as_list(statement.get("Resource")):
            text = flatten_reference(resource)
            if "*" in text:
                findings[f"AwsSolutions-IAM5[Resource::{text}]"] = None
    return list(findings)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def acknowledge_generated_wildcards(
    scope: IConstruct, accepted: Sequence[tuple[str, str]]
) -> list[str]:
    """Acknowledge wildcard findings in policies that a CDK L2/L3 under ``scope`` generated.

    ``accepted`` pairs a regular expression over the finding ID with the reason it is right to
    accept. Each policy's findings are acknowledged one by one (granular IDs) when a pattern
    matches; anything unmatched stays a finding. Returns what was left unmatched.
    """
    left: list[str] = []
    for node in scope.node.find_all():
        document = _policy_document(node)
        if document is None:
            continue
        for finding in wildcard_findings(document):
            reason = next((r for pattern, r in accepted if re.search(pattern, finding)), None)
            if reason is None:
                left.append(finding)
            else:
                acknowledge(node, finding, reason)
    return left


def _policy_document(node: IConstruct) -> Any:
    if isinstance(node, iam.CfnPolicy | iam.CfnManagedPolicy):
        return Stack.of(node).resolve(node.policy_document)
    return None


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Accept the ``AwsSolutions-IAM5`` finding for exactly ``resource`` (a prefix wildcard).

    The finding names ``resource`` as the synthesized template spells it. When ``resource``
    refers to another stack (a team's bucket from its own stack), that spelling (an import or a
    stack output) exists only once CDK has resolved the cross-stack references, after this
    construct is built; so the finding is also acknowledged again at that point, from the
    resolved value."""
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{finding_text(scope, resource)}]", reason)
    scope.node.add_validation(_LateAcknowledgement(scope, resource, reason))


@jsii.implements(IValidation)
class _LateAcknowledgement:
    """Acknowledges a wildcard-resource finding from its value as resolved at validation time
    (CDK validates the construct tree after it resolved cross-stack references and before the
    cdk-nag plugins' findings are matched against acknowledgements). Reports no error."""

    def __init__(self, scope: IConstruct, resource: str, reason: str) -> None:
        self._scope, self._resource, self._reason = scope, resource, reason

    def validate(self) -> list[str]:
        text = finding_text(self._scope, self._resource)
        acknowledge(self._scope, f"AwsSolutions-IAM5[Resource::{text}]", self._reason)
        return []


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
