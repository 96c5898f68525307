"""Multi-model mode: SageMaker's custom multi-model container contract on a real server.

Models are directories under a temporary ``MLOPS_MULTI_MODEL_ROOT`` laid out as SageMaker lays
them (``<root>/<model_name>/model``), each holding the demo ONNX model; a ``padding.bin`` makes a
model's artifact (and so its memory estimate) as large as a test needs.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from .conftest import DEMO_MODEL_DIR, SAMPLE_ROW, Server, request, start_server, wait_for_ping

JSON_HEADERS = {"Content-Type": "application/json"}
ROW = json.dumps({"instances": [SAMPLE_ROW]}).encode()
ServerFactory = Callable[..., Server]
MIB = 1024 * 1024


def make_model(root: Path, name: str, padding: int = 0) -> str:
    """``<root>/<name>/model`` with the demo model (and ``padding`` extra bytes); its url."""
    directory = root / name / "model"
    directory.mkdir(parents=True)
    shutil.copy(DEMO_MODEL_DIR / "model.onnx", directory / "model.onnx")
    if padding:
        (directory / "padding.bin").write_bytes(b"\0" * padding)
    return str(directory)


def load(port: int, name: str, url: str) -> int:
    body = json.dumps({"model_name": name, "url": url}).encode()
    return request(port, "POST", "/models", body, JSON_HEADERS).status


def score(port: int, name: str) -> tuple[int, str]:
    reply = request(
        port,
        "POST",
        f"/models/{name}/invoke",
        ROW,
        {**JSON_HEADERS, "X-Amzn-SageMaker-Target-Model": f"{name}.tar.gz"},
    )
    return reply.status, reply.headers.get("x-model-cache", "")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    return models


def mme(factory: ServerFactory, root: Path, **env: str) -> Server:
    env = {"MLOPS_MULTI_MODEL": "true", "MLOPS_MULTI_MODEL_ROOT": str(root), **env}
    server = factory(wait_ready=False, **env)
    wait_for_ping(server, 200)
    return server


def test_load_invoke_get_list_unload(server_factory: ServerFactory, root: Path) -> None:
    server = mme(server_factory, root)
    url = make_model(root, "churn-a")
    assert load(server.port, "churn-a", url) == 200
    reply = request(server.port, "POST", "/models/churn-a/invoke", ROW, JSON_HEADERS)
    assert reply.status == 200, reply.body
    assert isinstance(reply.json, dict)
    single = request(server.port, "POST", "/invocations", ROW, JSON_HEADERS)
    assert single.status == 400  # no single model here: a target is required
    target = request(
        server.port,
        "POST",
        "/invocations",
        ROW,
        {**JSON_HEADERS, "X-Amzn-SageMaker-Target-Model": "churn-a"},
    )
    assert target.status == 200
    assert target.json == reply.json
    described = request(server.port, "GET", "/models/churn-a")
    assert described.json == {"modelName": "churn-a", "modelUrl": url}
    listed = request(server.port, "GET", "/models")
    assert listed.json == {"models": [{"modelName": "churn-a", "modelUrl": url}]}
    assert load(server.port, "churn-a", url) == 409
    assert request(server.port, "DELETE", "/models/churn-a").status == 200
    assert request(server.port, "DELETE", "/models/churn-a").status == 404
    assert request(server.port, "GET", "/models/churn-a").status == 404
    assert score(server.port, "churn-a")[0] == 404
    assert request(server.port, "GET", "/models").json == {"models": []}


def test_two_models_score_independently(server_factory: ServerFactory, root: Path) -> None:
    """Two different models behind one container give their own answers."""
    server = mme(server_factory, root)
    for name, factor in (("a", 1.0), ("b", 2.0)):
        directory = root / name / "model"
        directory.mkdir(parents=True)
        (directory / "model.onnx").write_bytes(scaled_model(factor))
        assert load(server.port, name, str(directory)) == 200
    a = request(server.port, "POST", "/models/a/invoke", ROW, JSON_HEADERS).json
    b = request(server.port, "POST", "/models/b/invoke", ROW, JSON_HEADERS).json
    assert isinstance(a, dict)
    assert isinstance(b, dict)
    np.testing.assert_allclose(np.ravel(a["predictions"]), [sum(SAMPLE_ROW)], rtol=1e-5)
    np.testing.assert_allclose(np.ravel(b["predictions"]), [2 * sum(SAMPLE_ROW)], rtol=1e-5)


def scaled_model(factor: float) -> bytes:
    """A one-node ONNX model: features [N, 8] -> sum(features) * factor."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("ReduceSum", ["features", "axes"], ["s"], keepdims=1),
            helper.make_node("Mul", ["s", "k"], ["score"]),
        ],
        "scaled",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
            numpy_helper.from_array(np.array([factor], dtype=np.float32), "k"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    assert onnx is not None
    return data


def test_load_reaches_every_worker(server_factory: ServerFactory, root: Path) -> None:
    """SageMaker sends a load once; every worker must then serve (and unload) the model."""
    server = mme(server_factory, root, MLOPS_WORKERS="2")
    for index in range(4):
        assert load(server.port, f"m{index}", make_model(root, f"m{index}")) == 200
    # Fresh connections spread over both workers (the accept balancer); every one must score.
    statuses = [score(server.port, f"m{i % 4}")[0] for i in range(40)]
    assert statuses == [200] * 40
    pids = set(re.findall(r'"pid": (\d+)', server.logs()))
    loaded_by = {
        json.loads(line)["pid"]
        for line in server.logs().splitlines()
        if '"msg": "model loaded"' in line
    }
    assert len(loaded_by) == 2, f"one worker served everything: {pids}"
    assert request(server.port, "DELETE", "/models/m0").status == 200
    assert [score(server.port, "m0")[0] for _ in range(20)] == [404] * 20


def test_list_paginates(server_factory: ServerFactory, root: Path) -> None:
    server = mme(server_factory, root, MLOPS_MODELS_PAGE_SIZE="2")
    names = [f"model-{i}" for i in range(5)]
    for name in names:
        assert load(server.port, name, make_model(root, name)) == 200
    seen: list[str] = []
    path = "/models"
    for _ in range(5):
        page = request(server.port, "GET", path).json
        assert isinstance(page, dict)
        seen += [m["modelName"] for m in page["models"]]
        if "nextPageToken" not in page:
            break
        path = f"/models?next_page_token={page['nextPageToken']}"
    assert seen == names
    assert request(server.port, "GET", "/models?next_page_token=%%%").status == 400


def test_lru_eviction_under_the_memory_bound(server_factory: ServerFactory, root: Path) -> None:
    """Each model is estimated at 3 x 1 MiB + 256 KiB; a 7 MiB bound holds two of them."""
    server = mme(server_factory, root, MLOPS_MODEL_CACHE_MAX_BYTES=str(7 * MIB))
    for name in ("a", "b", "c"):
        assert load(server.port, name, make_model(root, name, padding=MIB)) == 200
    # Loading c evicted a, the least recently used; it stays loaded as far as SageMaker knows.
    assert '"model_name": "a"' in _evictions(server)
    assert score(server.port, "c") == (200, "hit")
    assert score(server.port, "b") == (200, "hit")
    assert score(server.port, "a") == (200, "miss")  # reloaded; evicts c, now least recent
    assert '"model_name": "c"' in _evictions(server)
    assert score(server.port, "b") == (200, "hit")
    listed = request(server.port, "GET", "/models").json
    assert isinstance(listed, dict)
    assert len(listed["models"]) == 3


def _evictions(server: Server) -> str:
    return "\n".join(line for line in server.logs().splitlines() if "model evicted" in line)


def test_model_larger_than_the_bound_is_507(server_factory: ServerFactory, root: Path) -> None:
    server = mme(server_factory, root, MLOPS_MODEL_CACHE_MAX_BYTES=str(2 * MIB))
    reply_status = load(server.port, "big", make_model(root, "big", padding=MIB))
    assert reply_status == 507
    assert request(server.port, "GET", "/models/big").status == 404  # not registered


def test_concurrent_requests(server_factory: ServerFactory, root: Path) -> None:
    server = mme(server_factory, root, MLOPS_WORKERS="2")
    for index in range(3):
        assert load(server.port, f"m{index}", make_model(root, f"m{index}")) == 200
    results: list[int] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        for round_ in range(10):
            status, _ = score(server.port, f"m{(index + round_) % 3}")
            with lock:
                results.append(status)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [200] * 80


def test_concurrent_duplicate_loads_one_wins(server_factory: ServerFactory, root: Path) -> None:
    server = mme(server_factory, root, MLOPS_WORKERS="2")
    url = make_model(root, "dup")
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(load(server.port, "dup", url)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] + [409] * 5


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """One 2-worker multi-model server over a root with traps beside it, for bad input."""
    tmp = tmp_path_factory.mktemp("mme")
    root = tmp / "models"
    root.mkdir()
    outside = tmp / "outside"
    outside.mkdir()
    shutil.copy(DEMO_MODEL_DIR / "model.onnx", outside / "model.onnx")
    (root / "link").symlink_to(outside)
    (root / "empty").mkdir()
    make_model(root, "m")
    env = {"MLOPS_MULTI_MODEL": "true", "MLOPS_MULTI_MODEL_ROOT": str(root), "MLOPS_WORKERS": "2"}
    server = start_server(tmp, wait_ready=False, **env)
    wait_for_ping(server, 200)
    yield server, root
    server.stop()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "bad_json"),
        (b"[1]", 400, "bad_json"),
        (json.dumps({"url": "/x"}).encode(), 400, "bad_model_name"),
        (json.dumps({"model_name": "..", "url": "{root}/m/model"}).encode(), 400, "bad_model_name"),
        (
            json.dumps({"model_name": "a/b", "url": "{root}/m/model"}).encode(),
            400,
            "bad_model_name",
        ),
        (json.dumps({"model_name": "ok", "url": "relative/model"}).encode(), 400, "bad_model_url"),
        (json.dumps({"model_name": "ok", "url": "/etc"}).encode(), 400, "model_url_outside_root"),
        (
            json.dumps({"model_name": "ok", "url": "{root}/../outside"}).encode(),
            400,
            "model_url_outside_root",
        ),
        (
            json.dumps({"model_name": "ok", "url": "{root}/link"}).encode(),
            400,
            "model_url_outside_root",
        ),
        (
            json.dumps({"model_name": "ok", "url": "{root}/missing"}).encode(),
            404,
            "model_url_not_found",
        ),
        (
            json.dumps({"model_name": "ok", "url": "{root}/empty"}).encode(),
            400,
            "model_load_failed",
        ),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-name",
        "dotdot-name",
        "slash-name",
        "relative-url",
        "url-outside-root",
        "url-traversal",
        "symlink-out",
        "missing-dir",
        "no-model-in-dir",
    ],
)
def test_bad_loads(shared: tuple[Server, Path], body: bytes, status: int, code: str) -> None:
    server, root = shared
    reply = request(
        server.port, "POST", "/models", body.replace(b"{root}", str(root).encode()), JSON_HEADERS
    )
    assert reply.status == status, reply.body
    assert isinstance(reply.json, dict)
    assert reply.json["error"]["code"] == code
    assert request(server.port, "GET", "/models").json == {"models": []}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/models/unknown/invoke", 404),
        ("GET", "/models/unknown", 404),
        ("DELETE", "/models/unknown", 404),
        ("GET", "/models/a/b/c", 404),
        ("GET", "/models/a/predict", 404),
        ("GET", "/models/", 400),
        ("PUT", "/models", 405),
        ("GET", "/models/m/invoke", 405),
        ("POST", "/models/m", 405),
        ("GET", "/models/%2e%2e", 400),
        ("GET", "/models/a%2Fb", 400),
    ],
)
def test_bad_paths(shared: tuple[Server, Path], method: str, path: str, status: int) -> None:
    server, _ = shared
    body = b"{}" if method in ("POST", "PUT") else None
    reply = request(server.port, method, path, body, JSON_HEADERS)
    assert reply.status == status, reply.body


def test_single_model_mode_has_no_models_routes(server: Server) -> None:
    assert request(server.port, "GET", "/models").status == 404


def test_reload_under_the_same_name_serves_the_new_model(
    server_factory: ServerFactory, root: Path
) -> None:
    """Unload, new contents at the same url, load again (both on one connection, so one worker
    sees them and the other sees only the result): no worker keeps the old session."""
    server = mme(server_factory, root, MLOPS_WORKERS="2")
    directory = root / "x" / "model"
    directory.mkdir(parents=True)
    admin = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = json.dumps({"model_name": "x", "url": str(directory)}).encode()
    for factor in (1.0, 2.0, 3.0):
        (directory / "model.onnx").write_bytes(scaled_model(factor))
        admin.request("DELETE", "/models/x")
        admin.getresponse().read()
        admin.request("POST", "/models", body, JSON_HEADERS)
        loaded = admin.getresponse()
        loaded.read()
        assert loaded.status == 200
        for _ in range(12):  # new connections: both workers serve (and cache) it
            reply = request(server.port, "POST", "/models/x/invoke", ROW, JSON_HEADERS)
            assert isinstance(reply.json, dict)
            assert np.ravel(reply.json["predictions"])[0] == pytest.approx(
                factor * sum(SAMPLE_ROW), rel=1e-5
            )
    admin.close()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MLOPS_MULTI_MODEL": "maybe"}, "MLOPS_MULTI_MODEL must be true or false"),
        ({"MLOPS_MODEL_CACHE_MAX_BYTES": "0"}, "MLOPS_MODEL_CACHE_MAX_BYTES must be >= 1"),
        ({"MLOPS_MODEL_CACHE_MAX_BYTES": "1GB"}, "MLOPS_MODEL_CACHE_MAX_BYTES must be an integer"),
        ({"MLOPS_MODEL_MEMORY_FACTOR": "-1"}, "MLOPS_MODEL_MEMORY_FACTOR must be > 0"),
        ({"MLOPS_MODELS_PAGE_SIZE": "0"}, "MLOPS_MODELS_PAGE_SIZE must be >= 1"),
    ],
)
def test_bad_settings(env: dict[str, str], message: str) -> None:
    from mlops_runtime.settings import Settings

    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_settings() -> None:
    from mlops_runtime.settings import Settings

    settings = Settings.from_env(
        {
            "SAGEMAKER_MULTI_MODEL": "true",
            "MLOPS_MODEL_CACHE_MAX_BYTES": "1048576",
            "MLOPS_MULTI_MODEL_ROOT": "/models",
        }
    )
    assert settings.multi_model
    assert settings.model_cache_max_bytes == 1048576
    assert settings.models_root == Path("/models")
    assert not Settings.from_env({}).multi_model
