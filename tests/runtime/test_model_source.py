"""Model download and verification, settings parsing, predictor loading and plug-ins."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from mlops_runtime.errors import ModelLoadError
from mlops_runtime.model_source import prepare_model
from mlops_runtime.predictor import OnnxPredictor, Predictor, create_predictor, load_predictor
from mlops_runtime.settings import Settings
from onnx import TensorProto, helper

from .conftest import DEMO_MODEL_DIR, SAMPLE_ROW
from .fake_s3 import FakeS3, NoSuchKeyError

MODEL_BYTES = (DEMO_MODEL_DIR / "model.onnx").read_bytes()
MODEL_SHA = hashlib.sha256(MODEL_BYTES).hexdigest()


def s3_settings(tmp_path: Path, uri: str, **kw: object) -> Settings:
    return Settings(model_s3_uri=uri, download_dir=tmp_path / "dl", **kw)


def test_download_verifies_and_loads(tmp_path: Path) -> None:
    fake = FakeS3({("models", "churn/v3/model.onnx"): MODEL_BYTES})
    settings = s3_settings(tmp_path, "s3://models/churn/v3/model.onnx", model_sha256=MODEL_SHA)
    location = prepare_model(settings, lambda: fake)
    assert location == tmp_path / "dl"
    assert (location / "model.onnx").read_bytes() == MODEL_BYTES
    assert fake.calls == [("get_object", "models", "churn/v3/model.onnx")]
    assert list(location.iterdir()) == [location / "model.onnx"]  # no temp files left
    predictor = load_predictor(settings)
    assert predictor.n_features == 8


def test_download_of_a_tarball_is_unpacked(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = len(MODEL_BYTES)
        tar.addfile(info, io.BytesIO(MODEL_BYTES))
    fake = FakeS3({("models", "churn/model.tar.gz"): buf.getvalue()})
    settings = s3_settings(tmp_path, "s3://models/churn/model.tar.gz")
    location = prepare_model(settings, lambda: fake)
    assert sorted(p.name for p in location.iterdir()) == ["model.onnx"]


def test_tarball_is_recognised_by_content_not_key(tmp_path: Path) -> None:
    # CDK file assets keep only the last suffix: model.tar.gz is stored as <hash>.gz.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = len(MODEL_BYTES)
        tar.addfile(info, io.BytesIO(MODEL_BYTES))
    key = "0123abcd" * 8 + ".gz"
    fake = FakeS3({("cdk-assets", key): buf.getvalue()})
    location = prepare_model(s3_settings(tmp_path, f"s3://cdk-assets/{key}"), lambda: fake)
    assert sorted(p.name for p in location.iterdir()) == ["model.onnx"]
    assert (location / "model.onnx").read_bytes() == MODEL_BYTES


def test_gzip_that_is_not_a_tarball_fails_clearly(tmp_path: Path) -> None:

    fake = FakeS3({("models", "m.onnx"): gzip.compress(MODEL_BYTES)})
    with pytest.raises(ModelLoadError, match="cannot unpack"):
        prepare_model(s3_settings(tmp_path, "s3://models/m.onnx"), lambda: fake)


def test_tarball_escaping_the_directory_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../evil.onnx")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    fake = FakeS3({("models", "m.tar.gz"): buf.getvalue()})
    with pytest.raises(ModelLoadError, match="cannot unpack"):
        prepare_model(s3_settings(tmp_path, "s3://models/m.tar.gz"), lambda: fake)
    assert not (tmp_path / "evil.onnx").exists()


@pytest.mark.parametrize(
    ("objects", "uri", "sha", "match"),
    [
        ({("b", "m.onnx"): MODEL_BYTES}, "s3://b/m.onnx", "0" * 64, "failed verification"),
        ({("b", "m.onnx"): b""}, "s3://b/m.onnx", None, "is empty"),
        ({}, "s3://b/missing.onnx", None, "cannot download"),
        ({}, "s3://b/", None, "expected s3://bucket/key"),
    ],
    ids=["sha-mismatch", "empty", "missing", "prefix-not-object"],
)
def test_download_failures(
    tmp_path: Path,
    objects: dict[tuple[str, str], bytes],
    uri: str,
    sha: str | None,
    match: str,
) -> None:
    settings = s3_settings(tmp_path, uri, model_sha256=sha)
    with pytest.raises(ModelLoadError, match=match):
        prepare_model(settings, lambda: FakeS3(objects))
    assert not (tmp_path / "dl" / "model.onnx").exists()


def test_fake_raises_like_s3() -> None:
    with pytest.raises(NoSuchKeyError):
        FakeS3().get_object(Bucket="b", Key="k")


def test_local_model_checks(tmp_path: Path) -> None:
    assert prepare_model(Settings(model_dir=DEMO_MODEL_DIR, model_sha256=MODEL_SHA)) == (
        DEMO_MODEL_DIR
    )
    with pytest.raises(ModelLoadError, match="failed verification"):
        prepare_model(Settings(model_dir=DEMO_MODEL_DIR, model_sha256="f" * 64))
    (tmp_path / "model.onnx").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="is empty"):
        prepare_model(Settings(model_dir=tmp_path))


def test_settings_from_env() -> None:
    settings = Settings.from_env(
        {
            "SAGEMAKER_BIND_TO_PORT": "9000",
            "PORT": "7000",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "MLOPS_MAX_BODY_BYTES": "1024",
            "MLOPS_MODEL_S3_URI": "s3://b/k.onnx",
        }
    )
    assert (settings.port, settings.workers, settings.max_body_bytes) == (9000, 3, 1024)
    assert settings.model_location == settings.download_dir
    defaults = Settings.from_env({})
    assert defaults.port == 8080
    assert defaults.max_body_bytes == 6 * 1024 * 1024
    assert defaults.model_location == Path("/opt/ml/model")
    assert defaults.workers >= 1


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"PORT": "http"}, "PORT must be an integer"),
        ({"PORT": "70000"}, "port must be 0-65535"),
        ({"MLOPS_WORKERS": "0"}, "MLOPS_WORKERS must be >= 1"),
        ({"MLOPS_MODEL_SHA256": "abc"}, "64 lowercase hex"),
        ({"MLOPS_GRACEFUL_TIMEOUT": "-1"}, "must be > 0"),
        ({"MLOPS_LOG_LEVEL": "LOUD"}, "MLOPS_LOG_LEVEL"),
    ],
    ids=[
        "port-not-integer",
        "port-out-of-range",
        "zero-workers",
        "short-sha256",
        "negative-graceful-timeout",
        "unknown-log-level",
    ],
)
def test_settings_errors_name_the_variable(env: dict[str, str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Settings.from_env(env)


def test_onnx_predictor_matches_the_logistic_formula() -> None:
    predictor = OnnxPredictor()
    predictor.load(DEMO_MODEL_DIR)
    assert isinstance(predictor, Predictor)
    assert predictor.input_names == ["features"]
    model = onnx.load(str(DEMO_MODEL_DIR / "model.onnx"))
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    batch = np.array([SAMPLE_ROW, [0.0] * 8], dtype=np.float32)
    logits = batch.astype(np.float64) @ weights["W"].astype(np.float64) + weights["B"]
    np.testing.assert_allclose(predictor.predict(batch), 1 / (1 + np.exp(-logits)), rtol=1e-5)


def _write_model(path: Path, n_inputs: int, elem: int = TensorProto.FLOAT) -> None:
    inputs = [helper.make_tensor_value_info(f"x{i}", elem, [None, 2]) for i in range(n_inputs)]
    node = helper.make_node("Identity", ["x0"], ["y"])
    graph = helper.make_graph(
        [node], "g", inputs, [helper.make_tensor_value_info("y", elem, [None, 2])]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


def test_onnx_predictor_refuses_unsupported_models(tmp_path: Path) -> None:
    _write_model(tmp_path / "model.onnx", n_inputs=2)
    with pytest.raises(ModelLoadError, match="needs exactly one"):
        OnnxPredictor().load(tmp_path)
    _write_model(tmp_path / "model.onnx", n_inputs=1, elem=TensorProto.STRING)
    with pytest.raises(ModelLoadError, match="need a float"):
        OnnxPredictor().load(tmp_path)
    with pytest.raises(ModelLoadError, match="no ONNX model"):
        OnnxPredictor().load(tmp_path / "nowhere")


def test_onnx_predictor_finds_a_single_onnx_file(tmp_path: Path) -> None:
    (tmp_path / "churn-v7.onnx").write_bytes(MODEL_BYTES)
    predictor = OnnxPredictor()
    predictor.load(tmp_path)
    assert predictor.n_features == 8


def test_custom_predictor_by_dotted_path() -> None:
    settings = Settings(predictor="tests.runtime.plugins.SlowPredictor", model_dir=DEMO_MODEL_DIR)
    predictor = load_predictor(settings)
    assert type(predictor).__name__ == "SlowPredictor"
    assert predictor.predict(np.array([SAMPLE_ROW], dtype=np.float32)).shape == (1, 1)
    with pytest.raises(ModelLoadError, match="Predictor protocol"):
        create_predictor(Settings(predictor="tests.runtime.plugins:NotAPredictor"))
    with pytest.raises(ModelLoadError, match=re.escape("must look like 'package.module:Class'")):
        create_predictor(Settings(predictor="justaname"))
