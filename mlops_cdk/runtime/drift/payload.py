"""Decode one ``captureData`` entry (CSV / JSON / BASE64) into feature records."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping

from ..limits import DEFAULT_LIMITS, ParseLimits, csv_rows, loads  # noqa: TID252 - the image installs runtime/ as mlops_runtime

Cell = str | float | None
Record = list[Cell] | dict[str, Cell]


class PayloadError(ValueError):
    """A capture payload that cannot be decoded."""


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | float):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return float(value)
    return json.dumps(value)


def _csv_records(text: str, limits: ParseLimits) -> Iterator[Record]:
    lines = [line for line in text.splitlines() if line.strip()]
    if '"' in text:
        yield from (list[Cell](row) for row in csv_rows(lines, limits))
        return
    for line in lines:
        yield list[Cell](line.split(","))


def _json_row(item: object) -> Record:
    if isinstance(item, list):
        return [_cell(value) for value in item]
    if isinstance(item, Mapping):
        features = item.get("features")
        if isinstance(features, list) and len(item) == 1:
            return [_cell(value) for value in features]
        return {str(key): _cell(value) for key, value in item.items()}
    return [_cell(item)]


def _json_records(document: object) -> Iterator[Record]:
    if isinstance(document, Mapping):
        for key in ("instances", "inputs", "data"):
            if isinstance(document.get(key), list):
                yield from _json_records(document[key])
                return
        yield _json_row(document)
        return
    if isinstance(document, list):
        if document and all(isinstance(item, list | Mapping) for item in document):
            yield from (_json_row(item) for item in document)
        else:
            yield _json_row(document)
        return
    yield [_cell(document)]


def _json_text_records(text: str, limits: ParseLimits) -> Iterator[Record]:
    try:
        yield from _json_records(loads(text, limits))
    except json.JSONDecodeError:
        # JSON Lines: one document per line.
        for line in text.splitlines():
            if line.strip():
                try:
                    yield from _json_records(loads(line, limits))
                except json.JSONDecodeError as exc:
                    raise PayloadError(f"invalid JSON payload: {exc}") from exc


def _is_json_type(content_type: str) -> bool:
    return "json" in content_type.lower()


def decode_payload(
    entry: Mapping[str, object], limits: ParseLimits = DEFAULT_LIMITS
) -> Iterator[Record]:
    """Yield the records held in one ``endpointInput``/``endpointOutput`` entry.

    Raises ``PayloadError``, or ``limits.LimitExceededError`` (also a ``ValueError``).
    """
    data = entry.get("data")
    if not isinstance(data, str):
        raise PayloadError("capture entry has no 'data' string")
    encoding = str(entry.get("encoding", "CSV")).upper()
    content_type = str(entry.get("observedContentType", ""))
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise PayloadError(f"invalid BASE64 payload: {exc}") from exc
        encoding = "JSON" if _is_json_type(content_type) else "CSV"
    if encoding == "JSON":
        yield from _json_text_records(data, limits)
    elif encoding == "CSV":
        yield from _csv_records(data, limits)
    else:
        raise PayloadError(f"unsupported capture encoding {encoding!r}")
