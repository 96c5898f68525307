"""ModelRegistry: a SageMaker model package group, who may read it, and its approval events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk._internal.patterns import (
    ACCOUNT_ID,
    APPROVAL_STATUSES,
    SAGEMAKER_NAME,
    SAGEMAKER_NAME_MEANING,
)
from mlops_cdk._internal.validation import BUCKET, KEY, Checker, is_unresolved

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
# What a serving account needs: read the package (its ModelDataUrl and drift baselines), then
# get the objects it names (and list them: Processing inputs are S3 prefixes) and decrypt them.
SERVING_PACKAGE_ACTIONS = ("sagemaker:DescribeModelPackage",)
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

    Training pipelines register versions here; deployments read approved versions. Accounts in
    ``cross_account_readers`` (e.g. the delivery account) may describe and list the packages
    and create models from them, nothing more. Accounts in ``serving_accounts`` (e.g. prod,
    serving what staging approved) may describe the packages, and, given ``artifact_bucket``,
    get and list the objects under ``artifact_prefix`` through that bucket's policy and decrypt
    them through S3 with ``encryption_key``, limited to that bucket (encryption context).
    Image repositories belong to whoever owns them.

    Example::

        registry = ModelRegistry(self, "Registry", group_name="churn",
            cross_account_readers=["444444444444"], serving_accounts=["333333333333"],
            artifact_bucket=artifacts, artifact_prefix="training/runs/", encryption_key=key)
        registry.on_approval(targets.CodePipeline(delivery))

    :param group_name: the model package group name (1-63 letters, digits, hyphens).
    :param description: Default: none.
    :param cross_account_readers: 12-digit account IDs allowed to read and deploy packages.
        Default: none (no resource policy).
    :param serving_accounts: 12-digit account IDs that serve the packages with their own
        image: describe packages, read what they name. Default: none.
    :param artifact_bucket: the bucket (of this app) holding the packages' artifacts and
        baselines, whose policy admits ``serving_accounts``. Default: none (no bucket grant).
    :param artifact_prefix: where under ``artifact_bucket`` they are. Default: the whole bucket.
    :param encryption_key: the key artifacts are encrypted with; ``serving_accounts`` get
        decrypt through S3 on it when the key is defined in this app. Default: the bucket's.
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
        serving_accounts: Sequence[str] = (),
        artifact_bucket: s3.IBucket | None = None,
        artifact_prefix: str = "",
        encryption_key: kms.IKey | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        check = Checker.of(self)
        check.instance_of("encryption_key", encryption_key, KEY)
        check.max_length("group_name", group_name, 63)
        check.matches("group_name", group_name, SAGEMAKER_NAME, SAGEMAKER_NAME_MEANING)
        check.max_length("description", description, MAX_DESCRIPTION)
        for keyword, accounts in (
            ("cross_account_readers", cross_account_readers),
            ("serving_accounts", serving_accounts),
        ):
            for account in accounts:
                check.matches(keyword, account, ACCOUNT_ID, "12-digit AWS account IDs")
            if len(set(accounts)) != len(accounts):
                check.fail(keyword, "unique", list(accounts))
        check.instance_of("artifact_bucket", artifact_bucket, BUCKET)
        if artifact_prefix:
            artifact_prefix = check.key_prefix("artifact_prefix", artifact_prefix)
        self.group_name = group_name
        self.encryption_key = encryption_key or (
            artifact_bucket.encryption_key if artifact_bucket else None
        )
        self.cross_account_readers = tuple(cross_account_readers)
        self.serving_accounts = tuple(serving_accounts)
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=group_name,
            model_package_group_description=description,
            model_package_group_policy=self._policy()
            if cross_account_readers or serving_accounts
            else None,
        )
        self.group.apply_removal_policy(removal_policy)
        if serving_accounts and artifact_bucket is not None:
            self._admit_serving_accounts(artifact_bucket, artifact_prefix)

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
        statements = []
        if self.cross_account_readers:
            readers = [iam.AccountPrincipal(a) for a in self.cross_account_readers]
            statements += [
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
        if self.serving_accounts:
            statements.append(
                iam.PolicyStatement(
                    sid="ServingAccountsDescribePackages",
                    principals=[iam.AccountPrincipal(a) for a in self.serving_accounts],
                    actions=list(SERVING_PACKAGE_ACTIONS),
                    resources=self._packages_arns(),
                )
            )
        return iam.PolicyDocument(statements=statements)

    def _admit_serving_accounts(self, bucket: s3.IBucket, prefix: str) -> None:
        """Bucket policy: get and list the objects under ``prefix``; key policy: decrypt them
        through S3, for objects of this bucket only (S3 passes the bucket ARN as encryption
        context with bucket keys, the object ARN without: both are under the bucket ARN)."""
        servers = [iam.AccountPrincipal(a) for a in self.serving_accounts]
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ServingAccountsGetPackageArtifacts",
                principals=servers,
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{prefix}*")],
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ServingAccountsListPackageArtifacts",
                principals=servers,
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            )
        )
        key = self.encryption_key
        if not isinstance(key, kms.Key):
            return
        conditions: dict[str, Any] = {
            "StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}
        }
        name = _literal_bucket_name(bucket)
        if name is not None:
            # A literal ARN: the bucket's own ARN attribute would make key and bucket depend on
            # each other (the bucket is encrypted with the key).
            arn = f"arn:{Stack.of(self).partition}:s3:::{name}"
            conditions["ArnLike"] = {"kms:EncryptionContext:aws:s3:arn": [arn, f"{arn}/{prefix}*"]}
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ServingAccountsDecryptPackageArtifactsThroughS3",
                principals=servers,
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions=conditions,
            )
        )


def _literal_bucket_name(bucket: s3.IBucket) -> str | None:
    """The bucket's name when it is set literally (``bucket_name=``), else ``None``."""
    child = bucket.node.default_child
    name = child.bucket_name if isinstance(child, s3.CfnBucket) else None
    return name if isinstance(name, str) and not is_unresolved(name) else None
