"""Drift-job benchmark: analyze N captured records, print wall time, records/s and peak memory.

Run from the repository root: ``python -m bench.drift`` (default sizes 100k and 1M).
Each analysis runs in a fresh child process that imports the runtime the way the container
image ships it (``mlops_runtime``, no ``mlops_cdk``); its peak RSS is read from ``VmHWM`` in
``/proc/self/status`` (``ru_maxrss`` would carry over the parent's peak across ``execve``).
Streaming shows as a peak that does not grow with the record count.

``--hosts 1 2 4`` (the default) also runs the multi-instance path with that many local worker
processes standing in for Processing hosts: each maps its share of the capture objects into a
partial at the same time, then one reduce process merges them and runs the checks. Records/s
is records over the wall time from the first map's start to the reduce's end; the single-process
``analyze`` figure is printed beside it as the baseline. On a 2-core machine 4 workers cannot
beat 2 (expect at most ~2x).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HOUR = datetime(2026, 11, 21, 5, tzinfo=UTC)
NUMERIC = 7
CATEGORIES = ("red", "green", "blue", "black")
LINE = (
    '{{"captureData": {{"endpointInput": {{"observedContentType": "text/csv", "mode": "INPUT", '
    '"data": "{data}", "encoding": "CSV"}}, "endpointOutput": {{"observedContentType": '
    '"text/csv", "mode": "OUTPUT", "data": "0.42", "encoding": "CSV"}}}}, "eventMetadata": '
    '{{"eventId": "{id}", "inferenceTime": "{time}"}}, "eventVersion": "0"}}\n'
)


def peak_rss_mib() -> float:
    """Peak resident set size of this process (VmHWM; ru_maxrss where /proc is missing)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rows(n: int, rng: np.random.Generator, shift: float) -> list[str]:
    numeric = rng.normal(shift, 1.0, (n, NUMERIC))
    numeric[:, 0] = np.round(np.abs(numeric[:, 0]) * 10)  # an Integral feature
    cats = [rng.choice(CATEGORIES, n) for _ in range(3)]
    text = [",".join(f"{v:.4f}" for v in row) for row in numeric.tolist()]
    return [f"{t},{a},{b},{c}" for t, a, b, c in zip(text, *cats, strict=True)]


def make_baseline(folder: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    """A 50k-row training CSV (10 features) and its statistics/constraints."""
    from mlops_cdk.runtime.drift.baseline import build_baseline, write_baseline

    train = folder / "train.csv"
    names = [f"x{i}" for i in range(NUMERIC)] + ["c0", "c1", "c2"]
    train.write_text(",".join(names) + "\n" + "\n".join(_rows(50_000, rng, 0.0)) + "\n")
    return write_baseline(build_baseline(train), folder / "baseline")


def make_capture(folder: Path, records: int, per_file: int, rng: np.random.Generator) -> int:
    """``records`` one-record capture events in files of ``per_file`` within one hour."""
    hour = folder / "capture" / "ep" / "AllTraffic" / HOUR.strftime("%Y/%m/%d/%H")
    hour.mkdir(parents=True)
    written = 0
    for index in range(0, records, per_file):
        count = min(per_file, records - index)
        rows = _rows(count, rng, 0.3)  # a drifted window: violations expected
        lines = [
            LINE.format(
                data=row,
                id=index + i,
                time=(HOUR + timedelta(milliseconds=3_599_000 * (index + i) // records))
                .isoformat()
                .replace("+00:00", "Z"),
            )
            for i, row in enumerate(rows)
        ]
        path = hour / f"capture-{index:08d}.jsonl"
        path.write_text("".join(lines))
        written += path.stat().st_size
    return written


def child(
    capture: str,
    statistics: str,
    constraints: str,
    out: str,
    trace: bool,
    shard: tuple[int, int, str] | None = None,
    reduce: str | None = None,
) -> None:
    """Run one analysis (or one host's map, or the reduce) and print its figures as JSON
    (executed in a fresh process)."""
    from mlops_runtime.drift.analyze import (
        AnalyzeOptions,
        read_partials,
        run_analysis,
        run_map,
        write_partial,
    )
    from mlops_runtime.drift.capture import LocalFileSource
    from mlops_runtime.drift.jsonlog import JsonLogger
    from mlops_runtime.drift.shard import Shard
    from mlops_runtime.drift.window import Window

    assert "mlops_cdk" not in sys.modules, "the image has no mlops_cdk package"
    rss_before = peak_rss_mib()
    if trace:
        tracemalloc.start()
    options = AnalyzeOptions(
        source=LocalFileSource(capture),
        statistics_path=Path(statistics),
        constraints_path=Path(constraints),
        out=Path(out),
        endpoint="bench",
        schedule="bench-hourly",
        window=Window(HOUR, HOUR + timedelta(hours=1)),
        publish_metrics=False,
    )
    start = time.perf_counter()
    if shard is not None:
        partial = run_map(options, Shard(shard[0], shard[1]))
        write_partial(partial, Path(shard[2]))
        print(
            json.dumps(
                {
                    "records": partial.profile.item_count if partial.profile else 0,
                    "seconds": time.perf_counter() - start,
                    "peak_rss_mib": peak_rss_mib(),
                }
            )
        )
        return
    merged = read_partials(Path(reduce)) if reduce is not None else None
    result = run_analysis(options, None, JsonLogger(StringIO()), partial=merged)
    seconds = time.perf_counter() - start
    peak_traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else None
    print(
        json.dumps(
            {
                "records": result.profile.item_count,
                "violations": len(result.violations),
                "seconds": seconds,
                "rss_after_imports_mib": rss_before,
                "peak_rss_mib": peak_rss_mib(),
                "tracemalloc_peak_mib": peak_traced,
            }
        )
    )


def measure(folder: Path, baseline: tuple[Path, Path], trace: bool) -> dict[str, float]:
    """Run the child process on ``folder``'s capture and return its figures."""
    command = [
        sys.executable, "-m", "bench.drift", "--child", str(folder / "capture"),
        str(baseline[0]), str(baseline[1]), str(folder / "out"),
    ]  # fmt: skip
    if trace:
        command.append("--trace")
    image = folder.parent / "image"  # the runtime folder as the container has it
    if not image.exists():
        image.mkdir()
        (image / "mlops_runtime").symlink_to(ROOT / "mlops_cdk" / "runtime")
    env = {**os.environ, "PYTHONPATH": f"{image}{os.pathsep}{ROOT}"}
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _command(folder: Path, baseline: tuple[Path, Path], *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "bench.drift", "--child", str(folder / "capture"),
        str(baseline[0]), str(baseline[1]), str(folder / "out"), *extra,
    ]  # fmt: skip


def _env(folder: Path) -> dict[str, str]:
    image = folder.parent / "image"
    if not image.exists():
        image.mkdir()
        (image / "mlops_runtime").symlink_to(ROOT / "mlops_cdk" / "runtime")
    return {**os.environ, "PYTHONPATH": f"{image}{os.pathsep}{ROOT}"}


def measure_hosts(folder: Path, baseline: tuple[Path, Path], hosts: int) -> dict[str, float]:
    """``hosts`` map processes at once, then the reduce; wall time and peaks."""
    partials = folder / f"partials-{hosts}"
    env = _env(folder)
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            _command(folder, baseline, "--shard", str(index), str(hosts), str(partials)),
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for index in range(hosts)
    ]
    maps = []
    for worker in workers:
        output, _ = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"map worker failed ({worker.returncode})")
        maps.append(json.loads(output.strip().splitlines()[-1]))
    mapped = time.perf_counter() - started
    done = subprocess.run(
        _command(folder, baseline, "--reduce", str(partials)),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    reduced: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "records": reduced["records"],
        "violations": reduced["violations"],
        "wall_seconds": time.perf_counter() - started,
        "map_seconds": mapped,
        "reduce_seconds": reduced["seconds"],
        "peak_rss_per_host_mib": max(m["peak_rss_mib"] for m in maps),
        "reduce_peak_rss_mib": reduced["peak_rss_mib"],
    }


def main() -> None:
    """Generate data, run the analyses, print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--per-file", type=int, default=10_000)
    parser.add_argument("--trace", action="store_true", help="also run under tracemalloc")
    parser.add_argument("--hosts", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--child", nargs=4, metavar=("CAPTURE", "STATS", "CONSTRAINTS", "OUT"))
    parser.add_argument("--shard", nargs=3, metavar=("INDEX", "COUNT", "PARTIALS"))
    parser.add_argument("--reduce", metavar="PARTIALS")
    args = parser.parse_args()
    if args.child:
        shard = (int(args.shard[0]), int(args.shard[1]), args.shard[2]) if args.shard else None
        capture, statistics, constraints, out = args.child
        child(capture, statistics, constraints, out, args.trace, shard, args.reduce)
        return
    rng = np.random.default_rng(2026)
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, 10 features (7 numeric)")
    with tempfile.TemporaryDirectory(prefix="drift-bench-") as tmp:
        baseline = make_baseline(Path(tmp), rng)
        for records in args.records:
            folder = Path(tmp) / f"n{records}"
            started = time.perf_counter()
            size = make_capture(folder, records, args.per_file, rng)
            generated = time.perf_counter() - started
            figures = measure(folder, baseline, trace=False)
            traced = measure(folder, baseline, trace=True) if args.trace else {}
            print(
                f"{records:>9,} records in {-(-records // args.per_file)} files "
                f"({size / 2**20:,.0f} MiB, generated in {generated:.1f} s): "
                f"analyze {figures['seconds']:.1f} s, "
                f"{figures['records'] / figures['seconds']:,.0f} records/s, "
                f"peak RSS {figures['peak_rss_mib']:.0f} MiB "
                f"(after imports {figures['rss_after_imports_mib']:.0f} MiB)"
                + (f", tracemalloc peak {traced['tracemalloc_peak_mib']:.1f} MiB" if traced else "")
                + f", violations {figures['violations']}"
            )
            single = figures["records"] / figures["seconds"]
            for hosts in args.hosts:
                run = measure_hosts(folder, baseline, hosts)
                assert run["records"] == figures["records"]
                assert run["violations"] == figures["violations"]
                rate = run["records"] / run["wall_seconds"]
                print(
                    f"    {hosts} host(s): {run['wall_seconds']:.1f} s wall "
                    f"(map {run['map_seconds']:.1f} s, reduce {run['reduce_seconds']:.2f} s), "
                    f"{rate:,.0f} records/s = {rate / single:.2f}x the single analyze, "
                    f"peak RSS per host {run['peak_rss_per_host_mib']:.0f} MiB, "
                    f"reduce {run['reduce_peak_rss_mib']:.0f} MiB"
                )


if __name__ == "__main__":
    main()
