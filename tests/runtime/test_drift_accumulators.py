"""Per-feature accumulators: moments across batches, type counts, capped categories."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_cdk.runtime.drift.accumulators import FeatureAccumulator, Moments, category_key
from mlops_cdk.runtime.drift.payload import Cell
from mlops_cdk.runtime.drift.profile import Profiler
from mlops_cdk.runtime.drift.schema import InferredType


def test_moments_merge_batches_like_numpy() -> None:
    values = np.random.default_rng(8).normal(1e6, 3.0, 10_001)
    moments = Moments()
    for chunk in np.array_split(values, 7):
        moments.add(chunk)
    assert moments.count == values.size
    assert moments.mean == pytest.approx(values.mean(), rel=1e-12)
    assert moments.std_dev == pytest.approx(values.std(), rel=1e-9)
    assert moments.total == pytest.approx(values.sum(), rel=1e-12)
    assert (moments.minimum, moments.maximum) == (values.min(), values.max())


def test_mixed_numeric_column_counts_types_and_missing() -> None:
    acc = FeatureAccumulator("x", categorical=False)
    acc.add_column(["1", "2.5", "", "  ", None, "abc", 3.0, math.nan, "-4", "inf"])
    assert (acc.integral, acc.fractional, acc.strings) == (3, 1, 1)
    assert acc.missing == 5  # "", "  ", None, nan, inf
    assert acc.negatives == 1
    assert acc.moments.count == 4
    assert acc.sketch.weight == 4
    assert acc.observed_type() is InferredType.STRING
    assert acc.mismatches(InferredType.INTEGRAL) == 2
    assert acc.mismatches(InferredType.FRACTIONAL) == 1
    assert acc.mismatches(InferredType.STRING) == 0


def test_clean_numeric_column_takes_the_fast_path() -> None:
    acc = FeatureAccumulator("x", categorical=False)
    acc.add_column(["1", "2", None, 4.0])
    assert (acc.integral, acc.fractional, acc.strings, acc.missing) == (3, 0, 0, 1)
    assert acc.observed_type() is InferredType.INTEGRAL
    acc.add_column(["0.5"])
    assert acc.observed_type() is InferredType.FRACTIONAL


def test_text_feature_counts_every_present_value_as_string() -> None:
    acc = FeatureAccumulator("c", numeric=False, max_categories=2)
    acc.add_column(["red", "", " ", None, 2.0, 2.5, math.inf, "red", "blue"])
    assert acc.missing == 4
    assert acc.strings == 5
    assert acc.categories == {"red": 2, "2": 1}
    assert acc.overflow == 2  # "2.5" and "blue" arrived after the cap
    assert acc.moments.count == 0


def test_presence_only_feature_keeps_no_categories() -> None:
    acc = FeatureAccumulator("u", numeric=False, categorical=False)
    acc.add_column(["a", None, "b"])
    assert (acc.present, acc.missing, acc.categories) == (2, 1, {})


def test_category_keys_print_json_numbers_like_csv() -> None:
    assert category_key(3.0) == "3"
    assert category_key(2.5) == "2.5"
    assert category_key("x") == "x"


cells = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["abc", "x y"]),
    st.integers(-1000, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(repr),
    st.floats(-1e6, 1e6, allow_nan=False),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=60))
def test_profile_counts_add_up(rows: list[list[Cell]]) -> None:
    profile = Profiler(
        [FeatureAccumulator("a"), FeatureAccumulator("b", numeric=False)], batch_size=7
    ).add_all(rows)
    assert profile.item_count == len(rows)
    for index, acc in enumerate(profile.features):
        assert acc.present + acc.missing == len(rows)
        present = [r[index] for r in rows if r[index] not in (None, "")]
        assert acc.present == len(present)
    numeric = profile.features[0]
    numbers = [float(r[0]) for r in rows if _is_number(r[0])]  # type: ignore[arg-type]
    assert numeric.moments.count == len(numbers)
    if numbers:
        assert numeric.moments.total == pytest.approx(math.fsum(numbers), abs=1e-6)
        assert numeric.moments.minimum == min(numbers)


def _is_number(cell: Cell) -> bool:
    if cell is None or cell == "":
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True
