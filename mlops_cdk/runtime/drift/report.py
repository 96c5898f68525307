"""Write the analysis outputs: violations, window statistics, drift figures, metric data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from .checks import FeatureResult, Violation
from .jsonlog import json_default
from .metrics import MetricDatum
from .quality import QualityViolation
from .schema import METRICS_FILE, STATISTICS_FILE, VIOLATIONS_FILE

DRIFT_REPORT_FILE = "drift_report.json"
QUALITY_REPORT_FILE = "model_quality_report.json"


def violations_document(violations: Sequence[Violation]) -> dict[str, object]:
    """constraint_violations.json in Model Monitor's documented shape."""
    return {"violations": [violation.to_json() for violation in violations]}


def drift_document(
    results: Sequence[FeatureResult], summary: dict[str, object]
) -> dict[str, object]:
    """Our own per-feature figures (distance, PSI, p-value, completeness) plus run summary."""
    return {
        **summary,
        "features": [
            {
                "name": r.name,
                "completeness": r.completeness,
                "drift": r.drift,
                "method": r.method,
                "raw_distance": r.raw_distance,
                "psi": r.psi,
                "p_value": r.p_value,
            }
            for r in results
        ],
    }


def _write(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document, indent=2, default=json_default) + "\n", encoding="utf-8")
    return path


def write_reports(
    out: Path,
    *,
    violations: Sequence[Violation],
    statistics: dict[str, object],
    drift: dict[str, object],
    metric_data: Sequence[MetricDatum],
) -> list[Path]:
    """Write all output files into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        _write(out / VIOLATIONS_FILE, violations_document(violations)),
        _write(out / STATISTICS_FILE, statistics),
        _write(out / DRIFT_REPORT_FILE, drift),
        _write(out / METRICS_FILE, {"MetricData": list(metric_data)}),
    ]


def write_quality_reports(
    out: Path,
    *,
    violations: Sequence[QualityViolation],
    statistics: dict[str, object],
    summary: dict[str, object],
    metric_data: Sequence[MetricDatum],
) -> list[Path]:
    """Model-quality outputs: constraint_violations.json (``metric_name``,
    ``constraint_check_type`` = the comparison operator, ``description``), statistics.json,
    ``model_quality_report.json`` (ours: match counts) and the metric data."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        _write(out / VIOLATIONS_FILE, {"violations": [v.to_json() for v in violations]}),
        _write(out / STATISTICS_FILE, statistics),
        _write(out / QUALITY_REPORT_FILE, summary),
        _write(out / METRICS_FILE, {"MetricData": list(metric_data)}),
    ]
