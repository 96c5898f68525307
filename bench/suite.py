"""Test-suite cost: the whole pytest suite serially and on two workers, plus the slowest tests.

Each run is a fresh pytest process (each worker synthesizes the app once, which is the cost
that decides whether workers pay off). Prints a table; this is a benchmark, not a test.

    python -m bench.suite [--workers 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"(\d+) passed")
SLOW = re.compile(r"^\s*([\d.]+)s (call|setup|teardown)\s+(\S+)", re.MULTILINE)


def run(workers: int) -> tuple[float, int, str]:
    """Wall time, passed count and pytest output of one run."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=8"]
    if workers > 1:
        command += ["-n", str(workers)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pytest failed ({result.returncode}):\n{result.stdout[-2000:]}")
    passed = SUMMARY.findall(result.stdout)
    return elapsed, int(passed[-1]) if passed else 0, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    serial = run(1)
    parallel = run(args.workers)
    print(f"\n{'mode':<12}{'tests':>8}{'wall s':>10}")
    print(f"{'serial':<12}{serial[1]:>8}{serial[0]:>10.1f}")
    print(f"{f'-n {args.workers}':<12}{parallel[1]:>8}{parallel[0]:>10.1f}")
    print(f"speed-up: {serial[0] / parallel[0]:.2f}x")
    print("\nslowest (serial run):")
    for seconds, phase, test in SLOW.findall(serial[2]):
        print(f"  {float(seconds):6.2f} s  {phase:<8} {test}")


if __name__ == "__main__":
    main()
