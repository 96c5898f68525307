"""The newest approved package of a model package group, looked up at synth time (one
implementation: ``ModelPackage.latest_approved`` for a consumer's app, and this app's
``-c approved_model_package=latest`` that the delivery pipeline's synth step passes).

The query is AWS's documented one: ``ListModelPackages`` with ``ModelApprovalStatus=Approved``,
``SortBy=CreationTime``, ``SortOrder=Descending``, ``MaxResults=1`` (botocore's sagemaker
model). Without credentials or network the pinned package is served and a note printed, so an
offline ``cdk synth`` and the test suite stay deterministic; a refused call (access denied, no
such group) is a configuration error, never a silent fallback.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any, Protocol

from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._internal.patterns import (
    MODEL_PACKAGE_VERSION_ARN,
    MODEL_PACKAGE_VERSION_ARN_MEANING,
)

APPROVED = "Approved"


class RegistryUnavailable(Exception):  # noqa: N818 - a state, not a failure of the caller
    """No credentials or no network: the registry cannot be asked (the pin is served)."""


class ListModelPackagesClient(Protocol):
    """The one SageMaker client call the lookup makes (keyword arguments only)."""

    def list_model_packages(self, **kwargs: Any) -> dict[str, Any]: ...


# (group name or group ARN, region) -> the newest approved package ARN, or None.
ApprovedLookup = Callable[[str, str], str | None]


def newest_approved(client: ListModelPackagesClient, group: str) -> str | None:
    """The newest approved package of ``group`` (name or ARN) that ``client`` lists, or
    ``None`` when the group has none yet."""
    response = client.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )
    summaries = response.get("ModelPackageSummaryList") or []
    return str(summaries[0]["ModelPackageArn"]) if summaries else None


def botocore_lookup(group: str, region: str) -> str | None:
    """The default lookup: botocore's SageMaker client in ``region`` with the default
    credential chain (environment, profile, container or instance role)."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.get_session()
    if session.get_credentials() is None:
        raise RegistryUnavailable("no AWS credentials")
    client = session.create_client("sagemaker", region_name=region)
    try:
        return newest_approved(client, group)
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.NoCredentialsError,
    ) as error:
        raise RegistryUnavailable(str(error)) from None
    except botocore.exceptions.ClientError as error:
        raise ConfigurationError(
            f"ListModelPackages of model package group {group!r} in {region} was refused: {error}"
        ) from None


def partition(region: str) -> str:
    """The ARN partition of ``region``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def group_identifier(group: str, *, region: str, account: str | None) -> str:
    """``group`` as ListModelPackages takes it: its ARN when ``account`` is given (a group in
    another account is only reachable by ARN, through its resource policy), else the name."""
    if account is None:
        return group
    return f"arn:{partition(region)}:sagemaker:{region}:{account}:model-package-group/{group}"


def resolve_approved(
    subject: str,
    group: str,
    *,
    region: str,
    account: str | None,
    pinned: str | None,
    lookup: ApprovedLookup | None = None,
    note: Callable[[str], None] | None = None,
) -> str | None:
    """The newest approved package ARN of ``group``, or ``pinned`` when the registry cannot
    be asked or has no approved package yet (``note`` says which; default: a line on stderr);
    ``None`` then when nothing is pinned (the caller serves its fallback, e.g. the demo model).

    :param subject: who asks, for messages (``ModelPackage.latest_approved``).
    :raises ConfigurationError: the call was refused, or the answer is not a versioned
        package of ``group``.
    """
    say = note or _stderr
    ask = lookup or botocore_lookup
    identifier = group_identifier(group, region=region, account=account)
    try:
        found = ask(identifier, region)
    except RegistryUnavailable as reason:
        fallback = f"the pinned package {pinned}" if pinned else "the fallback (no pin)"
        say(f"{subject}: registry not reachable ({reason}); serving {fallback}")
        return pinned
    if found is None:
        fallback = pinned or "the fallback (no pin)"
        say(f"{subject}: group {group!r} has no approved package yet; serving {fallback}")
        return pinned
    if re.fullmatch(MODEL_PACKAGE_VERSION_ARN, found) is None or (
        found.rsplit("/", 2)[-2].lower() != group.lower()
    ):
        raise ConfigurationError(
            f"{subject}: the registry answered {found!r}, which is not "
            f"{MODEL_PACKAGE_VERSION_ARN_MEANING} of group {group!r}"
        )
    if found != pinned:
        say(f"{subject}: serving the newest approved package {found} of group {group!r}")
    return found


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
