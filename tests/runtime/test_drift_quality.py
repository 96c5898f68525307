"""Model-quality metrics against scikit-learn, the ground-truth merge, and the report formats."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from mlops_cdk.runtime.drift import quality
from mlops_cdk.runtime.drift.analyze import (
    MODEL_QUALITY,
    AnalyzeOptions,
    read_partials,
    run_analysis,
    run_map,
    write_partial,
)
from mlops_cdk.runtime.drift.capture import LocalFileSource
from mlops_cdk.runtime.drift.cli import main
from mlops_cdk.runtime.drift.groundtruth import Joiner, MatchStats, PredictionSpec
from mlops_cdk.runtime.drift.jsonlog import JsonLogger
from mlops_cdk.runtime.drift.quality import (
    BinaryQuality,
    MulticlassQuality,
    RegressionQuality,
    check_constraints,
    metric_values,
    statistics_document,
    suggest_constraints,
)
from mlops_cdk.runtime.drift.shard import Shard
from mlops_cdk.runtime.drift.window import Window
from mlops_cdk.runtime.limits import DEFAULT_LIMITS
from tests.runtime.drift_fixtures import HOUR, NOW, FakeCloudWatch, hour_dir

TOLERANCE = 1e-9


def binary_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actual = rng.random(n) < 0.3
    scores = np.clip(rng.normal(0.35 + 0.3 * actual, 0.2), 0.0, 1.0)
    return actual, np.round(scores, 3)  # rounded: ties across classes, as real scores have


def binary_accumulator(actual: np.ndarray, scores: np.ndarray) -> BinaryQuality:
    accumulator = BinaryQuality()
    for label, score in zip(actual, scores, strict=True):
        accumulator.add(bool(label), bool(score >= 0.5), float(score))
    return accumulator


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binary_metrics_match_scikit_learn(seed: int) -> None:
    actual, scores = binary_data(5000, seed)
    predicted = scores >= 0.5
    values = binary_accumulator(actual, scores).metrics()
    expected = {
        "accuracy": skm.accuracy_score(actual, predicted),
        "precision": skm.precision_score(actual, predicted, zero_division=0),
        "recall": skm.recall_score(actual, predicted),
        "true_positive_rate": skm.recall_score(actual, predicted),
        "true_negative_rate": skm.recall_score(~actual, ~predicted),
        "false_positive_rate": 1 - skm.recall_score(~actual, ~predicted),
        "false_negative_rate": 1 - skm.recall_score(actual, predicted),
        "f0_5": skm.fbeta_score(actual, predicted, beta=0.5),
        "f1": skm.f1_score(actual, predicted),
        "f2": skm.fbeta_score(actual, predicted, beta=2),
        "auc": skm.roc_auc_score(actual, scores),
        "accuracy_best_constant_classifier": skm.accuracy_score(actual, np.ones_like(actual)),
        "precision_best_constant_classifier": skm.precision_score(actual, np.ones_like(actual)),
        "recall_best_constant_classifier": skm.recall_score(actual, np.ones_like(actual)),
        "f0_5_best_constant_classifier": skm.fbeta_score(actual, np.ones_like(actual), beta=0.5),
        "f1_best_constant_classifier": skm.f1_score(actual, np.ones_like(actual)),
        "f2_best_constant_classifier": skm.fbeta_score(actual, np.ones_like(actual), beta=2),
    }
    assert set(values) == set(expected)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=TOLERANCE, rel=TOLERANCE), name


def test_binary_reproduces_aws_documented_example() -> None:
    """AWS's page shows confusion [[1, 2], [0, 1]] ([actual][predicted]) and its metrics."""
    accumulator = BinaryQuality()
    for actual, predicted, score in ((0, 0, 0.1), (0, 1, 0.6), (0, 1, 0.7), (1, 1, 0.9)):
        accumulator.add(bool(actual), bool(predicted), score)
    values = accumulator.metrics()
    assert accumulator.confusion_matrix() == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    documented = {
        "recall": 1.0,
        "precision": 0.3333333333333333,
        "accuracy": 0.5,
        "recall_best_constant_classifier": 1.0,
        "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25,
        "true_negative_rate": 0.33333333333333337,
        "false_positive_rate": 0.6666666666666666,
        "false_negative_rate": 0.0,
        "auc": 1.0,
        "f0_5": 0.3846153846153846,
        "f1": 0.5,
        "f2": 0.7142857142857143,
        "f0_5_best_constant_classifier": 0.29411764705882354,
        "f1_best_constant_classifier": 0.4,
        "f2_best_constant_classifier": 0.625,
    }
    for name, value in documented.items():
        assert values[name] == pytest.approx(value, abs=TOLERANCE), name


def test_multiclass_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(5)
    classes = np.array(["cat", "dog", "owl", "ant"])
    actual = rng.choice(classes, size=4000, p=[0.5, 0.3, 0.15, 0.05])
    noisy = rng.random(4000) < 0.35
    predicted = np.where(noisy, rng.choice(classes, size=4000), actual)
    accumulator = MulticlassQuality()
    for a, p in zip(actual, predicted, strict=True):
        accumulator.add(str(a), str(p))
    values = accumulator.metrics()
    rare = "ant"  # the least frequent actual class
    constant = np.full_like(actual, rare)
    expected = {"accuracy": skm.accuracy_score(actual, predicted)}
    for prefix, guess in (("", predicted), ("_best_constant_classifier", constant)):
        expected["weighted_recall" + prefix] = skm.recall_score(
            actual, guess, average="weighted", zero_division=0
        )
        expected["weighted_precision" + prefix] = skm.precision_score(
            actual, guess, average="weighted", zero_division=0
        )
        for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
            expected[f"weighted_{name}{prefix}"] = skm.fbeta_score(
                actual, guess, beta=beta, average="weighted", zero_division=0
            )
    expected["accuracy_best_constant_classifier"] = skm.accuracy_score(actual, constant)
    assert set(values) == set(expected)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=TOLERANCE, rel=TOLERANCE), name


def test_multiclass_reproduces_aws_documented_constant_classifier() -> None:
    """AWS's multiclass example: confusion [[1180, 510], [268, 138]]."""
    accumulator = MulticlassQuality()
    for actual, predicted, count in (
        ("0", "0", 1180),
        ("0", "1", 510),
        ("1", "0", 268),
        ("1", "1", 138),
    ):
        accumulator.add(actual, predicted, count)
    values = accumulator.metrics()
    documented = {
        "accuracy": 0.6288167938931297,
        "weighted_recall": 0.6288167938931297,
        "weighted_precision": 0.6983172269629505,
        "weighted_f0_5": 0.6803947317178771,
        "weighted_f1": 0.6571162346664904,
        "weighted_f2": 0.6384024354394601,
        "accuracy_best_constant_classifier": 0.19370229007633588,
        "weighted_recall_best_constant_classifier": 0.19370229007633588,
        "weighted_precision_best_constant_classifier": 0.03752057718081697,
        "weighted_f0_5_best_constant_classifier": 0.04473443104152011,
        "weighted_f1_best_constant_classifier": 0.06286421244683643,
        "weighted_f2_best_constant_classifier": 0.10570313141262414,
    }
    for name, value in documented.items():
        assert values[name] == pytest.approx(value, abs=TOLERANCE), name


@pytest.mark.parametrize("constant", [False, True])
def test_regression_metrics_match_scikit_learn(constant: bool) -> None:
    rng = np.random.default_rng(9)
    actual = np.full(3000, 4.0) if constant else rng.normal(100, 15, 3000)
    predicted = actual + rng.normal(0, 5, 3000)
    accumulator = RegressionQuality()
    for start in range(0, 3000, 700):  # batches, as the joiner feeds them
        accumulator.add_batch(actual[start : start + 700], predicted[start : start + 700])
    values = accumulator.metrics()
    expected = {
        "mae": skm.mean_absolute_error(actual, predicted),
        "mse": skm.mean_squared_error(actual, predicted),
        "rmse": math.sqrt(skm.mean_squared_error(actual, predicted)),
        "r2": skm.r2_score(actual, predicted),
    }
    for name, value in expected.items():
        assert values[name] == pytest.approx(value, abs=TOLERANCE, rel=TOLERANCE), name


def test_partials_merge_to_the_single_result() -> None:
    actual, scores = binary_data(6000, 4)
    whole = binary_accumulator(actual, scores)
    merged = BinaryQuality()
    for part in range(4):
        piece = binary_accumulator(actual[part::4], scores[part::4])
        merged.merge(BinaryQuality.from_json(json.loads(json.dumps(piece.to_json()))))
    assert merged.metrics() == whole.metrics()
    assert merged.confusion_matrix() == whole.confusion_matrix()


def test_auc_folds_into_bins_with_its_stated_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quality, "MAX_DISTINCT_SCORES", 50)
    rng = np.random.default_rng(11)
    actual = rng.random(4000) < 0.4
    scores = np.clip(rng.normal(0.4 + 0.2 * actual, 0.25), 0, 1)  # ~4000 distinct scores
    whole = binary_accumulator(actual, scores)
    value, error = whole.auc()
    assert whole.scores is None  # folded
    assert 0 < error < 1e-3
    assert abs(value - skm.roc_auc_score(actual, scores)) <= error
    merged = binary_accumulator(actual[:1500], scores[:1500])
    merged.merge(binary_accumulator(actual[1500:], scores[1500:]))
    assert merged.auc() == (value, error)


def test_constraints_and_violations_in_model_monitor_form() -> None:
    actual, scores = binary_data(2000, 6)
    statistics = statistics_document(quality.BINARY, binary_accumulator(actual, scores))
    values = metric_values(quality.BINARY, statistics)
    constraints = suggest_constraints(quality.BINARY, values, tolerance=0.01)
    body = constraints["binary_classification_constraints"]
    assert isinstance(body, dict)
    assert body["auc"] == {
        "threshold": values["auc"] - 0.01,
        "comparison_operator": "LessThanThreshold",
    }
    assert body["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert check_constraints(quality.BINARY, constraints, values) == []
    worse = {**values, "auc": values["auc"] - 0.02}
    (violation,) = check_constraints(quality.BINARY, constraints, worse)
    assert violation.to_json() == {
        "metric_name": "auc",
        "constraint_check_type": "LessThanThreshold",
        "description": f"Metric auc with {worse['auc']:.6g} was LessThanThreshold "
        f"{values['auc'] - 0.01:g}",
    }
    with pytest.raises(ValueError, match="comparison_operator must be one of"):
        check_constraints(
            quality.BINARY,
            {
                "binary_classification_constraints": {
                    "auc": {"threshold": 1, "comparison_operator": "Below"}
                }
            },
            values,
        )


# --- the merge of captured predictions with ground truth -------------------------------------


def capture_event(
    event_id: str, output: str, moment: Any, *, inference_id: str | None = None
) -> str:
    metadata = {"eventId": event_id, "inferenceTime": moment.isoformat()}
    if inference_id is not None:
        metadata["inferenceId"] = inference_id
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"data": "1,2", "encoding": "CSV", "mode": "INPUT"},
                "endpointOutput": {
                    "data": output,
                    "encoding": "JSON",
                    "observedContentType": "application/json",
                    "mode": "OUTPUT",
                },
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )


def label_line(event_id: str, data: str) -> str:
    """The documented ground-truth record."""
    return json.dumps(
        {
            "groundTruthData": {"data": data, "encoding": "CSV"},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        }
    )


def write_quality_fixture(root: Path, n: int = 400, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Captured binary probabilities for events 0..n-1 in HOUR (4 files), labels for all but
    the last 10 plus 7 labels of events never captured; returns the matched (labels, scores)."""
    actual, scores = binary_data(n, seed)
    capture = hour_dir(root / "capture", HOUR)
    per_file = n // 4
    for f in range(4):
        lines = [
            capture_event(
                f"e{i}",
                json.dumps({"predictions": [float(scores[i])]}),
                HOUR + timedelta(seconds=i),
                inference_id=f"req-{i}" if i % 2 else None,
            )
            for i in range(f * per_file, (f + 1) * per_file)
        ]
        (capture / f"part-{f}.jsonl").write_text("\n".join(lines) + "\n")
    truth = root / "truth" / (HOUR + timedelta(hours=1)).strftime("%Y/%m/%d/%H")
    truth.mkdir(parents=True)
    lines = [
        label_line(f"req-{i}" if i % 2 else f"e{i}", str(int(actual[i]))) for i in range(n - 10)
    ]
    lines += [label_line(f"never-{i}", "1") for i in range(7)]
    (truth / "labels.jsonl").write_text("\n".join(lines) + "\n")
    return actual[: n - 10], scores[: n - 10]


def quality_options(root: Path, out: Path) -> AnalyzeOptions:
    constraints = root / "constraints.json"
    constraints.write_text(
        json.dumps(
            {
                "version": 0.0,
                "binary_classification_constraints": {
                    "auc": {"threshold": 0.99, "comparison_operator": "LessThanThreshold"}
                },
            }
        )
    )
    window = Window(HOUR, HOUR + timedelta(hours=1))
    return AnalyzeOptions(
        source=LocalFileSource(root / "capture"),
        statistics_path=root / "none.json",
        constraints_path=constraints,
        out=out,
        endpoint="ep",
        schedule="quality",
        window=window,
        namespace=quality.MODEL_METRICS_NAMESPACE,
        monitoring_type=MODEL_QUALITY,
        ground_truth=LocalFileSource(root / "truth"),
        label_window=Window(HOUR, HOUR + timedelta(hours=3)),
        prediction=PredictionSpec(problem_type=quality.BINARY),
        capture_index="endpointOutput",
    )


def test_model_quality_run_merges_labels_and_counts_the_unmatched(tmp_path: Path) -> None:
    actual, scores = write_quality_fixture(tmp_path)
    client = FakeCloudWatch()
    result = run_analysis(
        quality_options(tmp_path, tmp_path / "out"), client, JsonLogger(StringIO())
    )
    assert result.quality is not None
    match = result.quality.match
    assert (match.matched, match.predictions_unmatched, match.labels_unmatched) == (390, 10, 7)
    values = metric_values(
        quality.BINARY, json.loads((tmp_path / "out/statistics.json").read_text())
    )
    assert values["auc"] == pytest.approx(skm.roc_auc_score(actual, scores), abs=TOLERANCE)
    assert values["accuracy"] == pytest.approx(
        skm.accuracy_score(actual, scores >= 0.5), abs=TOLERANCE
    )
    violations = json.loads((tmp_path / "out/constraint_violations.json").read_text())
    assert [v["metric_name"] for v in violations["violations"]] == ["auc"]
    (call,) = client.calls
    assert call["Namespace"] == "aws/sagemaker/Endpoints/model-metrics"
    names = {d["MetricName"]: d["Value"] for d in call["MetricData"]}
    assert names["auc"] == values["auc"]
    assert names["model_quality_predictions_unmatched"] == 10
    assert names["model_quality_labels_unmatched"] == 7
    assert names["drift_job_records_analyzed"] == 390
    assert {d["Name"] for d in call["MetricData"][0]["Dimensions"]} == {
        "Endpoint",
        "MonitoringSchedule",
    }


def test_model_quality_on_four_hosts_equals_one(tmp_path: Path) -> None:
    write_quality_fixture(tmp_path, n=800)
    options = quality_options(tmp_path, tmp_path / "single")
    single = run_analysis(options, None, JsonLogger(StringIO()))
    for index in range(4):
        write_partial(run_map(options, Shard(index, 4)), tmp_path / "partials")
    merged = run_analysis(
        quality_options(tmp_path, tmp_path / "reduced"),
        None,
        JsonLogger(StringIO()),
        partial=read_partials(tmp_path / "partials"),
    )
    assert merged.quality is not None
    assert single.quality is not None
    assert merged.quality.match == single.quality.match
    assert (tmp_path / "reduced/statistics.json").read_text() == (
        tmp_path / "single/statistics.json"
    ).read_text()


LABEL_DELAY_CASES: list[tuple[list[str], int]] = [([], 0), (["--label-delay-hours", "2"], 2)]


@pytest.mark.parametrize(("flags", "delay"), LABEL_DELAY_CASES)
def test_cli_label_delay_moves_the_capture_window(
    tmp_path: Path, flags: list[str], delay: int
) -> None:
    write_quality_fixture(tmp_path)
    quality_options(tmp_path, tmp_path / "unused")  # writes constraints.json
    now = NOW + timedelta(hours=delay)  # the window [HOUR, HOUR+1h) ends `delay` hours before
    code = main(
        [
            "analyze",
            "--monitoring-type",
            "ModelQuality",
            "--problem-type",
            "BinaryClassification",
            "--capture",
            str(tmp_path / "capture"),
            "--ground-truth",
            str(tmp_path / "truth"),
            "--baseline-constraints",
            str(tmp_path / "constraints.json"),
            "--baseline-statistics",
            str(tmp_path / "constraints.json"),
            "--endpoint",
            "ep",
            "--schedule",
            "q",
            "--out",
            str(tmp_path / "out"),
            "--now",
            now.isoformat(),
            "--no-publish-metrics",
            *flags,
        ],
        env={},
        logger=JsonLogger(StringIO()),
    )
    assert code == 0
    report = json.loads((tmp_path / "out/model_quality_report.json").read_text())
    assert report["matched"] == 390
    assert report["window_start"].startswith(HOUR.isoformat()[:13])


PredictionCase = tuple[str, str, PredictionSpec, list[tuple[bool, float]]]


def prediction_cases() -> list[PredictionCase]:
    spec = PredictionSpec
    b = quality.BINARY
    return [
        ("json probability", '{"predictions": [0.7]}', spec(problem_type=b), [(True, 0.7)]),
        (
            "threshold",
            '{"predictions": [0.7]}',
            spec(problem_type=b, probability_threshold=0.8),
            [(False, 0.7)],
        ),
        (
            "attributes",
            '{"predictions": [{"label": 0, "score": 0.9}]}',
            spec(problem_type=b, inference_attribute="label", probability_attribute="score"),
            [(False, 0.9)],
        ),
        ("csv index", "1,0.2", spec(problem_type=b, probability_attribute="1"), [(False, 0.2)]),
        ("csv label", "true", spec(problem_type=b, inference_attribute=None), []),
    ]


@pytest.mark.parametrize("case", prediction_cases(), ids=lambda c: c[0])
def test_prediction_extraction(case: PredictionCase) -> None:
    _, output, spec, expected = case
    encoding = "CSV" if not output.startswith("{") else "JSON"
    event = {"captureData": {"endpointOutput": {"data": output, "encoding": encoding}}}
    match = MatchStats()
    joiner = Joiner(spec, {"x": ["1"]}, match)
    joiner.add_event("x", joiner.predictions(event, DEFAULT_LIMITS))
    accumulator = joiner.finish().accumulator
    assert isinstance(accumulator, BinaryQuality)
    if not expected:  # "true" is not a probability: unusable, counted
        assert (match.matched, match.unusable) == (0, 1)
        return
    ((predicted, score),) = expected
    assert (accumulator.tp, accumulator.fn) == ((1, 0) if predicted else (0, 1))
    assert accumulator.scores == {score: [0, 1]}


def test_demo_quality_baseline_is_what_the_script_writes() -> None:
    from scripts.make_demo_quality_baseline import OUT, documents

    for name, document in documents().items():
        written = json.loads((OUT / name).read_text())
        assert json.dumps(written, sort_keys=True) == json.dumps(
            json.loads(json.dumps(document)), sort_keys=True
        ) or written == pytest.approx(document), name
