"""Model-quality metrics from matched (prediction, label) pairs, mergeable across hosts.

Names, nesting and CloudWatch namespace follow Model Monitor's model-quality monitor (AWS docs,
*Model quality metrics and Amazon CloudWatch monitoring*): ``binary_classification_metrics``,
``multiclass_classification_metrics`` or ``regression_metrics`` in statistics.json, each metric
``{"value": ..., "standard_deviation": ...}``, ``confusion_matrix[actual][predicted]``; metrics
published as ``<metric name>`` in ``aws/sagemaker/Endpoints/model-metrics``.

Every accumulator holds sums only (confusion counts, error sums, Chan moments, score counts), so
partials of disjoint shares merge exactly. AUC: exact (integer arithmetic over the count of
each distinct score, as scikit-learn's trapezoidal ``roc_auc_score`` with ties) while the
window holds at most :data:`MAX_DISTINCT_SCORES` distinct scores; past that the counts fold
into :data:`SCORE_BINS` equal-width bins over [0, 1] and the report states the exact worst-case
error of that fold (pairs of opposite classes sharing a bin count as ties):
``auc_max_error = Σ_b pos_b·neg_b / (2·P·N)``. The fold depends only on the union of scores, so
one host and N merged hosts report the same AUC either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accumulators import Moments

BINARY = "BinaryClassification"
MULTICLASS = "MulticlassClassification"
REGRESSION = "Regression"
PROBLEM_TYPES = (BINARY, MULTICLASS, REGRESSION)
MODEL_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
METRICS_KEY = {
    BINARY: "binary_classification_metrics",
    MULTICLASS: "multiclass_classification_metrics",
    REGRESSION: "regression_metrics",
}
CONSTRAINTS_KEY = {
    BINARY: "binary_classification_constraints",
    MULTICLASS: "multiclass_classification_constraints",
    REGRESSION: "regression_constraints",
}
LESS_THAN = "LessThanThreshold"
GREATER_THAN = "GreaterThanThreshold"
COMPARISON_OPERATORS = (LESS_THAN, GREATER_THAN)
#: Metrics where lower is better: their suggested constraint is ``GreaterThanThreshold``.
LOWER_IS_BETTER = frozenset({"false_positive_rate", "false_negative_rate", "mae", "mse", "rmse"})
#: The metrics a suggested constraints.json constrains, per problem type.
CONSTRAINED = {
    BINARY: (
        "accuracy",
        "precision",
        "recall",
        "f0_5",
        "f1",
        "f2",
        "auc",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
    ),
    MULTICLASS: (
        "accuracy",
        "weighted_recall",
        "weighted_precision",
        "weighted_f0_5",
        "weighted_f1",
        "weighted_f2",
    ),
    REGRESSION: ("mae", "mse", "rmse", "r2"),
}
POSITIVE_LABEL = "1"
MAX_CLASSES = 1000
MAX_DISTINCT_SCORES = 200_000
SCORE_BINS = 100_000
_BETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, 0 when the denominator is 0 (scikit-learn's
    ``zero_division=0``)."""
    return numerator / denominator if denominator else 0.0


def _f_beta(beta: float, tp: float, fn: float, fp: float) -> float:
    b2 = beta * beta
    return _ratio((1 + b2) * tp, (1 + b2) * tp + b2 * fn + fp)


@dataclass
class BinaryQuality:
    """Confusion counts and per-score class counts of binary predictions."""

    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0
    #: distinct score -> [negatives, positives]; ``None`` once folded into ``bins``.
    scores: dict[float, list[int]] | None = field(default_factory=dict)
    bins: list[list[int]] | None = None

    @property
    def count(self) -> int:
        """Matched pairs."""
        return self.tp + self.fp + self.tn + self.fn

    def add(self, actual: bool, predicted: bool, score: float) -> None:
        """One matched pair; ``score`` is the probability (or the predicted label as 0/1)."""
        if actual:
            if predicted:
                self.tp += 1
            else:
                self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1
        if self.scores is not None:
            counts = self.scores.get(score)
            if counts is None:
                self.scores[score] = counts = [0, 0]
                if len(self.scores) > MAX_DISTINCT_SCORES:
                    self._fold()
                    self._bin_add(score, actual)
                    return
            counts[int(actual)] += 1
        else:
            self._bin_add(score, actual)

    def _bin_add(self, score: float, actual: bool, count: int = 1) -> None:
        assert self.bins is not None  # noqa: S101 - folded
        index = min(max(int(score * SCORE_BINS), 0), SCORE_BINS - 1) if math.isfinite(score) else 0
        self.bins[index][int(actual)] += count

    def _fold(self) -> None:
        scores = self.scores or {}
        self.scores = None
        self.bins = [[0, 0] for _ in range(SCORE_BINS)]
        for score, (negatives, positives) in scores.items():
            if negatives:
                self._bin_add(score, False, negatives)
            if positives:
                self._bin_add(score, True, positives)

    def merge(self, other: BinaryQuality) -> None:
        """Absorb another host's counts."""
        self.tp += other.tp
        self.fp += other.fp
        self.tn += other.tn
        self.fn += other.fn
        if self.scores is not None and other.scores is not None:
            for score, (negatives, positives) in other.scores.items():
                counts = self.scores.setdefault(score, [0, 0])
                counts[0] += negatives
                counts[1] += positives
            if len(self.scores) > MAX_DISTINCT_SCORES:
                self._fold()
            return
        if self.scores is not None:
            self._fold()
        assert self.bins is not None  # noqa: S101 - folded above
        if other.scores is not None:
            for score, (negatives, positives) in other.scores.items():
                self._bin_add(score, False, negatives)
                self._bin_add(score, True, positives)
        else:
            assert other.bins is not None  # noqa: S101 - the other one is folded
            for mine, theirs in zip(self.bins, other.bins, strict=True):
                mine[0] += theirs[0]
                mine[1] += theirs[1]

    def _ordered_counts(self) -> Iterable[tuple[int, int]]:
        if self.scores is not None:
            return (tuple(self.scores[s]) for s in sorted(self.scores))  # type: ignore[misc]
        assert self.bins is not None  # noqa: S101 - folded
        return ((n, p) for n, p in self.bins if n or p)

    def auc(self) -> tuple[float, float]:
        """Area under the ROC curve and its worst-case error (0 while exact); NaN with one
        class only (as scikit-learn, which raises)."""
        positives, negatives = self.tp + self.fn, self.tn + self.fp
        if not positives or not negatives:
            return math.nan, 0.0
        twice_area = 0
        negatives_below = 0
        tied_pairs = 0
        for neg, pos in self._ordered_counts():
            twice_area += pos * (2 * negatives_below + neg)
            negatives_below += neg
            tied_pairs += pos * neg
        denominator = 2 * positives * negatives
        error = tied_pairs / denominator if self.scores is None else 0.0
        return twice_area / denominator, error

    def metrics(self) -> dict[str, float]:
        """Model Monitor's binary metrics (value only)."""
        tp, fp, tn, fn, n = self.tp, self.fp, self.tn, self.fn, self.count
        positives = tp + fn
        values = {
            "accuracy": _ratio(tp + tn, n),
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, positives),
            "true_positive_rate": _ratio(tp, positives),
            "true_negative_rate": _ratio(tn, tn + fp),
            "false_positive_rate": _ratio(fp, fp + tn),
            "false_negative_rate": _ratio(fn, positives),
            # The best constant classifier predicts the positive class for every record (AWS's
            # documented example: precision = accuracy = share of positives, recall = 1).
            "recall_best_constant_classifier": 1.0 if positives else 0.0,
            "precision_best_constant_classifier": _ratio(positives, n),
            "accuracy_best_constant_classifier": _ratio(positives, n),
        }
        values["auc"] = self.auc()[0]
        for name, beta in _BETAS:
            values[name] = _f_beta(beta, tp, fn, fp)
            values[f"{name}_best_constant_classifier"] = _f_beta(beta, positives, 0, n - positives)
        return values

    def confusion_matrix(self) -> dict[str, dict[str, int]]:
        """``[actual][predicted]`` counts, keys ``"0"`` and ``"1"``."""
        return {"0": {"0": self.tn, "1": self.fp}, "1": {"0": self.fn, "1": self.tp}}

    def to_json(self) -> dict[str, object]:
        """The counts as a JSON object (scores as ``[score, negatives, positives]``)."""
        return {
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "scores": None
            if self.scores is None
            else [[s, c[0], c[1]] for s, c in self.scores.items()],
            "bins": None
            if self.bins is None
            else [[i, n, p] for i, (n, p) in enumerate(self.bins) if n or p],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> BinaryQuality:
        """Read :meth:`to_json`."""
        new = cls(
            tp=int(document["tp"]),
            fp=int(document["fp"]),
            tn=int(document["tn"]),
            fn=int(document["fn"]),
        )
        if document.get("scores") is None:
            new.scores = None
            new.bins = [[0, 0] for _ in range(SCORE_BINS)]
            for index, negatives, positives in document["bins"]:
                new.bins[int(index)] = [int(negatives), int(positives)]
        else:
            new.scores = {float(s): [int(n), int(p)] for s, n, p in document["scores"]}
        return new


@dataclass
class MulticlassQuality:
    """Confusion counts ``[actual][predicted]`` of multiclass predictions."""

    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    #: pairs whose class was beyond :data:`MAX_CLASSES` distinct classes (not in the matrix).
    overflow: int = 0

    @property
    def count(self) -> int:
        """Matched pairs in the matrix."""
        return sum(sum(row.values()) for row in self.matrix.values())

    def _known(self, label: str) -> bool:
        return label in self.matrix or len(self.matrix) < MAX_CLASSES

    def add(self, actual: str, predicted: str, count: int = 1) -> None:
        """One matched pair (or ``count`` identical ones)."""
        if not (self._known(actual) and self._known(predicted)):
            self.overflow += count
            return
        self.matrix.setdefault(predicted, {})
        row = self.matrix.setdefault(actual, {})
        row[predicted] = row.get(predicted, 0) + count

    def merge(self, other: MulticlassQuality) -> None:
        """Absorb another host's counts."""
        for actual in sorted(other.matrix):
            for predicted, count in sorted(other.matrix[actual].items()):
                self.add(actual, predicted, count)
            self.matrix.setdefault(actual, {})
        self.overflow += other.overflow

    def metrics(self) -> dict[str, float]:
        """Model Monitor's multiclass metrics: accuracy and support-weighted averages."""
        labels = sorted(self.matrix)
        support = {c: sum(self.matrix[c].values()) for c in labels}
        predicted = {c: sum(self.matrix[a].get(c, 0) for a in labels) for c in labels}
        correct = {c: self.matrix[c].get(c, 0) for c in labels}
        n = sum(support.values())
        values = {"accuracy": _ratio(sum(correct.values()), n)}

        def weighted(per_class: dict[str, float]) -> float:
            return _ratio(sum(support[c] * per_class[c] for c in labels), n)

        values["weighted_recall"] = weighted({c: _ratio(correct[c], support[c]) for c in labels})
        values["weighted_precision"] = weighted(
            {c: _ratio(correct[c], predicted[c]) for c in labels}
        )
        for name, beta in _BETAS:
            values[f"weighted_{name}"] = weighted(
                {
                    c: _f_beta(beta, correct[c], support[c] - correct[c], predicted[c] - correct[c])
                    for c in labels
                }
            )
        # Best constant classifier: always the least frequent actual class (ties: the smallest
        # label) - what AWS's documented example shows (its weighted precision is share²).
        present = [c for c in labels if support[c]]
        share = 0.0
        f_constant = dict.fromkeys((name for name, _ in _BETAS), 0.0)
        if present:
            rare = min(present, key=lambda c: (support[c], c))
            share = support[rare] / n
            for name, beta in _BETAS:
                f_constant[name] = share * _f_beta(beta, support[rare], 0, n - support[rare])
        values["accuracy_best_constant_classifier"] = share
        values["weighted_recall_best_constant_classifier"] = share
        values["weighted_precision_best_constant_classifier"] = share * share
        for name, _ in _BETAS:
            values[f"weighted_{name}_best_constant_classifier"] = f_constant[name]
        return values

    def confusion_matrix(self) -> dict[str, dict[str, int]]:
        """``[actual][predicted]`` counts over every class seen."""
        labels = sorted(self.matrix)
        return {a: {p: self.matrix[a].get(p, 0) for p in labels} for a in labels}

    def to_json(self) -> dict[str, object]:
        """The counts as a JSON object."""
        return {"matrix": self.matrix, "overflow": self.overflow}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MulticlassQuality:
        """Read :meth:`to_json`."""
        matrix = {
            str(a): {str(p): int(c) for p, c in row.items()}
            for a, row in document["matrix"].items()
        }
        return cls(matrix=matrix, overflow=int(document["overflow"]))


@dataclass
class RegressionQuality:
    """Error sums and the labels' moments (for R²)."""

    count: int = 0
    abs_error: float = 0.0
    squared_error: float = 0.0
    labels: Moments = field(default_factory=Moments)

    def add_batch(self, actual: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> None:
        """A batch of matched pairs (finite floats)."""
        if actual.size == 0:
            return
        error = predicted - actual
        self.count += int(actual.size)
        self.abs_error += float(np.abs(error).sum())
        self.squared_error += float((error * error).sum())
        self.labels.add(actual)

    def merge(self, other: RegressionQuality) -> None:
        """Absorb another host's sums."""
        self.count += other.count
        self.abs_error += other.abs_error
        self.squared_error += other.squared_error
        self.labels.merge(other.labels)

    def metrics(self) -> dict[str, float]:
        """MAE, MSE, RMSE and R² (1 - SSE/SST; as scikit-learn: 1 when both are 0, else 0 when
        the labels are constant)."""
        mse = _ratio(self.squared_error, self.count)
        total = self.labels.m2
        constant = 1.0 if self.squared_error == 0 else 0.0
        r2 = 1.0 - self.squared_error / total if total else constant
        return {
            "mae": _ratio(self.abs_error, self.count),
            "mse": mse,
            "rmse": math.sqrt(mse),
            "r2": r2 if self.count else math.nan,
        }

    def to_json(self) -> dict[str, object]:
        """The sums as a JSON object."""
        return {
            "count": self.count,
            "abs_error": self.abs_error,
            "squared_error": self.squared_error,
            "labels": self.labels.to_json(),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> RegressionQuality:
        """Read :meth:`to_json`."""
        return cls(
            count=int(document["count"]),
            abs_error=float(document["abs_error"]),
            squared_error=float(document["squared_error"]),
            labels=Moments.from_json(document["labels"]),
        )


Accumulator = BinaryQuality | MulticlassQuality | RegressionQuality


def new_accumulator(problem_type: str) -> Accumulator:
    """An empty accumulator for a problem type."""
    if problem_type == BINARY:
        return BinaryQuality()
    if problem_type == MULTICLASS:
        return MulticlassQuality()
    if problem_type == REGRESSION:
        return RegressionQuality()
    raise ValueError(
        f"problem type must be one of {', '.join(PROBLEM_TYPES)} (got {problem_type!r})"
    )


def accumulator_from_json(problem_type: str, document: Mapping[str, Any]) -> Accumulator:
    """Read an accumulator's :meth:`to_json`."""
    kinds: dict[str, Any] = {
        BINARY: BinaryQuality,
        MULTICLASS: MulticlassQuality,
        REGRESSION: RegressionQuality,
    }
    return kinds[problem_type].from_json(document)  # type: ignore[no-any-return]


def _stat(value: float) -> dict[str, object]:
    # Model Monitor gives a bootstrap standard deviation from 200 samples on; we do not
    # bootstrap (it does not merge across hosts), so it is "NaN" as in AWS's small examples.
    return {"value": value if math.isfinite(value) else "NaN", "standard_deviation": "NaN"}


def statistics_document(problem_type: str, accumulator: Accumulator) -> dict[str, object]:
    """statistics.json of a model-quality run."""
    body: dict[str, object] = {}
    if isinstance(accumulator, BinaryQuality | MulticlassQuality):
        body["confusion_matrix"] = accumulator.confusion_matrix()
    body.update({name: _stat(value) for name, value in accumulator.metrics().items()})
    document: dict[str, object] = {
        "version": 0.0,
        "dataset": {"item_count": accumulator.count},
        METRICS_KEY[problem_type]: body,
    }
    if isinstance(accumulator, BinaryQuality):
        document["auc_max_error"] = accumulator.auc()[1]
    return document


def metric_values(problem_type: str, statistics: Mapping[str, Any]) -> dict[str, float]:
    """Scalar metric values of a statistics.json (ours or Model Monitor's)."""
    body = statistics.get(METRICS_KEY[problem_type]) or {}
    values = {}
    for name, entry in body.items():
        if isinstance(entry, Mapping) and "value" in entry:
            try:
                values[name] = float(entry["value"])
            except (TypeError, ValueError):
                continue
    return values


def suggest_constraints(
    problem_type: str, values: Mapping[str, float], tolerance: float = 0.0
) -> dict[str, object]:
    """constraints.json: each constrained metric's baseline value, ``tolerance`` worse, as the
    threshold (``LessThanThreshold`` where higher is better, ``GreaterThanThreshold`` where lower
    is better)."""
    constraints = {}
    for name in CONSTRAINED[problem_type]:
        value = values.get(name, math.nan)
        if not math.isfinite(value):
            continue
        lower_better = name in LOWER_IS_BETTER
        constraints[name] = {
            "threshold": value + tolerance if lower_better else value - tolerance,
            "comparison_operator": GREATER_THAN if lower_better else LESS_THAN,
        }
    return {"version": 0.0, CONSTRAINTS_KEY[problem_type]: constraints}


@dataclass(frozen=True)
class QualityViolation:
    """One entry of constraint_violations.json (model-quality form)."""

    metric_name: str
    constraint_check_type: str
    description: str

    def to_json(self) -> dict[str, str]:
        """The violation object."""
        return {
            "metric_name": self.metric_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


def check_constraints(
    problem_type: str, constraints: Mapping[str, Any], values: Mapping[str, float]
) -> list[QualityViolation]:
    """Violations of a model-quality constraints.json by the window's metric values. A metric
    that could not be computed (NaN, e.g. AUC with one class) is not a violation."""
    found = []
    for name, rule in (constraints.get(CONSTRAINTS_KEY[problem_type]) or {}).items():
        operator = str(rule.get("comparison_operator", LESS_THAN))
        if operator not in COMPARISON_OPERATORS:
            raise ValueError(
                f"constraint {name}: comparison_operator must be one of "
                f"{', '.join(COMPARISON_OPERATORS)} (got {operator!r})"
            )
        threshold = float(rule["threshold"])
        value = values.get(name, math.nan)
        if not math.isfinite(value):
            continue
        broken = value < threshold if operator == LESS_THAN else value > threshold
        if broken:
            found.append(
                QualityViolation(
                    name, operator, f"Metric {name} with {value:.6g} was {operator} {threshold:g}"
                )
            )
    return found
