"""Read a baseline statistics.json (ours or Model Monitor's) into comparable distributions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .kll import FloatArray, KllSketch
from .schema import InferredType


@dataclass(frozen=True)
class ReferenceFeature:
    """Baseline distribution of one feature."""

    name: str
    inferred_type: InferredType
    num_present: int
    num_missing: int
    sketch: KllSketch | None = None
    bucket_edges: FloatArray | None = None
    bucket_cdf: FloatArray | None = None
    categories: dict[str, int] = field(default_factory=dict)


def _numeric(entry: Mapping[str, Any], base: dict[str, Any]) -> ReferenceFeature:
    kll = (entry.get("distribution") or {}).get("kll") or {}
    sketch_json = kll.get("sketch")
    sketch = KllSketch.from_json(sketch_json) if sketch_json and sketch_json.get("data") else None
    edges = cdf = None
    buckets = kll.get("buckets") or []
    if sketch is None and buckets:
        counts = np.array([float(b["count"]) for b in buckets])
        if counts.sum() > 0:
            edges = np.array([float(b["upper_bound"]) for b in buckets])
            cdf = np.cumsum(counts) / counts.sum()
    return ReferenceFeature(**base, sketch=sketch, bucket_edges=edges, bucket_cdf=cdf)


def read_reference(document: Mapping[str, Any]) -> dict[str, ReferenceFeature]:
    """Features of a statistics.json by name."""
    features: dict[str, ReferenceFeature] = {}
    for entry in document.get("features", []):
        kind = InferredType(entry.get("inferred_type", "Unknown"))
        stats = entry.get("numerical_statistics") or entry.get("string_statistics") or {}
        common = stats.get("common") or {}
        base: dict[str, Any] = {
            "name": str(entry["name"]),
            "inferred_type": kind,
            "num_present": int(common.get("num_present", 0)),
            "num_missing": int(common.get("num_missing", 0)),
        }
        if "numerical_statistics" in entry:
            features[base["name"]] = _numeric(entry["numerical_statistics"], base)
        else:
            buckets = ((stats.get("distribution") or {}).get("categorical") or {}).get("buckets")
            categories = {str(b["value"]): int(b["count"]) for b in buckets or []}
            features[base["name"]] = ReferenceFeature(**base, categories=categories)
    return features
