"""The baseline command writes statistics.json / constraints.json in Model Monitor's shape."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.runtime.drift.baseline import build_baseline
from mlops_cdk.runtime.drift.cli import main
from mlops_cdk.runtime.drift.jsonlog import JsonLogger

from .drift_fixtures import write_csv

# Documented by AWS (model-monitor-byoc-constraints / -statistics pages).
CONSTRAINT_TYPES = {"Integral", "Fractional", "String", "Unknown"}
DEFAULT_MONITORING_CONFIG = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1,
    "domain_content_threshold": 0.1,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": 0.1,
        "categorical_drift_method": "LInfinity",
    },
}

ROWS: list[list[object]] = [
    [1, 2.5, "red", -3, None, "u1"],
    [2, 3.5, "blue", 4, None, "u2"],
    [3, None, "red", 5, None, "u3"],
    [4, 1.0, None, 6, None, "u4"],
]
HEADER = ["count", "price", "color", "delta", "empty", "user"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("baseline")
    extra: list[list[object]] = [[5, 4.0, "green", 1, None, f"u{i}"] for i in range(5, 30)]
    rows = ROWS * 5 + extra
    train = write_csv(tmp / "train.csv", HEADER, rows)
    log = StringIO()
    code = main(
        ["baseline", "--train", str(train), "--out", str(tmp / "out")],
        env={},
        logger=JsonLogger(log),
    )
    assert code == 0
    assert json.loads(log.getvalue().splitlines()[-1])["event"] == "baseline_complete"
    statistics = json.loads((tmp / "out" / "statistics.json").read_text())
    constraints = json.loads((tmp / "out" / "constraints.json").read_text())
    return statistics, constraints


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["name"]: feature for feature in document["features"]}


def test_constraints_document_shape(outputs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, constraints = outputs
    assert set(constraints) == {"version", "features", "monitoring_config"}
    assert constraints["version"] == 0
    assert constraints["monitoring_config"] == DEFAULT_MONITORING_CONFIG
    for feature in constraints["features"]:
        assert {"name", "inferred_type", "completeness"} <= set(feature)
        assert set(feature) <= {
            "name",
            "inferred_type",
            "completeness",
            "num_constraints",
            "string_constraints",
        }
        assert feature["inferred_type"] in CONSTRAINT_TYPES


def test_constraints_values(outputs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    features = by_name(outputs[1])
    assert [f["name"] for f in outputs[1]["features"]] == HEADER
    assert {n: f["inferred_type"] for n, f in features.items()} == {
        "count": "Integral",
        "price": "Fractional",
        "color": "String",
        "delta": "Integral",
        "empty": "Unknown",
        "user": "String",
    }
    assert features["count"]["completeness"] == 1.0
    assert features["price"]["completeness"] == pytest.approx(40 / 45)
    assert features["empty"]["completeness"] == 0.0
    assert features["count"]["num_constraints"] == {"is_non_negative": True}
    assert features["delta"]["num_constraints"] == {"is_non_negative": False}
    assert features["color"]["string_constraints"] == {"domains": ["blue", "green", "red"]}
    assert "string_constraints" not in features["user"]  # 29 distinct values: too many


def test_statistics_document_shape(outputs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    statistics, _ = outputs
    assert set(statistics) == {"version", "dataset", "features"}
    assert statistics["dataset"] == {"item_count": 45}
    features = by_name(statistics)
    price = features["price"]["numerical_statistics"]
    assert set(price) == {"common", "mean", "sum", "std_dev", "min", "max", "distribution"}
    assert price["common"] == {"num_present": 40, "num_missing": 5}
    values = [2.5, 3.5, 1.0] * 5 + [4.0] * 25
    mean = sum(values) / len(values)
    assert price["mean"] == pytest.approx(mean)
    assert price["sum"] == pytest.approx(sum(values))
    assert price["std_dev"] == pytest.approx((sum((v - mean) ** 2 for v in values) / 40) ** 0.5)
    assert (price["min"], price["max"]) == (1.0, 4.0)
    kll = price["distribution"]["kll"]
    assert set(kll) == {"buckets", "sketch"}
    assert len(kll["buckets"]) == 10
    assert set(kll["buckets"][0]) == {"lower_bound", "upper_bound", "count"}
    assert sum(b["count"] for b in kll["buckets"]) == 40
    assert kll["buckets"][0]["lower_bound"] == 1.0
    assert kll["buckets"][-1]["upper_bound"] == 4.0
    assert set(kll["sketch"]) == {"parameters", "data"}
    assert kll["sketch"]["parameters"] == {"c": 0.64, "k": 2048.0}
    assert sorted(kll["sketch"]["data"][0]) == sorted(values)


def test_string_statistics(outputs: tuple[dict[str, Any], dict[str, Any]]) -> None:
    color = by_name(outputs[0])["color"]
    stats = color["string_statistics"]
    assert set(stats) == {"common", "distinct_count", "distribution"}
    assert stats["common"] == {"num_present": 40, "num_missing": 5}
    assert stats["distinct_count"] == 3
    assert stats["distribution"]["categorical"]["buckets"] == [
        {"value": "green", "count": 25},
        {"value": "red", "count": 10},
        {"value": "blue", "count": 5},
    ]


def test_kll_buckets_are_half_open_like_deequs(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "t.csv", ["x"], [[v] for v in range(11)])
    statistics = build_baseline(train).statistics
    feature = statistics["features"][0]  # type: ignore[index]
    buckets = feature["numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert [b["lower_bound"] for b in buckets] == [float(v) for v in range(10)]
    assert [b["count"] for b in buckets] == [1] * 9 + [2]  # [9, 10] is closed


def test_headerless_csv_gets_positional_names(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "t.csv", None, [[1, "a"], [2, "b"]])
    result = build_baseline(train, header=False)
    assert [f.name for f in result.constraints.features] == ["_c0", "_c1"]
    assert result.profile.item_count == 2


def test_baseline_flags_override_monitoring_config(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "t.csv", ["x"], [[1], [2]])
    out = tmp_path / "out"
    code = main(
        [
            "baseline",
            "--train",
            str(train),
            "--out",
            str(out),
            "--comparison-method",
            "Simple",
            "--comparison-threshold",
            "0.2",
        ],
        env={},
        logger=JsonLogger(StringIO()),
    )
    assert code == 0
    config = json.loads((out / "constraints.json").read_text())["monitoring_config"]
    assert config["distribution_constraints"]["comparison_method"] == "Simple"
    assert config["distribution_constraints"]["comparison_threshold"] == 0.2


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("a,a\n1,2\n", "duplicate column names")],
    ids=["empty-file", "duplicate-columns"],
)
def test_bad_training_files_fail_with_exit_1(tmp_path: Path, content: str, message: str) -> None:
    train = tmp_path / "t.csv"
    train.write_text(content)
    log = StringIO()
    code = main(
        ["baseline", "--train", str(train), "--out", str(tmp_path)], env={}, logger=JsonLogger(log)
    )
    assert code == 1
    line = json.loads(log.getvalue().splitlines()[-1])
    assert line["event"] == "job_failed"
    assert message in line["message"]
