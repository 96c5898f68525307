"""Train (SageMaker Training, container contract): fit the churn classifier, export it to ONNX.

Reads every ``*.csv`` of the ``train`` channel (``train.csv`` from preprocess: features in
model-input order, then the label), fits ``StandardScaler`` + ``LogisticRegression`` and writes
to the model directory (SageMaker packs it into ``model.tar.gz``):

- ``model.onnx``: input ``features`` float32 ``[N, F]``, output ``churn_probability`` float32
  ``[N, 1]`` (served as-is by the runtime image), checked against scikit-learn's own
  probabilities with the runtime's predictor before it is written;
- ``features.json`` (input column order), ``sample_request.json`` / ``sample_request.csv``
  (three training rows), ``training.json`` (hyperparameters, row counts, versions).

Hyperparameters (``/opt/ml/input/config/hyperparameters.json``; values are strings, JSON-encoded
ones as the SageMaker SDK writes them are decoded; ``sagemaker_*`` entries are ignored):
``C`` (1.0), ``max_iter`` (1000), ``class_weight`` (``none`` | ``balanced``), ``label``
(``churn``). A failure is logged and written to ``/opt/ml/output/failure``.

Usage: ``python -m mlops_runtime.training.train [--train DIR] [--model-dir DIR]
[--hyperparameters FILE]`` (environment, as the SageMaker training toolkit names it:
``SM_CHANNEL_TRAIN``, ``SM_MODEL_DIR``, ``SM_INPUT_CONFIG_DIR``, ``SM_OUTPUT_DIR``); in the
image the ``train`` command runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ..predictor import OnnxPredictor
from .common import (
    FEATURES_FILE,
    MODEL_FILE,
    TRAINING_CHANNEL,
    TRAINING_CONFIG,
    TRAINING_MODEL,
    TRAINING_OUTPUT,
    DataError,
    binary_labels,
    csv_files,
    path_from,
    read_table,
    run_job,
)
from .demo_data import LABEL
from .onnx_export import INPUT_NAME, OUTPUT_NAME, to_serving_onnx

HPS_FILE = "hyperparameters.json"
#: Largest difference allowed between scikit-learn's and the ONNX model's probabilities.
EXPORT_TOLERANCE = 1e-4


@dataclass(frozen=True, kw_only=True)
class Hyperparameters:
    """What ``train`` accepts in hyperparameters.json."""

    C: float = 1.0  # scikit-learn's name, as users pass it
    max_iter: int = 1000
    class_weight: str = "none"
    label: str = LABEL

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Hyperparameters:
        """From hyperparameters.json; unknown names and bad values raise ``DataError``."""
        values: dict[str, Any] = {}
        fields = cls.__dataclass_fields__
        for name, text in raw.items():
            if name.startswith("sagemaker_"):
                continue
            if name not in fields:
                raise DataError(f"unknown hyperparameter {name!r} (known: {', '.join(fields)})")
            value = text
            if isinstance(text, str):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    value = text
            kind = {"C": float, "max_iter": int}.get(name, str)
            try:
                values[name] = kind(value)
            except (TypeError, ValueError):
                raise DataError(
                    f"hyperparameter {name}={text!r} is not a {kind.__name__}"
                ) from None
        params = cls(**values)
        if params.C <= 0 or params.max_iter < 1 or params.class_weight not in ("none", "balanced"):
            raise DataError(
                "hyperparameters need C > 0, max_iter >= 1, class_weight none or balanced "
                f"(got {asdict(params)})"
            )
        return params


def read_hyperparameters(path: Path) -> Hyperparameters:
    """hyperparameters.json, or the defaults when the file does not exist (local runs)."""
    if not path.exists():
        return Hyperparameters()
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise DataError(f"{path} must hold a JSON object")
    return Hyperparameters.parse(raw)


def _sample_rows(x: np.ndarray) -> list[list[float]]:
    return [[round(float(v), 2) for v in row] for row in x[:3]]


def _check_export(model_bytes: bytes, x: np.ndarray, expected: np.ndarray) -> float:
    """Score ``x`` with the runtime's own predictor; the largest difference from ``expected``."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / MODEL_FILE).write_bytes(model_bytes)
        predictor = OnnxPredictor()
        predictor.load(Path(tmp))
        served = np.asarray(predictor.predict(x.astype(np.float32))).reshape(-1)
    difference = float(np.max(np.abs(served - expected)))
    if predictor.n_features != x.shape[1] or list(predictor.input_names) != [INPUT_NAME]:
        raise DataError(f"exported model has inputs {predictor.input_names}, not {INPUT_NAME}")
    if difference > EXPORT_TOLERANCE:
        raise DataError(f"ONNX export differs from scikit-learn by {difference:.2g}")
    return difference


def train(train_dir: Path, model_dir: Path, params: Hyperparameters) -> dict[str, Any]:
    """Fit, export, verify and write the model directory; returns the summary that is logged."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = read_table(csv_files(train_dir))
    y = binary_labels(table, params.label)
    features, x = table.without(params.label)
    if len(np.unique(y)) < 2:
        raise DataError(f"the training data has only one {params.label!r} value")
    classifier = make_pipeline(
        StandardScaler(),
        LogisticRegression(
            C=params.C,
            max_iter=params.max_iter,
            class_weight=None if params.class_weight == "none" else "balanced",
        ),
    )
    classifier.fit(x, y)
    probability = classifier.predict_proba(x)[:, 1]
    model_bytes = to_serving_onnx(classifier, features).SerializeToString()
    difference = _check_export(model_bytes, x, probability)
    accuracy = float(np.mean((probability >= 0.5) == y))
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / MODEL_FILE).write_bytes(model_bytes)
    (model_dir / FEATURES_FILE).write_text(json.dumps(list(features), indent=1) + "\n")
    rows = _sample_rows(x)
    (model_dir / "sample_request.json").write_text(json.dumps({"instances": rows}) + "\n")
    (model_dir / "sample_request.csv").write_text(
        "".join(",".join(map(str, row)) + "\n" for row in rows)
    )
    summary = {
        "rows": len(y),
        "features": len(features),
        "positive_rate": round(float(y.mean()), 4),
        "train_accuracy": round(accuracy, 4),
        "onnx_max_difference": difference,
        "model_bytes": len(model_bytes),
    }
    metadata = {
        "hyperparameters": asdict(params),
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "features": list(features),
        **summary,
        "versions": {p: version(p) for p in ("scikit-learn", "skl2onnx", "onnx", "numpy")},
    }
    (model_dir / "training.json").write_text(json.dumps(metadata, indent=1) + "\n")
    return summary


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m mlops_runtime.training.train")
    parser.add_argument("--train", type=Path, default=None, help="env SM_CHANNEL_TRAIN")
    parser.add_argument("--model-dir", type=Path, default=None, help="env SM_MODEL_DIR")
    parser.add_argument(
        "--hyperparameters", type=Path, default=None, help="env SM_INPUT_CONFIG_DIR/" + HPS_FILE
    )
    args = parser.parse_args(argv)
    train_dir = path_from(args.train, environ, "SM_CHANNEL_TRAIN", TRAINING_CHANNEL)
    model_dir = path_from(args.model_dir, environ, "SM_MODEL_DIR", TRAINING_MODEL)
    config_dir = path_from(None, environ, "SM_INPUT_CONFIG_DIR", TRAINING_CONFIG)
    output_dir = path_from(None, environ, "SM_OUTPUT_DIR", TRAINING_OUTPUT)
    hps = args.hyperparameters or config_dir / HPS_FILE
    return run_job(
        "train",
        lambda: train(train_dir, model_dir, read_hyperparameters(hps)),
        failure_file=output_dir / "failure",
        environ=environ,
    )


if __name__ == "__main__":
    raise SystemExit(main())
