"""The shared validation helpers: message shape, token awareness, each check's boundary."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.validation import Checker
from tests.helpers.apps import unit_stack

check = Checker("Prod/Serving/Churn")


def test_message_names_subject_keyword_requirement_and_value() -> None:
    with pytest.raises(ConfigurationError) as error:
        check.one_of("serverless.memory_size_mb", 3000, [1024, 2048, 3072])
    assert str(error.value) == (
        "Prod/Serving/Churn: serverless.memory_size_mb must be one of 1024, 2048, 3072 (got 3000)"
    )


def test_configuration_error_is_a_value_error() -> None:
    assert issubclass(ConfigurationError, ValueError)


def test_checker_of_a_construct_uses_its_path() -> None:
    stack = unit_stack(name="Prod")
    child = cdk.CfnResource(stack, "Thing", type="AWS::SNS::Topic")
    assert Checker.of(child).subject == "Prod/Thing"


def test_one_of_is_case_sensitive() -> None:
    with pytest.raises(ConfigurationError, match=r"must be one of 'Approved', 'Rejected'"):
        check.one_of("approval", "approved", ["Approved", "Rejected"])


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0, True), (100, True), (-0.1, False), (100.5, False)],
    ids=["lower-bound", "upper-bound", "below", "above"],
)
def test_in_range_includes_both_ends(value: float, ok: bool) -> None:
    if ok:
        check.in_range("sampling_percentage", value, 0, 100)
    else:
        with pytest.raises(ConfigurationError, match=r"between 0 and 100 % \(got"):
            check.in_range("sampling_percentage", value, 0, 100, "%")


def test_positive_rejects_zero_and_at_least_accepts_the_bound() -> None:
    with pytest.raises(ConfigurationError, match=r"target must be greater than 0 \(got 0\)"):
        check.positive("target", 0)
    check.at_least("count", 1, 1)
    with pytest.raises(ConfigurationError, match=r"count must be at least 1 \(got 0\)"):
        check.at_least("count", 0, 1)


def test_matches_and_max_length() -> None:
    check.matches("name", "churn-v2", r"[a-z0-9-]+", "lowercase")
    with pytest.raises(ConfigurationError, match=r"name must be lowercase \(got 'Churn_V2'\)"):
        check.matches("name", "Churn_V2", r"[a-z0-9-]+", "lowercase")
    with pytest.raises(ConfigurationError, match=r"at most 3 characters long \(got 4 characters\)"):
        check.max_length("name", "abcd", 3)


def test_exactly_one_reports_what_was_given() -> None:
    check.exactly_one({"image": "x", "model_package_arn": None})
    with pytest.raises(
        ConfigurationError,
        match=r"image or model_package_arn must be given "
        r"exactly once \(got image, model_package_arn\)",
    ):
        check.exactly_one({"image": "x", "model_package_arn": "y"})
    with pytest.raises(ConfigurationError, match=r"\(got none\)"):
        check.exactly_one({"image": None, "model_package_arn": None})


def test_unresolved_tokens_are_skipped() -> None:
    number_token = cdk.Token.as_number({"Ref": "InstanceCount"})
    string_token = cdk.Token.as_string({"Ref": "Mode"})
    check.in_range("count", number_token, 1, 10)
    check.one_of("mode", string_token, ["A", "B"])
    check.matches("name", string_token, r"[a-z]+", "lowercase")
    check.positive("target", number_token)
    check.max_length("name", string_token, 1)


def test_none_means_not_set() -> None:
    check.in_range("x", None, 1, 2)
    check.positive("x", None)
    check.matches("x", None, "a", "a")


# --- prefixes: both spellings, one normalised form --------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("capture", "capture/"),
        ("capture/", "capture/"),
        ("a/b", "a/b/"),
        ("date=2026-01-01", "date=2026-01-01/"),
    ],
    ids=["no-slash", "slash", "nested", "hive-partition"],
)
def test_key_prefix_accepts_both_spellings_and_keeps_the_trailing_slash(
    given: str, kept: str
) -> None:
    assert check.key_prefix("prefix", given) == kept


def test_key_prefix_still_rejects_what_is_not_a_prefix() -> None:
    with pytest.raises(
        ConfigurationError, match=r"prefix must be a key prefix .*\(got '/capture'\)"
    ):
        check.key_prefix("prefix", "/capture")
