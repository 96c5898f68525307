"""Model-quality problem types and the metric names Model Monitor publishes for each (shared by
ModelMonitorSchedule and the config model)."""

from __future__ import annotations

PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
#: The scalar model-quality metrics Model Monitor publishes (and the drift job's
#: ``runtime/drift/quality.py`` publishes under the same names), per problem type; a test keeps
#: the two lists equal.
QUALITY_METRICS: dict[str, tuple[str, ...]] = {
    "BinaryClassification": (
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
        "accuracy_best_constant_classifier",
        "precision_best_constant_classifier",
        "recall_best_constant_classifier",
        "f0_5_best_constant_classifier",
        "f1_best_constant_classifier",
        "f2_best_constant_classifier",
    ),
    "MulticlassClassification": (
        "accuracy",
        "weighted_recall",
        "weighted_precision",
        "weighted_f0_5",
        "weighted_f1",
        "weighted_f2",
        "accuracy_best_constant_classifier",
        "weighted_recall_best_constant_classifier",
        "weighted_precision_best_constant_classifier",
        "weighted_f0_5_best_constant_classifier",
        "weighted_f1_best_constant_classifier",
        "weighted_f2_best_constant_classifier",
    ),
    "Regression": ("mae", "mse", "rmse", "r2"),
}
#: Metrics where lower is better: their alarm fires above the threshold, the others below.
LOWER_IS_BETTER = frozenset({"false_positive_rate", "false_negative_rate", "mae", "mse", "rmse"})
