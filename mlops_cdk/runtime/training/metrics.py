"""Binary classification metrics in SageMaker's model-quality format (``evaluation.json``).

Shape and names follow Model Monitor's model-quality metrics page
(docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html):
``binary_classification_metrics`` with ``confusion_matrix`` (actual → predicted → count), one
``{"value", "standard_deviation"}`` per scalar metric, the ROC and precision-recall curves. As
Model Monitor does, the standard deviation is that of the metric over 5 random 80 % samples, and
``"NaN"`` below 200 rows. The "best constant classifier" predicts the positive class for every
row (AWS's example: recall 1, precision = accuracy = the positive rate).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MIN_ROWS_FOR_STD = 200
STD_SAMPLES = 5
STD_FRACTION = 0.8

#: Key order of AWS's example.
ORDER = (
    "confusion_matrix", "recall", "precision", "accuracy", "recall_best_constant_classifier",
    "precision_best_constant_classifier", "accuracy_best_constant_classifier",
    "true_positive_rate", "true_negative_rate", "false_positive_rate", "false_negative_rate",
    "receiver_operating_characteristic_curve", "precision_recall_curve", "auc", "f0_5", "f1",
    "f2", "f0_5_best_constant_classifier", "f1_best_constant_classifier",
    "f2_best_constant_classifier",
)  # fmt: skip


def _ratio(num: float, den: float) -> float:
    """``num / den``, 0.0 when undefined (e.g. precision with no positive prediction)."""
    return num / den if den else 0.0


def _f_beta(beta: float, precision: float, recall: float) -> float:
    b2 = beta * beta
    return _ratio((1 + b2) * precision * recall, b2 * precision + recall)


def _rates(y: np.ndarray, pred: np.ndarray, suffix: str = "") -> dict[str, float]:
    tp = int(np.sum((y == 1) & (pred == 1)))
    fp = int(np.sum((y == 0) & (pred == 1)))
    tn = int(np.sum((y == 0) & (pred == 0)))
    fn = int(np.sum((y == 1) & (pred == 0)))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    rates = {
        "recall": recall,
        "precision": precision,
        "accuracy": _ratio(tp + tn, y.size),
        "f0_5": _f_beta(0.5, precision, recall),
        "f1": _f_beta(1.0, precision, recall),
        "f2": _f_beta(2.0, precision, recall),
    }
    if suffix:
        return {name + suffix: value for name, value in rates.items()}
    return rates | {
        "true_positive_rate": recall,
        "true_negative_rate": _ratio(tn, tn + fp),
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, fn + tp),
    }


def _both_classes(y: np.ndarray) -> bool:
    return 0 < int(y.sum()) < y.size


def _scalars(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    """Every scalar metric of the report for one set of rows."""
    from sklearn.metrics import roc_auc_score

    pred = (score >= threshold).astype(np.int64)
    return {
        **_rates(y, pred),
        **_rates(y, np.ones_like(pred), "_best_constant_classifier"),
        "auc": float(roc_auc_score(y, score)) if _both_classes(y) else math.nan,
    }


def _json_number(value: float) -> float | str:
    """Model Monitor writes an undefined value as the string ``"NaN"``."""
    return value if math.isfinite(value) else "NaN"


def binary_classification_metrics(
    y: np.ndarray, score: np.ndarray, *, threshold: float = 0.5, seed: int = 0
) -> dict[str, Any]:
    """The ``binary_classification_metrics`` object for labels ``y`` (0/1) and scores in [0, 1].

    A row is predicted positive when its score is >= ``threshold``.
    """
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = np.asarray(y, dtype=np.int64).reshape(-1)
    score = np.asarray(score, dtype=np.float64).reshape(-1)
    if y.size == 0 or y.size != score.size:
        raise ValueError(f"need one score per label, at least one (got {score.size}, {y.size})")
    values = _scalars(y, score, threshold)
    spreads: dict[str, list[float]] = {name: [] for name in values}
    if y.size >= MIN_ROWS_FOR_STD:
        rng = np.random.default_rng(seed)
        for _ in range(STD_SAMPLES):
            rows = rng.choice(y.size, int(y.size * STD_FRACTION), replace=False)
            for name, value in _scalars(y[rows], score[rows], threshold).items():
                spreads[name].append(value)
    pred = score >= threshold
    report: dict[str, Any] = {
        name: {
            "value": _json_number(value),
            "standard_deviation": _json_number(
                float(np.std(spreads[name], ddof=1)) if spreads[name] else math.nan
            ),
        }
        for name, value in values.items()
    }
    report["confusion_matrix"] = {
        str(actual): {str(p): int(np.sum((y == actual) & (pred == p))) for p in (0, 1)}
        for actual in (0, 1)
    }
    if _both_classes(y):
        fpr, tpr, _ = roc_curve(y, score)
        precisions, recalls, _ = precision_recall_curve(y, score)
        report["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": fpr.tolist(),
            "true_positive_rates": tpr.tolist(),
        }
        # sklearn orders by decreasing recall; AWS's example by increasing recall.
        report["precision_recall_curve"] = {
            "precisions": precisions[::-1].tolist(),
            "recalls": recalls[::-1].tolist(),
        }
    return {name: report[name] for name in ORDER if name in report}
