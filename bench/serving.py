"""Model-server benchmark: our runtime vs. a gunicorn + Flask baseline, plus Lambda cold start.

Bounded and loopback-only: fixed-duration legs over keep-alive client connections, from client
processes separate from the servers. Every server runs for the whole benchmark and the
closed-loop legs are interleaved (round r runs each server once, in rotated order), so slow
drift in the machine's load hits every server alike; throughput is the median over rounds.

The baseline is served the way AWS's classic scikit bring-your-own-container example serves
(``gunicorn -k sync -w N`` running a Flask app with ``/ping`` and ``/invocations``; nginx
omitted), and scores the same ONNX model with the same onnxruntime session options and the same
JSON/numpy parsing, so the difference measured is the serving stack. A ``gthread``
(keep-alive) gunicorn row is printed too for reference.

Two load shapes per server: closed loop (each connection sends its next request when the last
one is answered: maximum throughput) and paced (a fixed request rate below every server's
capacity: latency at equal load, counted from each request's scheduled time).

When the tree has the shipped training code (``mlops_runtime.training``), the same run also
trains a model on the demo data (as the offline rehearsal does) and serves it with our server,
beside the demo model (``--skip-trained`` to leave it out).

``--compare REF`` adds the runtime as committed at a git ref (e.g. ``main``) as another server,
so a change is measured against its baseline in the same run; ``--ceiling`` adds our runtime
with a predictor that does no inference (the serving stack's own ceiling).

Usage: ``python -m bench.serving [--duration 5] [--rounds 3] [--compare main] [--ceiling]``
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import io
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
from dataclasses import dataclass, field
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
    port: int,
    conns: int,
    rows: int,
    duration: float,
    rate: float | None,
    go: Any,
    out: Connection,
    payloads: list[bytes] | None = None,
) -> None:
    """Load one server for ``duration`` seconds over ``conns`` keep-alive connections.

    Closed loop (rate None): a connection sends its next request as soon as it has the answer,
    until the duration is up; requests in flight then are waited for and counted.
    Paced (rate req/s): request k is due at start + k / rate, for rate x duration requests; if
    every connection is busy then, its latency counts from the due time (no coordinated
    omission). A server that closes the connection costs a reconnect, counted in the next
    request's latency. ``payloads`` (complete requests) are sent in turn instead of the
    ``/invocations`` request.
    """
    requests = payloads or [_request_bytes(port, rows)]
    sel = selectors.DefaultSelector()
    latencies: list[float] = []
    reconnects = 0
    started_requests = 0
    paced_total = int(rate * duration) if rate else 0

    def send(conn: _Conn, due: float) -> None:
        nonlocal reconnects
        if conn.sock is None:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sel.register(sock, selectors.EVENT_READ, conn)
            conn.sock = sock
            reconnects += 1
        conn.started = due
        conn.sock.sendall(requests[started_requests % len(requests)])

    go.wait()
    begin = time.perf_counter()
    stop_at = begin + duration
    idle = [_Conn(None, bytearray()) for _ in range(conns)]
    reconnects -= len(idle)  # the first connect of each is not a reconnect
    blocked = False  # the next due request found every connection busy
    while True:
        now = time.perf_counter()
        while True:
            if rate:
                if started_requests >= paced_total:
                    break
                due = begin + started_requests / rate
                if due > now:
                    break
            elif now >= stop_at:
                break
            else:
                due = now
            if not idle:
                blocked = True
                break
            # Waiting for a free connection counts (from `due`); our own timer's lateness
            # (epoll has millisecond resolution) does not (from `now`).
            send(idle.pop(), due if blocked else now)
            blocked = False
            started_requests += 1
        if len(latencies) == started_requests and (
            (rate and started_requests >= paced_total) or (not rate and now >= stop_at)
        ):
            break
        timeout: float | None = None
        if rate and idle and started_requests < paced_total:
            timeout = max(0.0, begin + started_requests / rate - time.perf_counter())
        elif not rate:
            timeout = max(0.0, stop_at - time.perf_counter())
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
class Leg:
    """One fixed-duration run against one server."""

    requests: int
    seconds: float
    latencies: list[float]
    reconnects: int
    cpu_seconds: float = 0.0  # used by the server's processes during the leg

    @property
    def rps(self) -> float:
        """Requests per second over the leg."""
        return self.requests / self.seconds


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its children (the workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if entry.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def drive(
    port: int,
    duration: float,
    rate: float | None,
    args: argparse.Namespace,
    pid: int = 0,
    payloads: list[bytes] | None = None,
) -> Leg:
    """One leg from ``args.clients`` load-generator processes (``pid``: server to meter)."""
    cpu_before = server_cpu(pid) if pid else 0.0
    ctx = mp.get_context("fork")
    go = ctx.Event()
    conns = max(1, args.connections // args.clients)
    client_rate = rate / args.clients if rate else None
    pipes, procs = [], []
    for _ in range(args.clients):
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_client,
            args=(port, conns, args.rows, duration, client_rate, go, child, payloads),
        )
        proc.start()
        pipes.append(parent)
        procs.append(proc)
    go.set()
    results = [p.recv() for p in pipes]
    for proc in procs:
        proc.join(timeout=30)
    cpu = server_cpu(pid) - cpu_before if pid else 0.0
    latencies = [x for r in results for x in r[2]]
    begin = min(r[0] for r in results)
    end = max(r[1] for r in results)
    return Leg(len(latencies), end - begin, latencies, sum(r[3] for r in results), cpu)


@dataclass
class Result:
    """Figures for one server and one load shape (all its legs)."""

    name: str
    workers: int
    legs: list[Leg] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Median throughput over the legs."""
        return statistics.median(leg.rps for leg in self.legs)

    @property
    def spread(self) -> str:
        """Lowest and highest leg throughput."""
        values = [leg.rps for leg in self.legs]
        return f"{min(values):.0f}-{max(values):.0f}"

    def _percentile(self, q: float) -> float:
        latencies = sorted(x for leg in self.legs for x in leg.latencies)
        return latencies[max(0, int(len(latencies) * q) - 1)] * 1000

    @property
    def p50_ms(self) -> float:
        """Median latency over all legs."""
        return self._percentile(0.5)

    @property
    def p99_ms(self) -> float:
        """99th percentile latency over all legs."""
        return self._percentile(0.99)

    @property
    def reconnects(self) -> int:
        """Reconnections the server forced (closing keep-alive connections)."""
        return sum(leg.reconnects for leg in self.legs)

    @property
    def cpu_us(self) -> float:
        """Server CPU time per request over all legs, in microseconds (steady under load)."""
        requests = sum(leg.requests for leg in self.legs)
        return sum(leg.cpu_seconds for leg in self.legs) / max(1, requests) * 1e6


# --- servers ----------------------------------------------------------------------------------


@dataclass
class Target:
    """A server to start and load."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    pid: int = 0  # set once started


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
def runtime_pythonpath(runtime_dir: Path = RUNTIME_DIR) -> Iterator[str]:
    """A PYTHONPATH where ``runtime_dir`` is the package ``mlops_runtime``, as in the images."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mlops_runtime").symlink_to(runtime_dir)
        yield tmp


@contextlib.contextmanager
def runtime_at(ref: str) -> Iterator[tuple[str, str]]:
    """(PYTHONPATH, short commit) for ``mlops_cdk/runtime`` as committed at git ``ref``."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", ref, "mlops_cdk/runtime"], cwd=REPO, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        with runtime_pythonpath(Path(tmp) / "mlops_cdk" / "runtime") as pythonpath:
            yield pythonpath, commit


@contextlib.contextmanager
def serve(target: Target) -> Iterator[None]:
    """Run a server subprocess until the block ends (SIGTERM, then SIGKILL after 10 s)."""
    proc = subprocess.Popen(
        target.cmd, env=target.env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    target.pid = proc.pid
    try:
        _wait_ready(target.port, proc)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def runtime_target(
    name: str, pythonpath: str, workers: int, model_dir: Path = MODEL_DIR, **extra: str
) -> Target:
    """``python -m mlops_runtime`` with ``pythonpath`` (and the repo, for bench plug-ins)."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([pythonpath, str(REPO)]),
        "PORT": str(port),
        "MLOPS_BIND_HOST": "127.0.0.1",
        "MLOPS_WORKERS": str(workers),
        "MLOPS_MODEL_DIR": str(model_dir),
        "MLOPS_LOG_LEVEL": "WARNING",
        **extra,
    }
    return Target(name, [sys.executable, "-m", "mlops_runtime"], env, port)


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


def train_model(pythonpath: str, workdir: Path) -> Path | None:
    """Train on the demo data with the shipped training code; the unpacked model.tar.gz (None
    when this tree has no training code)."""
    if importlib.util.find_spec("mlops_cdk.runtime.training") is None:
        return None
    from mlops_cdk.runtime.training.local import (  # type: ignore[import-not-found, unused-ignore]
        LocalPipeline,
    )

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


def gunicorn_target(worker_class: str, workers: int) -> Target:
    """The baseline: gunicorn running the Flask app."""
    port = _free_port()
    cmd = [
        sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(workers),
        "-b", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    if worker_class == "gthread":
        cmd += ["--threads", "4", "--keep-alive", "75"]
    cmd.append("bench.serving:create_baseline_app()")
    name = f"gunicorn -k {worker_class} + Flask" + (
        " (AWS example)" if worker_class == "sync" else ""
    )
    return Target(name, cmd, dict(os.environ), port)


def measure(targets: list[Target], args: argparse.Namespace) -> tuple[list[Result], list[Result]]:
    """Warm every server up, run interleaved closed-loop rounds, then one paced leg each."""
    closed = [Result(t.name, args.workers) for t in targets]
    paced = [Result(t.name, args.workers) for t in targets]
    for target in targets:
        drive(target.port, args.warmup, None, args)
    for round_ in range(args.rounds):
        order = list(range(len(targets)))
        shift = round_ % len(order)
        for index in order[shift:] + order[:shift]:
            target = targets[index]
            closed[index].legs.append(drive(target.port, args.duration, None, args, target.pid))
    if args.rate:
        for index, target in enumerate(targets):
            paced[index].legs.append(
                drive(target.port, args.paced_duration, args.rate, args, target.pid)
            )
    return closed, (paced if args.rate else [])


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
    print(
        f"{'server':<42} {'workers':>7} {'req/s':>8} {'legs min-max':>13} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'reconn':>7} {'CPU us/req':>11}"
    )
    for r in results:
        print(
            f"{r.name:<42} {r.workers:>7} {r.rps:>8.0f} {r.spread:>13} {r.p50_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.reconnects:>7} {r.cpu_us:>11.1f}"
        )


def _by_name(results: list[Result], prefix: str) -> Result | None:
    return next((r for r in results if r.name.startswith(prefix)), None)


def _report(closed: list[Result], paced: list[Result], args: argparse.Namespace) -> None:
    print(
        f"\n{args.rows} row(s) per JSON request; {args.connections} keep-alive client "
        f"connections from {args.clients} load-generator processes; {os.cpu_count()} CPUs "
        "shared by clients and servers; loopback"
    )
    _table(
        f"Max throughput (closed loop; {args.rounds} interleaved rounds of {args.duration:g} s; "
        "req/s = median of the rounds)",
        closed,
    )
    ours, base = closed[0], _by_name(closed, "gunicorn -k sync")
    if base is not None:
        print(
            f"throughput ratio vs AWS-example baseline: {ours.rps / base.rps:.2f}x (goal >= 2x); "
            f"p99 {ours.p99_ms:.2f} ms vs {base.p99_ms:.2f} ms"
        )
    before = _by_name(closed, "mlops_runtime @")
    if before is not None:
        paired = statistics.median(
            a.rps / b.rps for a, b in zip(ours.legs, before.legs, strict=True)
        )
        print(
            f"this tree vs {before.name.split('@', 1)[1].strip()}: median {ours.rps:.0f} vs "
            f"{before.rps:.0f} req/s; median of per-round ratios {paired:.3f} "
            f"({(paired - 1) * 100:+.1f} %); server CPU per request {ours.cpu_us:.1f} vs "
            f"{before.cpu_us:.1f} us ({(ours.cpu_us / before.cpu_us - 1) * 100:+.1f} %); "
            f"p99 {ours.p99_ms:.2f} vs {before.p99_ms:.2f} ms"
        )
    ceiling = _by_name(closed, "mlops_runtime, no-op")
    if ceiling is not None:
        print(f"model share of our time: {1 - ours.rps / ceiling.rps:.0%} (no-op ceiling)")
    if paced:
        _table(
            f"Latency at equal load ({args.rate:.0f} req/s for {args.paced_duration:g} s)", paced
        )
        base_paced = _by_name(paced, "gunicorn -k sync")
        if base_paced is not None:
            print(
                f"p99 at equal load: {paced[0].p99_ms:.2f} ms vs {base_paced.p99_ms:.2f} ms "
                "(goal: lower)"
            )


def main() -> None:
    """Start every server, run the legs, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per closed leg")
    parser.add_argument("--rounds", type=int, default=3, help="closed-loop legs per server")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds per server")
    parser.add_argument("--rate", type=float, default=1000.0, help="paced run req/s (0: skip)")
    parser.add_argument("--paced-duration", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--rows", type=int, default=1, help="rows per request")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cold-start-runs", type=int, default=5)
    parser.add_argument("--compare", metavar="REF", help="also serve the runtime at git REF")
    parser.add_argument("--ceiling", action="store_true", help="also serve a no-op model")
    parser.add_argument("--skip-gunicorn", action="store_true")
    parser.add_argument("--skip-gthread", action="store_true")
    parser.add_argument("--skip-trained", action="store_true", help="no trained-model server")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        pythonpath = stack.enter_context(runtime_pythonpath())
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        # Trained first: no training during a measurement.
        trained = None if args.skip_trained else train_model(pythonpath, workdir)
        targets = [runtime_target("mlops_runtime (pre-fork asyncio)", pythonpath, args.workers)]
        if trained is not None:
            targets.append(
                runtime_target("mlops_runtime + trained model", pythonpath, args.workers, trained)
            )
        if args.compare:
            ref_path, commit = stack.enter_context(runtime_at(args.compare))
            name = f"mlops_runtime @ {args.compare} ({commit})"
            targets.append(runtime_target(name, ref_path, args.workers))
        if args.ceiling:
            noop = "bench.noop_predictor:NoopPredictor"
            targets.append(
                runtime_target(
                    "mlops_runtime, no-op model (ceiling)",
                    pythonpath,
                    args.workers,
                    MLOPS_PREDICTOR=noop,
                )
            )
        if not args.skip_gunicorn:
            targets.append(gunicorn_target("sync", args.workers))
            if not args.skip_gthread:
                targets.append(gunicorn_target("gthread", args.workers))
        for target in targets:
            stack.enter_context(serve(target))
        closed, paced = measure(targets, args)
        _report(closed, paced, args)
        model = _by_name(closed, "mlops_runtime + trained")
        if trained is not None and model is not None:
            ours = closed[0]
            print(
                f"trained model (scikit-learn -> ONNX, mlops_runtime.training) vs demo model: "
                f"{model.rps:.0f} vs {ours.rps:.0f} req/s ({model.rps / ours.rps:.2f}x), "
                f"p99 {model.p99_ms:.2f} vs {ours.p99_ms:.2f} ms; one 1-row predict in-process "
                f"(median): {model_cost(trained):.1f} vs {model_cost(MODEL_DIR):.1f} µs"
            )
    if args.cold_start_runs > 0:
        with runtime_pythonpath() as pythonpath:
            inside, whole = cold_start(pythonpath, args.cold_start_runs)
        print(
            f"\nLambda handler cold start (median of {args.cold_start_runs}): import + model "
            f"load + first invoke {inside * 1000:.0f} ms (goal < 500 ms); whole process "
            f"incl. interpreter {whole * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
