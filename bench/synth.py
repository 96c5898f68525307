"""Synth cost of the whole app, phase by phase, and resources per stack.

Each variant runs in a fresh Python process (jsii and the template validator start once per
process, which is the cost that matters). Prints a table; this is a benchmark, not a test.

    python bench/synth.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(validation: bool, nag: bool) -> dict[str, Any]:
    """Run one synth of every environment in this process and time each phase."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    import aws_cdk as cdk

    from mlops_cdk.config import load_environments
    from mlops_cdk.stacks.app import NAG_PACKS, build_app

    timings["import"] = time.perf_counter() - start

    mark = time.perf_counter()
    configs = load_environments(config_dir=ROOT / "config", environ={})
    timings["config"] = time.perf_counter() - mark

    mark = time.perf_counter()
    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    outdir = tempfile.mkdtemp(prefix="bench-cdk.out-")
    app = cdk.App(context=context, outdir=outdir, builtin_cloud_formation_validation=validation)
    stages = build_app(app, configs)
    timings["construct"] = time.perf_counter() - mark

    mark = time.perf_counter()
    assembly = app.synth()
    timings["synth"] = time.perf_counter() - mark

    if nag:
        mark = time.perf_counter()
        for stage in stages:
            for pack in NAG_PACKS:
                pack().validate_scope(stage)
        timings["nag (5 packs)"] = time.perf_counter() - mark

    resources: dict[str, int] = {}
    for stage in stages:
        for stack in assembly.get_nested_assembly(stage.artifact_id).stacks_recursively:
            resources[stack.stack_name] = sum(
                Counter(r["Type"] for r in stack.template.get("Resources", {}).values()).values()
            )
    return {"timings": timings, "resources": resources}


def run_child(validation: bool, nag: bool) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(int(validation)), str(int(nag))],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(bool(args.child[0]), bool(args.child[1]))))
        return

    variants = {
        "validation on + nag": (True, True),
        "validation off": (False, False),
    }
    results = {
        name: [run_child(*flags) for _ in range(args.repeat)] for name, flags in variants.items()
    }

    print(f"\nSynth of every environment, median of {args.repeat} fresh processes (seconds)")
    phases = ["import", "config", "construct", "synth", "nag (5 packs)"]
    print(f"{'phase':<16}" + "".join(f"{name:>22}" for name in variants))
    for phase in phases:
        row = f"{phase:<16}"
        for name in variants:
            values = [r["timings"].get(phase) for r in results[name]]
            present = [v for v in values if v is not None]
            row += f"{median(present):>22.3f}" if present else f"{'-':>22}"
        print(row)
    totals = {
        name: median(sum(r["timings"].values()) for r in runs) for name, runs in results.items()
    }
    print(f"{'total':<16}" + "".join(f"{totals[name]:>22.3f}" for name in variants))

    resources = results["validation off"][0]["resources"]
    print(f"\n{'stack':<28}{'resources':>10}")
    for stack, count in resources.items():
        print(f"{stack:<28}{count:>10}")
    print(f"{'total':<28}{sum(resources.values()):>10}")


if __name__ == "__main__":
    main()
