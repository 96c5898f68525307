"""Token-aware validation helpers that raise :class:`ConfigurationError` with precise messages.

Every message has the shape ``<subject>: <keyword> must be <requirement> (got <value>)``, where
the subject is a construct path, an option class name or a config file. Values that are
unresolved CDK tokens are skipped: they are only known at deploy time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from aws_cdk import Duration, Token
from constructs import IConstruct

from mlops_cdk._internal.errors import ConfigurationError
from mlops_cdk._internal.validators.s3 import normalise_prefix, prefix_problem


def is_unresolved(value: object) -> bool:
    """True when ``value`` is (or contains) a CDK token that resolves at deploy time."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return Token.is_unresolved(value)
    return False


class Said(str):
    """A description of what was given (``"4 characters"``), shown without quotes."""

    __slots__ = ()


def describe(value: object) -> str:
    """Render a given value for an error message: strings quoted, descriptions as they are."""
    if isinstance(value, str) and not isinstance(value, Said):
        return repr(value)
    return str(value)


def with_trailing_slash(prefix: str) -> str:
    """``prefix`` in the form every prefix option is kept in: ending in ``/``. ``"capture"``
    and ``"capture/"`` mean the same folder; empty strings and tokens are left as they are."""
    if isinstance(prefix, str) and prefix and not is_unresolved(prefix):
        return normalise_prefix(prefix)
    return prefix


@dataclass(frozen=True)
class Kind:
    """An expected type at the public boundary: a Python class (``Duration``), or a CDK
    interface recognised by members its implementations have (jsii interfaces are protocols
    that ``isinstance`` cannot check; imported resources are proxy classes)."""

    description: str
    types: tuple[type, ...] = ()
    members: tuple[str, ...] = ()

    def admits(self, value: object) -> bool:
        """True when ``value`` is of this kind. Looks at classes only: no jsii call."""
        if self.types and isinstance(value, self.types):
            return True
        if not self.members:
            return False
        classes = [type(value)]
        # Imported resources may come back as a proxy over several interface proxies.
        delegates = getattr(value, "__dict__", {}).get("_delegates")
        if isinstance(delegates, list):
            classes.extend(type(d) for d in delegates)
        return any(all(hasattr(c, m) for m in self.members) for c in classes)


BUCKET = Kind("an s3.IBucket", members=("bucket_name", "bucket_arn", "grant_read"))
KEY = Kind("a kms.IKey", members=("key_arn", "key_id", "grant_encrypt_decrypt"))
ROLE = Kind("an iam.IRole", members=("role_arn", "role_name", "grant_pass_role"))
TOPIC = Kind("an sns.ITopic", members=("topic_arn", "topic_name", "grant_publish"))
VPC = Kind("an ec2.IVpc", members=("vpc_id", "private_subnets", "select_subnets"))
CERTIFICATE = Kind("an acm.ICertificate", members=("certificate_arn",))
CLUSTER = Kind("an ecs.ICluster", members=("cluster_name", "cluster_arn", "vpc"))
LOAD_BALANCER = Kind(
    "an elbv2.IApplicationLoadBalancer",
    members=("load_balancer_arn", "load_balancer_dns_name", "add_listener"),
)
LISTENER = Kind("an elbv2.IApplicationListener", members=("listener_arn", "add_target_groups"))
SECRET = Kind(
    "an ecs.Secret (ecs.Secret.from_secrets_manager or ecs.Secret.from_ssm_parameter)",
    members=("arn", "grant_read", "has_field"),
)
DURATION = Kind("a Duration (such as Duration.minutes(5))", types=(Duration,))


def describe_given(value: object) -> Said:
    """What was given, with its Python type: ``str 'arn:aws:kms:...'``."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return Said(f"{type(value).__name__} {text}")


class Checker:
    """Validates the keywords of one subject and raises on the first problem."""

    def __init__(self, subject: str) -> None:
        self.subject = subject

    @classmethod
    def of(cls, scope: IConstruct) -> Checker:
        """A checker whose messages start with the construct path of ``scope``."""
        return cls(scope.node.path)

    def fail(self, keyword: str, requirement: str, got: object) -> NoReturn:
        """Raise the standard message for ``keyword``."""
        raise ConfigurationError(
            f"{self.subject}: {keyword} must be {requirement} (got {describe(got)})"
        )

    def require(self, condition: bool, keyword: str, requirement: str, got: object) -> None:
        """Raise unless ``condition`` holds."""
        if not condition:
            self.fail(keyword, requirement, got)

    def one_of(self, keyword: str, value: Any, allowed: Iterable[Any]) -> None:
        """``value`` must be one of ``allowed`` (compared exactly, so case matters)."""
        choices = list(allowed)
        if is_unresolved(value) or value in choices:
            return
        self.fail(keyword, "one of " + ", ".join(describe_choice(c) for c in choices), value)

    def in_range(
        self, keyword: str, value: float | None, low: float, high: float, unit: str = ""
    ) -> None:
        """``low <= value <= high``; ``None`` means not set and passes."""
        if value is None or is_unresolved(value):
            return
        if not low <= value <= high:
            suffix = f" {unit}" if unit else ""
            self.fail(keyword, f"between {low:g} and {high:g}{suffix}", value)

    def at_least(self, keyword: str, value: float | None, low: float, unit: str = "") -> None:
        """``value >= low``; ``None`` passes."""
        if value is None or is_unresolved(value):
            return
        if value < low:
            suffix = f" {unit}" if unit else ""
            self.fail(keyword, f"at least {low:g}{suffix}", value)

    def positive(self, keyword: str, value: float | None) -> None:
        """``value > 0``; ``None`` passes."""
        if value is None or is_unresolved(value):
            return
        if value <= 0:
            self.fail(keyword, "greater than 0", value)

    def matches(self, keyword: str, value: str | None, pattern: str, meaning: str) -> None:
        """``value`` must fully match ``pattern``; ``meaning`` says it in words."""
        if value is None or is_unresolved(value):
            return
        if re.fullmatch(pattern, value) is None:
            self.fail(keyword, meaning, value)

    def max_length(self, keyword: str, value: str | None, limit: int) -> None:
        """``len(value) <= limit``."""
        if value is None or is_unresolved(value):
            return
        if len(value) > limit:
            self.fail(keyword, f"at most {limit} characters long", Said(f"{len(value)} characters"))

    def valid(
        self, keyword: str, value: Any, validator: Callable[..., str | None], **options: Any
    ) -> None:
        """Raise the problem a shared validator (``mlops_cdk._internal.validators``) finds in
        ``value``; ``None`` and unresolved tokens pass. ``options`` go to the validator, e.g.
        ``check.valid("instance_type", t, instance_type_problem, api="transform")``."""
        if value is None or is_unresolved(value):
            return
        problem = validator(value, **options)
        if problem is not None:
            self.fail(keyword, problem, value)

    def instance_of(self, keyword: str, value: object, kind: Kind) -> None:
        """``value`` is ``None`` or of ``kind``; otherwise the message names the expected type
        and what was given (a bare ``AttributeError`` deep in CDK would name neither)."""
        if value is None or kind.admits(value):
            return
        self.fail(keyword, kind.description, describe_given(value))

    def types(self, expected: Iterable[tuple[str, object, Kind]]) -> None:
        """:meth:`instance_of` for each ``(keyword, value, kind)``."""
        for keyword, value, kind in expected:
            self.instance_of(keyword, value, kind)

    def key_prefix(self, keyword: str, value: str) -> str:
        """``value`` as a key prefix ending in ``/`` (``"capture"`` becomes ``"capture/"``),
        checked against the one prefix rule every construct shares."""
        self.valid(keyword, value, prefix_problem)
        return with_trailing_slash(value)

    def key_prefixes(self, options: object, *keywords: str) -> None:
        """Normalise and check the prefix fields ``keywords`` of a (frozen) option group."""
        for keyword in keywords:
            object.__setattr__(
                options, keyword, self.key_prefix(keyword, getattr(options, keyword))
            )

    def exactly_one(self, keywords: dict[str, object]) -> None:
        """Exactly one of ``keywords`` (name -> value) is set (not ``None``)."""
        given = [name for name, value in keywords.items() if value is not None]
        if len(given) != 1:
            names = " or ".join(keywords)
            self.fail(names, "given exactly once", Said(", ".join(given) if given else "none"))

    def not_together(self, first: str, second: str, reason: str) -> NoReturn:
        """Raise: ``first`` and ``second`` cannot be combined, because ``reason``."""
        raise ConfigurationError(
            f"{self.subject}: {first} cannot be combined with {second}: {reason}"
        )


def describe_choice(choice: object) -> str:
    """Render an allowed value without quotes for numbers and with them for strings."""
    return repr(choice) if isinstance(choice, str) else str(choice)
