"""AWS's published API models (botocore's ``service-2.json``), loaded once per process, and a
validator that checks a request against them the way the service would.

botocore's own ``ParamValidator`` checks required members, types and minimums only; the
services also enforce maximums, enumerations and patterns, so this validator checks all of
them. Values only known at run time (:class:`RunTime`) are accepted for any member; a
:class:`Choices` value must be valid in every alternative.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import botocore
import regex
from botocore.loaders import create_loader
from botocore.model import OperationModel, ServiceModel, Shape

BOTOCORE_VERSION: str = botocore.__version__


@dataclass(frozen=True)
class RunTime:
    """A value only known when the request is made (a JsonPath, a pipeline property)."""

    source: str


@dataclass(frozen=True)
class Choices:
    """A value that is one of several known alternatives (each must be valid)."""

    values: tuple[Any, ...]


@functools.cache
def _loader() -> Any:
    return create_loader()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of ``name`` (``sagemaker``, ``events``, ...), loaded once."""
    return ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)


@functools.cache
def available_services() -> frozenset[str]:
    return frozenset(_loader().list_available_services("service-2"))


@functools.cache
def _operations(service: str) -> dict[str, str]:
    return {name.lower(): name for name in service_model(service).operation_names}


def operation_model(service: str, operation: str) -> OperationModel | None:
    """The operation of ``service`` named ``operation`` in any case (``createTransformJob``);
    ``None`` when the service or the operation does not exist."""
    if service not in available_services():
        return None
    name = _operations(service).get(operation.lower())
    return None if name is None else service_model(service).operation_model(name)


@functools.cache
def _pattern(pattern: str) -> Any:
    """The compiled pattern (``regex``: the models use Java's ``\\p{...}`` classes); ``None``
    for the few Java-only forms Python cannot compile (UTF-16 surrogate ranges)."""
    try:
        return regex.compile(pattern)
    except regex.error:
        return None


def validate(shape: Shape, value: Any, path: str = "", free: Sequence[str] = ()) -> list[str]:
    """Every way ``value`` breaks ``shape``, as ``path: problem`` lines.

    ``free`` lists member paths that accept any JSON (e.g. a Step Functions optimized
    integration serializes ``Payload`` itself).
    """
    return list(_check(shape, value, path, tuple(free)))


def _check(shape: Shape, value: Any, path: str, free: tuple[str, ...]) -> Iterator[str]:
    if isinstance(value, RunTime) or path in free:
        return
    if isinstance(value, Choices):
        for choice in value.values:
            yield from _check(shape, choice, path, free)
        return
    if shape.metadata.get("document"):
        return
    kind = shape.type_name
    if kind == "structure":
        yield from _structure(shape, value, path, free)
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{path}: expected a list, got {value!r}"
            return
        yield from _size(shape, len(value), path, "items")
        for index, item in enumerate(value):
            yield from _check(shape.member, item, f"{path}[{index}]", free)
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{path}: expected a map, got {value!r}"
            return
        yield from _size(shape, len(value), path, "entries")
        for key, item in value.items():
            yield from _check(shape.key, key, f"{path}<key>", free)
            yield from _check(shape.value, item, _join(path, key), free)
    elif kind == "string":
        yield from _string(shape, value, path)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            yield f"{path}: expected an integer, got {value!r}"
        else:
            yield from _range(shape, value, path)
    elif kind in ("float", "double"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            yield f"{path}: expected a number, got {value!r}"
        else:
            yield from _range(shape, value, path)
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield f"{path}: expected a boolean, got {value!r}"
    elif kind == "timestamp":
        if not isinstance(value, str | int | float):
            yield f"{path}: expected a timestamp, got {value!r}"
    elif kind == "blob" and not isinstance(value, str | bytes):
        yield f"{path}: expected a blob, got {value!r}"


def _structure(shape: Shape, value: Any, path: str, free: tuple[str, ...]) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{path}: expected a structure, got {value!r}"
        return
    members = shape.members
    for key, item in value.items():
        if key not in members:
            known = ", ".join(members)
            yield f"{_join(path, key)}: unknown member (known: {known})"
            continue
        yield from _check(members[key], item, _join(path, key), free)
    for required in shape.required_members:
        if required not in value:
            yield f"{_join(path, required)}: required member missing"
    if shape.metadata.get("union") and len(value) != 1:
        yield f"{path}: a union takes exactly one member (got {sorted(value)})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{path}: expected a string, got {value!r}"
        return
    if shape.enum and value not in shape.enum:
        allowed = shape.enum
        shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
        yield f"{path}: {value!r} is not one of the {len(allowed)} allowed values ({shown})"
    yield from _size(shape, len(value), path, "characters", value)
    pattern = shape.metadata.get("pattern")
    compiled = None if pattern is None else _pattern(pattern)
    if compiled is not None and compiled.fullmatch(value) is None:
        yield f"{path}: {value!r} does not match the pattern {pattern}"


def _size(shape: Shape, size: int, path: str, unit: str, value: Any | None = None) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    shown = "" if value is None else f" {value!r}"
    if low is not None and size < low:
        yield f"{path}:{shown} has {size} {unit}, fewer than the minimum {low}"
    if high is not None and size > high:
        yield f"{path}:{shown} has {size} {unit}, more than the maximum {high}"


def _range(shape: Shape, value: float, path: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and value < low:
        yield f"{path}: {value} is less than the minimum {low}"
    if high is not None and value > high:
        yield f"{path}: {value} is more than the maximum {high}"
