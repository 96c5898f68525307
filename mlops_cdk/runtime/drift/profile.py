"""Profile a stream of records into per-feature accumulators and statistics.json."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accumulators import FeatureAccumulator
from .payload import Cell, Record
from .schema import FORMAT_VERSION, InferredType

BATCH_SIZE = 8192
KLL_BUCKETS = 10
MAX_EXTRA_NAMES = 100


@dataclass
class DatasetProfile:
    """Accumulated view of one dataset (a baseline or an analysis window)."""

    features: list[FeatureAccumulator]
    item_count: int = 0
    short_records: int = 0
    long_records: int = 0
    extra_names: dict[str, int] = field(default_factory=dict)
    absent: dict[str, int] = field(default_factory=dict)

    def merge(self, other: DatasetProfile) -> None:
        """Absorb another host's partial profile of the same features (in the same order)."""
        if [f.name for f in other.features] != [f.name for f in self.features]:
            raise ValueError("cannot merge profiles of different features")
        for mine, theirs in zip(self.features, other.features, strict=True):
            mine.merge(theirs)
        self.item_count += other.item_count
        self.short_records += other.short_records
        self.long_records += other.long_records
        for name, count in other.absent.items():
            self.absent[name] = self.absent.get(name, 0) + count
        for name, count in other.extra_names.items():
            if name in self.extra_names or len(self.extra_names) < MAX_EXTRA_NAMES:
                self.extra_names[name] = self.extra_names.get(name, 0) + count

    def to_json(self) -> dict[str, object]:
        """The profile as a JSON object (part of a map host's partial)."""
        return {
            "item_count": self.item_count,
            "short_records": self.short_records,
            "long_records": self.long_records,
            "extra_names": self.extra_names,
            "absent": self.absent,
            "features": [feature.to_json() for feature in self.features],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> DatasetProfile:
        """Read :meth:`to_json`."""
        return cls(
            features=[FeatureAccumulator.from_json(f) for f in document["features"]],
            item_count=int(document["item_count"]),
            short_records=int(document["short_records"]),
            long_records=int(document["long_records"]),
            extra_names={str(k): int(v) for k, v in document["extra_names"].items()},
            absent={str(k): int(v) for k, v in document["absent"].items()},
        )

    def feature(self, name: str) -> FeatureAccumulator:
        """Accumulator of a feature by name."""
        for accumulator in self.features:
            if accumulator.name == name:
                return accumulator
        raise KeyError(name)


class Profiler:
    """Buffers records and feeds them column-wise to accumulators in batches."""

    def __init__(
        self, accumulators: Sequence[FeatureAccumulator], batch_size: int = BATCH_SIZE
    ) -> None:
        self.profile = DatasetProfile(list(accumulators))
        self._names = [accumulator.name for accumulator in accumulators]
        self._index = {name: i for i, name in enumerate(self._names)}
        self._batch: list[Sequence[Cell]] = []
        self._batch_size = batch_size

    def add(self, record: Record) -> None:
        """Add one record (positional list, or a mapping of feature name to value)."""
        profile = self.profile
        profile.item_count += 1
        width = len(self._names)
        if isinstance(record, dict):
            row: Sequence[Cell] = [record.get(name) for name in self._names]
            for name in self._names:
                if name not in record:
                    profile.absent[name] = profile.absent.get(name, 0) + 1
            for key in record:
                if key not in self._index and (
                    key in profile.extra_names or len(profile.extra_names) < MAX_EXTRA_NAMES
                ):
                    profile.extra_names[key] = profile.extra_names.get(key, 0) + 1
        elif len(record) == width:
            row = record
        elif len(record) < width:
            profile.short_records += 1
            row = [*record, *([None] * (width - len(record)))]
            for name in self._names[len(record) :]:
                profile.absent[name] = profile.absent.get(name, 0) + 1
        else:
            profile.long_records += 1
            row = record[:width]
        self._batch.append(row)
        if len(self._batch) >= self._batch_size:
            self._flush()

    def add_all(self, records: Iterable[Record]) -> DatasetProfile:
        """Consume an iterable of records and return the finished profile."""
        for record in records:
            self.add(record)
        return self.finish()

    def _flush(self) -> None:
        if not self._batch:
            return
        for accumulator, column in zip(
            self.profile.features, zip(*self._batch, strict=True), strict=True
        ):
            accumulator.add_column(column)
        self._batch = []

    def finish(self) -> DatasetProfile:
        """Flush the last batch and return the profile."""
        self._flush()
        return self.profile


def _kll_buckets(accumulator: FeatureAccumulator) -> list[dict[str, float | int]]:
    moments = accumulator.moments
    if moments.count == 0:
        return []
    # Deequ's buckets: [lower, upper) each, the last one closed; equal widths over [min, max].
    edges = np.linspace(moments.minimum, moments.maximum, KLL_BUCKETS + 1)
    below = accumulator.sketch.cdf(edges[1:-1], inclusive=False)
    counts = np.diff(np.concatenate(([0.0], below, [1.0]))) * moments.count
    return [
        {"lower_bound": float(lo), "upper_bound": float(hi), "count": round(float(count))}
        for lo, hi, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]


def feature_statistics(
    accumulator: FeatureAccumulator, inferred: InferredType
) -> dict[str, object]:
    """One ``features[]`` entry of statistics.json."""
    common = {"num_present": accumulator.present, "num_missing": accumulator.missing}
    entry: dict[str, object] = {"name": accumulator.name, "inferred_type": str(inferred)}
    if inferred in (InferredType.INTEGRAL, InferredType.FRACTIONAL) and accumulator.numeric:
        moments = accumulator.moments
        has_values = moments.count > 0
        entry["numerical_statistics"] = {
            "common": common,
            "mean": moments.mean if has_values else 0.0,
            "sum": moments.total,
            "std_dev": moments.std_dev,
            "min": moments.minimum if has_values else 0.0,
            "max": moments.maximum if has_values else 0.0,
            "distribution": {
                "kll": {
                    "buckets": _kll_buckets(accumulator),
                    "sketch": accumulator.sketch.to_json(),
                }
            },
        }
    else:
        buckets = sorted(accumulator.categories.items(), key=lambda item: (-item[1], item[0]))
        entry["string_statistics"] = {
            "common": common,
            "distinct_count": float(len(buckets) + (1 if accumulator.overflow else 0)),
            "distribution": {
                "categorical": {
                    "buckets": [{"value": value, "count": count} for value, count in buckets]
                }
            },
        }
    return entry


def statistics_document(
    profile: DatasetProfile, types: Sequence[InferredType] | None = None
) -> dict[str, object]:
    """statistics.json for a profile; ``types`` defaults to each feature's observed type."""
    kinds = types if types is not None else [f.observed_type() for f in profile.features]
    return {
        "version": FORMAT_VERSION,
        "dataset": {"item_count": profile.item_count},
        "features": [
            feature_statistics(accumulator, kind)
            for accumulator, kind in zip(profile.features, kinds, strict=True)
        ],
    }
