"""Model server start-up, health, failure handling and graceful shutdown, on real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    SAMPLE_ROW,
    Server,
    free_port,
    request,
    runtime_env,
    wait_for_ping,
)

ServerFactory = Callable[..., Server]
BODY = json.dumps(SAMPLE_ROW).encode()
REQUEST = (
    b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n"
)


def log_lines(server: Server) -> list[dict[str, object]]:
    """The server's stdout, parsed as JSON lines (fails on any non-JSON line)."""
    return [json.loads(line) for line in server.logs().splitlines() if line.strip()]


def run_to_exit(tmp_path: Path, timeout: float = 15.0, **env: str) -> tuple[int, str]:
    """Run a server expected to exit by itself; returns (exit code, output)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_runtime", "serve"],
        env=runtime_env(free_port(), **env),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout.decode()


def test_ping_is_503_until_the_model_is_loaded(server_factory: ServerFactory) -> None:
    server = server_factory(
        wait_ready=False,
        MLOPS_PREDICTOR="tests.runtime.plugins:SlowPredictor",
        MLOPS_TEST_LOAD_DELAY="1.5",
    )
    wait_for_ping(server, 503, timeout=5)
    reply = request(server.port, "POST", "/invocations", BODY, {"Content-Type": "application/json"})
    assert reply.status == 503
    assert isinstance(reply.json, dict)
    assert reply.json["error"]["code"] == "model_not_ready"
    wait_for_ping(server, 200, timeout=10)
    assert request(server.port, "POST", "/invocations", BODY).status == 200


def test_sigterm_finishes_in_flight_requests_and_exits_0(server_factory: ServerFactory) -> None:
    server = server_factory(
        MLOPS_PREDICTOR="tests.runtime.plugins:SlowPredictor", MLOPS_TEST_PREDICT_DELAY="1.0"
    )
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as busy,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as partial,
    ):
        partial.sendall(REQUEST + BODY[:10])  # head and part of the body
        time.sleep(0.2)
        busy.sendall(REQUEST + BODY)  # the worker is now inside a 1 s prediction
        time.sleep(0.5)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        partial.sendall(BODY[10:])  # the rest of the body arrives after SIGTERM
        for sock in (busy, partial):
            response = b""
            while b'"predictions"' not in response:
                chunk = sock.recv(65536)
                assert chunk, f"connection closed early: {response!r}"
                response += chunk
            assert response.startswith(b"HTTP/1.1 200 OK")
        assert partial.recv(1) == b""  # closed after its response: the server is draining
    assert server.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    with pytest.raises(ConnectionRefusedError):  # no longer listening
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    assert any(line.get("msg") == "stopped" for line in log_lines(server))


def test_unexpected_error_is_500_with_request_id_and_logged(server_factory: ServerFactory) -> None:
    server = server_factory(MLOPS_PREDICTOR="tests.runtime.plugins:ExplodingPredictor")
    body = json.dumps([666, *SAMPLE_ROW[1:]]).encode()
    reply = request(server.port, "POST", "/invocations", body, {"Content-Type": "application/json"})
    assert reply.status == 500
    assert isinstance(reply.json, dict)
    error = reply.json["error"]
    assert error["code"] == "internal_error"
    assert "secret" not in reply.body.decode()  # internals stay in the logs
    request_id = error["request_id"]
    assert request_id == reply.headers["x-request-id"]
    assert request(server.port, "POST", "/invocations", BODY).status == 200  # worker survived
    server.stop()
    logged = [line for line in log_lines(server) if line.get("request_id") == request_id]
    assert len(logged) == 1
    assert logged[0]["level"] == "ERROR"
    assert "boom: secret internal detail" in str(logged[0]["exc"])


def wait_for_log(
    server: Server, msg: str, count: int, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Poll the server's log until ``count`` lines carry ``msg``; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [line for line in log_lines(server) if line.get("msg") == msg]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_crashed_worker_is_replaced(server_factory: ServerFactory) -> None:
    server = server_factory(MLOPS_WORKERS="2")
    worker_pids = {line["pid"] for line in wait_for_log(server, "model loaded", 2)}
    assert len(worker_pids) == 2
    victim = int(str(next(iter(worker_pids))))
    os.kill(victim, signal.SIGKILL)
    loaded = wait_for_log(server, "model loaded", 3)
    assert len(loaded) == 3
    assert loaded[-1]["pid"] not in worker_pids  # a new process
    (restart,) = wait_for_log(server, "worker exited; restarting it", 1)
    assert restart["worker_pid"] == victim
    assert restart["code"] == -signal.SIGKILL
    for _ in range(4):
        assert request(server.port, "POST", "/invocations", BODY).status == 200


def test_sagemaker_bind_to_port_wins_over_port(tmp_path: Path) -> None:
    port = free_port()
    env = runtime_env(free_port(), SAGEMAKER_BIND_TO_PORT=str(port))
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlops_runtime"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(proc, port, log_path)
    try:
        wait_for_ping(server, 200)
    finally:
        assert server.stop() == 0


def test_sha256_is_verified(tmp_path: Path, server_factory: ServerFactory) -> None:
    from mlops_runtime.model_source import sha256_of

    from .conftest import DEMO_MODEL_DIR

    good = sha256_of(DEMO_MODEL_DIR / "model.onnx")
    server_factory(MLOPS_MODEL_SHA256=good)  # starts and answers /ping 200
    code, output = run_to_exit(tmp_path, MLOPS_MODEL_SHA256="0" * 64)
    assert code == 1
    assert "failed verification" in output


@pytest.mark.parametrize(
    ("env", "code", "needle"),
    [
        ({"MLOPS_MODEL_DIR": "/nonexistent/model"}, 1, "does not exist"),
        ({"MLOPS_PREDICTOR": "tests.runtime.plugins:NotAPredictor"}, 1, "Predictor protocol"),
        ({"MLOPS_PREDICTOR": "no.such.module:Thing"}, 1, "cannot import predictor"),
        ({"MLOPS_WORKERS": "zero"}, 2, "MLOPS_WORKERS must be an integer"),
        ({"MLOPS_MODEL_S3_URI": "https://example.com/m.onnx"}, 2, "must start with s3://"),
    ],
    ids=["missing-model", "not-a-predictor", "bad-import", "bad-workers", "bad-s3-uri"],
)
def test_fatal_configuration_exits_non_zero(
    tmp_path: Path, env: dict[str, str], code: int, needle: str
) -> None:
    exit_code, output = run_to_exit(tmp_path, 15.0, **env)
    assert exit_code == code
    assert needle in output
    for line in output.splitlines():  # structured logs only
        assert isinstance(json.loads(line), dict)


def test_corrupt_model_stops_the_server(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.onnx").write_bytes(b"this is not an onnx model")
    exit_code, output = run_to_exit(tmp_path, MLOPS_MODEL_DIR=str(model_dir))
    assert exit_code == 1
    assert "could not load the model" in output


def test_port_in_use_is_a_clean_failure(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "mlops_runtime"],
            env=runtime_env(port),
            capture_output=True,
            timeout=15,
            check=False,
        )
    assert proc.returncode == 1
    assert json.loads(proc.stdout.decode().splitlines()[-1])["msg"] == "cannot listen"
