"""The drift job on 1 and on 4 simulated hosts over the same capture: merged = single (exactly for
counts and moments, within the KLL sketch's stated rank error for quantiles), and each host
reads only its share."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import TextIO

import numpy as np
import pytest

from mlops_cdk.runtime.drift.accumulators import Moments
from mlops_cdk.runtime.drift.analyze import (
    AnalyzeOptions,
    AnalyzeResult,
    read_partials,
    run_analysis,
    run_map,
    write_partial,
)
from mlops_cdk.runtime.drift.capture import LocalFileSource
from mlops_cdk.runtime.drift.cli import main
from mlops_cdk.runtime.drift.jsonlog import JsonLogger
from mlops_cdk.runtime.drift.kll import RANK_ERROR, KllSketch
from mlops_cdk.runtime.drift.shard import Shard, bucket_of, shard_from_resource_config
from mlops_cdk.runtime.drift.window import named_window

from .drift_fixtures import NOW, FakeCloudWatch, make_baseline, training_rows, write_capture

ROWS = 30_000  # well past the sketch's ~5,700-item capacity: compaction and merges happen
HOSTS = 4


class RecordingSource(LocalFileSource):
    """A local capture folder that remembers which files were opened."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.opened: list[str] = []

    def open_text(self, path: str) -> TextIO:
        self.opened.append(path)
        return super().open_text(path)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    make_baseline(root, training_rows(20_000, seed=7))
    write_capture(root / "capture", training_rows(ROWS, seed=123), files=24)
    return root


def options(root: Path, out: str, source: LocalFileSource | None = None) -> AnalyzeOptions:
    return AnalyzeOptions(
        source=source or LocalFileSource(root / "capture"),
        statistics_path=root / "baseline/statistics.json",
        constraints_path=root / "baseline/constraints.json",
        out=root / out,
        endpoint="ep",
        schedule="drift",
        window=named_window("previous-hour", NOW),
    )


@pytest.fixture(scope="module")
def single_and_merged(setup: Path) -> tuple[AnalyzeResult, AnalyzeResult, list[list[str]]]:
    single = run_analysis(options(setup, "single"), None, JsonLogger(StringIO()))
    opened = []
    for index in range(HOSTS):
        source = RecordingSource(setup / "capture")
        partial = run_map(options(setup, "unused", source), Shard(index, HOSTS))
        write_partial(partial, setup / "partials")
        opened.append(source.opened)
    merged_partial = read_partials(setup / "partials")
    merged = run_analysis(
        options(setup, "reduced"), FakeCloudWatch(), JsonLogger(StringIO()), partial=merged_partial
    )
    return single, merged, opened


def test_each_host_reads_only_its_share(
    single_and_merged: tuple[AnalyzeResult, AnalyzeResult, list[list[str]]],
) -> None:
    _, _, opened = single_and_merged
    every = [path for paths in opened for path in paths]
    assert len(every) == len(set(every)) == 24  # disjoint, and together all files
    for index, paths in enumerate(opened):
        assert paths, "each host gets some of the 24 files"
        assert all(bucket_of(path, HOSTS) == index for path in paths)


def test_counts_and_moments_merge_exactly(
    single_and_merged: tuple[AnalyzeResult, AnalyzeResult, list[list[str]]],
) -> None:
    single, merged, _ = single_and_merged
    assert merged.profile.item_count == single.profile.item_count == ROWS
    assert merged.read_stats.records == single.read_stats.records
    assert merged.read_stats.files_read == single.read_stats.files_read
    for mine, theirs in zip(merged.profile.features, single.profile.features, strict=True):
        assert (mine.missing, mine.integral, mine.fractional, mine.strings, mine.negatives) == (
            theirs.missing,
            theirs.integral,
            theirs.fractional,
            theirs.strings,
            theirs.negatives,
        )
        assert mine.categories == theirs.categories
        a, b = mine.moments, theirs.moments
        assert (a.count, a.minimum, a.maximum) == (b.count, b.minimum, b.maximum)
        # Same numbers summed in another order: equal up to floating-point rounding.
        assert a.mean == pytest.approx(b.mean, rel=1e-12)
        assert a.m2 == pytest.approx(b.m2, rel=1e-12)
        assert a.total == pytest.approx(b.total, rel=1e-12)
        assert mine.sketch.weight == theirs.sketch.weight == a.count


def test_quantiles_within_the_stated_rank_error(
    single_and_merged: tuple[AnalyzeResult, AnalyzeResult, list[list[str]]],
) -> None:
    single, merged, _ = single_and_merged
    incomes = np.array([row[1] for row in training_rows(ROWS, seed=123)], dtype=float)
    points = np.quantile(incomes, np.linspace(0.01, 0.99, 99))
    exact = np.searchsorted(np.sort(incomes), points, side="right") / incomes.size
    for result in (single, merged):
        sketch = result.profile.feature("income").sketch
        assert np.max(np.abs(sketch.cdf(points) - exact)) <= RANK_ERROR
    drift_single = {r.name: r.drift for r in single.results}
    drift_merged = {r.name: r.drift for r in merged.results}
    assert drift_merged.keys() == drift_single.keys()
    for name, value in drift_single.items():  # KS distances: each within ε of the truth
        assert drift_merged[name] == pytest.approx(value, abs=2 * RANK_ERROR)
    assert [v.to_json() for v in merged.violations] == [v.to_json() for v in single.violations]


def test_kll_merge_of_small_sketches_is_exact() -> None:
    a, b, whole = KllSketch(), KllSketch(), KllSketch()
    a.update(np.arange(100, dtype=float))
    b.update(np.arange(100, 250, dtype=float))
    whole.update(np.arange(250, dtype=float))
    a.merge(b)
    assert np.array_equal(np.sort(np.concatenate(a.levels)), np.concatenate(whole.levels))
    with pytest.raises(ValueError, match="different parameters"):
        a.merge(KllSketch(k=100))


def test_chan_merge_is_stable_far_from_zero() -> None:
    rng = np.random.default_rng(0)
    values = 1e9 + rng.normal(0, 1, 10_000)
    whole, parts = Moments(), [Moments() for _ in range(4)]
    whole.add(values)
    for index, part in enumerate(parts):
        part.add(values[index::4])
    merged = parts[0]
    for part in parts[1:]:
        merged.merge(Moments.from_json(json.loads(json.dumps(part.to_json()))))
    assert merged.std_dev == pytest.approx(float(np.std(values)), rel=1e-9)
    assert merged.count == whole.count


def test_reduce_refuses_missing_or_mixed_partials(setup: Path, tmp_path: Path) -> None:
    for index in (0, 2):
        write_partial(run_map(options(setup, "unused"), Shard(index, 3)), tmp_path)
    with pytest.raises(ValueError, match="incomplete or mixed partials"):
        read_partials(tmp_path)


def test_resource_config_gives_the_host_index(tmp_path: Path) -> None:
    config = tmp_path / "resourceconfig.json"
    assert shard_from_resource_config(config) == Shard(0, 1)  # absent: one host
    config.write_text(
        json.dumps({"current_host": "algo-3", "hosts": ["algo-2", "algo-1", "algo-3"]})
    )
    assert shard_from_resource_config(config) == Shard(2, 3)
    config.write_text(json.dumps({"current_host": "algo-9", "hosts": ["algo-1"]}))
    with pytest.raises(ValueError, match="not among hosts"):
        shard_from_resource_config(config)


def test_cli_map_then_reduce(setup: Path, tmp_path: Path) -> None:
    common = [
        "analyze",
        "--capture",
        str(setup / "capture"),
        "--baseline-statistics",
        str(setup / "baseline/statistics.json"),
        "--baseline-constraints",
        str(setup / "baseline/constraints.json"),
        "--endpoint",
        "ep",
        "--schedule",
        "drift",
        "--now",
        NOW.isoformat(),
        "--no-publish-metrics",
        "--partials",
        str(tmp_path / "partials"),
    ]
    for index in range(2):
        config = tmp_path / f"rc{index}.json"
        config.write_text(
            json.dumps({"current_host": f"algo-{index + 1}", "hosts": ["algo-1", "algo-2"]})
        )
        code = main(
            [*common, "--mode", "map"],
            env={},
            logger=JsonLogger(StringIO()),
            resource_config=config,
        )
        assert code == 0
    assert sorted(p.name for p in (tmp_path / "partials").iterdir()) == [
        "partial-0-of-2.json",
        "partial-1-of-2.json",
    ]
    code = main(
        [*common, "--out", str(tmp_path / "out")],
        env={"DRIFT_MODE": "reduce"},
        logger=JsonLogger(StringIO()),
    )
    assert code == 0
    report = json.loads((tmp_path / "out/drift_report.json").read_text())
    assert report["records_analyzed"] == ROWS
