"""Multi-model endpoint benchmark: the cost of a cold model, and 10 models vs one, side by side.

Loopback only, bounded. Ten small ONNX models (different weights, 256 KiB each) are packed as
``model.tar.gz`` the way a training job writes them. One run measures:

* memory: the resident-set growth of loading each model (in a fresh process, with the
  runtime's predictor) beside the runtime's estimate (``multi_model.estimate_footprint``), so
  the estimate's factor is checked against this machine's onnxruntime;
* the cold path per model, in SageMaker's order: unpack the archive (SageMaker does this on the
  instance), ``POST /models`` (the worker that receives it loads it), the first invocation
  (a worker that did not load it loads it then: ``X-Model-Cache: miss``), and a warm one;
* steady-state throughput, interleaved fixed-duration legs (as ``bench.serving``) against the
  single-model server on model 0 (``/invocations``, the baseline), the multi-model server on
  one model, and the same multi-model server rotating over all ten.

It ends with the idle cost a month of 10 small models at low traffic as 10 single-model
endpoints vs one multi-model endpoint, both synthesized with RealtimeEndpoint (ml.m5.large, one
instance, the default alarms, one shared KMS key and alarm topic) and priced by
``mlops_cdk.cost`` from the packaged AWS list prices.

Usage: ``python -m bench.multi_model [--duration 4] [--rounds 3] [--workers 2]``
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench.serving import ROW, Result, drive, runtime_pythonpath, runtime_target, serve

MODELS = 10
WEIGHTS = 8 * 8192  # float32 weights per model: 256 KiB


def make_model(seed: int) -> bytes:
    """features [N, 8] -> sum(features @ W) as [N, 1], W of 8 x 8192 random floats."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((8, WEIGHTS // 8)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["h"]),
            helper.make_node("ReduceSum", ["h", "axes"], ["score"], keepdims=1),
        ],
        f"model{seed}",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(weights, "w"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data


def pack(onnx: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("model.onnx")
        info.size = len(onnx)
        tar.addfile(info, io.BytesIO(onnx))
    return buffer.getvalue()


_MEMORY_PROBE = """
import json, os, sys
from pathlib import Path
from mlops_runtime.multi_model import estimate_footprint
from mlops_runtime.predictor import OnnxPredictor
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
kept, out = [], []
first = OnnxPredictor(); first.load(Path(sys.argv[1]))  # onnxruntime's one-off state
for directory in sys.argv[2:]:
    before = rss()
    predictor = OnnxPredictor(); predictor.load(Path(directory)); kept.append(predictor)
    out.append([rss() - before, estimate_footprint(Path(directory), 3.0)])
print(json.dumps(out))
"""


def memory(pythonpath: str, directories: list[Path], warm: Path) -> list[list[int]]:
    """(RSS growth, estimate) per model, loaded one after another in a fresh process."""
    env = {**os.environ, "PYTHONPATH": pythonpath}
    args = [sys.executable, "-c", _MEMORY_PROBE, str(warm), *map(str, directories)]
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    measured: list[list[int]] = json.loads(result.stdout)
    return measured


def call(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, float, str, bytes]:
    """(status, seconds, X-Model-Cache, body) of one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    seconds = time.perf_counter() - started
    conn.close()
    return response.status, seconds, response.getheader("X-Model-Cache") or "", data


def invoke_request(port: int, path: str) -> bytes:
    body = json.dumps({"instances": [ROW]}).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nAccept: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def idle_cost(models: int = MODELS) -> dict[str, dict[str, float]]:
    """Idle USD a month by kind: ``models`` single-model endpoints vs one multi-model one."""
    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3 as s3
    from aws_cdk import aws_sns as sns

    from mlops_cdk.constructs import ContainerImage, ModelData, MultiModel, RealtimeEndpoint
    from mlops_cdk.cost.estimate import estimate
    from mlops_cdk.cost.prices import load_prices

    image = ContainerImage.from_uri("123456789012.dkr.ecr.eu-west-1.amazonaws.com/models:1")
    region = "eu-west-1"
    out: dict[str, dict[str, float]] = {}
    for shape in (f"{models} single-model endpoints", "1 multi-model endpoint"):
        app = cdk.App(builtin_cloud_formation_validation=False)
        stack = cdk.Stack(app, "Cost", env=cdk.Environment(account="123456789012", region=region))
        key = kms.Key(stack, "Key", enable_key_rotation=True)
        topic = sns.Topic(stack, "Alarms", master_key=key)
        bucket = s3.Bucket(stack, "Models")
        shared = {"image": image, "encryption_key": key, "alarm_topic": topic}
        if shape.startswith("1 "):
            multi = MultiModel(bucket=bucket, prefix="models/")
            RealtimeEndpoint(stack, "Tenants", multi_model=multi, **shared)  # type: ignore[arg-type]
        else:
            for index in range(models):
                data = ModelData.from_bucket(bucket, f"models/m{index}.tar.gz")
                RealtimeEndpoint(stack, f"M{index}", model_data=data, **shared)  # type: ignore[arg-type]
        template = app.synth().get_stack_by_name("Cost").template
        result = estimate([("Cost", template)], region=region, prices=load_prices(region))
        if not result.complete:
            raise RuntimeError(f"{shape}: the price list lacks a rate")
        out[shape] = {**result.by_kind(), "total": result.total_usd}
    return out


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.2f}" if values else "       -"


def main() -> None:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per leg")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--clients", type=int, default=2)
    args = parser.parse_args()
    args.rows = 1
    with tempfile.TemporaryDirectory() as tmp, runtime_pythonpath() as pythonpath:
        bucket = Path(tmp) / "s3"
        root = Path(tmp) / "opt-ml-models"
        bucket.mkdir()
        root.mkdir()
        for index in range(MODELS):
            (bucket / f"m{index}.tar.gz").write_bytes(pack(make_model(index)))
        print(f"multi-model endpoint: {MODELS} ONNX models of {WEIGHTS * 4 // 1024} KiB weights")

        # The single-model baseline needs model 0 unpacked; the memory probe wants all ten.
        staged = Path(tmp) / "staged"
        for index in range(MODELS):
            with tarfile.open(bucket / f"m{index}.tar.gz") as tar:
                tar.extractall(staged / f"m{index}", filter="data")
        probe = memory(pythonpath, [staged / f"m{i}" for i in range(1, MODELS)], warm=staged / "m0")
        grown = [g for g, _ in probe]
        estimate = probe[0][1]
        print("\nmemory per model (RSS growth on load, 9 models, fresh process)")
        print(
            f"  measured median {statistics.median(grown) / 1024:.0f} KiB "
            f"(min {min(grown) / 1024:.0f}, max {max(grown) / 1024:.0f}); "
            f"runtime estimate {estimate / 1024:.0f} KiB "
            f"(file x MLOPS_MODEL_MEMORY_FACTOR 3 + 256 KiB): "
            f"{estimate / max(1, statistics.median(grown)):.2f}x the median"
        )

        mme = runtime_target(
            "multi-model",
            pythonpath,
            args.workers,
            MLOPS_MULTI_MODEL="true",
            MLOPS_MULTI_MODEL_ROOT=str(root),
        )
        single = runtime_target("single-model", pythonpath, args.workers, staged / "m0")
        with serve(mme), serve(single):
            unpack: list[float] = []
            load: list[float] = []
            first_miss: list[float] = []
            first_hit: list[float] = []
            warm: list[float] = []
            for index in range(MODELS):
                started = time.perf_counter()
                directory = root / f"m{index}" / "model"
                with tarfile.open(bucket / f"m{index}.tar.gz") as tar:
                    tar.extractall(directory, filter="data")
                unpack.append(time.perf_counter() - started)
                body = json.dumps({"model_name": f"m{index}", "url": str(directory)}).encode()
                status, seconds, _, data = call(mme.port, "POST", "/models", body)
                if status != 200:
                    raise RuntimeError(f"load m{index}: {status} {data!r}")
                load.append(seconds)
                invoke = json.dumps({"instances": [ROW]}).encode()
                status, seconds, cache, data = call(
                    mme.port, "POST", f"/models/m{index}/invoke", invoke
                )
                if status != 200:
                    raise RuntimeError(f"invoke m{index}: {status} {data!r}")
                (first_miss if cache == "miss" else first_hit).append(seconds)
                warm.append(call(mme.port, "POST", f"/models/m{index}/invoke", invoke)[1])
            print(
                f"\ncold model, median ms over {MODELS} models "
                f"({args.workers} workers; each request on a new connection)"
            )
            print(
                "  unpack tar.gz  POST /models  1st invoke (other worker: load)  "
                "1st invoke (loaded)  warm invoke"
            )
            print(
                f"  {_ms(unpack)}      {_ms(load)}      {_ms(first_miss)} (n={len(first_miss)})"
                f"                {_ms(first_hit)} (n={len(first_hit)})   {_ms(warm)}"
            )

            rows = {
                "single-model server, /invocations (baseline)": (single, None),
                "multi-model server, 1 model": (
                    mme,
                    [invoke_request(mme.port, "/models/m0/invoke")],
                ),
                f"multi-model server, {MODELS} models in turn": (
                    mme,
                    [invoke_request(mme.port, f"/models/m{i}/invoke") for i in range(MODELS)],
                ),
            }
            results = {name: Result(name, args.workers) for name in rows}
            for target, payloads in rows.values():  # warm every path and model
                drive(target.port, 0.5, None, args, target.pid, payloads)
            names = list(rows)
            for round_ in range(args.rounds):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    target, payloads = rows[name]
                    results[name].legs.append(
                        drive(target.port, args.duration, None, args, target.pid, payloads)
                    )
        base = results[names[0]].rps
        print(
            f"\nsteady state, closed loop, {args.connections} connections, "
            f"{args.rounds} x {args.duration:g} s legs interleaved"
        )
        print(
            f"{'server':<48} {'req/s':>8} {'vs base':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'CPU us/req':>11}"
        )
        for name, result in results.items():
            print(
                f"{name:<48} {result.rps:>8.0f} {result.rps / base:>8.2f} "
                f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.cpu_us:>11.1f}"
            )
    print(f"\nidle cost a month, {MODELS} small models at low traffic (eu-west-1 list prices)")
    for shape, kinds in idle_cost().items():
        parts = ", ".join(f"{kind} {usd:.2f}" for kind, usd in kinds.items() if kind != "total")
        print(f"  {shape:<30} ${kinds['total']:>8.2f}  ({parts})")


if __name__ == "__main__":
    main()
