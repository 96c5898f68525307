"""The shared field types and helpers of the configuration models."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from mlops_cdk._internal.monitor_schedules import (
    SCHEDULE_MEANING,
    parse_schedule,
)
from mlops_cdk._internal.patterns import (
    ACCOUNT_ID,
    LOG_RETENTION_PERIODS,
    MODEL_PACKAGE_GROUP_NAME,
    MODEL_PACKAGE_GROUP_NAME_MEANING,
    MODEL_PACKAGE_VERSION_ARN,
    MODEL_PACKAGE_VERSION_ARN_MEANING,
)
from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk._internal.validators.images import image_uri_problem
from mlops_cdk._internal.validators.instance_types import instance_type_problem
from mlops_cdk._internal.validators.regions import region_problem
from mlops_cdk._internal.validators.s3 import normalise_prefix, prefix_problem
from mlops_cdk._internal.validators.schedules import schedule_problem

CONFIG_DIR = Path("config")
PROMOTION_ORDER = ("dev", "staging", "prod")
DELIVERY = "delivery"
LONGEST_BUCKET_PURPOSE = "batch-output"
MAX_BUCKET_NAME = 63
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = LOG_RETENTION_PERIODS


def matches(regex: str, meaning: str) -> AfterValidator:
    def check(value: str) -> str:
        if re.fullmatch(regex, value) is None:
            raise ValueError(f"must be {meaning}")
        return value

    return AfterValidator(check)


def validated_by(validator: Callable[..., str | None], **options: Any) -> AfterValidator:
    """A shared validator (``mlops_cdk._internal.validators``) as a field validator."""

    def check(value: str) -> str:
        problem = validator(value, **options)
        if problem is not None:
            raise ValueError(f"must be {problem}")
        return value

    return AfterValidator(check)


def _quoted_account(value: object) -> object:
    # YAML reads an unquoted 12-digit ID as a number, and one with a leading 0 as an octal one.
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value) if len(str(value)) == 12 else "0" + format(value, "o").zfill(11)
        raise ValueError(
            f"must be a 12-digit AWS account ID in quotes: YAML read the unquoted value as the "
            f"number {value} (a leading 0 makes it octal); quote it: '{digits}'"
        )
    return value


def _key_prefix(prefix: str) -> str:
    problem = prefix_problem(prefix)
    if problem is not None:
        raise ValueError(f"must be {problem}")
    return normalise_prefix(prefix)


def _retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"must be a CloudWatch Logs retention period: one of {allowed}")
    return days


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value)
    except ValueError as error:
        raise ValueError("must be an IPv4 CIDR block such as 10.20.0.0/16") from error
    if not 16 <= network.prefixlen <= 24 or not network.is_private:
        raise ValueError("must be a private IPv4 block between /16 and /24 (VPC limits)")
    return value


Name = Annotated[
    str, matches(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", "2-16 lowercase letters, digits or hyphens")
]
AccountId = Annotated[
    str,
    BeforeValidator(_quoted_account),
    matches(ACCOUNT_ID, "a 12-digit AWS account ID in quotes"),
]
Region = Annotated[str, validated_by(region_problem)]
KeyPrefix = Annotated[str, AfterValidator(_key_prefix)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Cidr = Annotated[str, AfterValidator(_cidr)]
Email = Annotated[str, matches(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address")]
TopicArn = Annotated[str, validated_by(arn_problem, service="sns", resource_type="topic")]
TagValue = Annotated[str, Field(min_length=1, max_length=256)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RemovalPolicy(StrEnum):
    """What happens to stateful resources (keys, buckets) when their stack is deleted."""

    RETAIN = "retain"
    DESTROY = "destroy"


# Each setting is checked against the enumeration of the API it feeds (botocore's model).
EndpointInstanceType = Annotated[str, validated_by(instance_type_problem, api="endpoint")]
TransformInstanceType = Annotated[str, validated_by(instance_type_problem, api="transform")]
TrainingInstanceType = Annotated[str, validated_by(instance_type_problem, api="training")]
ProcessingInstanceType = Annotated[str, validated_by(instance_type_problem, api="processing")]


ModelPackageGroupName = Annotated[
    str, matches(MODEL_PACKAGE_GROUP_NAME, MODEL_PACKAGE_GROUP_NAME_MEANING)
]
# The region of the URI is checked against the environment's (EnvironmentConfig).
EcrImageUri = Annotated[str, validated_by(image_uri_problem)]
ModelPackageArn = Annotated[
    str, matches(MODEL_PACKAGE_VERSION_ARN, MODEL_PACKAGE_VERSION_ARN_MEANING)
]


# S3's bucket naming rules (3-63 lower-case letters, digits, dots and hyphens).
BucketName = Annotated[
    str,
    matches(
        r"(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)",
    ),
]


def package_group(arn: str) -> str:
    """The group of a versioned model package ARN (``.../model-package/<group>/<version>``)."""
    return arn.rsplit("/", 2)[-2]


def package_account(arn: str) -> str:
    """The account of a model package ARN (its fifth field)."""
    return arn.split(":")[4]


def package_region(arn: str) -> str:
    """The region of a model package ARN (its fourth field)."""
    return arn.split(":")[3]


# Its region is checked against the environment's (EnvironmentConfig._certificate_in_region).
CertificateArn = Annotated[
    str, validated_by(arn_problem, service="acm", resource_type="certificate")
]


def _schedule(expression: str) -> str:
    problem = schedule_problem(expression)
    if problem is not None:
        raise ValueError(f"must be {problem}")
    return expression


ScheduleExpression = Annotated[str, AfterValidator(_schedule)]


def _monitor_schedule(expression: str) -> str:
    if parse_schedule(expression) is None:
        raise ValueError(f"must be {SCHEDULE_MEANING}")
    return expression


MonitorScheduleExpression = Annotated[str, AfterValidator(_monitor_schedule)]


AlarmName = Annotated[str, Field(min_length=1, max_length=255)]


class FieldError(ValueError):
    """A cross-field rule that belongs to one dotted path."""

    def __init__(self, path: str, requirement: str, got: object) -> None:
        super().__init__(f"@{path}: {requirement} (got {got!r})")
