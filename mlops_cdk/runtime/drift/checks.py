"""Compare a window profile with the baseline: violations and per-feature drift values."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .accumulators import FeatureAccumulator
from .constraints import Constraints, FeatureConstraint, MonitoringConfig
from .distance import (
    chi_square,
    chi_square_pvalue,
    ks_distance,
    ks_pvalue,
    linf_distance,
    psi,
    robust_distance,
    sketch_psi,
)
from .profile import DatasetProfile
from .reference import ReferenceFeature
from .schema import NUMERIC_TYPES, CheckType, InferredType


@dataclass(frozen=True)
class Violation:
    """One entry of constraint_violations.json."""

    feature_name: str
    constraint_check_type: CheckType
    description: str

    def to_json(self) -> dict[str, str]:
        """The documented ``{feature_name, constraint_check_type, description}`` object."""
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": str(self.constraint_check_type),
            "description": self.description,
        }


@dataclass(frozen=True)
class FeatureResult:
    """Per-feature figures of one window (published as metrics)."""

    name: str
    completeness: float
    drift: float | None = None
    method: str | None = None
    raw_distance: float | None = None
    psi: float | None = None
    p_value: float | None = None


def window_accumulators(constraints: Constraints) -> list[FeatureAccumulator]:
    """Accumulators that track what each baseline feature type needs."""
    accumulators = []
    for feature in constraints.features:
        numeric = feature.inferred_type in NUMERIC_TYPES
        categorical = feature.inferred_type is InferredType.STRING
        accumulators.append(FeatureAccumulator(feature.name, numeric, categorical))
    return accumulators


def _numeric_drift(
    ref: ReferenceFeature, acc: FeatureAccumulator, config: MonitoringConfig
) -> FeatureResult | None:
    m = acc.moments.count
    if m == 0:
        return None
    if ref.sketch is not None:
        n = ref.sketch.weight
        raw = ks_distance(ref.sketch, acc.sketch)
        stability = sketch_psi(ref.sketch, acc.sketch)
    elif ref.bucket_edges is not None and ref.bucket_cdf is not None:
        n = ref.num_present
        # Bucket counts are [lower, upper) with the last bucket closed (Deequ's convention).
        current = acc.sketch.cdf(ref.bucket_edges, inclusive=False)
        current[-1] = acc.sketch.cdf(ref.bucket_edges[-1:])[0]
        raw = float(np.max(np.abs(current - ref.bucket_cdf)))
        # Bins: below the first upper bound, each bucket, and above the baseline max (tail).
        stability = psi(
            np.diff(np.concatenate(([0.0], ref.bucket_cdf, [1.0]))),
            np.diff(np.concatenate(([0.0], current, [1.0]))),
        )
    else:
        return None
    robust = config.comparison_method == "Robust"
    drift = robust_distance(raw, n, m) if robust else raw
    return FeatureResult(
        ref.name,
        0.0,
        drift=drift,
        method=f"ks_{config.comparison_method.lower()}",
        raw_distance=raw,
        psi=stability,
        p_value=ks_pvalue(raw, n, m),
    )


def _categorical_drift(
    ref: ReferenceFeature, acc: FeatureAccumulator, config: MonitoringConfig
) -> FeatureResult | None:
    current = dict(acc.categories)
    if acc.overflow:
        current["\x00overflow"] = acc.overflow
    n, m = sum(ref.categories.values()), sum(current.values())
    if n == 0 or m == 0:
        return None
    raw = linf_distance(ref.categories, current)
    drift = robust_distance(raw, n, m) if config.comparison_method == "Robust" else raw
    p_value = None
    if config.categorical_drift_method == "ChiSquared":
        p_value = chi_square_pvalue(*chi_square(ref.categories, current))
    method = f"linf_{config.comparison_method.lower()}"
    return FeatureResult(ref.name, 0.0, drift, method, raw_distance=raw, p_value=p_value)


def _drift_violation(result: FeatureResult, numeric: bool, config: MonitoringConfig) -> str | None:
    drift = result.drift if result.drift is not None else 0.0
    if numeric:
        reasons = []
        if drift > config.comparison_threshold:
            reasons.append(
                f"distance {drift:.4f} ({result.method}) exceeds threshold "
                f"{config.comparison_threshold}"
            )
        if config.psi_threshold is not None and (result.psi or 0.0) > config.psi_threshold:
            reasons.append(f"PSI {result.psi:.4f} exceeds threshold {config.psi_threshold}")
        return "Baseline drift " + "; ".join(reasons) if reasons else None
    if config.categorical_drift_method == "ChiSquared":
        p = result.p_value
        if p is not None and not math.isnan(p) and p < config.categorical_comparison_threshold:
            return (
                f"Chi-square p-value {p:.4g} is below threshold "
                f"{config.categorical_comparison_threshold} (L-infinity distance "
                f"{drift:.4f})"
            )
        return None
    if drift > config.categorical_comparison_threshold:
        return (
            f"Baseline drift distance {drift:.4f} ({result.method}) exceeds threshold "
            f"{config.categorical_comparison_threshold}"
        )
    return None


def _feature_checks(
    feature: FeatureConstraint, acc: FeatureAccumulator, item_count: int, config: MonitoringConfig
) -> list[Violation]:
    found = []
    completeness = acc.present / item_count
    if completeness < feature.completeness:
        found.append(
            Violation(
                feature.name,
                CheckType.COMPLETENESS,
                f"Data completeness {completeness:.4f} is below the baseline constraint "
                f"{feature.completeness:.4f}",
            )
        )
    if acc.present and feature.inferred_type in NUMERIC_TYPES:
        ratio = acc.mismatches(feature.inferred_type) / acc.present
        if ratio > config.datatype_check_threshold:
            found.append(
                Violation(
                    feature.name,
                    CheckType.DATA_TYPE,
                    f"Data type match requirement is not met. Expected data type: "
                    f"{feature.inferred_type}; {ratio:.2%} of values do not match "
                    f"(threshold {config.datatype_check_threshold:.2%})",
                )
            )
    if feature.is_non_negative and acc.negatives:
        found.append(
            Violation(
                feature.name,
                CheckType.DATA_TYPE,
                f"Baseline constraint is_non_negative is not met: {acc.negatives} negative "
                f"values (min {acc.moments.minimum:g})",
            )
        )
    if feature.domains is not None and acc.present:
        domain = set(feature.domains)
        unknown = sum(c for v, c in acc.categories.items() if v not in domain) + acc.overflow
        ratio = unknown / acc.present
        if ratio > config.domain_content_threshold:
            examples = sorted(v for v in acc.categories if v not in domain)[:5]
            found.append(
                Violation(
                    feature.name,
                    CheckType.CATEGORICAL_VALUES,
                    f"{ratio:.2%} of values are outside the baseline domain (threshold "
                    f"{config.domain_content_threshold:.2%}); e.g. {', '.join(examples)}",
                )
            )
    return found


def _column_checks(constraints: Constraints, profile: DatasetProfile) -> list[Violation]:
    found = []
    for feature in constraints.features:
        absent = profile.absent.get(feature.name, 0)
        if absent:
            found.append(
                Violation(
                    feature.name,
                    CheckType.MISSING_COLUMN,
                    f"Column missing from {absent} of {profile.item_count} records",
                )
            )
    if profile.long_records:
        name = f"_c{len(constraints.features)}"
        found.append(
            Violation(
                name,
                CheckType.EXTRA_COLUMN,
                f"{profile.long_records} of {profile.item_count} records have more than "
                f"{len(constraints.features)} columns",
            )
        )
    for name, count in sorted(profile.extra_names.items()):
        found.append(
            Violation(
                name,
                CheckType.EXTRA_COLUMN,
                f"Column not in the baseline, present in {count} of {profile.item_count} records",
            )
        )
    return found


def evaluate(
    constraints: Constraints,
    reference: dict[str, ReferenceFeature],
    profile: DatasetProfile,
    config: MonitoringConfig,
) -> tuple[list[Violation], list[FeatureResult]]:
    """Violations and per-feature results for one window (nothing for an empty window)."""
    if profile.item_count == 0:
        return [], []
    violations = _column_checks(constraints, profile)
    results = []
    for feature in constraints.features:
        acc = profile.feature(feature.name)
        violations += _feature_checks(feature, acc, profile.item_count, config)
        completeness = acc.present / profile.item_count
        ref = reference.get(feature.name)
        drift = None
        if ref is not None and config.perform_comparison == "Enabled":
            numeric = feature.inferred_type in NUMERIC_TYPES
            if numeric:
                drift = _numeric_drift(ref, acc, config)
            elif feature.inferred_type is InferredType.STRING:
                drift = _categorical_drift(ref, acc, config)
            if drift is not None:
                message = _drift_violation(drift, numeric, config)
                if message:
                    violations.append(Violation(feature.name, CheckType.BASELINE_DRIFT, message))
        base = drift or FeatureResult(feature.name, completeness)
        results.append(
            FeatureResult(
                feature.name,
                completeness,
                base.drift,
                base.method,
                base.raw_distance,
                base.psi,
                base.p_value,
            )
        )
    if config.evaluate_constraints != "Enabled":
        violations = []
    return violations, results
