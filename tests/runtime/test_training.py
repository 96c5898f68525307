"""The training code's parts (mlops_runtime.training); the whole loop is in tests/loop."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlops_cdk.runtime.training import common, demo_data, metrics, preprocess
from mlops_cdk.runtime.training.train import Hyperparameters

from .conftest import _IMPORT_ROOT, REPO, RUNTIME_DIR


def test_metrics_reproduce_aws_documented_example() -> None:
    """docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html:
    4 rows, TP 1, FP 2, TN 1, FN 0."""
    report = metrics.binary_classification_metrics(
        np.array([0, 0, 0, 1]), np.array([0.1, 0.6, 0.7, 0.9])
    )
    assert report["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    expected = {
        "recall": 1.0, "precision": 1 / 3, "accuracy": 0.5,
        "recall_best_constant_classifier": 1.0, "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25, "true_positive_rate": 1.0,
        "true_negative_rate": 1 / 3, "false_positive_rate": 2 / 3, "false_negative_rate": 0.0,
        "auc": 1.0, "f0_5": 0.3846153846153846, "f1": 0.5, "f2": 0.7142857142857143,
        "f0_5_best_constant_classifier": 0.29411764705882354, "f1_best_constant_classifier": 0.4,
        "f2_best_constant_classifier": 0.625,
    }  # fmt: skip
    for name, value in expected.items():
        assert report[name] == {"value": pytest.approx(value), "standard_deviation": "NaN"}, name
    assert list(report) == [name for name in metrics.ORDER if name in report]
    assert report["receiver_operating_characteristic_curve"]["true_positive_rates"][-1] == 1.0
    assert report["precision_recall_curve"]["recalls"] == sorted(
        report["precision_recall_curve"]["recalls"]
    )


@pytest.mark.parametrize(("rows", "has_std"), [(199, False), (200, True)])
def test_standard_deviation_from_200_rows(rows: int, has_std: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, rows)
    score = np.clip(y * 0.3 + rng.random(rows) * 0.7, 0, 1)
    std = metrics.binary_classification_metrics(y, score)["accuracy"]["standard_deviation"]
    assert isinstance(std, float) is has_std
    if has_std:
        assert 0 < std < 0.1


def test_single_class_has_no_auc_and_no_curves() -> None:
    report = metrics.binary_classification_metrics(np.zeros(5), np.full(5, 0.2))
    assert report["auc"]["value"] == "NaN"
    assert "receiver_operating_characteristic_curve" not in report
    assert report["accuracy"]["value"] == 1.0


def test_hyperparameters_as_the_sdk_and_the_pipeline_pass_them() -> None:
    params = Hyperparameters.parse(
        {
            "C": "0.5",
            "max_iter": '"200"',
            "class_weight": '"balanced"',
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://b/code/sourcedir.tar.gz"',
        }
    )
    assert params == Hyperparameters(C=0.5, max_iter=200, class_weight="balanced")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"c": "1"}, "unknown hyperparameter 'c'"),
        ({"C": "many"}, "C='many' is not a float"),
        ({"C": "0"}, "C > 0"),
        ({"class_weight": "auto"}, "class_weight none or balanced"),
    ],
)
def test_bad_hyperparameters_are_named(raw: dict[str, str], message: str) -> None:
    with pytest.raises(common.DataError, match=re.escape(message)):
        Hyperparameters.parse(raw)


def test_preprocess_cleans_reorders_and_splits(tmp_path: Path) -> None:
    columns = [*reversed(demo_data.FEATURE_NAMES), demo_data.LABEL, "customer_id"]
    x, y = demo_data.make_data(np.random.default_rng(1), 200)
    lines = [",".join(columns)]
    lines += [
        ",".join([*map(str, reversed(row.round(2))), str(int(label)), "id"])
        for row, label in zip(x, y, strict=True)
    ]
    lines += ["1,2,3,,5,6,7,8,1,id", "1,2,3,4,5,6,7,nan,0,id", "1,2,3,4,5,6,7,8,2,id"]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "part.csv").write_text("\n".join(lines) + "\n")
    summary = preprocess.preprocess(
        tmp_path / "in", tmp_path / "train", tmp_path / "test", tmp_path / "features"
    )
    assert summary == {
        "rows": 203, "dropped": 3, "train": 160, "test": 40,
        "positive_rate": round(float(y.mean()), 4),
    }  # fmt: skip
    train = common.read_table([tmp_path / "train" / "train.csv"])
    test = common.read_table([tmp_path / "test" / "test.csv"])
    features = common.read_table([tmp_path / "features" / "train.csv"])
    assert train.columns == (*demo_data.FEATURE_NAMES, demo_data.LABEL) == test.columns
    assert features.columns == demo_data.FEATURE_NAMES
    np.testing.assert_array_equal(features.values, train.values[:, :-1])
    # Stratified: both splits keep the positive rate (within one row).
    assert abs(test.column("churn").mean() - y.mean()) <= 1 / 40
    merged = np.concatenate([train.values, test.values])
    assert sorted(map(tuple, merged)) == sorted(map(tuple, np.column_stack([x.round(2), y])))


def test_preprocess_refuses_files_without_the_columns(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(common.DataError, match=r"x\.csv: header 'a,b' .* \(missing tenure_months"):
        preprocess.preprocess(tmp_path / "in", tmp_path, tmp_path, tmp_path)


def test_demo_data_shift_moves_only_the_named_means() -> None:
    base, _ = demo_data.make_data(np.random.default_rng(5), 5000)
    moved, _ = demo_data.make_data(np.random.default_rng(5), 5000, {"support_calls": 1.0})
    delta = moved.mean(axis=0) - base.mean(axis=0)
    column = demo_data.FEATURE_NAMES.index("support_calls")
    assert delta[column] > 1.0  # one standard deviation is 1.5 calls (less after clipping)
    assert np.allclose(np.delete(delta, column), 0.0)
    with pytest.raises(ValueError, match="unknown features in shift: nope"):
        demo_data.make_data(np.random.default_rng(5), 5, {"nope": 1.0})


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    return pins


def test_training_image_pins_equal_the_tested_environment() -> None:
    image = _pins(RUNTIME_DIR / "requirements-training.txt")
    dev = _pins(REPO / "requirements.txt")
    serving = _pins(RUNTIME_DIR / "requirements.txt")
    assert {"scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy", "scipy"} <= set(image)
    assert {name: dev.get(name) for name in image} == image
    assert {name: image[name] for name in ("numpy", "onnxruntime")} == {
        name: serving[name] for name in ("numpy", "onnxruntime")
    }


def test_training_image_runs_the_train_module() -> None:
    dockerfile = (RUNTIME_DIR / "Dockerfile.training").read_text()
    assert "exec python -m mlops_runtime.training.train" in dockerfile
    assert "COPY requirements-training.txt" in dockerfile
    assert (RUNTIME_DIR / "training" / "train.py").is_file()
    assert "Dockerfile.training" in (RUNTIME_DIR / ".dockerignore").read_text().splitlines()


def test_training_modules_import_nothing_from_cdk() -> None:
    probe = (
        "import sys\n"
        "import mlops_runtime.training.preprocess, mlops_runtime.training.train\n"
        "import mlops_runtime.training.evaluate, mlops_runtime.training.local\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mlops_cdk', 'aws_cdk', 'constructs', 'sklearn', 'skl2onnx', 'onnxruntime'))\n"
        "print(bad)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(_IMPORT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    # scikit-learn, skl2onnx and onnxruntime are imported by the steps that run them, not on import.
    assert done.stdout.strip() == "[]"


def test_demo_data_cli_is_deterministic(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        assert demo_data.main(["--out", str(tmp_path / name), "--rows", "20"]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    header = (tmp_path / "a.csv").read_text().splitlines()[0]
    assert header.split(",") == [*demo_data.FEATURE_NAMES, "churn"]
    assert json.loads((RUNTIME_DIR / "demo_model" / "features.json").read_text()) == list(
        demo_data.FEATURE_NAMES
    )
