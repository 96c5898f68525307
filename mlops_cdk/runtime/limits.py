"""Bounded parsing shared by the model server, the Lambda handler and the drift job.

Python's parsers have limits that surface as unexpected exceptions: ``json`` recurses per
nesting level (``RecursionError``), ``int()`` refuses more than 4300 digits (``ValueError``) and
``csv`` refuses fields over its global field size limit (``csv.Error``). :class:`ParseLimits`
puts one documented, lower bound in front of each, and every violation is a
:class:`LimitExceededError` with a stable ``code``.
"""

from __future__ import annotations

import csv
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# bytes.translate tables: keep only brackets and quotes; "{" / "}" count like "[" / "]".
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'[]{}"')
_STRING = re.compile(rb'"[^"]*"')
_CSV_LIMIT_MESSAGE = "field larger than field limit"


@dataclass(frozen=True, kw_only=True)
class ParseLimits:
    """Bounds on JSON nesting depth, JSON integer length and CSV field size."""

    max_depth: int = 32
    max_int_digits: int = 64
    max_csv_field: int = 128 * 1024


DEFAULT_LIMITS = ParseLimits()


class LimitExceededError(ValueError):
    """Input over one of the :class:`ParseLimits`; ``code`` names which."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _too_deep(max_depth: int) -> LimitExceededError:
    return LimitExceededError(
        f"JSON is nested more than {max_depth} levels deep", "nesting_too_deep"
    )


def check_depth(data: str | bytes, max_depth: int) -> None:
    """Raise if a JSON text nests arrays/objects deeper than ``max_depth``.

    Free for ordinary payloads (fewer brackets than the limit); otherwise one C-speed pass keeps
    only brackets and quotes, drops strings, and peels innermost ``[]`` pairs once per level
    (stopping early at a run of more openers than the limit).
    Malformed bracket structure is left to the JSON parser unless it alone is over the limit.
    """
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= max_depth:
            return
        data = data.encode()
    elif data.count(b"[") + data.count(b"{") <= max_depth:
        return
    if b"\\" in data:  # escaped quotes and backslashes must not end or start strings
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = data.translate(_BRACKETS, _NOT_STRUCTURE)
    if b'"' in shape:
        shape = _STRING.sub(b"", shape)
    too_deep = b"[" * (max_depth + 1)  # that many openers in a row: no need to peel
    for _ in range(max_depth):
        if too_deep in shape:
            raise _too_deep(max_depth)
        peeled = shape.replace(b"[]", b"")
        if len(peeled) == len(shape):
            break  # unbalanced: what is left cannot nest deeper than its opening brackets
        shape = peeled
        if not shape:
            return
    if shape.count(b"[") > (0 if b"[]" in shape else max_depth):
        raise _too_deep(max_depth)


def _bounded_int(max_digits: int) -> Callable[[str], float]:
    def parse_int(literal: str) -> float:
        if len(literal) - literal.startswith("-") > max_digits:
            raise LimitExceededError(
                f"a JSON integer has {len(literal.lstrip('-'))} digits; the limit is {max_digits}",
                "number_too_long",
            )
        return float(literal)

    return parse_int


@functools.lru_cache(maxsize=16)
def _decoder(max_int_digits: int, parse_constant: Callable[[str], Any] | None) -> json.JSONDecoder:
    """One decoder per configuration (``json.loads`` with hooks would build one per call)."""
    return json.JSONDecoder(parse_int=_bounded_int(max_int_digits), parse_constant=parse_constant)


def loads(
    text: str | bytes,
    limits: ParseLimits = DEFAULT_LIMITS,
    *,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads`` within ``limits``; integers come back as ``float``.

    Raises ``json.JSONDecodeError`` for malformed JSON and :class:`LimitExceededError`.
    """
    check_depth(text, limits.max_depth)
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    return _decoder(limits.max_int_digits, parse_constant).decode(text)


def csv_rows(lines: Iterable[str], limits: ParseLimits = DEFAULT_LIMITS) -> list[list[str]]:
    """Non-empty rows of ``csv.reader(lines)`` with fields up to ``limits.max_csv_field``.

    Raises :class:`LimitExceededError` for a longer field and ``ValueError`` for other CSV
    errors.
    """
    # The limit is process-wide: set it for this read only, so other CSV readers in the process
    # (training code, importlib.metadata) keep theirs.
    previous = csv.field_size_limit(limits.max_csv_field)
    try:
        return [row for row in csv.reader(lines) if row]
    except csv.Error as exc:
        if _CSV_LIMIT_MESSAGE in str(exc):
            raise LimitExceededError(
                f"a CSV field is longer than {limits.max_csv_field} characters",
                "csv_field_too_large",
            ) from None
        raise ValueError(f"malformed CSV: {exc}") from None
    finally:
        csv.field_size_limit(previous)
