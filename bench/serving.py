"""Model-server benchmark: our runtime vs. a gunicorn + Flask baseline, plus Lambda cold start.

Bounded and loopback-only: a fixed number of requests over keep-alive client connections, from
client processes separate from the servers. The baseline is served the way AWS's classic
scikit bring-your-own-container example serves (``gunicorn -k sync -w N`` running a Flask app
with ``/ping`` and ``/invocations``; nginx omitted), and scores the same ONNX model with the same
onnxruntime session options and the same JSON/numpy parsing, so the difference measured is the
serving stack. A ``gthread`` (keep-alive) gunicorn row is printed too for reference.

Two load shapes per server: closed loop (each connection sends its next request when the last
one is answered: maximum throughput) and paced (a fixed request rate below every server's
capacity: latency at equal load, counted from each request's scheduled time).

The same run also trains a model with the shipped training code (``mlops_runtime.training``,
demo data, as the offline rehearsal does) and serves it with our server, beside the demo model.

Usage: ``python -m bench.serving [--requests 20000] [--rate 1000] [--connections 8] [--workers N]``
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RUNTIME_DIR = REPO / "mlops_cdk" / "runtime"
MODEL_DIR = RUNTIME_DIR / "demo_model"
ROW = [33.22, 86.37, 2.64, 13.09, 3.14, 0.23, 12.53, 2.97]


# --- the baseline app (imported by gunicorn as bench.serving:create_baseline_app()) ----------


def create_baseline_app() -> Any:
    """Flask app shaped like the AWS scikit BYOC example's predictor.py, scoring ONNX."""
    import flask
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(
        str(MODEL_DIR / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
    )
    input_name = session.get_inputs()[0].name
    output_name = session.get_outputs()[0].name
    app = flask.Flask(__name__)

    @app.route("/ping", methods=["GET"])
    def ping() -> Any:
        return flask.Response(response="\n", status=200, mimetype="application/json")

    @app.route("/invocations", methods=["POST"])
    def transformation() -> Any:
        if flask.request.content_type != "application/json":
            return flask.Response("This predictor only supports JSON data", status=415)
        doc = json.loads(flask.request.data.decode("utf-8"))
        batch = np.asarray(doc["instances"], dtype=np.float32)
        predictions = session.run([output_name], {input_name: batch})[0]
        result = json.dumps({"predictions": predictions.reshape(-1).tolist()})
        return flask.Response(response=result, status=200, mimetype="application/json")

    return app


# --- load generator ---------------------------------------------------------------------------


def _request_bytes(port: int, rows: int) -> bytes:
    body = json.dumps({"instances": [ROW] * rows}).encode()
    return (
        f"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


@dataclass
class _Conn:
    sock: socket.socket | None
    buf: bytearray
    started: float = 0.0


def _parse_response(buf: bytearray) -> tuple[int, bool] | None:
    """(bytes consumed, server closes) for one complete response in buf, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buf[:end]).lower()
    if not head.startswith(b"http/1.1 200"):
        raise RuntimeError(f"unexpected response: {bytes(buf[:200])!r}")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    total = end + 4 + length
    if len(buf) < total:
        return None
    return total, b"connection: close" in head


def _client(
    port: int, n: int, conns: int, rows: int, rate: float | None, go: Any, out: Connection
) -> None:
    """Send n requests over `conns` keep-alive connections.

    Closed loop (rate None): a connection sends its next request as soon as it has the answer.
    Paced (rate req/s): request k is due at start + k / rate; if every connection is busy then,
    its latency counts from the due time (no coordinated omission). A server that closes the
    connection costs a reconnect, counted in the next request's latency.
    """
    request = _request_bytes(port, rows)
    sel = selectors.DefaultSelector()
    latencies: list[float] = []
    reconnects = 0
    started_requests = 0

    def send(conn: _Conn, due: float) -> None:
        nonlocal reconnects
        if conn.sock is None:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(sock, selectors.EVENT_READ, conn)
            conn.sock = sock
            reconnects += 1
        conn.started = due
        conn.sock.sendall(request)

    go.wait()
    begin = time.perf_counter()
    idle = [_Conn(None, bytearray()) for _ in range(min(conns, n))]
    reconnects -= len(idle)  # the first connect of each is not a reconnect
    blocked = False  # the next due request found every connection busy
    while len(latencies) < n:
        now = time.perf_counter()
        while started_requests < n:
            due = begin + started_requests / rate if rate else now
            if due > now:
                break
            if not idle:
                blocked = True
                break
            # Waiting for a free connection counts (from `due`); our own timer's lateness
            # (epoll has millisecond resolution) does not (from `now`).
            send(idle.pop(), due if blocked else now)
            blocked = False
            started_requests += 1
        timeout = None
        if rate and idle and started_requests < n:
            timeout = max(0.0, begin + started_requests / rate - time.perf_counter())
        for key, _ in sel.select(timeout):
            conn = key.data
            assert conn.sock is not None
            chunk = conn.sock.recv(65536)
            if not chunk:
                raise RuntimeError("server closed the connection mid-response")
            conn.buf += chunk
            parsed = _parse_response(conn.buf)
            if parsed is None:
                continue
            used, closes = parsed
            latencies.append(time.perf_counter() - conn.started)
            del conn.buf[:used]
            if closes:  # sync gunicorn: one TCP connection per request
                sel.unregister(conn.sock)
                conn.sock.close()
                conn.sock = None
            idle.append(conn)
    for conn in idle:
        if conn.sock is not None:
            conn.sock.close()
    out.send((begin, time.perf_counter(), latencies, max(0, reconnects)))
    out.close()


@dataclass
class Result:
    """Figures for one target and one load shape."""

    name: str
    workers: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    reconnects: int

    @property
    def rps(self) -> float:
        """Requests per second over the whole run."""
        return self.requests / self.seconds


def _drive(port: int, total: int, rate: float | None, args: argparse.Namespace) -> list[Any]:
    ctx = mp.get_context("fork")
    go = ctx.Event()
    per_client = [total // args.clients] * args.clients
    per_client[0] += total - sum(per_client)
    conns = max(1, args.connections // args.clients)
    client_rate = rate / args.clients if rate else None
    pipes, procs = [], []
    for n in per_client:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_client, args=(port, n, conns, args.rows, client_rate, go, child))
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    go.set()
    results = [p.recv() for p in pipes]
    for proc in procs:
        proc.join(timeout=30)
    return results


def run_load(
    name: str, workers: int, port: int, args: argparse.Namespace, rate: float | None = None
) -> Result:
    """Warm up, then drive a bounded load (closed loop, or paced at `rate` req/s)."""
    _drive(port, args.warmup, None, args)
    total = args.paced_requests if rate else args.requests
    results = _drive(port, total, rate, args)
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    return Result(
        name=name,
        workers=workers,
        requests=len(latencies),
        seconds=end - begin,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        reconnects=sum(r[3] for r in results),
    )


# --- servers ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.1)
    raise RuntimeError("server did not become ready")


@contextlib.contextmanager
def runtime_pythonpath() -> Iterator[str]:
    """A PYTHONPATH where the runtime folder is the package ``mlops_runtime``, as in the images."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mlops_runtime").symlink_to(RUNTIME_DIR)
        yield tmp


@contextlib.contextmanager
def serve(cmd: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    """Run a server subprocess until the block ends (SIGTERM, then SIGKILL after 10 s)."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_ready(port, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _measure(name: str, port: int, args: argparse.Namespace) -> tuple[Result, Result | None]:
    """Closed-loop (max throughput) run, then the paced run if asked for."""
    closed = run_load(name, args.workers, port, args)
    paced = run_load(name, args.workers, port, args, rate=args.rate) if args.rate else None
    return closed, paced


def bench_ours(
    args: argparse.Namespace,
    pythonpath: str,
    model_dir: Path = MODEL_DIR,
    name: str = "mlops_runtime (pre-fork asyncio)",
) -> tuple[Result, Result | None]:
    """Our server: python -m mlops_runtime."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath,
        "PORT": str(port),
        "MLOPS_BIND_HOST": "127.0.0.1",
        "MLOPS_WORKERS": str(args.workers),
        "MLOPS_MODEL_DIR": str(model_dir),
        "MLOPS_LOG_LEVEL": "WARNING",
    }
    with serve([sys.executable, "-m", "mlops_runtime"], env, port):
        return _measure(name, port, args)


def model_cost(model_dir: Path, calls: int = 20000) -> float:
    """Median µs of one 1-row ``predict`` with the runtime's predictor, in this process: the
    model's own cost, without HTTP (and far less sensitive to machine load than req/s)."""
    import numpy as np

    from mlops_cdk.runtime.predictor import OnnxPredictor

    predictor = OnnxPredictor()
    predictor.load(model_dir)
    row = np.array([ROW], dtype=np.float32)
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        predictor.predict(row)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1e6


def train_model(pythonpath: str, workdir: Path) -> Path:
    """Train on the demo data with the shipped training code; the unpacked model.tar.gz."""
    from mlops_cdk.runtime.training.local import LocalPipeline

    pipeline = LocalPipeline(
        workdir / "run", package="mlops_runtime", env={**os.environ, "PYTHONPATH": pythonpath}
    )
    pipeline.demo_data(4000)
    pipeline.preprocess()
    pipeline.train()
    served = workdir / "model"
    with tarfile.open(pipeline.package_model(), "r:gz") as tar:
        tar.extractall(served, filter="data")
    return served


def bench_gunicorn(args: argparse.Namespace, worker_class: str) -> tuple[Result, Result | None]:
    """The baseline: gunicorn running the Flask app."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(args.workers),
        "-b", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    if worker_class == "gthread":
        cmd += ["--threads", "4", "--keep-alive", "75"]
    cmd.append("bench.serving:create_baseline_app()")
    name = f"gunicorn -k {worker_class} + Flask" + (
        " (AWS example)" if worker_class == "sync" else ""
    )
    with serve(cmd, dict(os.environ), port):
        return _measure(name, port, args)


def cold_start(pythonpath: str, runs: int) -> tuple[float, float]:
    """Median (import + model load + first invoke, whole process) of the Lambda handler."""
    code = (
        "import time; t0 = time.perf_counter()\n"
        "from mlops_runtime import lambda_handler\n"
        f"r = lambda_handler.handler({{'instances': [{ROW!r}]}}, None)\n"
        "assert 'predictions' in r, r\n"
        "print(time.perf_counter() - t0)\n"
    )
    env = {**os.environ, "PYTHONPATH": pythonpath, "MLOPS_MODEL_DIR": str(MODEL_DIR)}
    inside, whole = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, check=True, timeout=60
        )
        whole.append(time.perf_counter() - start)
        inside.append(float(out.stdout.decode().strip().splitlines()[-1]))
    return statistics.median(inside), statistics.median(whole)


def _table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    print(f"{'server':<38} {'workers':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'reconn':>8}")
    for r in results:
        print(
            f"{r.name:<38} {r.workers:>8} {r.rps:>8.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.reconnects:>8}"
        )


def main() -> None:
    """Run everything and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="closed-loop requests")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000.0, help="paced run req/s (0: skip)")
    parser.add_argument("--paced-requests", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cold-start-runs", type=int, default=5)
    parser.add_argument("--skip-gthread", action="store_true")
    parser.add_argument("--skip-trained", action="store_true", help="no trained-model leg")
    args = parser.parse_args()

    with runtime_pythonpath() as pythonpath, tempfile.TemporaryDirectory() as workdir:
        # Trained first (no training during a measurement); its leg runs right after the demo
        # model's, so both see the same machine load.
        trained = None if args.skip_trained else train_model(pythonpath, Path(workdir))
        runs = [bench_ours(args, pythonpath)]
        if trained is not None:
            runs.append(bench_ours(args, pythonpath, trained, "mlops_runtime + trained model"))
        runs.append(bench_gunicorn(args, "sync"))
        if not args.skip_gthread:
            runs.append(bench_gunicorn(args, "gthread"))
        base_index = 1 if trained is None else 2
        print(
            f"\n{args.rows} row(s) per JSON request; {args.connections} keep-alive client "
            f"connections from {args.clients} load-generator processes; {os.cpu_count()} CPUs "
            "shared by clients and servers; loopback"
        )
        closed = [run[0] for run in runs]
        _table(f"Max throughput (closed loop, {args.requests} requests)", closed)
        ours, base = closed[0], closed[base_index]
        print(
            f"throughput ratio vs AWS-example baseline: {ours.rps / base.rps:.2f}x (goal >= 2x); "
            f"p99 {ours.p99_ms:.2f} ms vs {base.p99_ms:.2f} ms"
        )
        paced = [run[1] for run in runs if run[1] is not None]
        if paced:
            _table(
                f"Latency at equal load ({args.rate:.0f} req/s, {args.paced_requests} requests)",
                paced,
            )
            print(
                f"p99 at equal load: {paced[0].p99_ms:.2f} ms vs {paced[base_index].p99_ms:.2f} ms "
                "(goal: lower)"
            )
        if trained is not None:
            model = closed[1]
            print(
                f"trained model (scikit-learn -> ONNX, mlops_runtime.training) vs demo model: "
                f"{model.rps:.0f} vs {ours.rps:.0f} req/s ({model.rps / ours.rps:.2f}x), "
                f"p99 {model.p99_ms:.2f} vs {ours.p99_ms:.2f} ms; one 1-row predict in-process "
                f"(median): {model_cost(trained):.1f} vs {model_cost(MODEL_DIR):.1f} µs"
            )
        if args.cold_start_runs > 0:
            inside, whole = cold_start(pythonpath, args.cold_start_runs)
            print(
                f"\nLambda handler cold start (median of {args.cold_start_runs}): import + model "
                f"load + first invoke {inside * 1000:.0f} ms (goal < 500 ms); whole process "
                f"incl. interpreter {whole * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
