"""The MLOps loop rehearsed offline: train → package → serve → capture → drift.

Every step is the shipped code, run the way its job runs it: preprocess, train and evaluate as
``python -m mlops_runtime.training.<step>`` subprocesses (the image's package layout, SageMaker's
paths mapped to a temporary folder), the model packed as SageMaker packs ``/opt/ml/model``,
served by the real model server on 127.0.0.1, and the drift job's own CLI building the baseline
from the training split's features and analyzing the traffic the server answered, written in
SageMaker's data-capture format (the server does not capture; the records are the actual
requests and responses). A test per joint: each fails when that joint breaks.

The deployed half of each joint is MLPipeline's definition as the app synthesizes it for dev
(config/dev.yaml): the ``test_definition_*`` tests check that its step arguments run the code
the rehearsal ran, on the outputs the rehearsal wrote, with the images that hold that code, and
that its gate and registration read what evaluate wrote and what the server answered.
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

from mlops_cdk.constructs import ContainerImage
from mlops_cdk.constructs.ml_pipeline.steps import metric_path
from mlops_cdk.runtime.training import common
from mlops_cdk.runtime.training.demo_data import FEATURE_NAMES, SEED, make_data
from mlops_cdk.runtime.training.evaluate import REPORT_FILE
from mlops_cdk.runtime.training.local import LocalPipeline, StepFailedError
from tests.helpers.apps import SynthesizedApp
from tests.helpers.images import asset_hash, image_tag
from tests.runtime.conftest import DEMO_MODEL_DIR, RUNTIME_DIR, Server, request, start_server

ENDPOINT, VARIANT, SCHEDULE = "churn", "AllTraffic", "rehearsal"
ROWS = 4000  # demo customers in the pipeline's input (3,200 train / 800 test)
TRAFFIC = 500  # rows per traffic sample, sent 50 per request
SHIFT = {"tenure_months": -1.0, "support_calls": 1.0}  # standard deviations
#: A floor for the test split's accuracy (the demo data's Bayes-optimal accuracy is about 0.80,
#: see the training docs); the pipeline's own gate is checked against its definition below.
GATE_METRIC, GATE_FLOOR = "accuracy", 0.75
#: The media types of every request the rehearsal sends (Content-Type) and asks back (Accept).
CSV, JSON = "text/csv", "application/json"
SENT_TYPES = ACCEPTED_TYPES = (CSV, JSON)


def json_get(document: Any, path: str) -> Any:
    """Resolve a dotted path the way the pipeline's ``Std:JsonGet`` does."""
    found = document
    for part in path.split("."):
        if not isinstance(found, dict) or part not in found:
            raise AssertionError(f"no {path!r} (stopped at {part!r} in {found!r:.120})")
        found = found[part]
    return found


@dataclass
class Definition:
    """MLPipeline's definition for dev, tokens resolved: its steps by name, and the defaults of
    its parameters."""

    steps: dict[str, dict[str, Any]]
    parameters: dict[str, Any]

    def arguments(self, step: str) -> dict[str, Any]:
        arguments: dict[str, Any] = self.steps[step]["Arguments"]
        return arguments

    def inputs(self, step: str) -> dict[str, tuple[Any, str]]:
        """Processing inputs: name -> (S3 URI, local path)."""
        return {
            i["InputName"]: (i["S3Input"]["S3Uri"], i["S3Input"]["LocalPath"])
            for i in self.arguments(step)["ProcessingInputs"]
        }

    def outputs(self, step: str) -> dict[str, str]:
        """Processing outputs: name -> local path."""
        return {
            o["OutputName"]: o["S3Output"]["LocalPath"]
            for o in self.arguments(step)["ProcessingOutputConfig"]["Outputs"]
        }


def output_of(step: str, name: str) -> dict[str, str]:
    """The run-time S3 URI of a processing step's output, as a later step reads it."""
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"}


ARTIFACTS = {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


@pytest.fixture(scope="module")
def definition(synthesized_app: SynthesizedApp) -> Definition:
    """The dev environment's MLPipeline definition, as the app synthesizes it."""
    stage = synthesized_app.stages["dev"]
    pipeline = stage.training.pipeline
    assert pipeline is not None
    resolved = stage.training.resolve(pipeline.definition)
    steps: dict[str, dict[str, Any]] = {}
    pending = list(resolved["Steps"])
    while pending:
        step = pending.pop(0)
        steps[step["Name"]] = step
        if step["Type"] == "Condition":
            pending += step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"]
    parameters = {p["Name"]: p["DefaultValue"] for p in resolved["Parameters"]}
    return Definition(steps, parameters)


@dataclass
class Rehearsal:
    """The artifacts of one run of the loop."""

    pipeline: LocalPipeline
    served_model: Path
    evaluation: dict[str, Any]
    seconds: dict[str, float]


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory, definition: Definition) -> Rehearsal:
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
    # Exactly what the Train step passes (none for dev: train's defaults).
    step("train", pipeline.train, definition.arguments("Train").get("HyperParameters", {}))
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
    # The model-quality baseline in Model Monitor's format, by the drift job's code.
    statistics = json.loads((rehearsal.pipeline.evaluation / "statistics.json").read_text())
    monitored = statistics["binary_classification_metrics"]
    assert monitored["auc"]["value"] == pytest.approx(quality["auc"]["value"], abs=1e-9)
    assert monitored["confusion_matrix"] == matrix
    constraints = json.loads((rehearsal.pipeline.evaluation / "constraints.json").read_text())
    auc = constraints["binary_classification_constraints"]["auc"]
    assert auc == {
        "threshold": pytest.approx(monitored["auc"]["value"] - 0.05),
        "comparison_operator": "LessThanThreshold",
    }


def test_the_drift_baseline_describes_exactly_the_request_columns(rehearsal: Rehearsal) -> None:
    constraints = json.loads((rehearsal.pipeline.baseline / "constraints.json").read_text())
    assert [f["name"] for f in constraints["features"]] == list(FEATURE_NAMES)
    statistics = json.loads((rehearsal.pipeline.baseline / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == ROWS - ROWS // 5


def test_endpoint_serves_the_models_sample_requests(rehearsal: Rehearsal, endpoint: Server) -> None:
    model = rehearsal.served_model
    as_json = request(
        endpoint.port, "POST", "/invocations", (model / "sample_request.json").read_bytes(),
        {"Content-Type": JSON, "Accept": JSON},
    )  # fmt: skip
    as_csv = request(
        endpoint.port, "POST", "/invocations", (model / "sample_request.csv").read_bytes(),
        {"Content-Type": CSV, "Accept": CSV},
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
            content_type = JSON
        else:
            body = "".join(",".join(map(str, row)) + "\n" for row in chunk).encode()
            content_type = CSV
        moment = datetime.now(UTC)
        reply = request(
            port, "POST", "/invocations", body, {"Content-Type": content_type, "Accept": CSV}
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


# --- the pipeline definition runs what the rehearsal ran -------------------------------------


def test_definition_preprocess_runs_the_module_on_the_paths_it_writes(
    definition: Definition, rehearsal: Rehearsal
) -> None:
    app = definition.arguments("Preprocess")["AppSpecification"]
    module = f"{rehearsal.pipeline.package}.training.preprocess"  # what the rehearsal ran
    assert app["ContainerEntrypoint"] == ["python3", "-m", module]
    assert image_tag(app["ImageUri"]) == asset_hash(ContainerImage.training())
    # No flags: the module's defaults are SageMaker's paths, which must be the step's.
    assert definition.inputs("Preprocess") == {
        "input": ({"Get": "Parameters.InputDataUrl"}, str(common.PROCESSING_DATA))
    }
    assert definition.outputs("Preprocess") == {
        "train": str(common.PROCESSING_TRAIN),
        "test": str(common.PROCESSING_TEST),
        "features": str(common.PROCESSING_FEATURES),
    }
    # ... and the rehearsal's preprocess wrote each of them.
    local = rehearsal.pipeline
    for folder in (local.train_split, local.test_split, local.features):
        assert len(list(folder.glob("*.csv"))) == 1, folder


def test_definition_trains_the_train_split_in_the_training_image(
    definition: Definition,
) -> None:
    train = definition.arguments("Train")
    assert image_tag(train["AlgorithmSpecification"]["TrainingImage"]) == asset_hash(
        ContainerImage.training()
    )
    (channel,) = train["InputDataConfig"]
    # SageMaker mounts a channel at /opt/ml/input/data/<name>: train's default input.
    assert f"/opt/ml/input/data/{channel['ChannelName']}" == str(common.TRAINING_CHANNEL)
    assert channel["DataSource"]["S3DataSource"]["S3Uri"] == output_of("Preprocess", "train")
    assert train["EnableNetworkIsolation"] is True  # everything train needs is in the image


def test_definition_evaluates_the_model_artifact_on_the_test_split(
    definition: Definition, rehearsal: Rehearsal
) -> None:
    app = definition.arguments("Evaluate")["AppSpecification"]
    assert app["ContainerEntrypoint"] == [
        "python3", "-m", f"{rehearsal.pipeline.package}.training.evaluate"
    ]  # fmt: skip
    assert image_tag(app["ImageUri"]) == asset_hash(ContainerImage.training())
    assert definition.inputs("Evaluate") == {
        "model": (ARTIFACTS, str(common.PROCESSING_MODEL)),
        "test": (output_of("Preprocess", "test"), str(common.PROCESSING_TEST)),
    }
    assert definition.outputs("Evaluate") == {"evaluation": str(common.PROCESSING_EVALUATION)}
    (report,) = definition.steps["Evaluate"]["PropertyFiles"]
    assert report == {
        "PropertyFileName": "EvaluationReport", "OutputName": "evaluation", "FilePath": REPORT_FILE
    }  # fmt: skip
    assert (rehearsal.pipeline.evaluation / report["FilePath"]).is_file()


def test_definition_gate_reads_what_evaluate_wrote_and_the_model_passes(
    definition: Definition, rehearsal: Rehearsal
) -> None:
    (condition,) = definition.arguments("CheckMetric")["Conditions"]
    read = condition["LeftValue"]["Std:JsonGet"]
    assert read["PropertyFile"] == {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
    assert condition["RightValue"] == {"Get": "Parameters.MetricThreshold"}
    assert condition["Type"] == "GreaterThanOrEqualTo"
    value = json_get(rehearsal.evaluation, read["Path"])
    # The shipped gate passes the trained model on the demo data.
    assert value >= definition.parameters["MetricThreshold"], (read["Path"], value)


def test_definition_baselines_the_features_the_rehearsal_baselined(
    definition: Definition, rehearsal: Rehearsal
) -> None:
    command = definition.arguments("DriftBaseline")["AppSpecification"]["ContainerEntrypoint"]
    assert command[:4] == ["python", "-m", f"{rehearsal.pipeline.package}.drift", "baseline"]
    options = dict(zip(command[4::2], command[5::2], strict=True))
    (uri, local) = definition.inputs("DriftBaseline")["features"]
    assert uri == output_of("Preprocess", "features")
    # The same file of the features output the rehearsal built its baseline from.
    assert options["--train"] == f"{local}/train.csv"
    assert (rehearsal.pipeline.features / "train.csv").is_file()
    assert definition.outputs("DriftBaseline") == {"baseline": options["--out"]}
    registered = definition.arguments("Register")["DriftCheckBaselines"]["ModelDataQuality"]
    for name, entry in registered.items():
        file = f"{name.lower()}.json"
        assert entry["S3Uri"] == {
            "Std:Join": {"On": "/", "Values": [output_of("DriftBaseline", "baseline"), file]}
        }
        assert (rehearsal.pipeline.baseline / file).is_file()


def _body(rows: list[list[float]], content_type: str) -> bytes:
    if content_type == CSV:
        return "".join(",".join(map(str, row)) + "\n" for row in rows).encode()
    if content_type == "application/jsonlines":
        return "".join(json.dumps(row) + "\n" for row in rows).encode()
    return json.dumps({"instances": rows}).encode()


def test_definition_registers_the_artifact_with_the_server_and_the_types_it_answers(
    definition: Definition, rehearsal: Rehearsal, endpoint: Server
) -> None:
    register = definition.arguments("Register")
    specification = register["InferenceSpecification"]
    (container,) = specification["Containers"]
    assert image_tag(container["Image"]) == asset_hash(ContainerImage.model_server())
    assert container["ModelDataUrl"] == ARTIFACTS
    quality = register["ModelMetrics"]["ModelQuality"]
    assert register["DriftCheckBaselines"]["ModelQuality"] == quality
    for kind, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
        assert quality[kind]["S3Uri"] == {
            "Std:Join": {"On": "/", "Values": [output_of("Evaluate", "evaluation"), name]}
        }
        # evaluate wrote the file the package points at.
        assert (rehearsal.pipeline.evaluation / name).is_file()
    requests, responses = (
        specification["SupportedContentTypes"],
        specification["SupportedResponseMIMETypes"],
    )
    assert set(SENT_TYPES) <= set(requests)
    assert set(ACCEPTED_TYPES) <= set(responses)
    # Every type the package declares, the server reads and answers.
    rows = json.loads((rehearsal.served_model / "sample_request.json").read_text())["instances"]
    for sent in requests:
        reply = request(
            endpoint.port, "POST", "/invocations", _body(rows, sent), {"Content-Type": sent}
        )
        assert reply.status == 200, (sent, reply.body)
    for accepted in responses:
        reply = request(
            endpoint.port, "POST", "/invocations", _body(rows, CSV),
            {"Content-Type": CSV, "Accept": accepted},
        )  # fmt: skip
        assert reply.status == 200, (accepted, reply.body)
        assert reply.headers["content-type"].split(";")[0] == accepted
