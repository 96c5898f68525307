"""Request decoding (JSON, JSON lines, CSV → float32 [rows, features]) and response encoding."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .errors import BadRequestError, NotAcceptableError, UnsupportedMediaTypeError
from .limits import DEFAULT_LIMITS, LimitExceededError, ParseLimits, csv_rows, loads

JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
_JSONLINES_ALIASES = frozenset({JSONLINES, "application/x-jsonlines", "application/jsonl"})
#: No type, or a generic binary one (S3 stores objects uploaded without a type as binary/...).
_SNIFF = frozenset({"", "application/octet-stream", "binary/octet-stream"})
#: Response media types in order of preference for wildcards.
SUPPORTED_OUTPUTS = (JSON, CSV, JSONLINES)


def media_type(header: str | None) -> str:
    """``"Text/CSV; charset=utf-8"`` → ``"text/csv"``."""
    if not header:
        return ""
    return header.split(";", 1)[0].strip().lower()


def _reject_constant(name: str) -> float:
    raise BadRequestError(f"{name} is not a valid number in JSON", code="non_finite_value")


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _find_non_numeric(rows: list[Any]) -> str:
    """Locate the first value that is not a JSON number (error path only)."""
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            return f"row {i + 1} is {_describe(row)}, expected a list of numbers"
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"row {i + 1}, column {j + 1}: expected a number, got {_describe(value)}"
    return "rows must be lists of numbers"


def _to_array(rows: list[Any]) -> np.ndarray:
    """List of numeric rows → float32 2-D array (ragged, non-numeric and nested rejected)."""
    if not rows:
        raise BadRequestError("no rows in request", code="empty_input")
    try:
        arr = np.array(rows)
    except (ValueError, TypeError):
        lengths = {len(r) for r in rows if isinstance(r, list)}
        if len(lengths) > 1:
            raise BadRequestError(
                f"rows have different lengths ({', '.join(map(str, sorted(lengths)))})",
                code="ragged_rows",
            ) from None
        raise BadRequestError(_find_non_numeric(rows), code="non_numeric_value") from None
    if arr.dtype.kind not in "iuf":
        raise BadRequestError(_find_non_numeric(rows), code="non_numeric_value")
    if arr.ndim != 2:
        raise BadRequestError(
            f"expected a list of rows of numbers (2 levels of nesting), got {arr.ndim} levels",
            code="wrong_shape",
        )
    with np.errstate(over="ignore"):  # overflow becomes inf, rejected by decode()
        return arr.astype(np.float32, copy=False)


def _row_of(item: Any) -> Any:
    """A JSON row: a list of numbers or ``{"features": [...]}``."""
    if isinstance(item, dict):
        if "features" not in item:
            raise BadRequestError(
                'objects must carry their row under "features"', code="missing_features"
            )
        return item["features"]
    return item


def _rows_from_document(doc: Any) -> list[Any]:
    if isinstance(doc, dict):
        if "instances" in doc:
            doc = doc["instances"]
        elif "features" in doc:
            return [doc["features"]]
        else:
            raise BadRequestError(
                'JSON object must have an "instances" key (a list of rows)',
                code="missing_instances",
            )
    if not isinstance(doc, list):
        raise BadRequestError(f"expected a list of rows, got {_describe(doc)}", code="wrong_shape")
    if doc and not isinstance(doc[0], list | dict):
        return [doc]  # a single row
    return [_row_of(item) for item in doc]


def _loads(text: str, limits: ParseLimits) -> Any:
    try:
        return loads(text, limits, parse_constant=_reject_constant)
    except LimitExceededError as exc:
        raise BadRequestError(str(exc), code=exc.code) from None


def _numeric_rows(rows: list[Any], text: str) -> np.ndarray:
    """``_to_array`` that also refuses JSON booleans (numpy would read ``true`` as 1)."""
    if ("true" in text or "false" in text) and any(
        isinstance(value, bool) for row in rows if isinstance(row, list) for value in row
    ):
        raise BadRequestError(_find_non_numeric(rows), code="non_numeric_value")
    return _to_array(rows)


def decode_json_lines(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> np.ndarray:
    """One row per non-blank line (batch transform ``SplitType=Line``)."""
    rows: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = _loads(line, limits)
        except json.JSONDecodeError as exc:
            raise BadRequestError(
                f"malformed JSON on line {number}: {exc.msg} (column {exc.colno})",
                code="malformed_json",
            ) from None
        if isinstance(item, dict) and "instances" in item:
            rows.extend(_rows_from_document(item))
        else:
            rows.append(_row_of(item))
    return _numeric_rows(rows, text)


def decode_json(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> np.ndarray:
    """``{"instances": rows}``, a list of rows, one row, or JSON lines."""
    try:
        doc = _loads(text, limits)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return decode_json_lines(text, limits)
        raise BadRequestError(
            f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            code="malformed_json",
        ) from None
    return _numeric_rows(_rows_from_document(doc), text)


def decode_csv(text: str, limits: ParseLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Headerless CSV, one row per line (batch transform ``SplitType=Line`` payloads too)."""
    if '"' in text:
        try:
            rows = csv_rows(text.splitlines(), limits)
        except LimitExceededError as exc:
            raise BadRequestError(str(exc), code=exc.code) from None
        except ValueError as exc:
            raise BadRequestError(str(exc), code="malformed_csv") from None
    else:
        rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if not rows:
        raise BadRequestError("no rows in request", code="empty_input")
    width = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise BadRequestError(
                f"CSV row {number} has {len(row)} fields, row 1 has {width}", code="ragged_rows"
            )
    try:
        return np.array(rows, dtype=np.float32)
    except ValueError:
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row, start=1):
                try:
                    float(value)
                except ValueError:
                    raise BadRequestError(
                        f"CSV row {number}, column {column}: expected a number, "
                        f"got {_describe(value)} (CSV input must not have a header row)",
                        code="non_numeric_value",
                    ) from None
        raise  # pragma: no cover - numpy and float() disagree


def decode(
    body: bytes,
    content_type: str | None,
    n_features: int | None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> np.ndarray:
    """Parse a request body into a finite float32 ``[rows, features]`` array.

    ``content_type`` missing, ``application/octet-stream`` or ``binary/octet-stream`` (S3's
    default) → sniffed (JSON if it starts with ``[`` or ``{``, else CSV). Raises a 4xx
    ``InferenceError`` naming the problem.
    """
    kind = media_type(content_type)
    if not body.strip():
        raise BadRequestError("request body is empty", code="empty_body")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequestError(
            f"body is not valid UTF-8 (byte {exc.start})", code="invalid_encoding"
        ) from None
    if kind in _SNIFF:
        kind = JSON if text.lstrip()[:1] in ("[", "{") else CSV
    if kind == JSON:
        arr = decode_json(text, limits)
    elif kind == CSV:
        arr = decode_csv(text, limits)
    elif kind in _JSONLINES_ALIASES:
        arr = decode_json_lines(text, limits)
    else:
        raise UnsupportedMediaTypeError(
            f"content type {kind!r} is not supported; use {JSON}, {CSV} or {JSONLINES}"
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise BadRequestError(
            f"expected {n_features} features per row, got {arr.shape[1]}",
            code="wrong_feature_count",
        )
    if arr.shape[1] == 0:
        raise BadRequestError("rows are empty", code="empty_input")
    if not np.isfinite(arr).all():
        raise BadRequestError(
            "values must be finite numbers within float32 range (no NaN or infinity)",
            code="non_finite_value",
        )
    return arr


def _accept_ranges(accept: str) -> list[tuple[float, str]]:
    """``(quality, media range)`` pairs; an unreadable ``q`` counts as 0."""
    ranges: list[tuple[float, str]] = []
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind:
            ranges.append((quality, kind.lower()))
    return ranges


def _specificity(media_range: str, output: str) -> int:
    """How specifically ``media_range`` names ``output``: 3 exact, 2 ``type/*``, 1 ``*/*``."""
    if media_range == output or (output == JSONLINES and media_range in _JSONLINES_ALIASES):
        return 3
    if media_range == output.split("/", 1)[0] + "/*":
        return 2
    return 1 if media_range == "*/*" else 0


def negotiate(accept: str | None) -> str:
    """Pick the response media type from ``Accept`` (``*/*`` or none → JSON); 406 if none fit.

    RFC 9110: each output gets the quality of the most specific range naming it; ``q=0`` means
    not acceptable. The highest quality wins, ties go to JSON, then CSV, then JSON lines.
    """
    if not accept:
        return JSON
    key = accept.strip().lower()
    if key in ("*/*", JSON, CSV, JSONLINES):
        return JSON if key == "*/*" else key
    ranges = _accept_ranges(key)
    best: tuple[float, str] | None = None
    for output in SUPPORTED_OUTPUTS:
        specificity, quality = 0, 0.0
        for range_quality, media_range in ranges:
            found = _specificity(media_range, output)
            if found > specificity:
                specificity, quality = found, range_quality
        if quality > 0 and (best is None or quality > best[0]):
            best = (quality, output)
    if best is None:
        raise NotAcceptableError(
            f"cannot produce any of {accept!r}; supported: {', '.join(SUPPORTED_OUTPUTS)}"
        )
    return best[1]


def encode(predictions: np.ndarray, kind: str) -> bytes:
    """Serialize predictions: single-column outputs become one value per row.

    JSON → ``{"predictions": [...]}``; JSON lines → one value per line; CSV → one row per line.
    """
    values: list[Any] = (
        predictions.reshape(-1).tolist()
        if predictions.ndim == 1 or (predictions.ndim == 2 and predictions.shape[1] == 1)
        else predictions.tolist()
    )
    if kind == JSON:
        return json.dumps({"predictions": values}).encode()
    if kind == CSV:
        if predictions.ndim == 1 or predictions.shape[1] == 1:
            return ("\n".join(map(str, values)) + "\n").encode()
        return ("\n".join(",".join(map(str, row)) for row in values) + "\n").encode()
    if kind == JSONLINES:
        return ("\n".join(json.dumps(v) for v in values) + "\n").encode()
    raise NotAcceptableError(f"cannot encode {kind!r}")  # pragma: no cover - negotiate() guards
