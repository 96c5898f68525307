"""The ``analyze`` command: one window of captured data against the baseline."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..limits import DEFAULT_LIMITS, ParseLimits  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .capture import FileSource, ReadStats, iter_records
from .checks import FeatureResult, Violation, evaluate, window_accumulators
from .constraints import Constraints
from .jsonlog import JsonLogger
from .metrics import DATA_METRICS_NAMESPACE, MetricDatum, MetricsClient, build_metric_data, publish
from .profile import DatasetProfile, Profiler, statistics_document
from .reference import read_reference
from .report import drift_document, write_reports
from .window import Window

DEFAULT_MAX_SKIPPED_SHARE = 0.1
_NOT_LOGGED = frozenset({"monitoring_config", "skipped_examples"})  # long; logged elsewhere


@dataclass(frozen=True, kw_only=True)
class AnalyzeOptions:
    """Inputs of one analysis run."""

    source: FileSource
    statistics_path: Path
    constraints_path: Path
    out: Path
    endpoint: str
    schedule: str
    window: Window
    overrides: dict[str, Any] = field(default_factory=dict)
    publish_metrics: bool = True
    namespace: str = DATA_METRICS_NAMESPACE
    capture_index: str = "endpointInput"
    limits: ParseLimits = DEFAULT_LIMITS
    #: The run fails (after writing its reports and metrics) above this share of skipped events.
    max_skipped_share: float = DEFAULT_MAX_SKIPPED_SHARE


@dataclass(frozen=True)
class AnalyzeResult:
    """What a run found and sent."""

    violations: list[Violation]
    results: list[FeatureResult]
    profile: DatasetProfile
    read_stats: ReadStats
    metric_data: list[MetricDatum]
    metric_calls: int
    outputs: list[Path]
    max_skipped_share: float = DEFAULT_MAX_SKIPPED_SHARE

    @property
    def too_many_skipped(self) -> bool:
        """More malformed events than ``AnalyzeOptions.max_skipped_share`` allows."""
        return self.read_stats.skipped_share > self.max_skipped_share


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"baseline file {path} not found") from exc


def run_analysis(
    options: AnalyzeOptions,
    client: MetricsClient | None,
    logger: JsonLogger | None = None,
    now: datetime | None = None,
) -> AnalyzeResult:
    """Read the window, evaluate constraints, write reports, publish metrics."""
    logger = logger or JsonLogger()
    constraints = Constraints.from_json(_load(options.constraints_path))
    config = constraints.config.with_overrides(**options.overrides)
    reference = read_reference(_load(options.statistics_path))
    read_stats = ReadStats()
    records = iter_records(
        options.source, options.window, read_stats, options.capture_index, options.limits
    )
    profile = Profiler(window_accumulators(constraints)).add_all(records)
    if read_stats.events_skipped:
        logger.warning(
            "malformed_capture_events",
            count=read_stats.events_skipped,
            share=round(read_stats.skipped_share, 6),
            examples=read_stats.errors,
        )
    if profile.item_count == 0:
        logger.warning(
            "empty_window",
            window_start=options.window.start,
            window_end=options.window.end,
            files_listed=read_stats.files_listed,
        )
    violations, results = evaluate(constraints, reference, profile, config)
    timestamp = options.window.end or now or datetime.now(UTC)
    metric_data = build_metric_data(
        results,
        endpoint=options.endpoint,
        schedule=options.schedule,
        timestamp=timestamp,
        records=profile.item_count,
        violations=len(violations),
        skipped=read_stats.events_skipped,
    )
    summary: dict[str, object] = {
        "endpoint": options.endpoint,
        "monitoring_schedule": options.schedule,
        "window_start": options.window.start,
        "window_end": options.window.end,
        "records_analyzed": profile.item_count,
        "files_read": read_stats.files_read,
        "events_skipped": read_stats.events_skipped,
        "skipped_share": round(read_stats.skipped_share, 6),
        "max_skipped_share": options.max_skipped_share,
        "skipped_examples": read_stats.errors,
        "violations": len(violations),
        "monitoring_config": config.to_json(),
    }
    statistics = statistics_document(profile, [f.inferred_type for f in constraints.features])
    outputs = write_reports(
        options.out,
        violations=violations,
        statistics=statistics,
        drift=drift_document(results, summary),
        metric_data=metric_data,
    )
    calls = 0
    if options.publish_metrics and config.emit_metrics == "Enabled" and client is not None:
        calls = publish(client, metric_data, options.namespace)
    logger.info(
        "analysis_complete",
        **{k: v for k, v in summary.items() if k not in _NOT_LOGGED},
        metric_calls=calls,
    )
    return AnalyzeResult(
        violations,
        results,
        profile,
        read_stats,
        metric_data,
        calls,
        outputs,
        options.max_skipped_share,
    )
