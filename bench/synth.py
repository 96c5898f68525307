"""Synth cost of the whole app, phase by phase, and resources per stack.

The whole app is what ``app.py`` builds: every environment stage plus the delivery pipeline
stack and the copies of the stages it deploys. Each variant runs in a fresh Python process (jsii
and the template validator start once per process, which is the cost that matters), and the
variants alternate round by round, so a change in machine load hits both alike. Prints a table;
this is a benchmark, not a test.

    python bench/synth.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The delivery stack's hierarchical ID, which prefixes its stage copies too.
DELIVERY_PREFIX = "mlops-delivery"


def measure(validation: bool, nag: bool) -> dict[str, Any]:
    """Run one synth of every environment in this process and time each phase."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    import aws_cdk as cdk

    from mlops_cdk.config import load_delivery, load_environments
    from mlops_cdk.stacks.app import NAG_PACKS, add_delivery, build_app

    timings["import"] = time.perf_counter() - start

    mark = time.perf_counter()
    configs = load_environments(config_dir=ROOT / "config", environ={})
    delivery = load_delivery(config_dir=ROOT / "config")
    pipeline_configs = (
        load_environments(delivery.environments, config_dir=ROOT / "config", environ={})
        if delivery
        else []
    )
    timings["config"] = time.perf_counter() - mark

    mark = time.perf_counter()
    context = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    outdir = tempfile.mkdtemp(prefix="bench-cdk.out-")
    app = cdk.App(context=context, outdir=outdir, builtin_cloud_formation_validation=validation)
    scopes: list[Any] = list(build_app(app, configs))
    if delivery is not None:
        scopes.append(
            add_delivery(app, delivery, pipeline_configs, package_json=ROOT / "package.json")
        )
    timings["construct"] = time.perf_counter() - mark

    mark = time.perf_counter()
    assembly = app.synth()
    timings["synth"] = time.perf_counter() - mark

    if nag:
        mark = time.perf_counter()
        for scope in scopes:
            for pack in NAG_PACKS:
                pack().validate_scope(scope)
        timings["nag (5 packs)"] = time.perf_counter() - mark

    # Every stack of the assembly, nested ones included: the environment stages and the
    # delivery pipeline's own copies of them (same stack names, so keyed by artifact path).
    resources: dict[str, int] = {}
    for stack in assembly.stacks_recursively:
        count = len(stack.template.get("Resources", {}))
        resources[stack.hierarchical_id] = count
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
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for _ in range(args.repeat):  # alternate: A B A B ..., not A A B B
        for name, flags in variants.items():
            results[name].append(run_child(*flags))

    print(
        f"\nSynth of the whole app (environments + delivery), "
        f"median of {args.repeat} fresh processes (seconds)"
    )
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
    width = max(len(stack) for stack in resources) + 2
    print(f"\n{'stack (assembly path)':<{width}}{'resources':>10}")
    for stack, count in sorted(resources.items()):
        print(f"{stack:<{width}}{count:>10}")
    delivered = sum(c for s, c in resources.items() if s.startswith(DELIVERY_PREFIX))
    print(f"{'total':<{width}}{sum(resources.values()):>10}")
    print(f"{'delivery + its stage copies':<{width}}{delivered:>10}")


if __name__ == "__main__":
    main()
