"""Evaluate (SageMaker Processing): score the test split with the packaged model.

Reads the training job's ``model.tar.gz`` from ``--model`` (or an unpacked model directory),
unpacks it the way SageMaker does for an endpoint, scores ``--test`` (``test.csv`` from
preprocess) with the runtime's own ONNX predictor, i.e. exactly what the endpoint will serve,
and writes ``<out>/evaluation.json``:

- ``binary_classification_metrics``: SageMaker's model-quality format (see :mod:`.metrics`);
  the registered package's ``ModelMetrics.ModelQuality.Statistics`` points at this file;
- ``metrics``: ``{"<name>": {"value": x}}`` for ``accuracy``, ``precision``, ``recall``,
  ``f1`` and ``auc``, the path MLPipeline's condition step reads (``metrics.<name>.value``);

and the model-quality baseline of the test split in Model Monitor's formats, computed by the
drift job's own code (:mod:`..drift.quality`, so monitoring compares like with like):
``<out>/statistics.json`` (``binary_classification_metrics``) and ``<out>/constraints.json``
(each metric's test value, ``--quality-tolerance`` worse, as its threshold). The registered
package's ``ModelMetrics.ModelQuality`` and ``DriftCheckBaselines.ModelQuality`` point at them.

Usage: ``python -m mlops_runtime.training.evaluate [--model DIR] [--test DIR] [--out DIR]
[--label churn] [--threshold 0.5] [--quality-tolerance 0.05]``; defaults are the MLPipeline
processing paths.
"""

from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..drift import quality as model_quality
from ..predictor import OnnxPredictor
from .common import (
    FEATURES_FILE,
    MODEL_FILE,
    PROCESSING_EVALUATION,
    PROCESSING_MODEL,
    PROCESSING_TEST,
    DataError,
    binary_labels,
    csv_files,
    read_table,
    run_job,
)
from .demo_data import LABEL
from .metrics import binary_classification_metrics

REPORT_FILE = "evaluation.json"
QUALITY_STATISTICS_FILE = "statistics.json"
QUALITY_CONSTRAINTS_FILE = "constraints.json"
#: How much worse than on the test split a monitored window may be before it violates.
DEFAULT_QUALITY_TOLERANCE = 0.05
#: The metrics repeated under ``metrics`` for the pipeline's condition step.
GATE_METRICS = ("accuracy", "precision", "recall", "f1", "auc")


def unpack_model(model: Path, into: Path) -> Path:
    """The model directory: ``model`` itself if it holds model.onnx, else its model.tar.gz
    unpacked into ``into`` (tarfile's ``data`` filter: no absolute paths or links out)."""
    if (model / MODEL_FILE).is_file():
        return model
    archives = sorted(model.glob("*.tar.gz")) if model.is_dir() else []
    if len(archives) != 1:
        raise DataError(f"expected {MODEL_FILE} or one *.tar.gz in {model}, found {archives}")
    try:
        with tarfile.open(archives[0], "r:gz") as tar:
            tar.extractall(into, filter="data")
    except tarfile.TarError as exc:
        raise DataError(f"cannot unpack {archives[0]}: {exc}") from exc
    return into


def evaluation_report(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, Any]:
    """``{"binary_classification_metrics": ..., "metrics": {name: {"value": x}}}``."""
    quality = binary_classification_metrics(y, score, threshold=threshold)
    return {
        "binary_classification_metrics": quality,
        "metrics": {name: {"value": quality[name]["value"]} for name in GATE_METRICS},
    }


def quality_baseline(
    y: np.ndarray, score: np.ndarray, threshold: float, tolerance: float
) -> tuple[dict[str, object], dict[str, object]]:
    """Model-quality statistics.json and constraints.json of scored labels."""
    accumulator = model_quality.BinaryQuality()
    for label, value in zip(y, score, strict=True):
        accumulator.add(bool(label), bool(value >= threshold), float(value))
    statistics = model_quality.statistics_document(model_quality.BINARY, accumulator)
    values = model_quality.metric_values(model_quality.BINARY, statistics)
    return statistics, model_quality.suggest_constraints(model_quality.BINARY, values, tolerance)


def evaluate(
    model: Path,
    test_dir: Path,
    out: Path,
    *,
    label: str = LABEL,
    threshold: float = 0.5,
    quality_tolerance: float = DEFAULT_QUALITY_TOLERANCE,
) -> dict[str, Any]:
    """Score the test split and write the report; returns the summary that is logged."""
    table = read_table(csv_files(test_dir))
    y = binary_labels(table, label)
    features, x = table.without(label)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = unpack_model(model, Path(tmp))
        names_file = model_dir / FEATURES_FILE
        if names_file.is_file():
            expected = tuple(json.loads(names_file.read_text(encoding="utf-8")))
            if expected != features:
                raise DataError(
                    f"test columns {', '.join(features)} differ from the model's features "
                    f"{', '.join(expected)}"
                )
        predictor = OnnxPredictor()
        predictor.load(model_dir)
        score = np.asarray(predictor.predict(x.astype(np.float32)), dtype=np.float64)
    if score.shape not in ((len(y),), (len(y), 1)):
        raise DataError(f"the model returned shape {score.shape} for {len(y)} rows")
    report = evaluation_report(y, score.reshape(-1), threshold)
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    statistics, constraints = quality_baseline(y, score.reshape(-1), threshold, quality_tolerance)
    for name, document in (
        (QUALITY_STATISTICS_FILE, statistics),
        (QUALITY_CONSTRAINTS_FILE, constraints),
    ):
        (out / name).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    quality = report["binary_classification_metrics"]
    return {"rows": len(y), **{name: quality[name]["value"] for name in GATE_METRICS}}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m mlops_runtime.training.evaluate")
    parser.add_argument("--model", type=Path, default=PROCESSING_MODEL)
    parser.add_argument("--test", type=Path, default=PROCESSING_TEST)
    parser.add_argument("--out", type=Path, default=PROCESSING_EVALUATION)
    parser.add_argument("--label", default=LABEL)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--quality-tolerance", type=float, default=DEFAULT_QUALITY_TOLERANCE)
    args = parser.parse_args(argv)
    return run_job(
        "evaluate",
        lambda: evaluate(
            args.model,
            args.test,
            args.out,
            label=args.label,
            threshold=args.threshold,
            quality_tolerance=args.quality_tolerance,
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
