"""Parsers and encoders, including property-based round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlops_runtime.codecs import CSV, JSON, JSONLINES, decode, encode, negotiate
from mlops_runtime.errors import (
    BadRequestError,
    InferenceError,
    NotAcceptableError,
    UnsupportedMediaTypeError,
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
matrices = st.integers(1, 6).flatmap(
    lambda width: st.lists(
        st.lists(finite, min_size=width, max_size=width), min_size=1, max_size=20
    )
)


@settings(max_examples=150, deadline=None)
@given(matrices)
def test_json_round_trip(rows: list[list[float]]) -> None:
    expected = np.array(rows, dtype=np.float32)
    for body in (json.dumps({"instances": rows}), json.dumps(rows)):
        np.testing.assert_array_equal(decode(body.encode(), JSON, len(rows[0])), expected)
    lines = "\n".join(json.dumps(r) for r in rows)
    np.testing.assert_array_equal(decode(lines.encode(), JSONLINES, None), expected)


@settings(max_examples=150, deadline=None)
@given(matrices, st.sampled_from(["\n", "\r\n"]))
def test_csv_round_trip(rows: list[list[float]], newline: str) -> None:
    body = newline.join(",".join(repr(v) for v in row) for row in rows) + newline
    np.testing.assert_array_equal(
        decode(body.encode(), CSV, len(rows[0])), np.array(rows, dtype=np.float32)
    )


def outcome(body: bytes, content_type: str | None) -> np.ndarray | InferenceError:
    """The parsed array, or the InferenceError raised (anything else propagates)."""
    try:
        return decode(body, content_type, None)
    except InferenceError as exc:
        return exc


def assert_clean(result: np.ndarray | InferenceError) -> None:
    """Either a finite float32 matrix or a 4xx error with a message."""
    if isinstance(result, InferenceError):
        assert 400 <= result.status < 500
        assert result.message
    else:
        assert result.dtype == np.float32
        assert result.ndim == 2
        assert result.size > 0
        assert np.isfinite(result).all()


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([JSON, CSV, JSONLINES, None]))
def test_arbitrary_bytes_never_crash(body: bytes, content_type: str | None) -> None:
    assert_clean(outcome(body, content_type))


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=5), st.lists, max_leaves=12
    )
)
def test_arbitrary_json_documents_never_crash(doc: object) -> None:
    assert_clean(outcome(json.dumps(doc).encode(), JSON))


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b"1,2\n3\n", CSV, "ragged_rows"),
        (b"[[1,2],[3]]", JSON, "ragged_rows"),
        (b"[[[1,2]]]", JSON, "wrong_shape"),
        (b"[[1,null]]", JSON, "non_numeric_value"),
        (b"[true,false]", JSON, "non_numeric_value"),
        (b'"hello"', JSON, "wrong_shape"),
        (b'{"rows": [[1,2]]}', JSON, "missing_instances"),
        (b'{"instances": []}', JSON, "empty_input"),
        (b"[]", JSON, "empty_input"),
        (b"1,inf\n", CSV, "non_finite_value"),
        (b"1,nan\n", CSV, "non_finite_value"),
        (b"[1, Infinity]", JSON, "non_finite_value"),
        (b"[1e39, 1]", JSON, "non_finite_value"),
        (b"\xff\xfe1,2", CSV, "invalid_encoding"),
        (b"  \n\n ", CSV, "empty_body"),
        (b"[1,2]\nnot json\n", JSONLINES, "malformed_json"),
    ],
    ids=[
        "csv-ragged-rows",
        "json-ragged-rows",
        "json-three-levels",
        "json-null",
        "json-booleans",
        "json-string",
        "json-missing-instances",
        "json-empty-instances",
        "json-empty-list",
        "csv-inf",
        "csv-nan",
        "json-infinity",
        "json-float32-overflow",
        "csv-invalid-utf8",
        "csv-blank",
        "jsonlines-malformed",
    ],
)
def test_bad_inputs_name_the_problem(body: bytes, content_type: str, code: str) -> None:
    with pytest.raises(BadRequestError) as info:
        decode(body, content_type, None)
    assert info.value.code == code
    assert json.loads(info.value.body("rid"))["error"] == {
        "code": code,
        "message": info.value.message,
        "request_id": "rid",
    }


def test_wrong_feature_count_names_both_counts() -> None:
    with pytest.raises(BadRequestError, match="expected 8 features per row, got 3"):
        decode(b"1,2,3", CSV, 8)


def test_error_messages_point_at_the_bad_cell() -> None:
    with pytest.raises(BadRequestError, match=r"row 2, column 3: expected a number, got 'x'"):
        decode(b"1,2,3\n4,5,x\n", CSV, 3)
    with pytest.raises(BadRequestError, match=r"row 1, column 2: expected a number, got 'a'"):
        decode(b'[[1, "a"]]', JSON, 2)


def test_quoted_csv_and_sniffing() -> None:
    np.testing.assert_array_equal(decode(b'"1.5","2"\n', CSV, 2), [[1.5, 2.0]])
    np.testing.assert_array_equal(decode(b"[1, 2]", None, 2), [[1.0, 2.0]])
    np.testing.assert_array_equal(decode(b"1,2", "application/octet-stream", 2), [[1.0, 2.0]])
    with pytest.raises(UnsupportedMediaTypeError):
        decode(b"1,2", "application/x-protobuf", 2)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("text/csv", CSV),
        ("application/json; charset=utf-8", JSON),
        ("application/x-jsonlines", JSONLINES),
        ("text/csv;q=0.2, application/json;q=0.8", JSON),
        ("image/png, text/*", CSV),
        ("application/*", JSON),
    ],
    ids=[
        "missing",
        "empty",
        "any",
        "csv",
        "json-with-charset",
        "jsonlines",
        "q-values-prefer-json",
        "text-wildcard",
        "application-wildcard",
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept) == expected


@pytest.mark.parametrize("accept", ["text/html", "application/json;q=0", "image/*"])
def test_negotiate_refuses(accept: str) -> None:
    with pytest.raises(NotAcceptableError):
        negotiate(accept)


def test_encode_single_and_multi_column() -> None:
    single = np.array([[0.5], [0.25]], dtype=np.float32)
    assert json.loads(encode(single, JSON)) == {"predictions": [0.5, 0.25]}
    assert encode(single, CSV) == b"0.5\n0.25\n"
    assert encode(single, JSONLINES) == b"0.5\n0.25\n"
    multi = np.array([[1, 2], [3, 4]], dtype=np.int64)
    assert json.loads(encode(multi, JSON)) == {"predictions": [[1, 2], [3, 4]]}
    assert encode(multi, CSV) == b"1,2\n3,4\n"
    assert encode(multi, JSONLINES) == b"[1, 2]\n[3, 4]\n"
