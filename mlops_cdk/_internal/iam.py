"""IAM helpers: roles whose permissions live in customer-managed policies, and statement
builders for the exact actions our constructs need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jsii
from aws_cdk import Resource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_iam as iam_refs
from constructs import Construct

from mlops_cdk._internal import nag

# What a role needs to read and write objects encrypted with a KMS key (bucket keys included).
KMS_USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


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


def grant_key_use(grantee: iam.IGrantable, key: kms.IKey) -> None:
    """Encrypt and decrypt with ``key``: exact actions, no ``kms:*`` wildcards."""
    key.grant(grantee, *KMS_USE_ACTIONS)


def grant_write_prefix(role: iam.IRole, bucket: s3.IBucket, prefix: str, *, writer: str) -> None:
    """Let ``role`` write (and abort multipart uploads of) objects under ``prefix`` only.

    ``writer`` says who writes there, for the acknowledgement of the one wildcard this needs.
    """
    objects = bucket.arn_for_objects(f"{prefix}*")
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:PutObject", "s3:AbortMultipartUpload"], resources=[objects]
        )
    )
    if bucket.encryption_key is not None:
        grant_key_use(role, bucket.encryption_key)
    nag.acknowledge_wildcard_resource(
        role,
        objects,
        f"{writer} writes objects with generated names, so the grant covers the {prefix} prefix "
        "and nothing else in the bucket.",
    )


def grant_read_location(
    grantee: iam.IGrantable,
    *,
    bucket_arn: str,
    key: str,
    encryption_key: kms.IKey | None = None,
) -> None:
    """Read exactly one object, or every object under a prefix (a key ending in ``/``), with
    exact actions: ``s3:GetObject`` and, for a prefix, ``s3:ListBucket`` limited to it."""
    prefix = key.endswith("/")
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:GetObject"],
        resource_arns=[f"{bucket_arn}/{key}{'*' if prefix else ''}"],
    )
    if prefix:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:ListBucket"],
            resource_arns=[bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{key}*"]}},
        )
    if encryption_key is not None:
        encryption_key.grant_decrypt(grantee)


def grant_decrypt_through_s3(
    grantee: iam.IGrantable, *, key_account: str, bucket_arn: str, prefix: str
) -> None:
    """``kms:Decrypt`` with the keys of ``key_account`` (another account's key, whose ID this
    app cannot know), only through S3 and only for objects of ``bucket_arn`` under ``prefix``
    (or the bucket itself, the encryption context S3 passes with bucket keys). The key's own
    policy must admit this account too."""
    stack = Stack.of(grantee) if isinstance(grantee, Construct) else None
    region = stack.region if stack else "*"
    partition = stack.partition if stack else "aws"
    key_arns = f"arn:{partition}:kms:{region}:{key_account}:key/*"
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt"],
        resource_arns=[key_arns],
        conditions={
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "ArnLike": {
                "kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/{prefix}*"]
            },
        },
    )
    if isinstance(grantee, Construct):
        nag.acknowledge_wildcard_resource(
            grantee,
            key_arns,
            f"The key of account {key_account} is another stack's, its ID unknown here; the "
            "grant is limited to decrypting through S3 objects of one bucket under one prefix "
            "(kms:ViaService and the aws:s3:arn encryption context), and that key's policy "
            "admits this account for the same.",
        )


def grant_publish(grantee: iam.IGrantable, topic: sns.ITopic) -> None:
    """``sns:Publish`` on exactly ``topic``, plus exact KMS actions when it is encrypted."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["sns:Publish"], resource_arns=[topic.topic_arn]
    )
    if topic.master_key is not None:
        topic.master_key.grant(grantee, "kms:Decrypt", "kms:GenerateDataKey")


def grant_network_interfaces(role: iam.IRole, vpc: ec2.IVpc, actions: Sequence[str]) -> None:
    """The EC2 network-interface ``actions`` a service needs to place ``role``'s work in ``vpc``,
    limited to that VPC where IAM can: ``Describe*`` calls take only ``"*"``;
    ``CreateNetworkInterface`` is authorized on the new interface and on the subnet and security
    group it uses, which carry ``ec2:Vpc``; the other interface actions on the interface, which
    carries ``ec2:Vpc`` too (Service Authorization Reference, Amazon EC2)."""
    stack = Stack.of(role)
    in_vpc = {
        "ArnEquals": {
            "ec2:Vpc": stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id)
        }
    }

    def arn(resource: str) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name="*")

    describe = [a for a in actions if a.startswith("ec2:Describe")]
    manage = [a for a in actions if a not in describe and a != "ec2:CreateNetworkInterface"]
    if describe:
        role.add_to_principal_policy(iam.PolicyStatement(actions=describe, resources=["*"]))
    if "ec2:CreateNetworkInterface" in actions:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"], resources=[arn("network-interface")]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[arn("subnet"), arn("security-group")],
                conditions=in_vpc,
            )
        )
    if manage:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=manage, resources=[arn("network-interface")], conditions=in_vpc
            )
        )
    for resource in ("network-interface", "subnet", "security-group"):
        nag.acknowledge_wildcard_resource(
            role,
            arn(resource),
            "Network interfaces are created per job, endpoint instance or function at run time; "
            "the subnets and security groups used and every interface acted on are limited to "
            "this VPC by the ec2:Vpc condition.",
        )


@jsii.implements(iam.IRole)
class ManagedPolicyGrants(Resource):
    """A role the user gave, as one construct sees it: every grant made through it lands in a
    customer-managed policy that the construct creates and attaches to that role.

    CDK would add grants to a given ``iam.Role`` as an inline default policy, which the HIPAA,
    NIST 800-53 and PCI DSS packs reject (``IAMNoInlinePolicy``); an imported role would get an
    inline ``iam.Policy``. This view keeps the role's ARN, name and trust, and sends each
    statement to ``iam.ManagedPolicy(self, "Permissions", roles=[role])`` instead: the same
    policy shape as :class:`ManagedPolicyRole`, so the same acknowledgements apply to it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, role: iam.IRole) -> None:
        super().__init__(scope, construct_id)
        self.given = role
        self._policy: iam.ManagedPolicy | None = None

    @property
    def policy(self) -> iam.ManagedPolicy | None:
        """The managed policy holding the grants (``None`` before any grant)."""
        return self._policy

    @property
    def role_arn(self) -> str:
        return self.given.role_arn

    @property
    def role_name(self) -> str:
        return self.given.role_name

    @property
    def role_ref(self) -> iam_refs.RoleReference:
        return self.given.role_ref

    @property
    def assume_role_action(self) -> str:
        return self.given.assume_role_action

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self.given.policy_fragment

    @property
    def principal_account(self) -> str | None:
        return self.given.principal_account

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        """Add ``statement`` to the managed policy attached to the given role."""
        if self._policy is None:
            self._policy = iam.ManagedPolicy(self, "Permissions", roles=[self.given])
        self._policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._policy)

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added

    def add_managed_policy(self, policy: iam.IManagedPolicy) -> None:
        self.given.add_managed_policy(policy)

    def attach_inline_policy(self, policy: iam.Policy) -> None:
        self.given.attach_inline_policy(policy)

    def grant(self, grantee: iam.IPrincipal, *actions: str) -> iam.Grant:
        return self.given.grant(grantee, *actions)

    def grant_pass_role(self, grantee: iam.IPrincipal) -> iam.Grant:
        return self.given.grant_pass_role(grantee)

    def grant_assume_role(self, grantee: iam.IPrincipal) -> iam.Grant:
        return self.given.grant_assume_role(grantee)


def role_for(
    scope: Construct, construct_id: str, role: iam.IRole | None, create: Callable[[], iam.IRole]
) -> iam.IRole:
    """The role a construct works with: ``create()`` when none is given; our own
    :class:`ManagedPolicyRole` as it is; any other role through :class:`ManagedPolicyGrants`, so
    grants land in a customer-managed policy attached to it."""
    if role is None:
        return create()
    if isinstance(role, ManagedPolicyRole | ManagedPolicyGrants):
        return role
    return ManagedPolicyGrants(scope, construct_id, role=role)


def permissions_policy(role: iam.IRole) -> iam.ManagedPolicy | None:
    """The managed policy holding a construct's grants to ``role``, if there is one."""
    if isinstance(role, ManagedPolicyRole | ManagedPolicyGrants):
        return role.policy
    return None


@jsii.implements(iam.IPrincipal)
class OnlyActions:
    """A view of ``principal`` that passes on only the ``actions`` of each statement granted to
    it and drops the rest (statements left with no action are dropped whole).

    For CDK grants that bundle more than a service needs: ``secret.grant_read`` adds
    ``secretsmanager:DescribeSecret`` and four SSM read actions where ECS calls only
    ``GetSecretValue`` / ``GetParameters``, while its KMS ``Decrypt`` grant on the secret's own key
    is exactly right. Granting through this view keeps the right parts, resources and
    conditions unchanged.
    """

    def __init__(self, principal: iam.IPrincipal, actions: Sequence[str]) -> None:
        self.principal, self.actions = principal, tuple(actions)

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self

    @property
    def assume_role_action(self) -> str:
        return self.principal.assume_role_action

    @property
    def policy_fragment(self) -> iam.PrincipalPolicyFragment:
        return self.principal.policy_fragment

    @property
    def principal_account(self) -> str | None:
        return self.principal.principal_account

    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        """Pass on ``statement`` with only the allowed actions."""
        kept = [action for action in statement.actions if action in self.actions]
        if not kept:
            return iam.AddToPrincipalPolicyResult(statement_added=True)
        return self.principal.add_to_principal_policy(
            iam.PolicyStatement(
                effect=statement.effect,
                actions=kept,
                resources=statement.resources,
                conditions=statement.conditions or None,
            )
        )

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added
