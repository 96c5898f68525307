"""Bounded-memory per-feature accumulators fed one column batch at a time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .kll import FloatArray, KllSketch
from .payload import Cell
from .schema import InferredType

#: Distinct values counted per categorical feature; later new values go to ``overflow``.
MAX_CATEGORIES = 10_000


@dataclass
class Moments:
    """Count, mean, M2 (Chan et al. parallel update), sum, min and max of finite values."""

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf

    def add(self, values: FloatArray) -> None:
        """Merge a batch of finite values."""
        n = int(values.size)
        if n == 0:
            return
        batch_mean = float(values.mean())
        batch_m2 = float(((values - batch_mean) ** 2).sum())
        combined = self.count + n
        delta = batch_mean - self.mean
        self.m2 += batch_m2 + delta * delta * self.count * n / combined
        self.mean += delta * n / combined
        self.count = combined
        self.total += float(values.sum())
        self.minimum = min(self.minimum, float(values.min()))
        self.maximum = max(self.maximum, float(values.max()))

    def merge(self, other: Moments) -> None:
        """Absorb another partial (Chan, Golub, LeVeque 1979 pairwise update): count, min and
        max exactly; mean and M2 as the same stable formula one instance uses between batches."""
        if other.count == 0:
            return
        combined = self.count + other.count
        delta = other.mean - self.mean
        self.m2 += other.m2 + delta * delta * self.count * other.count / combined
        self.mean += delta * other.count / combined
        self.count = combined
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    def to_json(self) -> dict[str, float | int | None]:
        """A partial's moments (infinite min/max of an empty set as ``None``)."""
        return {
            "count": self.count,
            "mean": self.mean,
            "m2": self.m2,
            "total": self.total,
            "minimum": self.minimum if self.count else None,
            "maximum": self.maximum if self.count else None,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Moments:
        """Read :meth:`to_json`."""
        minimum, maximum = document.get("minimum"), document.get("maximum")
        return cls(
            count=int(document["count"]),
            mean=float(document["mean"]),
            m2=float(document["m2"]),
            total=float(document["total"]),
            minimum=math.inf if minimum is None else float(minimum),
            maximum=-math.inf if maximum is None else float(maximum),
        )

    @property
    def std_dev(self) -> float:
        """Population standard deviation."""
        return math.sqrt(self.m2 / self.count) if self.count else 0.0


def category_key(cell: str | float) -> str:
    """The category string of a cell: JSON numbers print like their CSV form."""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return cell


@dataclass
class FeatureAccumulator:
    """Counts types and missing values; keeps moments + sketch and/or capped category counts."""

    name: str
    numeric: bool = True
    categorical: bool = True
    max_categories: int = MAX_CATEGORIES
    missing: int = 0
    integral: int = 0
    fractional: int = 0
    strings: int = 0
    moments: Moments = field(default_factory=Moments)
    sketch: KllSketch = field(default_factory=KllSketch)
    categories: dict[str, int] = field(default_factory=dict)
    overflow: int = 0
    negatives: int = 0

    @property
    def present(self) -> int:
        """Non-missing values seen."""
        return self.integral + self.fractional + self.strings

    def add_column(self, cells: Sequence[Cell]) -> None:
        """Consume one column of a record batch."""
        if not self.numeric:
            self._add_text(cells)
            return
        try:
            numbers = np.array(cells, dtype=np.float64)
            texts: list[str] = []
        except (ValueError, TypeError):
            numbers, texts = self._split_slow(cells)
        finite = numbers[np.isfinite(numbers)]
        self.missing += int(numbers.size - finite.size)
        whole = int(np.count_nonzero(finite == np.floor(finite)))
        self.integral += whole
        self.fractional += int(finite.size) - whole
        self.strings += len(texts)
        if self.numeric:
            self.moments.add(finite)
            self.sketch.update(finite)
            self.negatives += int(np.count_nonzero(finite < 0))
        if self.categorical:
            self._count(cells)

    def _split_slow(self, cells: Sequence[Cell]) -> tuple[FloatArray, list[str]]:
        values: list[float] = []
        texts: list[str] = []
        for cell in cells:
            if cell is None:
                values.append(math.nan)
            elif isinstance(cell, float):
                values.append(cell)
            elif not cell.strip():
                values.append(math.nan)
            else:
                try:
                    values.append(float(cell))
                except ValueError:
                    texts.append(cell)
        return np.array(values, dtype=np.float64), texts

    def _add_text(self, cells: Sequence[Cell]) -> None:
        """One pass for features read as text: every present value counts as a string."""
        counts = self.categories
        missing = 0
        for cell in cells:
            if cell is None:
                missing += 1
                continue
            if isinstance(cell, float):
                if not math.isfinite(cell):
                    missing += 1
                    continue
                key = category_key(cell)
            elif not cell or cell.isspace():
                missing += 1
                continue
            else:
                key = cell
            if not self.categorical:
                continue
            if key in counts:
                counts[key] += 1
            elif len(counts) < self.max_categories:
                counts[key] = 1
            else:
                self.overflow += 1
        self.missing += missing
        self.strings += len(cells) - missing

    def _count(self, cells: Sequence[Cell]) -> None:
        counts = self.categories
        for cell in cells:
            if cell is None or (isinstance(cell, float) and not math.isfinite(cell)):
                continue
            key = category_key(cell)
            if not key.strip():
                continue
            if key in counts:
                counts[key] += 1
            elif len(counts) < self.max_categories:
                counts[key] = 1
            else:
                self.overflow += 1

    def merge(self, other: FeatureAccumulator) -> None:
        """Absorb another host's partial of the same feature: counts add, moments merge (Chan),
        sketches merge (KLL), category counts add up to ``max_categories`` distinct values (new
        values past the cap count as overflow, as they would have on one host if seen last)."""
        if other.name != self.name:
            raise ValueError(f"cannot merge feature {other.name!r} into {self.name!r}")
        self.missing += other.missing
        self.integral += other.integral
        self.fractional += other.fractional
        self.strings += other.strings
        self.negatives += other.negatives
        self.moments.merge(other.moments)
        self.sketch.merge(other.sketch)
        counts = self.categories
        for key, count in other.categories.items():
            if key in counts:
                counts[key] += count
            elif len(counts) < self.max_categories:
                counts[key] = count
            else:
                self.overflow += count
        self.overflow += other.overflow

    def to_json(self) -> dict[str, object]:
        """The accumulator as a JSON object (a map host's partial)."""
        return {
            "name": self.name,
            "numeric": self.numeric,
            "categorical": self.categorical,
            "max_categories": self.max_categories,
            "missing": self.missing,
            "integral": self.integral,
            "fractional": self.fractional,
            "strings": self.strings,
            "negatives": self.negatives,
            "overflow": self.overflow,
            "moments": self.moments.to_json(),
            "sketch": self.sketch.to_json(),
            "categories": self.categories,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> FeatureAccumulator:
        """Read :meth:`to_json`."""
        return cls(
            name=str(document["name"]),
            numeric=bool(document["numeric"]),
            categorical=bool(document["categorical"]),
            max_categories=int(document["max_categories"]),
            missing=int(document["missing"]),
            integral=int(document["integral"]),
            fractional=int(document["fractional"]),
            strings=int(document["strings"]),
            negatives=int(document["negatives"]),
            overflow=int(document["overflow"]),
            moments=Moments.from_json(document["moments"]),
            sketch=KllSketch.from_json(document["sketch"]),
            categories={str(k): int(v) for k, v in document["categories"].items()},
        )

    def observed_type(self) -> InferredType:
        """Type of the values seen: String if any value is not a number."""
        if self.present == 0:
            return InferredType.UNKNOWN
        if self.strings:
            return InferredType.STRING
        return InferredType.FRACTIONAL if self.fractional else InferredType.INTEGRAL

    def mismatches(self, expected: InferredType) -> int:
        """Present values that do not fit the expected type."""
        if expected is InferredType.INTEGRAL:
            return self.fractional + self.strings
        if expected is InferredType.FRACTIONAL:
            return self.strings
        return 0
