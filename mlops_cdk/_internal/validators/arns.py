"""ARNs by service and resource type: one check for every keyword that takes an ARN.

ARN shape (IAM user guide, "Amazon Resource Names (ARNs)",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html):
``arn:<partition>:<service>:<region>:<account>:<resource>``. The resource part of each type below
follows the Service Authorization Reference's ARN format for that resource type (read 2026-12).
A name where an ARN is expected (``"my-web-acl"``) is reported as such, with the ARN shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|aws-eusc):(?P<service>[a-z0-9-]+):"
    r"(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws|):(?P<resource>.+)"
)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SM_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"


@dataclass(frozen=True)
class _Type:
    resource: str  # full-match pattern of the resource part
    example: str  # the resource part in words
    regional: bool = True  # region segment required (IAM: empty)


# (service, resource type) -> rule. The resource type is the ARN's own word for it.
_TYPES: dict[tuple[str, str], _Type] = {
    ("wafv2", "regional/webacl"): _Type(
        rf"regional/webacl/[A-Za-z0-9_-]{{1,128}}/{_UUID}", "regional/webacl/<name>/<id>"
    ),
    ("kms", "key"): _Type(rf"key/({_UUID}|mrk-[0-9a-f]{{32}})", "key/<key-id>"),
    ("kms", "alias"): _Type(r"alias/[A-Za-z0-9:/_-]{1,256}", "alias/<name>"),
    ("acm", "certificate"): _Type(rf"certificate/{_UUID}", "certificate/<id>"),
    ("sagemaker", "model-package"): _Type(
        rf"model-package/{_SM_NAME}(/\d+)?", "model-package/<group>/<version>"
    ),
    ("sagemaker", "model-package-group"): _Type(
        rf"model-package-group/{_SM_NAME}", "model-package-group/<name>"
    ),
    ("iam", "role"): _Type(
        r"role/([\x21-\x7e]+/)*[\w+=,.@-]{1,64}", "role/[<path>/]<name>", regional=False
    ),
    ("codeconnections", "connection"): _Type(rf"connection/{_UUID}", "connection/<uuid>"),
    ("codestar-connections", "connection"): _Type(rf"connection/{_UUID}", "connection/<uuid>"),
    ("sns", "topic"): _Type(r"[A-Za-z0-9_-]{1,256}(\.fifo)?", "<topic-name>"),
    ("ecr", "repository"): _Type(r"repository/[a-z0-9]+([._/-][a-z0-9]+)*", "repository/<name>"),
    ("secretsmanager", "secret"): _Type(r"secret:[A-Za-z0-9/_+=.@-]+", "secret:<name>-<suffix>"),
}
RESOURCE_TYPES = tuple(sorted(_TYPES))


def _shape(services: tuple[str, ...], rule: _Type) -> str:
    region = "<region>" if rule.regional else ""
    return f"arn:aws:{services[0]}:{region}:<account>:{rule.example}"


def arn_problem(
    value: object,
    *,
    service: str | tuple[str, ...],
    resource_type: str,
    region: str | None = None,
) -> str | None:
    """What ``value`` must be (after "must be"), or ``None`` for an ARN of ``resource_type``.

    :param service: the ARN's service, or several accepted ones (a CodeConnections connection
        is ``codeconnections`` or, created before 2024, ``codestar-connections``).
    :param resource_type: the resource type as the ARN spells it (``regional/webacl``, ``key``,
        ``certificate``, ``model-package``, ``role``, ``connection``, ...).
    :param region: when known, the region the resource must be in (an ACM certificate or WAF
        web ACL is used in its own region only).
    """
    services = (service,) if isinstance(service, str) else tuple(service)
    rule = _TYPES.get((services[0], resource_type))
    if rule is None:
        msg = f"no ARN rule for {services[0]}:{resource_type} (known: {RESOURCE_TYPES})"
        raise KeyError(msg)
    what = " or ".join(services)
    wanted = f"{_article(what)} {what} {resource_type} ARN {_shape(services, rule)}"
    if not isinstance(value, str):
        return wanted
    if not value.startswith("arn:"):
        return f"{wanted}, not a name or ID"
    match = _ARN.fullmatch(value)
    if match is None:
        return wanted
    if match["service"] not in services:
        return f"{wanted} (this is {_article(match['service'])} {match['service']} ARN)"
    if re.fullmatch(rule.resource, match["resource"]) is None:
        return f"{wanted} (the resource part {match['resource']!r} is not one)"
    if rule.regional and not match["region"]:
        return f"{wanted} with a region"
    if not rule.regional and match["region"]:
        return f"{wanted} without a region ({services[0]} is global)"
    if not match["account"].isdigit():
        return f"{wanted} with a 12-digit account"
    if region is not None and rule.regional and match["region"] != region:
        return f"{wanted} in region {region} (this one is in {match['region']})"
    return None


def arn_service(value: str) -> str | None:
    """The service of an ARN (``codeconnections``), or ``None`` when ``value`` is not an ARN."""
    match = _ARN.fullmatch(value) if isinstance(value, str) else None
    return match["service"] if match else None


# Service prefixes read letter by letter whose first letter sounds like a vowel ("an SNS topic").
_READ_AS_LETTERS = frozenset({"sns", "sqs", "s3", "ssm", "sts", "rds", "mq"})


def _article(service: str) -> str:
    """``an`` before a vowel sound (``an acm``, ``an iam``, ``an sns``), ``a`` otherwise."""
    return "an" if service[0] in "aeiou" or service in _READ_AS_LETTERS else "a"
