"""constraints.json: Model Monitor's monitoring_config (with documented defaults) and features."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from .accumulators import FeatureAccumulator
from .profile import DatasetProfile
from .schema import FORMAT_VERSION, InferredType

#: String features with at most this many distinct values get ``string_constraints.domains``.
MAX_DOMAIN_SIZE = 20

COMPARISON_METHODS = ("Robust", "Simple")
CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")
SWITCH_VALUES = ("Enabled", "Disabled")


@dataclass(frozen=True, kw_only=True)
class MonitoringConfig:
    """``monitoring_config`` of constraints.json; defaults as documented by AWS.

    ``psi_threshold`` is our extension (not in Model Monitor): ``None`` disables the PSI check.
    """

    evaluate_constraints: str = "Enabled"
    emit_metrics: str = "Enabled"
    datatype_check_threshold: float = 0.1
    domain_content_threshold: float = 0.1
    perform_comparison: str = "Enabled"
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"
    psi_threshold: float | None = None

    def __post_init__(self) -> None:
        for name in ("evaluate_constraints", "emit_metrics", "perform_comparison"):
            _require(name, getattr(self, name), SWITCH_VALUES)
        _require("comparison_method", self.comparison_method, COMPARISON_METHODS)
        _require(
            "categorical_drift_method", self.categorical_drift_method, CATEGORICAL_DRIFT_METHODS
        )
        for name in (
            "datatype_check_threshold",
            "domain_content_threshold",
            "comparison_threshold",
            "categorical_comparison_threshold",
        ):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1 (got {getattr(self, name)})")

    @classmethod
    def from_json(cls, config: Mapping[str, Any]) -> MonitoringConfig:
        """Read a ``monitoring_config`` object; missing keys take the defaults."""
        flat = {k: v for k, v in config.items() if k != "distribution_constraints"}
        flat.update(config.get("distribution_constraints") or {})
        known = {k: v for k, v in flat.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def with_overrides(self, **overrides: Any) -> MonitoringConfig:
        """A copy with the given non-None values replaced (CLI flags)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_json(self) -> dict[str, object]:
        """The ``monitoring_config`` object in Model Monitor's nesting."""
        values = asdict(self)
        distribution = {
            key: values.pop(key)
            for key in (
                "perform_comparison",
                "comparison_threshold",
                "comparison_method",
                "categorical_comparison_threshold",
                "categorical_drift_method",
            )
        }
        if values["psi_threshold"] is None:
            del values["psi_threshold"]
        return {**values, "distribution_constraints": distribution}


def _require(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")


@dataclass(frozen=True)
class FeatureConstraint:
    """One ``features[]`` entry of constraints.json."""

    name: str
    inferred_type: InferredType
    completeness: float
    is_non_negative: bool | None = None
    domains: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> FeatureConstraint:
        """Read one feature constraint."""
        num = entry.get("num_constraints") or {}
        strings = entry.get("string_constraints") or {}
        domains = strings.get("domains")
        return cls(
            name=str(entry["name"]),
            inferred_type=InferredType(entry.get("inferred_type", "Unknown")),
            completeness=float(entry.get("completeness", 0.0)),
            is_non_negative=num.get("is_non_negative"),
            domains=tuple(str(d) for d in domains) if domains is not None else None,
        )

    def to_json(self) -> dict[str, object]:
        """Write one feature constraint."""
        entry: dict[str, object] = {
            "name": self.name,
            "inferred_type": str(self.inferred_type),
            "completeness": self.completeness,
        }
        if self.is_non_negative is not None:
            entry["num_constraints"] = {"is_non_negative": self.is_non_negative}
        if self.domains is not None:
            entry["string_constraints"] = {"domains": list(self.domains)}
        return entry


@dataclass(frozen=True)
class Constraints:
    """A parsed constraints.json."""

    features: tuple[FeatureConstraint, ...]
    config: MonitoringConfig

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Constraints:
        """Read constraints.json."""
        return cls(
            features=tuple(FeatureConstraint.from_json(f) for f in document.get("features", [])),
            config=MonitoringConfig.from_json(document.get("monitoring_config") or {}),
        )

    def to_json(self) -> dict[str, object]:
        """Write constraints.json."""
        return {
            "version": FORMAT_VERSION,
            "features": [feature.to_json() for feature in self.features],
            "monitoring_config": self.config.to_json(),
        }


def suggest_feature(accumulator: FeatureAccumulator, item_count: int) -> FeatureConstraint:
    """Constraint suggested from a baseline feature, as Model Monitor's baselining does."""
    kind = accumulator.observed_type()
    completeness = accumulator.present / item_count if item_count else 0.0
    if kind in (InferredType.INTEGRAL, InferredType.FRACTIONAL):
        return FeatureConstraint(
            accumulator.name, kind, completeness, is_non_negative=accumulator.negatives == 0
        )
    domains = None
    if (
        kind is InferredType.STRING
        and not accumulator.overflow
        and len(accumulator.categories) <= MAX_DOMAIN_SIZE
    ):
        domains = tuple(sorted(accumulator.categories))
    return FeatureConstraint(accumulator.name, kind, completeness, domains=domains)


def suggest_constraints(
    profile: DatasetProfile, config: MonitoringConfig | None = None
) -> Constraints:
    """constraints.json suggested for a baseline profile."""
    return Constraints(
        features=tuple(suggest_feature(f, profile.item_count) for f in profile.features),
        config=config or MonitoringConfig(),
    )
