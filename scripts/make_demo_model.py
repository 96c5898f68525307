"""Build the demo churn model: a logistic regression trained on synthetic data, exported to ONNX.

Deterministic: a fixed seed and plain batch gradient descent, so re-running it reproduces the
checked-in ``mlops_cdk/runtime/demo_model/model.onnx`` (and ``model.tar.gz``) byte for byte.

Usage: ``python scripts/make_demo_model.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# The synthetic customers live with the training code (the same data trains both models).
from mlops_cdk.runtime.training.demo_data import FEATURES, SEED, make_data

EPOCHS = 400
LEARNING_RATE = 0.5
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "mlops_cdk" / "runtime" / "demo_model"


def train(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Batch gradient descent on standardized inputs; weights folded back to raw units."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    w = np.zeros(x.shape[1])
    b = 0.0
    for _ in range(EPOCHS):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= LEARNING_RATE * (z.T @ (p - y)) / len(y)
        b -= LEARNING_RATE * float(np.mean(p - y))
    # Rounded so that last-bit differences between BLAS builds cannot change the artifact.
    raw_w = np.round(w / std, 6)
    raw_b = round(b - float(np.sum(w * mean / std)), 6)
    return raw_w, raw_b


def to_onnx(w: np.ndarray, b: float) -> onnx.ModelProto:
    """``probability = Sigmoid(features @ W + B)`` with input ``features`` float32 [N, F]."""
    n = len(FEATURES)
    weights = numpy_helper.from_array(w.astype(np.float32).reshape(n, 1), name="W")
    bias = numpy_helper.from_array(np.array([b], dtype=np.float32), name="B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "W"], ["logit_raw"]),
            helper.make_node("Add", ["logit_raw", "B"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["churn_probability"]),
        ],
        "churn_logreg",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n])],
        [helper.make_tensor_value_info("churn_probability", TensorProto.FLOAT, [None, 1])],
        initializer=[weights, bias],
    )
    model = helper.make_model(
        graph,
        producer_name="mlops-cdk/scripts/make_demo_model.py",
        opset_imports=[helper.make_opsetid("", 13)],
    )
    model.ir_version = 8
    model.doc_string = "Demo churn scorer. Features: " + ", ".join(f[0] for f in FEATURES)
    onnx.checker.check_model(model)
    return model


def write_archive(out: Path, model_bytes: bytes) -> None:
    """``model.tar.gz`` holding ``model.onnx`` (what SageMaker unpacks into /opt/ml/model).

    Deterministic: gzip and tar mtimes 0, no owner names, mode 0644.
    """
    buf = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        info = tarfile.TarInfo("model.onnx")
        info.size = len(model_bytes)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(model_bytes))
    (out / "model.tar.gz").write_bytes(buf.getvalue())


def write_samples(out: Path, x: np.ndarray) -> None:
    """Three sample rows as JSON (``{"instances": ...}``) and as headerless CSV."""
    rows = [[round(float(v), 2) for v in row] for row in x[:3]]
    (out / "sample_request.json").write_text(json.dumps({"instances": rows}) + "\n")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (out / "sample_request.csv").write_text(buf.getvalue())


def main() -> None:
    """Train, export and write the demo model files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    x, y = make_data(rng)
    w, b = train(x, y)
    p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
    accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
    model_bytes = to_onnx(w, b).SerializeToString()
    (out / "model.onnx").write_bytes(model_bytes)
    write_archive(out, model_bytes)
    write_samples(out, x)
    (out / "features.json").write_text(json.dumps([f[0] for f in FEATURES], indent=1) + "\n")
    print(f"wrote {out}/model.onnx (train accuracy {accuracy:.3f}, churn rate {y.mean():.3f})")


if __name__ == "__main__":
    main()
