"""Soak: valid, invalid and stalled clients at once against one 2-worker server, then SIGTERM.

Not a test (it runs for about two minutes and prints figures); bounded and loopback-only. One
server process, two legs:

1. soak: valid requests paced at ``--rate`` over ``--connections`` keep-alive connections the
   whole time, in alternating windows: clean (valid only, ``--clean-window`` s) and mixed (plus
   clients making mistakes -- hostile bodies, bad heads, wrong methods -- and stalled clients:
   partial head or body, TLS ClientHello, bare-LF request, silent connection, a head dripped
   byte by byte; ``--mixed-window`` s) until ``--duration`` s of mixed load have run. The
   machine is shared, so clean and mixed windows alternate to see the same outside load; the
   valid p99 is taken per window and the median over mixed windows is compared with the median
   over clean ones (a few windows hit by outside load move pooled p99s by 10x; both printed).
2. shutdown: the mixed load again; SIGTERM goes to the server after ``--sigterm-after`` s and
   the clients keep going until the server has exited.

Pass criteria, printed with the figures: no 5xx (or dropped connection) for a client mistake,
every valid answer correct, valid p99 mixed within 2x of clean, no worker restarted, every
stalled connection closed by the server within its timeout (+ slack), and no request lost
across SIGTERM: a request sent on an accepted connection gets its response (connections
refused after the listener closed are counted apart: not accepted).

    python -m bench.soak [--duration 60] [--rate 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from bench.serving import MODEL_DIR, REPO, ROW, _free_port, _wait_ready, runtime_pythonpath

HOST = "127.0.0.1"
JSON, CSV = "application/json", "text/csv"
TIMEOUTS = {"MLOPS_HEADER_TIMEOUT": "2", "MLOPS_BODY_TIMEOUT": "2", "MLOPS_KEEPALIVE_TIMEOUT": "5"}
TICK_SLACK = 2.5  # the server checks deadlines once a second; allow for a loaded machine
ROWS = [ROW, [v * 0.5 for v in ROW], [float(i) for i in range(1, 9)], [0.0] * 8, [7.5] * 8]


def _request(method: str, path: str, body: bytes, content_type: str, accept: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: {content_type}\r\n"
        f"Accept: {accept}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def valid_requests() -> list[tuple[bytes, bool]]:
    """(request bytes, answer is CSV) for each row, as JSON and as CSV."""
    out = []
    for row in ROWS:
        body = json.dumps([row]).encode()
        out.append((_request("POST", "/invocations", body, JSON, JSON), False))
        csv = (",".join(map(repr, row)) + "\n").encode()
        out.append((_request("POST", "/invocations", csv, CSV, CSV), True))
    return out


def expected_scores() -> list[float]:
    """Scores for ROWS computed with onnxruntime directly (the reference)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODEL_DIR / "model.onnx"))
    batch = np.array(ROWS, dtype=np.float32)
    return [float(v) for v in session.run(None, {"features": batch})[0].reshape(-1)]


def _head(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\n\r\n"


def mistakes() -> dict[str, bytes]:
    """Client mistakes, each on its own connection; every one must get a 4xx."""

    def post(body: bytes, content_type: str = JSON, accept: str = "*/*") -> bytes:
        return _request("POST", "/invocations", body, content_type, accept)

    invocations = b"POST /invocations HTTP/1.1"
    return {
        "deep-json": post(b"[" * 100_000 + b"]" * 100_000),
        "long-integer": post(b"[" + b"1" * 5000 + b",1,1,1,1,1,1,1]"),
        "long-csv-field": post(b'"' + b"1" * 200_000 + b'",1,1,1,1,1,1,1\n', CSV),
        "boolean": post(b"[1,2,3,4,5,6,7,true]"),
        "malformed-json": post(b'{"instances": [[1,'),
        "wrong-width": post(b"[1, 2, 3]"),
        "nan": post(b"[1,2,3,4,5,6,7,NaN]"),
        "media-type": post(b"1,2,3,4,5,6,7,8", "image/png"),
        "accept-q0": post(b"1,2,3,4,5,6,7,8", CSV, "text/csv;q=0"),
        "huge-length": _head(invocations, b"Content-Length: " + b"9" * 5000),
        "over-limit": _head(invocations, b"Content-Length: 7000000"),
        "big-head": _head(b"GET /ping HTTP/1.1", b"X-Pad: " + b"a" * 70_000),
        "chunked": _head(invocations, b"Transfer-Encoding: chunked") + b"0\r\n\r\n",
        "garbage": _head(b"GARBAGE"),
        "wrong-method": _head(b"GET /invocations HTTP/1.1"),
        "unknown-path": _head(b"GET /nope HTTP/1.1"),
    }


HEADER, BODY = "MLOPS_HEADER_TIMEOUT", "MLOPS_BODY_TIMEOUT"
TLS_CLIENT_HELLO = bytes.fromhex("16030100f8010000f40303") + b"\x00" * 32
#: (kind, payload, the server timeout that must close it); "drip" sends a head byte by byte.
STALLS: list[tuple[str, bytes, str]] = [
    ("partial-head", b"POST /invocations HTTP/1.1\r\nHost: s\r\n", HEADER),
    ("partial-body", _head(b"POST /invocations HTTP/1.1", b"Content-Length: 100") + b"[1,", BODY),
    ("tls-client-hello", TLS_CLIENT_HELLO, HEADER),
    ("bare-lf", b"GET /ping HTTP/1.1\nHost: s\n\n", HEADER),
    ("silent", b"", HEADER),
    ("drip", b"", HEADER),
]
DRIP = b"POST /invocations HTTP/1.1\r\nHost: s\r\nX-Slow: " + b"a" * 1000


@dataclass
class Tally:
    """What one client process saw."""

    latencies: list[float] = field(default_factory=list)
    samples: list[tuple[float, float]] = field(default_factory=list)  # (due, latency)
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        """Count and remember (the first 20) failures."""
        self.counts["problems"] += 1
        if len(self.problems) < 20:
            self.problems.append(message)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes] | None:
    """(status, server closes, body) of one response; None if the server closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    try:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return int(lines[0].split()[1]), headers.get("connection") == "close", body


async def valid_load(port: int, rate: float, conns: int, seconds: float, stop: Any) -> Tally:
    """Paced valid requests (each connection sends every conns/rate s); checks every answer."""
    tally = Tally()
    requests = valid_requests()
    scores = expected_scores()
    begin = time.perf_counter()

    async def connection(index: int) -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        n = 0
        while True:
            due = begin + (n * conns + index) / rate
            if due - begin > seconds or stop.is_set():
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pick = (n * conns + index) % len(requests)
            n += 1
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(HOST, port)
                except ConnectionRefusedError:
                    tally.counts["refused"] += 1  # not accepted: the listener is closed
                    if stop.is_set() or tally.counts["refused"] > 50 * conns:
                        break
                    continue
            assert reader is not None
            payload, is_csv = requests[pick]
            try:
                writer.write(payload)
                await writer.drain()
            except ConnectionError:
                tally.problem("valid request: connection reset while sending")
                tally.counts["lost"] += 1
                writer = None
                continue
            reply = await read_response(reader)
            if reply is None:
                tally.counts["lost"] += 1
                tally.problem(f"valid request {pick}: connection closed without a response")
                writer.close()
                writer = None
                continue
            tally.latencies.append(time.perf_counter() - due)
            tally.samples.append((due, tally.latencies[-1]))
            status, closes, body = reply
            tally.counts[f"status {status}"] += 1
            value = (
                float(body.decode().strip())
                if is_csv and status == 200
                else (json.loads(body)["predictions"][0] if status == 200 else None)
            )
            if value is None or not np.isclose(value, scores[pick // 2], rtol=1e-5):
                tally.counts["wrong"] += 1
                tally.problem(f"valid request {pick}: {status} {body[:80]!r}")
            if closes:
                tally.counts["closed by server"] += 1
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(connection(i) for i in range(conns)))
    return tally


async def mistake_load(
    port: int, seconds: float, stop: Any, active: Any, concurrency: int = 1
) -> Tally:
    """Client mistakes in a loop while ``active``, one per connection; only 4xx is right."""
    tally = Tally()
    kinds = list(mistakes().items())
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline and not stop.is_set():
            if not active.is_set():
                await asyncio.sleep(0.05)
                continue
            kind, payload = kinds[n % len(kinds)]
            n += concurrency
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except ConnectionRefusedError:
                tally.counts["refused"] += 1
                await asyncio.sleep(0.05)
                continue
            try:
                writer.write(payload)
                await writer.drain()
            except ConnectionError:
                pass  # the server may answer and close before reading everything
            reply = await asyncio.wait_for(read_response(reader), 15)
            writer.close()
            if reply is None:
                tally.problem(f"{kind}: no response")
            elif not 400 <= reply[0] < 500:
                tally.problem(f"{kind}: {reply[0]} {reply[2][:80]!r}")
            else:
                tally.counts[f"{kind} {reply[0]}"] += 1
            await asyncio.sleep(0.02)  # about 40 mistakes/s next to 400 valid requests/s

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return tally


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Send DRIP one byte every 0.2 s until the server answers or closes."""
    for byte in DRIP:
        writer.write(bytes([byte]))
        await writer.drain()
        try:
            await asyncio.wait_for(reader.read(65536), 0.2)
        except TimeoutError:
            continue
        return


async def stalled_load(
    port: int,
    seconds: float,
    stop: Any,
    active: Any,
    timeouts: dict[str, float],
    concurrency: int = 24,
) -> Tally:
    """Hold stalled connections while ``active``; the server must close each in time."""
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline and not stop.is_set():
            if not active.is_set():
                await asyncio.sleep(0.05)
                continue
            kind, payload, setting = STALLS[n % len(STALLS)]
            n += 1
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
            except ConnectionRefusedError:
                await asyncio.sleep(0.05)
                continue
            opened = time.perf_counter()
            limit = timeouts[setting] + TICK_SLACK
            try:
                writer.write(payload)
                if kind == "drip":
                    await asyncio.wait_for(drip(reader, writer), limit)
                await asyncio.wait_for(reader.read(), limit - (time.perf_counter() - opened))
                held = time.perf_counter() - opened
                tally.counts[f"{kind} closed"] += 1
                tally.latencies.append(held)
            except TimeoutError:
                tally.problem(f"{kind}: still open after {limit:.1f} s ({setting})")
            except ConnectionError:
                tally.counts[f"{kind} reset"] += 1
            finally:
                writer.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    return tally


def _run(job: Callable[..., Any], args: tuple[Any, ...], out: Connection) -> None:
    out.send(asyncio.run(job(*args)))
    out.close()


def launch(job: Callable[..., Any], *args: Any) -> tuple[Any, Connection]:
    """Run an async load function in its own process; returns (process, result pipe)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run, args=(job, args, child))
    proc.start()
    return proc, parent


def p99(values: list[float]) -> float:
    """99th percentile in ms."""
    return float(np.percentile(values, 99) * 1000) if values else float("nan")


def start_load(port: int, args: argparse.Namespace, seconds: float) -> tuple[Any, Any, list[Any]]:
    """Valid, mistake and stalled client processes; returns (stop, active, jobs)."""
    ctx = mp.get_context("fork")
    stop, active = ctx.Event(), ctx.Event()
    timeouts = {k: float(v) for k, v in TIMEOUTS.items()}
    jobs = [
        launch(valid_load, port, args.rate, args.connections, seconds, stop),
        launch(mistake_load, port, seconds, stop, active),
        launch(stalled_load, port, seconds, stop, active, timeouts),
    ]
    return stop, active, jobs


def collect(stop: Any, jobs: list[Any]) -> list[Tally]:
    """Stop the clients and gather their tallies (valid first)."""
    stop.set()
    tallies = [pipe.recv() for _, pipe in jobs]
    for proc, _ in jobs:
        proc.join(timeout=30)
    return tallies


Window = tuple[bool, float, float]  # (mixed, start, end) in time.perf_counter() seconds


def soak(port: int, args: argparse.Namespace) -> tuple[list[Tally], list[Window]]:
    """Alternate clean and mixed windows; returns the tallies and the windows."""
    total = (args.duration / args.mixed_window) * (args.mixed_window + args.clean_window)
    stop, active, jobs = start_load(port, args, total + 30)
    windows: list[Window] = []
    mixed = 0.0
    while mixed < args.duration:
        for is_mixed, seconds in ((False, args.clean_window), (True, args.mixed_window)):
            began = time.perf_counter()
            if is_mixed:
                active.set()
            time.sleep(seconds)
            active.clear()
            windows.append((is_mixed, began, time.perf_counter()))
        mixed += args.mixed_window
    return collect(stop, jobs), windows


def split(tally: Tally, windows: list[Window]) -> dict[bool, list[list[float]]]:
    """Valid latencies by window kind (mixed True/False), one list per window, by due time."""
    out: dict[bool, list[list[float]]] = {False: [], True: []}
    lists = []
    for is_mixed, _, _ in windows:
        out[is_mixed].append([])
        lists.append(out[is_mixed][-1])
    for due, latency in tally.samples:
        for (_, start, end), target in zip(windows, lists, strict=True):
            if start <= due < end:
                target.append(latency)
                break
    return out


def summary(name: str, tallies: list[Tally]) -> None:
    """Print one leg's figures."""
    valid = tallies[0]
    counts = valid.counts
    print(
        f"\n{name}: valid {len(valid.latencies)} answered (p50 "
        f"{np.percentile(valid.latencies, 50) * 1000:.2f} ms), wrong {counts['wrong']}, "
        f"lost {counts['lost']}, refused {counts['refused']}, closed by server "
        f"{counts['closed by server']}"
    )
    if len(tallies) > 1:
        mistake, stalled = tallies[1], tallies[2]
        print(
            f"  mistakes: {sum(v for k, v in mistake.counts.items() if k != 'problems')} "
            f"answered 4xx, {mistake.counts['problems']} not (5xx or no response), "
            f"{mistake.counts['refused']} refused"
        )
        by_status = Counter(
            k.rsplit(" ", 1)[1] for k in mistake.counts if k not in ("problems", "refused")
        )
        print(f"    statuses seen: {', '.join(sorted(by_status))}")
        closed = {k: v for k, v in stalled.counts.items() if k != "problems"}
        held = max(stalled.latencies, default=0.0)
        print(
            f"  stalled: {sum(closed.values())} closed by the server (longest held "
            f"{held:.1f} s), {stalled.counts['problems']} overstayed"
        )
    for tally in tallies:
        for problem in tally.problems:
            print(f"  PROBLEM {problem}")


def main() -> int:
    """Start the server, run the two legs, print figures and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of mixed load")
    parser.add_argument("--mixed-window", type=float, default=5.0)
    parser.add_argument("--clean-window", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=400.0, help="valid requests per second")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sigterm-after", type=float, default=5.0)
    args = parser.parse_args()

    port = _free_port()
    with runtime_pythonpath() as pythonpath, tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "server.log"
        env = {
            **os.environ,
            "PYTHONPATH": pythonpath,
            "PORT": str(port),
            "MLOPS_BIND_HOST": HOST,
            "MLOPS_WORKERS": "2",
            "MLOPS_MODEL_DIR": str(MODEL_DIR),
            **TIMEOUTS,
        }
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "mlops_runtime"], env=env, cwd=REPO, stdout=log, stderr=log
            )
        try:
            _wait_ready(port, server)
            time.sleep(1.0)  # both workers load the model
            print(f"server: 2 workers, {', '.join(f'{k}={v}' for k, v in TIMEOUTS.items())}")
            print(
                f"valid load: {args.rate:g} req/s over {args.connections} keep-alive "
                f"connections throughout; {args.duration:g} s of mixed load in "
                f"{args.mixed_window:g} s windows between {args.clean_window:g} s clean ones"
            )
            soaked, windows = soak(port, args)
            summary("soak", soaked)
            by_kind = split(soaked[0], windows)
            clean = [x for window in by_kind[False] for x in window]
            mixed = [x for window in by_kind[True] for x in window]
            pooled = p99(mixed) / p99(clean)
            print(
                f"  valid p99 pooled: clean windows {p99(clean):.2f} ms ({len(clean)} requests), "
                f"mixed windows {p99(mixed):.2f} ms ({len(mixed)} requests): {pooled:.2f}x"
            )
            typical = {k: float(np.median([p99(w) for w in v])) for k, v in by_kind.items()}
            ratio = typical[True] / typical[False]
            print(
                f"  valid p99, median over windows: clean {typical[False]:.2f} ms, mixed "
                f"{typical[True]:.2f} ms: {ratio:.2f}x"
            )
            for name, is_mixed in (("clean", False), ("mixed", True)):
                values = " ".join(f"{p99(w):.1f}" for w in by_kind[is_mixed])
                print(f"    p99 per {name} window (ms): {values}")

            stop, active, jobs = start_load(port, args, args.sigterm_after + 60)
            active.set()
            time.sleep(args.sigterm_after)
            signalled = time.monotonic()
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
            exit_seconds = time.monotonic() - signalled
            time.sleep(0.5)
            shutdown = collect(stop, jobs)
            summary(f"shutdown (SIGTERM after {args.sigterm_after:g} s of mixed load)", shutdown)
            print(f"  server exited {code} {exit_seconds:.1f} s after SIGTERM")
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        logs = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    restarts = sum(1 for line in logs if line.get("msg") == "worker exited; restarting it")
    loaded = sum(1 for line in logs if line.get("msg") == "model loaded")
    errors = [line for line in logs if line.get("level") == "ERROR"]
    accept_lines = sum(1 for line in logs if line.get("msg") == "accept failed")
    print(
        f"\nserver log: {loaded} model loads, {restarts} worker restarts, {len(errors)} ERROR "
        f"lines, {accept_lines} 'accept failed' lines"
    )
    checks = {
        "no 5xx or dropped connection for a client mistake": all(
            t[1].counts["problems"] == 0 for t in (soaked, shutdown)
        ),
        "no wrong prediction": all(t[0].counts["wrong"] == 0 for t in (soaked, shutdown)),
        f"valid p99 mixed/clean, median over windows = {ratio:.2f} (<= 2)": ratio <= 2.0,
        "no worker restarts": restarts == 0 and loaded == 2,
        "every stalled connection closed in time": soaked[2].counts["problems"] == 0,
        "no valid request lost (soak, SIGTERM)": all(
            t[0].counts["lost"] == 0 for t in (soaked, shutdown)
        ),
        "no ERROR log line": not errors,
        "server exited 0 after SIGTERM": code == 0,
    }
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
