"""End-to-end analysis on generated capture files: violations, distances, reports, CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlops_cdk.runtime.drift.analyze import AnalyzeOptions, AnalyzeResult, run_analysis
from mlops_cdk.runtime.drift.capture import LocalFileSource
from mlops_cdk.runtime.drift.cli import main
from mlops_cdk.runtime.drift.distance import robust_distance
from mlops_cdk.runtime.drift.jsonlog import JsonLogger
from mlops_cdk.runtime.drift.metrics import DATA_METRICS_NAMESPACE
from mlops_cdk.runtime.drift.window import named_window

from .drift_fixtures import (
    FEATURES,
    HOUR,
    NOW,
    FakeCloudWatch,
    capture_line,
    exact_ks,
    hour_dir,
    make_baseline,
    training_rows,
    write_capture,
)

TRAIN_ROWS = 20_000
WINDOW_ROWS = 3_000
CHECK_TYPES = {
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "categorical_values_check",
}

Rows = list[list[object]]


@pytest.fixture(scope="module")
def train() -> Rows:
    return training_rows(TRAIN_ROWS, seed=7)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, train: Rows) -> tuple[Path, Path]:
    return make_baseline(tmp_path_factory.mktemp("base"), train)


@pytest.fixture
def window_rows() -> Rows:
    return training_rows(WINDOW_ROWS, seed=99)


Analyze = Callable[..., tuple[AnalyzeResult, FakeCloudWatch]]


@pytest.fixture
def analyze(tmp_path: Path, baseline: tuple[Path, Path]) -> Analyze:
    def run(
        rows: Rows | None = None,
        *,
        statistics: Path | None = None,
        constraints: Path | None = None,
        **overrides: Any,
    ) -> tuple[AnalyzeResult, FakeCloudWatch]:
        if rows is not None:
            write_capture(tmp_path / "capture", rows)
        (tmp_path / "capture").mkdir(exist_ok=True)
        client = FakeCloudWatch()
        options = AnalyzeOptions(
            source=LocalFileSource(tmp_path / "capture"),
            statistics_path=statistics or baseline[0],
            constraints_path=constraints or baseline[1],
            out=tmp_path / "out",
            endpoint="churn-prod",
            schedule="churn-hourly",
            window=named_window("previous-hour", NOW),
            overrides=overrides,
        )
        return run_analysis(options, client, JsonLogger(StringIO())), client

    return run


def checks(result: AnalyzeResult) -> set[tuple[str, str]]:
    return {(v.feature_name, str(v.constraint_check_type)) for v in result.violations}


def drift_of(result: AnalyzeResult, name: str) -> float:
    for feature in result.results:
        if feature.name == name:
            assert feature.drift is not None
            return feature.drift
    raise KeyError(name)


def column(rows: Rows, index: int) -> list[float]:
    return [float(r[index]) for r in rows if r[index] not in (None, "")]  # type: ignore[arg-type]


def test_no_drift_means_no_violations(analyze: Analyze, window_rows: Rows) -> None:
    result, client = analyze(window_rows)
    assert result.violations == []
    assert result.profile.item_count == WINDOW_ROWS
    assert all(drift_of(result, name) < 0.05 for name in FEATURES)
    assert len(client.calls) == 1
    assert len(client.calls[0]["MetricData"]) == 2 * len(FEATURES) + 3


def test_shifted_numeric_feature_drifts_by_the_exact_ks_distance(
    analyze: Analyze, train: Rows, window_rows: Rows
) -> None:
    for row in window_rows:
        row[1] = round(float(row[1]) + 5.0, 4)  # type: ignore[arg-type]  # +0.5 sigma
    result, _ = analyze(window_rows)
    assert checks(result) == {("income", "baseline_drift_check")}
    exact = exact_ks(column(train, 1), column(window_rows, 1))
    assert 0.17 < exact < 0.23  # 2 * Phi(0.25) - 1 = 0.197
    expected = robust_distance(exact, TRAIN_ROWS, WINDOW_ROWS)
    assert drift_of(result, "income") == pytest.approx(expected, abs=0.01)

    simple, _ = analyze(comparison_method="Simple")
    assert drift_of(simple, "income") == pytest.approx(exact, abs=0.01)

    tolerant, _ = analyze(comparison_threshold=0.5)
    assert tolerant.violations == []
    with_psi, _ = analyze(comparison_threshold=0.5, psi_threshold=0.1)
    assert checks(with_psi) == {("income", "baseline_drift_check")}
    assert "PSI" in with_psi.violations[0].description


def test_new_categories(analyze: Analyze, window_rows: Rows) -> None:
    for row in window_rows[::3]:
        row[2] = "purple"
    result, _ = analyze(window_rows)
    assert ("color", "categorical_values_check") in checks(result)
    assert ("color", "baseline_drift_check") in checks(result)
    message = next(v.description for v in result.violations if v.feature_name == "color")
    assert "purple" in message
    assert {name for name, _ in checks(result)} == {"color"}


def test_missing_values_fail_completeness(analyze: Analyze, window_rows: Rows) -> None:
    for row in window_rows[::5]:
        row[0] = None
    result, client = analyze(window_rows)
    assert checks(result) == {("age", "completeness_check")}
    data = {d["MetricName"]: d["Value"] for d in client.calls[0]["MetricData"]}
    assert data["feature_non_null_age"] == pytest.approx(0.8)
    assert data["feature_non_null_income"] == 1.0


def test_strings_in_a_numeric_feature_fail_the_type_check(
    analyze: Analyze, window_rows: Rows
) -> None:
    for row in window_rows[::4]:
        row[1] = "n/a"
    result, _ = analyze(window_rows)
    assert checks(result) == {("income", "data_type_check")}
    assert "Fractional" in result.violations[0].description


def test_type_mismatch_below_threshold_is_tolerated(analyze: Analyze, window_rows: Rows) -> None:
    for row in window_rows[::20]:
        row[1] = "n/a"  # 5 % < datatype_check_threshold 0.1
    result, _ = analyze(window_rows)
    assert result.violations == []


def test_fractions_in_an_integral_feature_fail_the_type_check(
    analyze: Analyze, window_rows: Rows
) -> None:
    for row in window_rows[::2]:
        row[0] = int(row[0]) + 0.5  # type: ignore[call-overload]
    result, _ = analyze(window_rows)
    assert ("age", "data_type_check") in checks(result)


def test_negative_values_break_is_non_negative(analyze: Analyze, window_rows: Rows) -> None:
    window_rows[0][0] = -4
    result, _ = analyze(window_rows)
    assert checks(result) == {("age", "data_type_check")}
    assert "is_non_negative" in result.violations[0].description


def test_missing_and_extra_columns(analyze: Analyze, window_rows: Rows) -> None:
    window_rows[0] = window_rows[0][:2]
    window_rows[1] = [*window_rows[1], "surplus"]
    result, _ = analyze(window_rows)
    assert ("color", "missing_column_check") in checks(result)
    assert ("_c3", "extra_column_check") in checks(result)


def test_named_json_records_with_an_extra_field(
    tmp_path: Path, analyze: Analyze, window_rows: Rows
) -> None:
    lines = [
        capture_line(
            json.dumps([{"age": r[0], "income": r[1], "color": r[2], "vip": True}]),
            HOUR,
            encoding="JSON",
            content_type="application/json",
        )
        for r in window_rows
    ]
    (hour_dir(tmp_path / "capture", HOUR) / "json.jsonl").write_text("\n".join(lines))
    result, _ = analyze()
    assert checks(result) == {("vip", "extra_column_check")}
    assert result.profile.item_count == WINDOW_ROWS


def test_chi_square_flags_a_shift_linf_tolerates(analyze: Analyze) -> None:
    rng = np.random.default_rng(1)
    colors = rng.choice(["red", "green", "blue"], WINDOW_ROWS, p=[0.44, 0.36, 0.2])
    rows: Rows = [[30, 50.0, str(c)] for c in colors]
    linf, _ = analyze(rows, comparison_threshold=1.0)
    assert ("color", "baseline_drift_check") not in checks(linf)
    chi, _ = analyze(comparison_threshold=1.0, categorical_drift_method="ChiSquared")
    assert ("color", "baseline_drift_check") in checks(chi)
    assert "Chi-square p-value" in chi.violations[-1].description


def test_empty_window(analyze: Analyze, tmp_path: Path) -> None:
    write_capture(tmp_path / "capture", [[30, 50.0, "red"]], hour=HOUR - timedelta(hours=2))
    result, client = analyze()
    assert result.violations == []
    assert result.profile.item_count == 0
    names = [d["MetricName"] for d in client.calls[0]["MetricData"]]
    assert names == [
        "drift_job_records_analyzed",
        "drift_job_violations",
        "drift_job_events_skipped",
    ]
    assert client.calls[0]["MetricData"][0]["Value"] == 0.0


def edited(path: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    document = json.loads(path.read_text())
    edit(document)
    target = tmp_path / f"edited-{path.name}"
    target.write_text(json.dumps(document))
    return target


def test_evaluate_and_emit_switches(
    analyze: Analyze, baseline: tuple[Path, Path], tmp_path: Path, window_rows: Rows
) -> None:
    for row in window_rows:
        row[0] = None

    def no_eval(doc: dict[str, Any]) -> None:
        doc["monitoring_config"]["evaluate_constraints"] = "Disabled"

    def no_emit(doc: dict[str, Any]) -> None:
        doc["monitoring_config"]["emit_metrics"] = "Disabled"

    quiet, client = analyze(window_rows, constraints=edited(baseline[1], tmp_path, no_eval))
    assert quiet.violations == []
    assert len(client.calls) == 1
    silent, client = analyze(constraints=edited(baseline[1], tmp_path, no_emit))
    assert checks(silent) == {("age", "completeness_check")}
    assert client.calls == []
    assert silent.metric_calls == 0


def test_baseline_with_buckets_only(
    analyze: Analyze, baseline: tuple[Path, Path], tmp_path: Path, window_rows: Rows
) -> None:
    """A statistics.json without sketch data (buckets only) still gives a drift distance."""

    def drop_sketches(doc: dict[str, Any]) -> None:
        for feature in doc["features"]:
            feature.get("numerical_statistics", {}).get("distribution", {}).get("kll", {}).pop(
                "sketch", None
            )

    statistics = edited(baseline[0], tmp_path, drop_sketches)
    calm, _ = analyze(window_rows, statistics=statistics)
    assert calm.violations == []
    for row in window_rows:
        row[1] = float(row[1]) + 10.0  # type: ignore[arg-type]
    shifted, _ = analyze(window_rows, statistics=statistics)
    assert checks(shifted) == {("income", "baseline_drift_check")}
    income = next(r for r in shifted.results if r.name == "income")
    calm_income = next(r for r in calm.results if r.name == "income")
    assert calm_income.psi is not None
    assert income.psi is not None
    assert calm_income.psi < 0.05 < 0.5 < income.psi  # 1-sigma shift


def test_report_files_have_the_documented_shape(analyze: Analyze, window_rows: Rows) -> None:
    for row in window_rows[::3]:
        row[2] = "purple"
        row[0] = None
    result, _ = analyze(window_rows)
    out = result.outputs[0].parent
    violations = json.loads((out / "constraint_violations.json").read_text())
    assert set(violations) == {"violations"}
    assert violations["violations"]
    for violation in violations["violations"]:
        assert set(violation) == {"feature_name", "constraint_check_type", "description"}
        assert violation["constraint_check_type"] in CHECK_TYPES
    statistics = json.loads((out / "statistics.json").read_text())
    assert statistics["dataset"] == {"item_count": WINDOW_ROWS}
    assert [f["name"] for f in statistics["features"]] == list(FEATURES)
    assert statistics["features"][0]["numerical_statistics"]["common"]["num_missing"] == 1000
    assert statistics["features"][2]["string_statistics"]["distinct_count"] == 4
    report = json.loads((out / "drift_report.json").read_text())
    assert report["window_start"] == "2026-11-21T05:00:00Z"
    assert report["records_analyzed"] == WINDOW_ROWS
    metrics = json.loads((out / "cloudwatch_metrics.json").read_text())
    assert len(metrics["MetricData"]) == 2 * len(FEATURES) + 3


def env_for(tmp_path: Path, baseline: tuple[Path, Path]) -> dict[str, str]:
    return {
        "dataset_source": str(tmp_path / "capture"),
        "output_path": str(tmp_path / "out"),
        "baseline_statistics": str(baseline[0]),
        "baseline_constraints": str(baseline[1]),
        "sagemaker_endpoint_name": "churn-prod",
        "sagemaker_monitoring_schedule_name": "churn-hourly",
        "start_time": "2026-11-21T05:00:00Z",
        "end_time": "2026-11-21T06:00:00Z",
    }


def test_cli_uses_processing_environment_and_exits_0_with_violations(
    tmp_path: Path, baseline: tuple[Path, Path], window_rows: Rows
) -> None:
    for row in window_rows[::5]:
        row[0] = None
    write_capture(tmp_path / "capture", window_rows)
    client = FakeCloudWatch()
    log = StringIO()
    code = main(
        ["analyze"],
        env=env_for(tmp_path, baseline),
        logger=JsonLogger(log),
        client_factory=lambda: client,
    )
    assert code == 0
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())
    assert [v["constraint_check_type"] for v in violations["violations"]] == ["completeness_check"]
    assert [call["Namespace"] for call in client.calls] == [DATA_METRICS_NAMESPACE]
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["analysis_start", "analysis_complete"]
    assert events[-1]["violations"] == 1
    assert events[-1]["records_analyzed"] == WINDOW_ROWS


def test_cli_flags_beat_environment(tmp_path: Path, baseline: tuple[Path, Path]) -> None:
    write_capture(tmp_path / "capture", [[30, 50.0, "red"]])
    env = {**env_for(tmp_path, baseline), "publish_cloudwatch_metrics": "Disabled"}
    client = FakeCloudWatch()
    code = main(
        ["analyze", "--endpoint", "other"],
        env=env,
        logger=JsonLogger(StringIO()),
        client_factory=lambda: client,
    )
    assert code == 0
    assert client.calls == []
    report = json.loads((tmp_path / "out" / "drift_report.json").read_text())
    assert report["endpoint"] == "other"
    assert report["records_analyzed"] == 1


@pytest.mark.parametrize(
    ("drop", "code", "event"),
    [
        ("sagemaker_endpoint_name", 2, "usage_error"),
        ("baseline_constraints", 1, "job_failed"),
    ],
    ids=[
        "no-endpoint-name-usage-error",
        "no-constraints-job-failed",
    ],
)
def test_cli_errors(
    tmp_path: Path, baseline: tuple[Path, Path], drop: str, code: int, event: str
) -> None:
    env = env_for(tmp_path, baseline)
    if drop == "baseline_constraints":
        env[drop] = str(tmp_path / "missing.json")
    else:
        del env[drop]
    (tmp_path / "capture").mkdir()
    log = StringIO()
    assert main(["analyze"], env=env, logger=JsonLogger(log), client_factory=FakeCloudWatch) == code
    assert json.loads(log.getvalue().splitlines()[-1])["event"] == event


# -- issue #15 item 15: malformed capture lines are skipped and counted, never fatal ----------


def malformed_lines() -> list[str]:
    """One capture line per kind of malformed event that used to abort the run."""
    good = json.loads(capture_line("30,50.0,red", HOUR))
    return [
        "[1, 2, 3]",  # valid JSON, not an object
        json.dumps({**good, "captureData": {"endpointInput": "30,50.0,red"}}),
        json.dumps({**good, "eventMetadata": "2026-11-21T05:00:00Z"}),
        capture_line(
            "[" * 100_000 + "]" * 100_000, HOUR, encoding="JSON", content_type="application/json"
        ),
        capture_line('"' + "x" * 200_000 + '",50.0,red', HOUR),  # over-long CSV field
        '{"captureData": ' + "[" * 100_000 + "]" * 100_000 + "}",  # the line itself is deep
    ]


def write_malformed(tmp_path: Path) -> None:
    folder = hour_dir(tmp_path / "capture", HOUR)
    (folder / "malformed.jsonl").write_text("\n".join(malformed_lines()) + "\n")


def test_malformed_capture_lines_are_skipped_counted_and_reported(
    tmp_path: Path, baseline: tuple[Path, Path], window_rows: Rows
) -> None:
    write_capture(tmp_path / "capture", window_rows)
    write_malformed(tmp_path)
    client = FakeCloudWatch()
    log = StringIO()
    code = main(
        ["analyze"],
        env=env_for(tmp_path, baseline),
        logger=JsonLogger(log),
        client_factory=lambda: client,
    )
    assert code == 0, log.getvalue()[-2000:]
    report = json.loads((tmp_path / "out" / "drift_report.json").read_text())
    assert report["records_analyzed"] == WINDOW_ROWS
    assert report["events_skipped"] == len(malformed_lines())
    assert len(report["skipped_examples"]) == len(malformed_lines())
    assert all("malformed.jsonl:" in example for example in report["skipped_examples"])
    sent = {d["MetricName"]: d["Value"] for call in client.calls for d in call["MetricData"]}
    assert sent["drift_job_events_skipped"] == len(malformed_lines())
    events = [json.loads(line) for line in log.getvalue().splitlines()]
    assert [e["event"] for e in events] == [
        "analysis_start",
        "malformed_capture_events",
        "analysis_complete",
    ]


def test_too_many_malformed_events_fail_the_run_after_reporting(
    tmp_path: Path, baseline: tuple[Path, Path]
) -> None:
    write_capture(tmp_path / "capture", training_rows(10, seed=3))
    write_malformed(tmp_path)  # 6 of 16 events: 37.5 % skipped
    env = {**env_for(tmp_path, baseline), "DRIFT_MAX_SKIPPED_SHARE": "0.25"}
    client = FakeCloudWatch()
    log = StringIO()
    code = main(["analyze"], env=env, logger=JsonLogger(log), client_factory=lambda: client)
    assert code == 1
    last = json.loads(log.getvalue().splitlines()[-1])
    assert last["event"] == "too_many_malformed_events"
    assert last["skipped_share"] == pytest.approx(6 / 16)
    report = json.loads((tmp_path / "out" / "drift_report.json").read_text())
    assert report["events_skipped"] == 6  # the evidence is written before failing
    assert client.calls  # and the metrics went out
    env["DRIFT_MAX_SKIPPED_SHARE"] = "0.5"
    assert (
        main(["analyze"], env=env, logger=JsonLogger(StringIO()), client_factory=FakeCloudWatch)
        == 0
    )
