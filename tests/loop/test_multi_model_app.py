"""Two models on one multi-model endpoint, from the synthesized app to answered requests.

The app: one RealtimeEndpoint in multi-model mode over ``s3://<bucket>/tenants/``. What SageMaker
does with it is emulated offline and in its documented order (custom multi-model container
contract): for each ``TargetModel`` (a ``.tar.gz`` under the prefix) it unpacks the archive to
``/opt/ml/models/<model_name>/model`` (``model_name`` is opaque: a hash here), sends
``POST /models`` once, then ``POST /models/<model_name>/invoke`` with the caller's TargetModel in
``X-Amzn-SageMaker-Target-Model``. The container runs with the environment the template gives
it, so the joint between the construct and the runtime is tested, not assumed.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs import ContainerImage, MultiModel, RealtimeEndpoint
from tests.helpers.apps import unit_app, unit_stack
from tests.runtime.conftest import SAMPLE_ROW, Server, request, start_server, wait_for_ping
from tests.runtime.test_multi_model import scaled_model

TARGETS = {"churn-eu.tar.gz": 1.0, "churn-us.tar.gz": 2.0}  # TargetModel -> the model's factor


@pytest.fixture(scope="module")
def container() -> dict[str, Any]:
    """The SageMaker model's primary container as the app synthesizes it."""
    stack = unit_stack(unit_app())
    RealtimeEndpoint(
        stack,
        "Tenants",
        image=ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/mme:1"),
        multi_model=MultiModel(bucket=s3.Bucket(stack, "Models"), prefix="tenants"),
    )
    (model,) = Template.from_stack(stack).find_resources("AWS::SageMaker::Model").values()
    primary: dict[str, Any] = model["Properties"]["PrimaryContainer"]
    return primary


def archive(factor: float) -> bytes:
    """A model.tar.gz as a training job writes it: ``model.onnx`` at the top."""
    onnx = scaled_model(factor)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = len(onnx)
        tar.addfile(info, io.BytesIO(onnx))
    return buffer.getvalue()


def model_name(target: str) -> str:
    return hashlib.sha256(target.encode()).hexdigest()[:32]


@pytest.fixture(scope="module")
def endpoint(
    container: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    """The container, started with the template's environment, and SageMaker's model root."""
    tmp = tmp_path_factory.mktemp("mme-app")
    root = tmp / "opt-ml-models"
    root.mkdir()
    env = {**container["Environment"], "MLOPS_MULTI_MODEL_ROOT": str(root), "MLOPS_WORKERS": "2"}
    server = start_server(tmp, wait_ready=False, **env)
    wait_for_ping(server, 200)
    yield server, root
    server.stop()


def test_the_container_is_a_multi_model_one(container: dict[str, Any]) -> None:
    assert container["Mode"] == "MultiModel"
    assert container["ModelDataUrl"]["Fn::Join"][1][-1] == "/tenants/"
    assert container["Environment"]["MLOPS_MULTI_MODEL"] == "true"


def test_two_models_behind_one_endpoint(endpoint: tuple[Server, Path]) -> None:
    server, root = endpoint
    for target in TARGETS:  # what SageMaker does on the first request for each TargetModel
        directory = root / model_name(target) / "model"
        directory.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive(TARGETS[target])), mode="r:gz") as tar:
            tar.extractall(directory, filter="data")
        body = json.dumps({"model_name": model_name(target), "url": str(directory)}).encode()
        reply = request(server.port, "POST", "/models", body, {"Content-Type": "application/json"})
        assert reply.status == 200, reply.body
    rows = {"instances": [SAMPLE_ROW, [1.0] * 8]}
    for target, factor in TARGETS.items():
        reply = request(
            server.port,
            "POST",
            f"/models/{model_name(target)}/invoke",
            json.dumps(rows).encode(),
            {"Content-Type": "application/json", "X-Amzn-SageMaker-Target-Model": target},
        )
        assert reply.status == 200, reply.body
        assert isinstance(reply.json, dict)
        expected = [factor * sum(SAMPLE_ROW), factor * 8.0]
        np.testing.assert_allclose(np.ravel(reply.json["predictions"]), expected, rtol=1e-5)
    listed = request(server.port, "GET", "/models").json
    assert isinstance(listed, dict)
    assert sorted(m["modelName"] for m in listed["models"]) == sorted(map(model_name, TARGETS))
