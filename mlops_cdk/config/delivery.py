"""The delivery pipeline's configuration (``config/delivery.yaml``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
)

from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk.config._fields import (
    PROMOTION_ORDER,
    AccountId,
    Email,
    ModelPackageGroupName,
    Name,
    Region,
    Section,
    matches,
    validated_by,
)


class DeliverySettings(Section):
    """The delivery pipeline (``config/delivery.yaml``): where it runs, what it builds from,
    who hears about it, and which model registry group triggers it."""

    project: Name = "mlops"
    account: AccountId
    region: Region
    # codestar-connections: connections created before the 2024 rename.
    connection_arn: Annotated[
        str,
        validated_by(
            arn_problem,
            service=("codeconnections", "codestar-connections"),
            resource_type="connection",
        ),
    ]
    repository: Annotated[str, matches(r"[\w.-]+/[\w.-]+", "owner/repository")]
    branch: Annotated[str, Field(min_length=1, max_length=255)] = "main"
    environments: list[Name] = Field(default_factory=lambda: list(PROMOTION_ORDER), min_length=1)
    notification_email: Email | None = None
    # The account whose registry releases models (default: this tooling account). Its
    # ml_pipeline section must list this account in cross_account_readers and
    # forward_approvals_to.
    model_registry_account: AccountId | None = None
    model_package_group: ModelPackageGroupName | None = None

    @property
    def stack_name(self) -> str:
        """``<project>-delivery``."""
        return f"{self.project}-delivery"

    @property
    def registry_account(self) -> str:
        """The account holding the watched model package group."""
        return self.model_registry_account or self.account
