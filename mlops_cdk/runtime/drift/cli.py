"""Command line: ``baseline`` and ``analyze``, with Processing-job environment fallbacks.

Environment names are those Model Monitor passes to bring-your-own containers
(``dataset_source``, ``output_path``, ``start_time``, ``end_time``, ``sagemaker_endpoint_name``,
``sagemaker_monitoring_schedule_name``, ``publish_cloudwatch_metrics``, ``baseline_statistics``,
``baseline_constraints``) plus ``DRIFT_WINDOW`` and ``DRIFT_NOW``; flags win over the
environment.

The capture can be a local folder (a Processing input) or an ``s3://bucket/<prefix><endpoint>/``
URI: then only the window's hour folders are listed and read (see :mod:`.s3source`). A
baseline path may be a folder: its ``statistics.json`` / ``constraints.json``, or else its only
``*.json`` file, is used (a Processing input downloads an object under its own key name).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..limits import ParseLimits  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from ..settings import parse_limits  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .analyze import (
    DATA_QUALITY,
    DEFAULT_MAX_SKIPPED_SHARE,
    MODEL_QUALITY,
    MONITORING_TYPES,
    AnalyzeOptions,
    read_partials,
    run_analysis,
    run_map,
    write_partial,
)
from .baseline import build_baseline, write_baseline
from .capture import FileSource, LocalFileSource
from .constraints import CATEGORICAL_DRIFT_METHODS, COMPARISON_METHODS, MonitoringConfig
from .groundtruth import DEFAULT_PROBABILITY_THRESHOLD, PredictionSpec
from .jsonlog import JsonLogger
from .metrics import DATA_METRICS_NAMESPACE, Boto3MetricsClient, MetricsClient
from .quality import MODEL_METRICS_NAMESPACE, PROBLEM_TYPES
from .s3source import S3ClientFactory, S3FileSource, boto3_s3_client
from .shard import RESOURCE_CONFIG, Shard, shard_from_resource_config
from .window import WINDOW_CHOICES, Window, named_window, parse_time

PROCESSING_OUTPUT = "/opt/ml/processing/output"
PROCESSING_CAPTURE = "/opt/ml/processing/input/endpoint"
PROCESSING_STATISTICS = "/opt/ml/processing/baseline/statistics.json"
PROCESSING_CONSTRAINTS = "/opt/ml/processing/baseline/constraints.json"
PROCESSING_GROUND_TRUTH = "/opt/ml/processing/input/ground_truth"
MODES = ("single", "map", "reduce")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2

_THRESHOLD_FLAGS = (
    "comparison_threshold",
    "categorical_comparison_threshold",
    "datatype_check_threshold",
    "domain_content_threshold",
    "psi_threshold",
)


class UsageError(ValueError):
    """A required value missing from both flags and environment."""


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("monitoring_config overrides (default: constraints.json)")
    for name in _THRESHOLD_FLAGS:
        group.add_argument("--" + name.replace("_", "-"), type=float, default=None)
    group.add_argument("--comparison-method", choices=COMPARISON_METHODS, default=None)
    group.add_argument(
        "--categorical-drift-method", choices=CATEGORICAL_DRIFT_METHODS, default=None
    )


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for both subcommands."""
    parser = argparse.ArgumentParser(prog="python -m mlops_runtime.drift", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    base = commands.add_parser("baseline", help="statistics.json + constraints.json from a CSV")
    base.add_argument("--train", type=Path, required=True, help="training CSV")
    base.add_argument(
        "--out", type=Path, default=None, help=f"env output_path; {PROCESSING_OUTPUT}"
    )
    base.add_argument("--no-header", action="store_true", help="CSV has no header (_c0, _c1, ...)")
    base.add_argument("--delimiter", default=",")
    _add_config_flags(base)

    run = commands.add_parser("analyze", help="compare a capture window with the baseline")
    run.add_argument(
        "--capture", default=None, help="folder or s3://bucket/prefix/ URI; env dataset_source"
    )
    run.add_argument(
        "--baseline-statistics", type=Path, default=None, help="env baseline_statistics"
    )
    run.add_argument(
        "--baseline-constraints", type=Path, default=None, help="env baseline_constraints"
    )
    run.add_argument("--out", type=Path, default=None, help="env output_path")
    run.add_argument("--endpoint", default=None, help="env sagemaker_endpoint_name")
    run.add_argument("--schedule", default=None, help="env sagemaker_monitoring_schedule_name")
    run.add_argument("--start", default=None, help="ISO time; env start_time")
    run.add_argument("--end", default=None, help="ISO time; env end_time")
    run.add_argument("--window", choices=WINDOW_CHOICES, default=None, help="env DRIFT_WINDOW")
    run.add_argument(
        "--now", default=None, help="reference time for --window; env DRIFT_NOW (default: now)"
    )
    run.add_argument(
        "--publish-metrics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="env publish_cloudwatch_metrics=Enabled|Disabled; default on",
    )
    run.add_argument(
        "--namespace",
        default=None,
        help=f"default {DATA_METRICS_NAMESPACE} ({MODEL_METRICS_NAMESPACE} for model quality)",
    )
    run.add_argument("--capture-index", default="endpointInput")
    run.add_argument(
        "--max-skipped-share",
        type=float,
        default=None,
        help="fail above this share of malformed events; env DRIFT_MAX_SKIPPED_SHARE; "
        f"default {DEFAULT_MAX_SKIPPED_SHARE}",
    )
    run.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="single: the whole window here; map: this host's share into a partial under "
        "--partials; reduce: merge the partials under --partials, then check and publish; "
        "env DRIFT_MODE; default single",
    )
    run.add_argument("--partials", type=Path, default=None, help="env DRIFT_PARTIALS")
    run.add_argument(
        "--host-index", type=int, default=None, help="map: this host (default: resourceconfig)"
    )
    run.add_argument("--host-count", type=int, default=None, help="map: number of hosts")
    quality = run.add_argument_group("model quality")
    quality.add_argument(
        "--monitoring-type",
        choices=MONITORING_TYPES,
        default=None,
        help="env DRIFT_MONITORING_TYPE",
    )
    quality.add_argument(
        "--problem-type", choices=PROBLEM_TYPES, default=None, help="env problem_type"
    )
    quality.add_argument(
        "--ground-truth",
        default=None,
        help="folder or s3:// URI of labels; env ground_truth_source",
    )
    quality.add_argument(
        "--label-delay-hours",
        type=int,
        default=None,
        help="analyze captures of the window ending this many hours before --now; "
        "env DRIFT_LABEL_DELAY_HOURS; default 0",
    )
    quality.add_argument("--inference-attribute", default=None, help="env inference_attribute")
    quality.add_argument("--probability-attribute", default=None, help="env probability_attribute")
    quality.add_argument(
        "--probability-threshold",
        type=float,
        default=None,
        help="env probability_threshold_attribute; default 0.5",
    )
    _add_config_flags(run)
    return parser


def _pick(flag: Any, env: Mapping[str, str], name: str, default: Any = None) -> Any:
    if flag is not None:
        return flag
    if env.get(name):
        return env[name]
    if default is None:
        raise UsageError(f"missing --{name.replace('_', '-')} (or environment variable {name})")
    return default


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = (*_THRESHOLD_FLAGS, "comparison_method", "categorical_drift_method")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _reference(args: argparse.Namespace, env: Mapping[str, str], now: datetime) -> datetime:
    given = args.now or env.get("DRIFT_NOW")
    return parse_time(given) if given else now


def _window(
    args: argparse.Namespace, env: Mapping[str, str], now: datetime, delay_hours: int = 0
) -> Window:
    start = args.start or env.get("start_time")
    end = args.end or env.get("end_time")
    if start or end:
        return Window(parse_time(start) if start else None, parse_time(end) if end else None)
    reference = _reference(args, env, now) - timedelta(hours=delay_hours)
    return named_window(args.window or env.get("DRIFT_WINDOW") or "previous-hour", reference)


def _int(value: Any, name: str, least: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a whole number (got {value!r})") from None
    if number < least:
        raise UsageError(f"{name} must be at least {least} (got {number})")
    return number


def _quality(
    args: argparse.Namespace,
    env: Mapping[str, str],
    now: datetime,
    window: Window,
    s3_factory: S3ClientFactory,
) -> dict[str, Any]:
    """The AnalyzeOptions fields of a model-quality run."""
    kind = _pick(args.problem_type, env, "problem_type")
    if kind not in PROBLEM_TYPES:
        raise UsageError(f"problem_type must be one of {', '.join(PROBLEM_TYPES)} (got {kind!r})")
    truth = str(_pick(args.ground_truth, env, "ground_truth_source", PROCESSING_GROUND_TRUTH))
    threshold = _pick(
        args.probability_threshold,
        env,
        "probability_threshold_attribute",
        DEFAULT_PROBABILITY_THRESHOLD,
    )
    try:
        threshold = float(threshold)
    except ValueError:
        raise UsageError(f"probability threshold must be a number (got {threshold!r})") from None
    # Labels of the window's predictions arrive later: read them up to the reference time.
    labels = Window(window.start, max(_reference(args, env, now), window.end or now))
    return {
        "monitoring_type": MODEL_QUALITY,
        "ground_truth": _source(truth, labels, s3_factory),
        "label_window": labels,
        "prediction": PredictionSpec(
            problem_type=kind,
            inference_attribute=args.inference_attribute or env.get("inference_attribute"),
            probability_attribute=args.probability_attribute or env.get("probability_attribute"),
            probability_threshold=threshold,
        ),
    }


def _shard(args: argparse.Namespace, resource_config: Path) -> Shard:
    if args.host_index is None and args.host_count is None:
        return shard_from_resource_config(resource_config)
    try:
        return Shard(args.host_index or 0, args.host_count or 1)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _baseline(args: argparse.Namespace, env: Mapping[str, str], logger: JsonLogger) -> int:
    out = Path(_pick(args.out, env, "output_path", PROCESSING_OUTPUT))
    config = MonitoringConfig().with_overrides(**_overrides(args))
    result = build_baseline(
        args.train, header=not args.no_header, delimiter=args.delimiter, config=config
    )
    statistics, constraints = write_baseline(result, out)
    logger.info(
        "baseline_complete",
        records=result.profile.item_count,
        features=len(result.profile.features),
        statistics=statistics,
        constraints=constraints,
    )
    return EXIT_OK


def _source(capture: str, window: Window, s3_factory: S3ClientFactory) -> FileSource:
    if capture.startswith("s3://"):
        return S3FileSource(s3_factory(), capture, window)
    return LocalFileSource(capture)


def _baseline_file(path: Path, name: str) -> Path:
    """``path`` itself, or inside a folder ``name`` or else its only ``*.json`` file."""
    if not path.is_dir():
        return path
    if (path / name).is_file():
        return path / name
    candidates = sorted(path.glob("*.json"))
    if len(candidates) != 1:
        raise FileNotFoundError(
            f"baseline folder {path} must hold {name} or exactly one .json file "
            f"(found {len(candidates)})"
        )
    return candidates[0]


def _limits(env: Mapping[str, str]) -> ParseLimits:
    try:
        return parse_limits(env)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _share(args: argparse.Namespace, env: Mapping[str, str]) -> float:
    raw = _pick(args.max_skipped_share, env, "DRIFT_MAX_SKIPPED_SHARE", DEFAULT_MAX_SKIPPED_SHARE)
    try:
        share = float(raw)
    except ValueError:
        raise UsageError(f"DRIFT_MAX_SKIPPED_SHARE must be a number (got {raw!r})") from None
    if not 0 <= share <= 1:
        raise UsageError(f"the maximum skipped share must be within [0, 1] (got {share})")
    return share


def _analyze(
    args: argparse.Namespace,
    env: Mapping[str, str],
    logger: JsonLogger,
    client_factory: Callable[[], MetricsClient],
    now: datetime,
    s3_factory: S3ClientFactory,
    resource_config: Path = RESOURCE_CONFIG,
) -> int:
    publish_env = env.get("publish_cloudwatch_metrics", "Enabled")
    publish = (
        args.publish_metrics if args.publish_metrics is not None else publish_env != "Disabled"
    )
    kind = _pick(args.monitoring_type, env, "DRIFT_MONITORING_TYPE", DATA_QUALITY)
    if kind not in MONITORING_TYPES:
        raise UsageError(
            f"DRIFT_MONITORING_TYPE must be one of {', '.join(MONITORING_TYPES)} (got {kind!r})"
        )
    delay = 0
    if kind == MODEL_QUALITY:
        delay = _int(
            _pick(args.label_delay_hours, env, "DRIFT_LABEL_DELAY_HOURS", "0"),
            "the label delay (hours)",
        )
    window = _window(args, env, now, delay)
    quality = _quality(args, env, now, window, s3_factory) if kind == MODEL_QUALITY else {}
    namespace = args.namespace or (
        MODEL_METRICS_NAMESPACE if kind == MODEL_QUALITY else DATA_METRICS_NAMESPACE
    )
    mode = _pick(args.mode, env, "DRIFT_MODE", "single")
    if mode not in MODES:
        raise UsageError(f"DRIFT_MODE must be one of {', '.join(MODES)} (got {mode!r})")
    capture = str(_pick(args.capture, env, "dataset_source", PROCESSING_CAPTURE))
    statistics = Path(
        _pick(args.baseline_statistics, env, "baseline_statistics", PROCESSING_STATISTICS)
    )
    constraints = Path(
        _pick(args.baseline_constraints, env, "baseline_constraints", PROCESSING_CONSTRAINTS)
    )
    options = AnalyzeOptions(
        source=_source(capture, window, s3_factory),
        statistics_path=_baseline_file(statistics, "statistics.json"),
        constraints_path=_baseline_file(constraints, "constraints.json"),
        out=Path(_pick(args.out, env, "output_path", PROCESSING_OUTPUT)),
        endpoint=_pick(args.endpoint, env, "sagemaker_endpoint_name"),
        schedule=_pick(args.schedule, env, "sagemaker_monitoring_schedule_name"),
        window=window,
        overrides=_overrides(args),
        publish_metrics=publish,
        namespace=namespace,
        capture_index=args.capture_index,
        limits=_limits(env),
        max_skipped_share=_share(args, env),
        **quality,
    )
    if mode != "single":
        partials = Path(_pick(args.partials, env, "DRIFT_PARTIALS"))
    if mode == "map":
        shard = _shard(args, resource_config)
        path = write_partial(run_map(options, shard), partials)
        logger.info("map_complete", host=shard.name, partial=path)
        return EXIT_OK
    logger.info(
        "analysis_start",
        endpoint=options.endpoint,
        schedule=options.schedule,
        window_start=options.window.start,
        window_end=options.window.end,
        publish_metrics=publish,
    )
    merged = read_partials(partials) if mode == "reduce" else None
    result = run_analysis(options, client_factory() if publish else None, logger, now, merged)
    if result.too_many_skipped:
        stats = result.read_stats
        logger.error(
            "too_many_malformed_events",
            events_skipped=stats.events_skipped,
            skipped_share=stats.skipped_share,
            max_skipped_share=options.max_skipped_share,
        )
        return EXIT_ERROR
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    logger: JsonLogger | None = None,
    client_factory: Callable[[], MetricsClient] = Boto3MetricsClient,
    now: datetime | None = None,
    s3_factory: S3ClientFactory = boto3_s3_client,
    resource_config: Path = RESOURCE_CONFIG,
) -> int:
    """Run a subcommand; exit 0 also when violations are found (they go to files and metrics)."""
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    logger = logger or JsonLogger()
    try:
        if args.command == "baseline":
            return _baseline(args, env, logger)
        return _analyze(
            args, env, logger, client_factory, now or datetime.now(UTC), s3_factory, resource_config
        )
    except UsageError as exc:
        logger.error("usage_error", message=str(exc))
        return EXIT_USAGE
    except (OSError, ValueError, KeyError) as exc:
        logger.error("job_failed", error=type(exc).__name__, message=str(exc))
        return EXIT_ERROR
