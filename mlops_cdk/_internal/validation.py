"""Token-aware validation helpers that raise :class:`ConfigurationError` with precise messages.

Every message has the shape ``<subject>: <keyword> must be <requirement> (got <value>)``, where
the subject is a construct path, an option class name or a config file. Values that are
unresolved CDK tokens are skipped: they are only known at deploy time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from aws_cdk import Token
from constructs import IConstruct

from mlops_cdk._internal.errors import ConfigurationError


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
