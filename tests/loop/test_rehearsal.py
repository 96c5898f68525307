"""The MLOps loop rehearsed offline: train → package → serve → capture → drift.

Every step is the shipped code, run the way its job runs it: preprocess, train and evaluate as
``python -m mlops_runtime.training.<step>`` subprocesses (the image's package layout, SageMaker's
paths mapped to a temporary folder), the model packed as SageMaker packs ``/opt/ml/model``,
served by the real model server on 127.0.0.1, and the drift job's own CLI building the baseline
from the training split and analyzing the traffic the server answered, written in SageMaker's
data-capture format (the server does not capture; the records are the actual requests and
responses). A test per joint: each fails when that joint breaks.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from mlops_cdk.constructs.ml_pipeline.steps import metric_path
from mlops_cdk.runtime.training.demo_data import FEATURE_NAMES, SEED, make_data
from mlops_cdk.runtime.training.local import LocalPipeline, StepFailedError
from tests.runtime.conftest import DEMO_MODEL_DIR, RUNTIME_DIR, Server, request, start_server

ENDPOINT, VARIANT, SCHEDULE = "churn", "AllTraffic", "rehearsal"
ROWS = 4000  # demo customers in the pipeline's input (3,200 train / 800 test)
TRAFFIC = 500  # rows per traffic sample, sent 50 per request
SHIFT = {"tenure_months": -1.0, "support_calls": 1.0}  # standard deviations
#: What the gate of config/*.yaml compares (metric_name: accuracy); the demo data's
#: Bayes-optimal accuracy is about 0.80, see the training docs.
GATE_METRIC, GATE_FLOOR = "accuracy", 0.75


def json_get(document: Any, path: str) -> Any:
    """Resolve a dotted path the way the pipeline's ``Std:JsonGet`` does."""
    found = document
    for part in path.split("."):
        if not isinstance(found, dict) or part not in found:
            raise AssertionError(f"no {path!r} (stopped at {part!r} in {found!r:.120})")
        found = found[part]
    return found


@dataclass
class Rehearsal:
    """The artifacts of one run of the loop."""

    pipeline: LocalPipeline
    served_model: Path
    evaluation: dict[str, Any]
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Rehearsal:
    """Run preprocess, train, package, evaluate and the drift baseline once for the module."""
    root = tmp_path_factory.mktemp("loop")
    site = root / "site"
    site.mkdir()
    (site / "mlops_runtime").symlink_to(RUNTIME_DIR)  # the image layout: no mlops_cdk, no CDK
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "SM_", "AWS_"))}
    env["PYTHONPATH"] = str(site)
    pipeline = LocalPipeline(root / "opt-ml", package="mlops_runtime", env=env, timeout=120)
    seconds: dict[str, float] = {}

    def step(name: str, action: Any, *args: Any) -> Any:
        start = time.perf_counter()
        result = action(*args)
        seconds[name] = round(time.perf_counter() - start, 2)
        return result

    step("demo_data", pipeline.demo_data, ROWS)
    step("preprocess", pipeline.preprocess)
    # As the standard graph passes them: strings, the SDK's script-mode entries JSON-encoded.
    hyperparameters = {
        "C": "1.0",
        "sagemaker_program": json.dumps("train.py"),
        "sagemaker_submit_directory": json.dumps("s3://bucket/code/sourcedir.tar.gz"),
    }
    step("train", pipeline.train, hyperparameters)
    step("package", pipeline.package_model)
    evaluation = step("evaluate", pipeline.evaluate)
    step("drift_baseline", pipeline.drift_baseline)
    # SageMaker unpacks ModelDataUrl into /opt/ml/model for the serving container.
    served = root / "endpoint-opt-ml-model"
    with tarfile.open(pipeline.artifact, "r:gz") as tar:
        tar.extractall(served, filter="data")
    return Rehearsal(pipeline, served, evaluation, seconds)


@pytest.fixture(scope="module")
def endpoint(rehearsal: Rehearsal, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The model server serving the packaged model, as an endpoint would."""
    server = start_server(
        tmp_path_factory.mktemp("endpoint"),
        MLOPS_MODEL_DIR=str(rehearsal.served_model),
        MLOPS_WORKERS="1",
    )
    yield server
    server.stop()


def io_signature(model: Path) -> tuple[list[Any], list[Any]]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return (
        [(i.name, i.type, i.shape) for i in session.get_inputs()],
        [(o.name, o.type, o.shape) for o in session.get_outputs()],
    )


def test_trained_model_has_the_serving_contract_of_the_demo_model(rehearsal: Rehearsal) -> None:
    """Input ``features`` float32 [N, 8], first output ``churn_probability`` [N, 1]."""
    assert io_signature(rehearsal.served_model / "model.onnx") == io_signature(
        DEMO_MODEL_DIR / "model.onnx"
    )
    features = json.loads((rehearsal.served_model / "features.json").read_text())
    assert features == json.loads((DEMO_MODEL_DIR / "features.json").read_text())
    assert features == list(FEATURE_NAMES)


def test_evaluation_has_the_metric_the_pipeline_gate_reads(rehearsal: Rehearsal) -> None:
    report = rehearsal.evaluation
    gated = json_get(report, metric_path(GATE_METRIC))  # MLPipeline's CheckMetric JsonGet path
    assert isinstance(gated, float)
    assert GATE_FLOOR < gated <= 1.0
    quality = report["binary_classification_metrics"]  # ModelMetrics.ModelQuality.Statistics
    assert quality[GATE_METRIC]["value"] == gated
    assert isinstance(quality[GATE_METRIC]["standard_deviation"], float)
    assert quality["auc"]["value"] > quality["accuracy_best_constant_classifier"]["value"]
    matrix = quality["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == ROWS // 5


def test_the_drift_baseline_describes_exactly_the_request_columns(rehearsal: Rehearsal) -> None:
    constraints = json.loads((rehearsal.pipeline.baseline / "constraints.json").read_text())
    assert [f["name"] for f in constraints["features"]] == list(FEATURE_NAMES)
    statistics = json.loads((rehearsal.pipeline.baseline / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == ROWS - ROWS // 5


def test_endpoint_serves_the_models_sample_requests(rehearsal: Rehearsal, endpoint: Server) -> None:
    model = rehearsal.served_model
    as_json = request(
        endpoint.port, "POST", "/invocations", (model / "sample_request.json").read_bytes(),
        {"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    as_csv = request(
        endpoint.port, "POST", "/invocations", (model / "sample_request.csv").read_bytes(),
        {"Content-Type": "text/csv", "Accept": "text/csv"},
    )  # fmt: skip
    assert as_json.status == as_csv.status == 200, (as_json.body, as_csv.body)
    assert isinstance(as_json.json, dict)
    predictions = as_json.json["predictions"]
    assert [float(line) for line in as_csv.body.decode().split()] == predictions
    rows = json.loads((model / "sample_request.json").read_text())["instances"]
    session = ort.InferenceSession(str(model / "model.onnx"), providers=["CPUExecutionProvider"])
    direct = session.run(None, {"features": np.array(rows, dtype=np.float32)})[0]
    assert predictions == pytest.approx(direct.reshape(-1).tolist())
    assert all(0.0 < p < 1.0 for p in predictions)


# --- capture and drift --------------------------------------------------------------------------


def _capture_entry(body: bytes, content_type: str, mode: str) -> dict[str, str]:
    """One side of a capture event, encoded as SageMaker data capture encodes it."""
    kind = content_type.split(";")[0].strip()
    if kind == "text/csv":
        encoding, data = "CSV", body.decode()
    elif "json" in kind:
        encoding, data = "JSON", body.decode()
    else:
        encoding, data = "BASE64", base64.b64encode(body).decode()
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def send_and_capture(port: int, rows: np.ndarray, capture: Path, per_request: int = 50) -> None:
    """POST ``rows`` (alternating CSV and JSON requests) and write each exchange as a capture
    event under ``<capture>/<endpoint>/<variant>/yyyy/mm/dd/hh/``."""
    for number, start in enumerate(range(0, len(rows), per_request)):
        chunk = [[round(float(v), 2) for v in row] for row in rows[start : start + per_request]]
        if number % 2:
            body = json.dumps({"instances": chunk}).encode()
            content_type = "application/json"
        else:
            body = "".join(",".join(map(str, row)) + "\n" for row in chunk).encode()
            content_type = "text/csv"
        moment = datetime.now(UTC)
        reply = request(
            port, "POST", "/invocations", body, {"Content-Type": content_type, "Accept": "text/csv"}
        )
        assert reply.status == 200, reply.body
        assert len(reply.body.decode().split()) == len(chunk)
        event = {
            "captureData": {
                "endpointInput": _capture_entry(body, content_type, "INPUT"),
                "endpointOutput": _capture_entry(
                    reply.body, reply.headers["content-type"], "OUTPUT"
                ),
            },
            "eventMetadata": {
                "eventId": reply.headers.get("x-request-id", str(number)),
                "inferenceTime": moment.isoformat().replace("+00:00", "Z"),
            },
            "eventVersion": "0",
        }
        folder = capture / ENDPOINT / VARIANT / moment.strftime("%Y/%m/%d/%H")
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "capture.jsonl").open("a") as handle:
            handle.write(json.dumps(event) + "\n")


def analyze(pipeline: LocalPipeline, capture: Path, out: Path) -> dict[str, Any]:
    """The drift job's ``analyze`` over the capture's hours; returns its outputs."""
    hours = sorted(p.relative_to(capture / ENDPOINT / VARIANT) for p in capture.glob("*/*/*/*/*/*"))
    start = datetime.strptime(str(hours[0]), "%Y/%m/%d/%H").replace(tzinfo=UTC)
    end = datetime.strptime(str(hours[-1]), "%Y/%m/%d/%H").replace(tzinfo=UTC) + timedelta(hours=1)
    pipeline.run(
        "drift", "analyze", "--capture", capture,
        "--baseline-statistics", pipeline.baseline / "statistics.json",
        "--baseline-constraints", pipeline.baseline / "constraints.json",
        "--endpoint", ENDPOINT, "--schedule", SCHEDULE, "--out", out,
        "--start", start.isoformat(), "--end", end.isoformat(), "--no-publish-metrics",
    )  # fmt: skip
    metrics = json.loads((out / "cloudwatch_metrics.json").read_text())["MetricData"]
    return {
        "drift": {
            m["MetricName"].removeprefix("feature_baseline_drift_"): m["Value"]
            for m in metrics
            if m["MetricName"].startswith("feature_baseline_drift_")
        },
        "records": next(
            m["Value"] for m in metrics if m["MetricName"] == "drift_job_records_analyzed"
        ),
        "violations": json.loads((out / "constraint_violations.json").read_text())["violations"],
    }


@pytest.mark.parametrize(
    ("name", "shift", "drifted"),
    [("unshifted", None, False), ("shifted", SHIFT, True)],
)
def test_drift_alarm_fires_on_shifted_traffic_only(
    rehearsal: Rehearsal,
    endpoint: Server,
    tmp_path: Path,
    name: str,
    shift: dict[str, float] | None,
    drifted: bool,
) -> None:
    # Fresh customers (another seed than the training data), shifted or not.
    rows, _ = make_data(np.random.default_rng(SEED + 1), TRAFFIC, shift)
    capture = tmp_path / "capture"
    send_and_capture(endpoint.port, rows, capture)
    result = analyze(rehearsal.pipeline, capture, tmp_path / "report")
    constraints = json.loads((rehearsal.pipeline.baseline / "constraints.json").read_text())
    # ModelMonitorSchedule's drift alarm: any feature_baseline_drift_<feature> above
    # drift_threshold (default 0.1, the constraints' comparison_threshold).
    threshold = constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"]
    assert threshold == 0.1
    assert result["records"] == TRAFFIC
    assert sorted(result["drift"]) == sorted(FEATURE_NAMES)
    over = {f: round(v, 3) for f, v in result["drift"].items() if v > threshold}
    if drifted:
        assert set(over) == set(SHIFT), result["drift"]
        assert {v["feature_name"] for v in result["violations"]} == set(SHIFT)
    else:
        assert over == {}, result["drift"]
        assert result["violations"] == [], result["violations"]


def test_the_rehearsal_is_fast(rehearsal: Rehearsal) -> None:
    """Budget: the whole module within a minute on 2 cores; the steps here well below it."""
    assert sum(rehearsal.seconds.values()) < 40, rehearsal.seconds


def test_train_reports_bad_hyperparameters_as_a_failure(rehearsal: Rehearsal) -> None:
    """A typo in a hyperparameter fails the job with SageMaker's failure file, not a model."""
    pipeline = LocalPipeline(
        rehearsal.pipeline.root.parent / "bad-hyperparameters",
        package="mlops_runtime",
        env=rehearsal.pipeline.env,
    )
    shutil.copytree(rehearsal.pipeline.train_split, pipeline.train_split)
    with pytest.raises(StepFailedError, match="unknown hyperparameter 'c'"):
        pipeline.train({"c": "1.0"})
    failure = (pipeline.training_output / "failure").read_text()
    assert "unknown hyperparameter 'c'" in failure
    assert not (pipeline.model_dir / "model.onnx").exists()
