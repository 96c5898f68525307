"""Distances and p-values against independently computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_cdk.runtime.drift import distance
from mlops_cdk.runtime.drift.kll import KllSketch

from .drift_fixtures import exact_ks


def sketch_of(values: np.ndarray) -> KllSketch:
    sketch = KllSketch()
    for start in range(0, values.size, 1000):
        sketch.update(values[start : start + 1000])
    return sketch


def test_ks_distance_matches_exact_ks_by_sorting() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 30_000), rng.normal(0.25, 1, 8_000)
    got = distance.ks_distance(sketch_of(a), sketch_of(b))
    assert got == pytest.approx(exact_ks(a, b), abs=0.01)
    assert 0.08 < got < 0.12  # Phi(0.125) - Phi(-0.125) ~= 0.0995


def test_ks_distance_of_small_samples_is_exact() -> None:
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0])
    assert distance.ks_distance(sketch_of(a), sketch_of(b)) == pytest.approx(0.5)


def test_robust_distance_subtracts_the_ks_critical_value() -> None:
    # 1.8 * sqrt((100 + 400) / (100 * 400)) = 0.20125
    assert distance.robust_distance(0.3, 100, 400) == pytest.approx(0.3 - 0.201246, abs=1e-6)
    assert distance.robust_distance(0.1, 100, 400) == 0.0
    assert distance.robust_distance(0.3, 0, 400) == 0.0


def test_ks_pvalue_asymptotics() -> None:
    # lambda = 1.358 is the 5 % point of the Kolmogorov distribution.
    n = m = 2000
    d = 1.358 / math.sqrt(n * m / (n + m))
    assert distance.ks_pvalue(d, n, m) == pytest.approx(0.05, abs=0.005)
    assert distance.ks_pvalue(0.5, n, m) < 1e-100
    assert distance.ks_pvalue(0.0, n, m) == 1.0


def test_psi_known_value_and_identity() -> None:
    # (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert distance.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected)
    assert distance.psi(np.array([0.2, 0.8]), np.array([0.2, 0.8])) == 0.0


def test_sketch_psi_grows_with_shift() -> None:
    rng = np.random.default_rng(5)
    base = sketch_of(rng.normal(0, 1, 20_000))
    small = distance.sketch_psi(base, sketch_of(rng.normal(0.1, 1, 5_000)))
    large = distance.sketch_psi(base, sketch_of(rng.normal(1.0, 1, 5_000)))
    assert 0.0 <= small < 0.05 < 0.5 < large


def test_linf_distance_of_category_tables() -> None:
    assert distance.linf_distance({"a": 50, "b": 50}, {"a": 30, "b": 50, "c": 20}) == 0.2
    assert distance.linf_distance({"a": 1}, {}) == 0.0


def test_chi_square_statistic_and_pvalue() -> None:
    statistic, dof = distance.chi_square({"a": 500, "b": 500}, {"a": 60, "b": 40})
    assert statistic == pytest.approx(4.0)  # (60-50)^2/50 + (40-50)^2/50
    assert dof == 1
    # Upper tail with 2 degrees of freedom is exp(-x / 2) exactly.
    assert distance.chi_square_pvalue(4.0, 2) == pytest.approx(math.exp(-2.0), rel=1e-12)
    assert distance.chi_square_pvalue(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert distance.chi_square_pvalue(30.0, 10) == pytest.approx(8.566412e-4, rel=1e-5)
    assert distance.chi_square_pvalue(0.5, 5) == pytest.approx(0.9921233, rel=1e-6)


def test_chi_square_regroups_small_expected_counts() -> None:
    baseline = {"a": 400, "b": 400, "c": 5, "d": 5, "e": 5}
    _, dof = distance.chi_square(baseline, {"a": 20, "b": 20, "c": 1, "d": 1, "e": 1})
    assert dof < 4  # tiny categories were merged
    assert math.isnan(distance.chi_square({"a": 10}, {"a": 3})[0])


fractions = st.lists(st.floats(0.0, 1.0), min_size=2, max_size=20)


@settings(max_examples=60, deadline=None)
@given(fractions, fractions)
def test_psi_is_never_negative(a: list[float], b: list[float]) -> None:
    size = min(len(a), len(b))
    assert distance.psi(np.array(a[:size]), np.array(b[:size])) >= 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300),
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=300),
)
def test_ks_is_a_symmetric_distance_in_unit_interval(a: list[float], b: list[float]) -> None:
    sa, sb = sketch_of(np.array(a)), sketch_of(np.array(b))
    d = distance.ks_distance(sa, sb)
    assert 0.0 <= d <= 1.0
    assert d == pytest.approx(distance.ks_distance(sb, sa))
    assert d == pytest.approx(exact_ks(a, b))
    assert distance.ks_distance(sa, sketch_of(np.array(a))) == 0.0
    assert distance.sketch_psi(sa, sketch_of(np.array(a))) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 1000), min_size=1),
    st.dictionaries(st.sampled_from("abcdefg"), st.integers(1, 1000), min_size=1),
)
def test_linf_in_unit_interval_and_zero_on_identity(a: dict[str, int], b: dict[str, int]) -> None:
    assert 0.0 <= distance.linf_distance(a, b) <= 1.0
    assert distance.linf_distance(a, a) == 0.0
    p = distance.chi_square_pvalue(*distance.chi_square(a, b))
    assert math.isnan(p) or 0.0 <= p <= 1.0
