"""Names and enum values of Model Monitor's documented file formats."""

from __future__ import annotations

from enum import StrEnum

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
METRICS_FILE = "cloudwatch_metrics.json"

FORMAT_VERSION = 0


class InferredType(StrEnum):
    """``inferred_type`` values of statistics.json and constraints.json."""

    INTEGRAL = "Integral"
    FRACTIONAL = "Fractional"
    STRING = "String"
    UNKNOWN = "Unknown"


class CheckType(StrEnum):
    """``constraint_check_type`` values of constraint_violations.json."""

    DATA_TYPE = "data_type_check"
    COMPLETENESS = "completeness_check"
    BASELINE_DRIFT = "baseline_drift_check"
    MISSING_COLUMN = "missing_column_check"
    EXTRA_COLUMN = "extra_column_check"
    CATEGORICAL_VALUES = "categorical_values_check"


NUMERIC_TYPES = frozenset({InferredType.INTEGRAL, InferredType.FRACTIONAL})
