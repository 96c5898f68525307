"""The ``analyze`` command: one window of captured data against the baseline.

On N Processing hosts the work splits in two steps: each host reads its share of the window's
capture objects (:mod:`.shard`) into a :class:`Partial` (``run_map``, ``write_partial``), and one
reduce step merges the partials (``read_partials``) and runs the same checks, reports and metrics
as a single host (``run_analysis(..., partial=merged)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..limits import DEFAULT_LIMITS, ParseLimits  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .capture import FileSource, ReadStats, iter_records
from .checks import FeatureResult, Violation, evaluate, window_accumulators
from .constraints import Constraints
from .groundtruth import PredictionSpec, QualityPartial, join_window
from .jsonlog import JsonLogger, json_default
from .metrics import (
    DATA_METRICS_NAMESPACE,
    MetricDatum,
    MetricsClient,
    build_metric_data,
    build_quality_metric_data,
    publish,
)
from .profile import DatasetProfile, Profiler, statistics_document
from .quality import QualityViolation, check_constraints, metric_values
from .quality import statistics_document as quality_statistics
from .reference import read_reference
from .report import drift_document, write_quality_reports, write_reports
from .shard import ALL, Shard
from .window import Window, parse_time

DEFAULT_MAX_SKIPPED_SHARE = 0.1
DATA_QUALITY = "DataQuality"
MODEL_QUALITY = "ModelQuality"
MONITORING_TYPES = (DATA_QUALITY, MODEL_QUALITY)
PARTIAL_VERSION = 1
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
    #: ``DataQuality`` (the baseline is a data-quality one) or ``ModelQuality``.
    monitoring_type: str = DATA_QUALITY
    #: Model quality: where labels are, the window they are read from and how to read
    #: predictions.
    ground_truth: FileSource | None = None
    label_window: Window | None = None
    prediction: PredictionSpec | None = None


@dataclass
class Partial:
    """What one host found in its share of the window (all of it on one host)."""

    shard: Shard
    window: Window
    read_stats: ReadStats
    profile: DatasetProfile | None = None
    quality: QualityPartial | None = None
    label_stats: ReadStats | None = None

    def merge(self, other: Partial) -> None:
        """Absorb another host's partial of the same run."""
        if other.window != self.window:
            raise ValueError("cannot merge partials of different windows")
        self.read_stats.merge(other.read_stats)
        if self.profile is not None and other.profile is not None:
            self.profile.merge(other.profile)
        if self.quality is not None and other.quality is not None:
            self.quality.merge(other.quality)
        if self.label_stats is not None and other.label_stats is not None:
            # Every host reads all labels: keep one host's counts.
            self.label_stats = self.label_stats if self.shard.index == 0 else other.label_stats

    def to_json(self) -> dict[str, object]:
        """The partial file's content."""
        return {
            "version": PARTIAL_VERSION,
            "host_index": self.shard.index,
            "host_count": self.shard.count,
            "window_start": self.window.start,
            "window_end": self.window.end,
            "read_stats": self.read_stats.to_json(),
            "profile": None if self.profile is None else self.profile.to_json(),
            "quality": None if self.quality is None else self.quality.to_json(),
            "label_stats": None if self.label_stats is None else self.label_stats.to_json(),
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Partial:
        """Read :meth:`to_json`."""
        if document.get("version") != PARTIAL_VERSION:
            raise ValueError(f"unsupported partial version {document.get('version')!r}")

        def moment(value: str | None) -> datetime | None:
            return parse_time(value) if value else None

        return cls(
            shard=Shard(int(document["host_index"]), int(document["host_count"])),
            window=Window(moment(document["window_start"]), moment(document["window_end"])),
            read_stats=ReadStats.from_json(document["read_stats"]),
            profile=None
            if document["profile"] is None
            else DatasetProfile.from_json(document["profile"]),
            quality=None
            if document["quality"] is None
            else QualityPartial.from_json(document["quality"]),
            label_stats=None
            if document["label_stats"] is None
            else ReadStats.from_json(document["label_stats"]),
        )


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
    quality: QualityPartial | None = None
    quality_violations: list[QualityViolation] = field(default_factory=list)

    @property
    def too_many_skipped(self) -> bool:
        """More malformed events than ``AnalyzeOptions.max_skipped_share`` allows."""
        return self.read_stats.skipped_share > self.max_skipped_share


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"baseline file {path} not found") from exc


def run_map(options: AnalyzeOptions, shard: Shard = ALL) -> Partial:
    """Read this host's share of the window into a partial (no reports, no metrics)."""
    read_stats = ReadStats()
    if options.monitoring_type == MODEL_QUALITY:
        if options.ground_truth is None or options.prediction is None:
            raise ValueError("model quality needs ground truth and a problem type")
        label_stats = ReadStats()
        quality = join_window(
            options.source,
            options.ground_truth,
            spec=options.prediction,
            capture_window=options.window,
            label_window=options.label_window or options.window,
            capture_stats=read_stats,
            label_stats=label_stats,
            limits=options.limits,
            shard=shard,
        )
        return Partial(shard, options.window, read_stats, quality=quality, label_stats=label_stats)
    constraints = Constraints.from_json(_load(options.constraints_path))
    records = iter_records(
        options.source, options.window, read_stats, options.capture_index, options.limits, shard
    )
    profile = Profiler(window_accumulators(constraints)).add_all(records)
    return Partial(shard, options.window, read_stats, profile=profile)


def partial_path(folder: Path, shard: Shard) -> Path:
    """``<folder>/partial-<index>-of-<count>.json``."""
    return folder / f"partial-{shard.name}.json"


def write_partial(partial: Partial, folder: Path) -> Path:
    """Write one host's partial into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = partial_path(folder, partial.shard)
    path.write_text(json.dumps(partial.to_json(), default=json_default) + "\n", encoding="utf-8")
    return path


def read_partials(folder: Path) -> Partial:
    """Merge every host's partial in ``folder`` (searched recursively); fails unless there is
    exactly one partial per host of one run."""
    paths = sorted(folder.rglob("partial-*.json"))
    if not paths:
        raise FileNotFoundError(f"no partial-*.json under {folder}")
    partials = [Partial.from_json(json.loads(p.read_text(encoding="utf-8"))) for p in paths]
    counts = {p.shard.count for p in partials}
    indexes = sorted(p.shard.index for p in partials)
    if len(counts) != 1 or indexes != list(range(next(iter(counts)))):
        raise ValueError(
            f"incomplete or mixed partials under {folder}: " + ", ".join(p.name for p in paths)
        )
    partials.sort(key=lambda p: p.shard.index)
    merged = partials[0]
    for other in partials[1:]:
        merged.merge(other)
    merged = replace(merged, shard=ALL)
    return merged


def run_analysis(
    options: AnalyzeOptions,
    client: MetricsClient | None,
    logger: JsonLogger | None = None,
    now: datetime | None = None,
    partial: Partial | None = None,
) -> AnalyzeResult:
    """Read the window (or take the merged ``partial`` of all hosts), evaluate constraints,
    write reports, publish metrics."""
    logger = logger or JsonLogger()
    partial = partial if partial is not None else run_map(options)
    read_stats = partial.read_stats
    if read_stats.events_skipped:
        logger.warning(
            "malformed_capture_events",
            count=read_stats.events_skipped,
            share=round(read_stats.skipped_share, 6),
            examples=read_stats.errors,
        )
    if partial.quality is not None:
        return _finish_quality(options, partial, partial.quality, client, logger, now)
    constraints = Constraints.from_json(_load(options.constraints_path))
    config = constraints.config.with_overrides(**options.overrides)
    reference = read_reference(_load(options.statistics_path))
    assert partial.profile is not None  # noqa: S101 - data quality partials carry a profile
    profile = partial.profile
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


def _finish_quality(
    options: AnalyzeOptions,
    partial: Partial,
    quality: QualityPartial,
    client: MetricsClient | None,
    logger: JsonLogger,
    now: datetime | None,
) -> AnalyzeResult:
    kind = quality.problem_type
    constraints = _load(options.constraints_path)
    statistics = quality_statistics(kind, quality.accumulator)
    values = metric_values(kind, statistics)
    violations = check_constraints(kind, constraints, values)
    match = quality.match
    if match.matched == 0:
        logger.warning(
            "no_matched_predictions",
            window_start=options.window.start,
            window_end=options.window.end,
            labels=match.labels,
            predictions_unmatched=match.predictions_unmatched,
        )
    read_stats = partial.read_stats
    timestamp = options.window.end or now or datetime.now(UTC)
    metric_data = build_quality_metric_data(
        values,
        endpoint=options.endpoint,
        schedule=options.schedule,
        timestamp=timestamp,
        matched=match.matched,
        violations=len(violations),
        skipped=read_stats.events_skipped,
        predictions_unmatched=match.predictions_unmatched,
        labels_unmatched=match.labels_unmatched,
    )
    label_stats = partial.label_stats or ReadStats()
    summary: dict[str, object] = {
        "endpoint": options.endpoint,
        "monitoring_schedule": options.schedule,
        "problem_type": kind,
        "window_start": options.window.start,
        "window_end": options.window.end,
        "label_window_start": (options.label_window or options.window).start,
        "label_window_end": (options.label_window or options.window).end,
        **match.to_json(),
        "capture_events": read_stats.events_in_window,
        "files_read": read_stats.files_read,
        "label_files_read": label_stats.files_read,
        "events_skipped": read_stats.events_skipped,
        "label_events_skipped": label_stats.events_skipped,
        "skipped_share": round(read_stats.skipped_share, 6),
        "max_skipped_share": options.max_skipped_share,
        "skipped_examples": read_stats.errors + label_stats.errors,
        "violations": len(violations),
    }
    outputs = write_quality_reports(
        options.out,
        violations=violations,
        statistics=statistics,
        summary=summary,
        metric_data=metric_data,
    )
    calls = 0
    if options.publish_metrics and client is not None:
        calls = publish(client, metric_data, options.namespace)
    logger.info(
        "analysis_complete",
        **{k: v for k, v in summary.items() if k not in _NOT_LOGGED},
        metric_calls=calls,
    )
    return AnalyzeResult(
        [],
        [],
        DatasetProfile([]),
        read_stats,
        metric_data,
        calls,
        outputs,
        options.max_skipped_share,
        quality,
        violations,
    )
