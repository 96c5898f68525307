"""ModelPackage.latest_approved: the newest approved package of a group at synth, asked with
AWS's ListModelPackages request (checked by botocore's Stubber against the service model), the
pin offline or when the group has none, and precise errors. No AWS: stubbed and fake clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber

from mlops_cdk import ConfigurationError
from mlops_cdk._internal import registry
from mlops_cdk._internal.registry import botocore_lookup, newest_approved
from mlops_cdk.constructs import ModelPackage, RegistryUnavailable

PINNED = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"
NEWEST = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/9"
GROUP_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn"
REQUEST = {
    "ModelPackageGroupName": GROUP_ARN,
    "ModelApprovalStatus": "Approved",
    "SortBy": "CreationTime",
    "SortOrder": "Descending",
    "MaxResults": 1,
}


def summary(arn: str) -> dict[str, Any]:
    return {
        "ModelPackageArn": arn,
        "ModelPackageGroupName": "churn",
        "ModelPackageVersion": int(arn.rsplit("/", 1)[-1]),
        "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
        "ModelPackageStatus": "Completed",
        "ModelApprovalStatus": "Approved",
        "ModelPackageName": "churn",
    }


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """botocore's default session with fake credentials whose SageMaker client is stubbed: no
    request leaves the process, and the Stubber checks each one against botocore's model."""
    session = botocore.session.get_session()
    client = session.create_client(
        "sagemaker",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - a stub's fake credentials
    )
    monkeypatch.setattr(session, "get_credentials", lambda: Credentials("testing", "testing"))
    monkeypatch.setattr(session, "create_client", lambda *a, **k: client)
    monkeypatch.setattr(botocore.session, "get_session", lambda: session)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_the_newest_approved_package_is_served(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stubbed.add_response(
        "list_model_packages", {"ModelPackageSummaryList": [summary(NEWEST)]}, REQUEST
    )
    package = ModelPackage.latest_approved(
        "churn", region="eu-west-1", account="111111111111", pinned=PINNED
    )
    assert package.arn == NEWEST
    assert f"serving the newest approved package {NEWEST}" in capsys.readouterr().err


def test_a_group_without_approved_packages_serves_the_pin(
    stubbed: Stubber, capsys: pytest.CaptureFixture[str]
) -> None:
    stubbed.add_response("list_model_packages", {"ModelPackageSummaryList": []}, REQUEST)
    package = ModelPackage.latest_approved(
        "churn", region="eu-west-1", account="111111111111", pinned=PINNED
    )
    assert package.arn == PINNED
    assert "group 'churn' has no approved package yet" in capsys.readouterr().err


def test_a_refused_call_is_an_error_not_a_silent_pin(stubbed: Stubber) -> None:
    stubbed.add_client_error(
        "list_model_packages", "AccessDeniedException", "not authorized", 400, REQUEST
    )
    with pytest.raises(ConfigurationError, match=r"ListModelPackages of model package group "):
        ModelPackage.latest_approved(
            "churn", region="eu-west-1", account="111111111111", pinned=PINNED
        )


def test_no_credentials_serves_the_pin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    session = botocore.session.get_session()
    monkeypatch.setattr(session, "get_credentials", lambda: None)
    monkeypatch.setattr(botocore.session, "get_session", lambda: session)
    package = ModelPackage.latest_approved("churn", region="eu-west-1", pinned=PINNED)
    assert package.arn == PINNED
    assert "registry not reachable (no AWS credentials)" in capsys.readouterr().err
    with pytest.raises(RegistryUnavailable):
        botocore_lookup("churn", "eu-west-1")


def test_an_injected_lookup_gets_the_name_without_an_account() -> None:
    asked: list[tuple[str, str]] = []

    def lookup(group: str, region: str) -> str | None:
        asked.append((group, region))
        return NEWEST

    package = ModelPackage.latest_approved(
        "churn", region="eu-west-1", pinned=PINNED, lookup=lookup
    )
    assert package.arn == NEWEST
    assert asked == [("churn", "eu-west-1")]


class _Client:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer, self.calls = answer, list[dict[str, Any]]()

    def list_model_packages(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.answer


def test_the_query_is_the_documented_one() -> None:
    client = _Client({"ModelPackageSummaryList": [{"ModelPackageArn": NEWEST}]})
    assert newest_approved(client, GROUP_ARN) == NEWEST
    assert client.calls == [REQUEST]


def test_china_and_govcloud_group_arns() -> None:
    assert registry.group_identifier("g", region="cn-north-1", account="1" * 12).startswith(
        "arn:aws-cn:sagemaker:cn-north-1:"
    )
    assert registry.group_identifier("g", region="us-gov-west-1", account="1" * 12).startswith(
        "arn:aws-us-gov:"
    )


BAD = [
    ({"group_name": "churn_model"}, r"group_name must be a model package group name"),
    ({"region": "eu-wset-1"}, r"region must be an AWS region code .*did you mean 'eu-west-1'"),
    ({"account": "1111"}, r"account must be a 12-digit AWS account ID \(got '1111'\)"),
    ({"pinned": "churn/3"}, r"pinned must be a versioned model package ARN .*\(got 'churn/3'\)"),
    (
        {"pinned": "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud/3"},
        r"pinned must be a package of group 'churn' \(got 'arn:.*/fraud/3', of group 'fraud'\)",
    ),
    (
        {"lookup": lambda group, region: "arn:aws:sagemaker:eu-west-1:1:model-package/x/1"},
        r"the registry answered .* which is not a versioned model package ARN .* of group",
    ),
    (
        {
            "lookup": lambda group, region: (
                "arn:aws:sagemaker:eu-west-1:111111111111:model-package/fraud/4"
            )
        },
        r"the registry answered .*fraud/4.* of group 'churn'",
    ),
]


@pytest.mark.parametrize(
    ("change", "message"),
    BAD,
    ids=["group", "region", "account", "pin", "pin-group", "answer", "answer-group"],
)
def test_bad_input(change: dict[str, Any], message: str) -> None:
    kwargs: dict[str, Any] = {
        "group_name": "churn",
        "region": "eu-west-1",
        "pinned": PINNED,
        "lookup": lambda group, region: None,
    }
    kwargs.update(change)
    group = kwargs.pop("group_name")
    with pytest.raises(ConfigurationError, match=r"^ModelPackage\.latest_approved: " + message):
        ModelPackage.latest_approved(group, **kwargs)
