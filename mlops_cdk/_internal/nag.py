"""Acknowledging cdk-nag findings next to the resource they are about.

cdk-nag 3 runs as a CDK policy-validation plugin; it honours CDK's own acknowledgements. Use the
plain rule ID (``AwsSolutions-S1``) or a granular finding ID
(``AwsSolutions-IAM5[Action::s3:GetObject*]``) and always give a reason a reviewer can check.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept one finding of ``rule_id`` on ``scope`` (and its children) for ``reason``."""
    if len(reason.strip()) < 20:
        msg = f"acknowledgement of {rule_id} on {scope.node.path} needs a real reason"
        raise ValueError(msg)
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


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
