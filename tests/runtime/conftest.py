"""Runtime test helpers: import the runtime as ``mlops_runtime`` (as in the images) and run servers.

The runtime folder is symlinked into a temporary directory as ``mlops_runtime`` and that
directory is put on ``sys.path`` (and on the servers' ``PYTHONPATH``), so these tests never
import ``mlops_cdk`` or aws_cdk.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNTIME_DIR = REPO / "mlops_cdk" / "runtime"
DEMO_MODEL_DIR = RUNTIME_DIR / "demo_model"

_IMPORT_ROOT = Path(tempfile.mkdtemp(prefix="mlops-runtime-"))
(_IMPORT_ROOT / "mlops_runtime").symlink_to(RUNTIME_DIR)
atexit.register(shutil.rmtree, _IMPORT_ROOT, ignore_errors=True)
if str(_IMPORT_ROOT) not in sys.path:
    sys.path.insert(0, str(_IMPORT_ROOT))

SAMPLE_ROW = [33.22, 86.37, 2.64, 13.09, 3.14, 0.23, 12.53, 2.97]


def free_port() -> int:
    """A currently unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def runtime_env(port: int, **overrides: str) -> dict[str, str]:
    """Environment for a server subprocess bound to 127.0.0.1:port with the demo model."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_", "SAGEMAKER_", "AWS_"))
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(_IMPORT_ROOT), str(REPO)]),
            "PORT": str(port),
            "MLOPS_BIND_HOST": "127.0.0.1",
            "MLOPS_WORKERS": "1",
            "MLOPS_MODEL_DIR": str(DEMO_MODEL_DIR),
            "MLOPS_GRACEFUL_TIMEOUT": "5",
        }
    )
    env.update(overrides)
    return env


@dataclass
class Reply:
    """A response read with http.client."""

    status: int
    headers: dict[str, str]
    body: bytes
    json: object = field(default=None)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> Reply:
    """One request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()
    if reply.headers.get("content-type") == "application/json" and data:
        reply.json = json.loads(data)
    return reply


def raw_exchange(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (bounded by timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Server:
    """A running server subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def logs(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def start_server(tmp: Path, *, wait_ready: bool = True, **env: str) -> Server:
    """Start ``python -m mlops_runtime`` on a free port; optionally wait for /ping == 200."""
    port = free_port()
    log_path = tmp / f"server-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlops_runtime", "serve"],
            env=runtime_env(port, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, log_path)
    if wait_ready:
        wait_for_ping(server, 200)
        wait_for_all_workers(server, int(env.get("MLOPS_WORKERS", "1")))
    return server


def wait_for_all_workers(server: Server, workers: int, timeout: float = 15.0) -> None:
    """/ping answers per worker: wait until every worker has logged that its model loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        loaded = [line for line in server.logs().splitlines() if '"msg": "model loaded"' in line]
        if len(loaded) >= workers:
            return
        time.sleep(0.05)
    raise AssertionError(f"only {len(loaded)} of {workers} workers loaded:\n{server.logs()}")


def wait_for_ping(server: Server, status: int, timeout: float = 15.0) -> None:
    """Poll /ping until it answers ``status``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited {server.proc.returncode}:\n{server.logs()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if request(server.port, "GET", "/ping", timeout=1).status == status:
                return
        time.sleep(0.05)
    raise AssertionError(f"/ping never answered {status}:\n{server.logs()}")


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    """Start servers with ``factory(**env)``; all are stopped at teardown."""
    servers: list[Server] = []

    def factory(wait_ready: bool = True, **env: str) -> Server:
        server = start_server(tmp_path, wait_ready=wait_ready, **env)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One shared 2-worker server with default settings for the contract tests."""
    srv = start_server(tmp_path_factory.mktemp("server"), MLOPS_WORKERS="2")
    yield srv
    srv.stop()
