"""KLL sketch: accuracy against exact ranks, bounded memory, JSON round trip."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_cdk.runtime.drift.kll import KllSketch


def test_small_streams_are_kept_exactly() -> None:
    sketch = KllSketch(k=64)
    values = np.arange(50, dtype=float)
    sketch.update(values)
    assert sketch.size == 50
    assert len(sketch.levels) == 1
    assert sketch.cdf(np.array([9.0, 49.0])) == pytest.approx([10 / 50, 1.0])


def test_rank_error_is_small_on_a_large_stream() -> None:
    rng = np.random.default_rng(11)
    values = rng.lognormal(0.0, 1.0, 200_000)
    sketch = KllSketch()
    for start in range(0, values.size, 7_000):
        sketch.update(values[start : start + 7_000])
    points = np.quantile(values, np.linspace(0.01, 0.99, 99))
    exact = np.searchsorted(np.sort(values), points, side="right") / values.size
    assert np.max(np.abs(sketch.cdf(points) - exact)) < 0.01
    assert sketch.quantiles([0.5])[0] == pytest.approx(np.median(values), rel=0.03)


def test_memory_is_bounded_and_weight_is_preserved() -> None:
    sketch = KllSketch(k=256)
    rng = np.random.default_rng(2)
    sizes = []
    for _ in range(100):
        sketch.update(rng.random(10_000))
        sizes.append(sketch.size)
    assert sketch.weight == 1_000_000
    bound = 256 / (1 - sketch.c) + 2 * len(sketch.levels)
    assert max(sizes) <= bound
    assert sizes[-1] <= bound
    assert sizes[-1] < sizes[0] * 1.5


def test_json_round_trip_preserves_the_distribution() -> None:
    sketch = KllSketch(k=128)
    sketch.update(np.random.default_rng(4).normal(size=5_000))
    again = KllSketch.from_json(sketch.to_json())
    assert again.weight == sketch.weight
    assert again.k == 128
    points = np.linspace(-3, 3, 13)
    assert again.cdf(points) == pytest.approx(sketch.cdf(points))


def test_empty_sketch_and_bad_parameters() -> None:
    sketch = KllSketch()
    sketch.update(np.array([]))
    assert sketch.weight == 0
    assert np.isnan(sketch.quantiles([0.5])[0])
    assert sketch.cdf(np.array([1.0])) == pytest.approx([0.0])
    with pytest.raises(ValueError, match="KLL needs"):
        KllSketch(k=1)


def test_reads_a_deequ_style_sketch_with_level_weights() -> None:
    """Model Monitor's ``sketch.data`` is Deequ's compactor buffers: level h weighs 2**h."""
    sketch = KllSketch.from_json(
        {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[1.0, 2.0], [3.0]]}
    )
    assert sketch.weight == 4
    assert sketch.k == 2048
    assert sketch.cdf(np.array([2.0, 2.5, 3.0])) == pytest.approx([0.5, 0.5, 1.0])
