"""IAM helpers: roles whose permissions live in customer-managed policies, and statement
builders for the exact actions our constructs need."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """An IAM role that collects every grant in one customer-managed policy.

    CDK grants (``bucket.grant_read(role)``) normally land in an inline policy, which the HIPAA,
    NIST 800-53 and PCI DSS packs reject (``IAMNoInlinePolicy``). This role overrides
    ``add_to_principal_policy`` so the same grants go to a managed policy attached to it, created
    on the first grant (an empty managed policy is invalid). No AWS-managed policies, ever.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._policy: iam.ManagedPolicy | None = None

    @property
    def policy(self) -> iam.ManagedPolicy | None:
        """The managed policy holding this role's permissions (``None`` before any grant)."""
        return self._policy

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        """Add ``statement`` to the role's managed policy instead of an inline one."""
        if self._policy is None:
            self._policy = iam.ManagedPolicy(self, "Permissions", roles=[self])
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)


def service_role(
    scope: Construct, construct_id: str, *, service: str, description: str
) -> ManagedPolicyRole:
    """A role that ``service`` (e.g. ``sagemaker.amazonaws.com``) can assume, with no
    permissions until something is granted to it."""
    return ManagedPolicyRole(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(service),
        description=description,
    )
