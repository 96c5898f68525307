"""ModelRegistry: a SageMaker model package group, who may read it, and its approval events."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk._internal.patterns import (
    ACCOUNT_ID,
    APPROVAL_STATUSES,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MEANING,
)
from mlops_cdk._internal.validation import KEY, Checker, is_unresolved

MAX_DESCRIPTION = 1024
# What another account may do with the packages: read them and deploy them, nothing more
# (AIOps sagemaker_model_package_group and the SageMaker cross-account registry guide).
CROSS_ACCOUNT_GROUP_ACTIONS = ("sagemaker:DescribeModelPackageGroup",)
CROSS_ACCOUNT_PACKAGE_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:ListModelPackages",
    "sagemaker:CreateModel",
)
READ_PACKAGE_ACTIONS = ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages")
STATE_CHANGE = "SageMaker Model Package State Change"


class IModelRegistry(Construct):
    """A model package group, created here (:class:`ModelRegistry`) or imported by name
    (:meth:`ModelRegistry.from_group_name`)."""

    group_name: str
    encryption_key: kms.IKey | None

    @property
    def group_arn(self) -> str:
        """``arn:<partition>:sagemaker:<region>:<account>:model-package-group/<name>``."""
        return self._group_arns()[0]

    @property
    def packages_arn(self) -> str:
        """Every version in the group: ``...:model-package/<name>/*``."""
        return self._packages_arns()[0]

    @property
    def group_arns(self) -> list[str]:
        """The group's ARN in each spelling IAM may see (see :attr:`packages_arns`)."""
        return self._group_arns()

    @property
    def packages_arns(self) -> list[str]:
        """Package ARNs in each spelling: the name as given and, when it has capitals, in lower
        case (IAM compares ARNs case-sensitively)."""
        return self._packages_arns()

    def _names(self) -> list[str]:
        # IAM compares ARNs case-sensitively, and SageMaker has been seen writing resource names
        # in ARNs both as given and in lower case: grants cover both spellings.
        name = self.group_name
        if is_unresolved(name) or name == name.lower():
            return [name]
        return [name, name.lower()]

    def _group_arns(self) -> list[str]:
        stack = Stack.of(self)
        return [
            stack.format_arn(service="sagemaker", resource="model-package-group", resource_name=n)
            for n in self._names()
        ]

    def _packages_arns(self) -> list[str]:
        stack = Stack.of(self)
        return [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{n}/*")
            for n in self._names()
        ]

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe the group, list and describe its packages (e.g. to deploy the latest
        approved one)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:DescribeModelPackageGroup"],
            resource_arns=self._group_arns(),
        )
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=list(READ_PACKAGE_ACTIONS), resource_arns=self._packages_arns()
        )

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Register new versions in the group (``CreateModelPackage``) and read them."""
        self.grant_read(grantee)
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:CreateModelPackage", "sagemaker:AddTags"],
            resource_arns=self._packages_arns(),
        )

    def on_state_change(
        self,
        construct_id: str,
        target: events.IRuleTarget | None = None,
        *,
        statuses: Sequence[str] = (),
        description: str | None = None,
    ) -> events.Rule:
        """An EventBridge rule on "SageMaker Model Package State Change" events of this group,
        limited to ``statuses`` (``ModelApprovalStatus``) when given."""
        check = Checker.of(self)
        for status in statuses:
            check.one_of("statuses", status, APPROVAL_STATUSES)
        detail: dict[str, object] = {"ModelPackageGroupName": [self.group_name]}
        if statuses:
            detail["ModelApprovalStatus"] = list(statuses)
        rule = events.Rule(
            self,
            construct_id,
            description=description
            or f"Model package state changes in {self.node.path}"
            + (f" ({', '.join(statuses)})" if statuses else ""),
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"], detail_type=[STATE_CHANGE], detail=detail
            ),
        )
        if target is not None:
            rule.add_target(target)
        return rule

    def on_approval(
        self, target: events.IRuleTarget | None = None, *, construct_id: str = "OnApproval"
    ) -> events.Rule:
        """A rule matching packages of this group whose status is (or becomes) Approved, e.g.
        to start the delivery pipeline."""
        return self.on_state_change(
            construct_id,
            target,
            statuses=["Approved"],
            description=f"A model package in {self.node.path} was approved",
        )

    def on_rejection(
        self, target: events.IRuleTarget | None = None, *, construct_id: str = "OnRejection"
    ) -> events.Rule:
        """A rule matching packages of this group whose status is (or becomes) Rejected."""
        return self.on_state_change(
            construct_id,
            target,
            statuses=["Rejected"],
            description=f"A model package in {self.node.path} was rejected",
        )


class ModelRegistry(IModelRegistry):
    """A SageMaker model package group (model registry), retained when its stack is deleted.

    Training pipelines register versions here; deployments read approved versions. Other
    accounts listed in ``cross_account_readers`` (e.g. staging and prod) may describe and list
    the packages and create models from them, nothing more, and decrypt artifacts through S3
    with ``encryption_key``. They still need read access to the artifact bucket (its bucket
    policy) and to the image repository; those belong to whoever owns them.

    Example::

        registry = ModelRegistry(self, "Registry", group_name="churn",
            cross_account_readers=["222222222222"], encryption_key=key)
        registry.on_approval(targets.CodePipeline(delivery))

    :param group_name: the model package group name (1-63 letters, digits, hyphens).
    :param description: Default: none.
    :param cross_account_readers: 12-digit account IDs allowed to read and deploy packages.
        Default: none (no resource policy).
    :param encryption_key: the key artifacts are encrypted with; readers get decrypt through
        S3 on it when the key is defined in this app. Default: none.
    :param removal_policy: Default: RETAIN (packages are the audit trail of what was deployed).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        description: str | None = None,
        cross_account_readers: Sequence[str] = (),
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        check = Checker.of(self)
        check.instance_of("encryption_key", encryption_key, KEY)
        check.max_length("group_name", group_name, 63)
        check.matches("group_name", group_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
        check.max_length("description", description, MAX_DESCRIPTION)
        for account in cross_account_readers:
            check.matches("cross_account_readers", account, ACCOUNT_ID, "12-digit AWS account IDs")
        if len(set(cross_account_readers)) != len(cross_account_readers):
            check.fail("cross_account_readers", "unique", list(cross_account_readers))
        self.group_name = group_name
        self.encryption_key = encryption_key
        self.cross_account_readers = tuple(cross_account_readers)
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=group_name,
            model_package_group_description=description,
            model_package_group_policy=self._policy() if cross_account_readers else None,
        )
        self.group.apply_removal_policy(removal_policy)
        if cross_account_readers and isinstance(encryption_key, kms.Key):
            self._allow_readers_to_decrypt(encryption_key)

    @staticmethod
    def from_group_name(
        scope: Construct,
        construct_id: str,
        group_name: str,
        *,
        encryption_key: kms.IKey | None = None,
    ) -> IModelRegistry:
        """A group defined elsewhere (another stack or app), by name."""
        imported = IModelRegistry(scope, construct_id)
        check = Checker.of(imported)
        check.matches("group_name", group_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
        imported.group_name = group_name
        imported.encryption_key = encryption_key
        return imported

    def _policy(self) -> iam.PolicyDocument:
        readers = [iam.AccountPrincipal(account) for account in self.cross_account_readers]
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="CrossAccountDescribeGroup",
                    principals=readers,
                    actions=list(CROSS_ACCOUNT_GROUP_ACTIONS),
                    resources=self._group_arns(),
                ),
                iam.PolicyStatement(
                    sid="CrossAccountReadAndDeployPackages",
                    principals=readers,
                    actions=list(CROSS_ACCOUNT_PACKAGE_ACTIONS),
                    resources=self._packages_arns(),
                ),
            ]
        )

    def _allow_readers_to_decrypt(self, key: kms.Key) -> None:
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ModelRegistryReadersDecryptArtifactsThroughS3",
                principals=[iam.AccountPrincipal(a) for a in self.cross_account_readers],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}
                },
            )
        )
