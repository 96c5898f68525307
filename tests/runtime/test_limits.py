"""The one bounded-parser configuration (limits.py) shared by server, Lambda and drift job."""

from __future__ import annotations

import csv
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlops_runtime.limits import LimitExceededError, ParseLimits, check_depth, csv_rows, loads
from mlops_runtime.settings import Settings, parse_limits

LIMITS = ParseLimits(max_depth=4, max_int_digits=5, max_csv_field=10)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def true_depth(doc: object) -> int:
    if isinstance(doc, list):
        return 1 + max((true_depth(item) for item in doc), default=0)
    if isinstance(doc, dict):
        return 1 + max((true_depth(item) for item in doc.values()), default=0)
    return 0


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (nested(4), True),
        (nested(5), False),
        ('{"a": {"b": [[1]]}}', True),
        ('{"a": {"b": [[[1]]]}}', False),
        ('["[[[[[[", "]]]]]]]"]', True),  # brackets inside strings do not nest
        ('["\\"[[[[[[", [[[1]]]]', True),  # an escaped quote does not end the string
        ('["\\\\", [[[[1]]]]]', False),  # an escaped backslash does end it
        ("[[][][][][][][][][][]]", True),  # many brackets, shallow
        ("[" * 50, False),  # unbalanced and deep: refused before the parser recurses
        ("[[[]", True),  # unbalanced and shallow: the parser reports it
    ],
)
def test_depth_is_measured_like_the_parser_would(text: str, ok: bool) -> None:
    if ok:
        check_depth(text, 4)
        check_depth(text.encode(), 4)
    else:
        with pytest.raises(LimitExceededError, match="more than 4 levels") as raised:
            check_depth(text, 4)
        assert raised.value.code == "nesting_too_deep"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-99, 99) | st.text('[]{}"\\ab', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_depth_check_agrees_with_the_document(doc: object) -> None:
    text = json.dumps(doc)
    if true_depth(doc) <= 4:
        assert loads(text, LIMITS) == json.loads(text, parse_int=float)
    else:
        with pytest.raises(LimitExceededError):
            loads(text, LIMITS)


def test_integers_are_bounded_and_read_as_floats() -> None:
    assert loads("[12345, -12345, 1.5e300]", LIMITS) == [12345.0, -12345.0, 1.5e300]
    with pytest.raises(LimitExceededError, match="6 digits; the limit is 5") as raised:
        loads("[123456]", LIMITS)
    assert raised.value.code == "number_too_long"
    with pytest.raises(json.JSONDecodeError):
        loads("[1,", LIMITS)


def test_csv_fields_are_bounded() -> None:
    assert csv_rows(['1,"a,b"', "", "2,3"], LIMITS) == [["1", "a,b"], ["2", "3"]]
    with pytest.raises(LimitExceededError, match="longer than 10") as raised:
        csv_rows(['"' + "x" * 11 + '"'], LIMITS)
    assert raised.value.code == "csv_field_too_large"


def test_limits_come_from_the_environment() -> None:
    env = {"MLOPS_MAX_JSON_DEPTH": "8", "MLOPS_MAX_INT_DIGITS": "20", "MLOPS_MAX_CSV_FIELD": "99"}
    assert Settings.from_env(env).limits == ParseLimits(
        max_depth=8, max_int_digits=20, max_csv_field=99
    )
    assert Settings.from_env({}).limits == ParseLimits()
    with pytest.raises(ValueError, match="MLOPS_MAX_JSON_DEPTH must be >= 2"):
        parse_limits({"MLOPS_MAX_JSON_DEPTH": "1"})


def test_a_read_leaves_the_process_wide_csv_limit_as_it_was() -> None:
    before = csv.field_size_limit()
    with pytest.raises(LimitExceededError):
        csv_rows(['"' + "x" * 20 + '"'], ParseLimits(max_csv_field=10))
    assert csv_rows(["1,2"], ParseLimits(max_csv_field=10)) == [["1", "2"]]
    assert csv.field_size_limit() == before
