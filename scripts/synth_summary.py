"""Print a one-screen summary of a synthesized cloud assembly: stacks per environment, resource
counts, where the templates are, and what each environment costs while idle.
Usage: python scripts/synth_summary.py cdk.out"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mlops_cdk.cost import estimate_assembly, read_assembly, summary
from mlops_cdk.cost.report import PIPELINE_MARKER


def main(out_dir: str) -> int:
    assembly = Path(out_dir)
    rows = []
    for stack in read_assembly(assembly):
        template = json.loads(stack.path.read_text(encoding="utf-8"))
        types = Counter(r["Type"] for r in template.get("Resources", {}).values())
        top = ", ".join(f"{t.split('::', 1)[1]} x{n}" for t, n in types.most_common(3))
        rows.append((stack.stage or "-", stack.name, sum(types.values()), top))
    if not rows:
        print(f"no stacks found in {assembly}")
        return 1
    # The delivery pipeline deploys its own copies of the environment stages: count, not list.
    pipeline_copies = [r for r in rows if PIPELINE_MARKER in r[0]]
    rows = [r for r in rows if r not in pipeline_copies]
    width = max(len(r[1]) for r in rows)
    stage_width = max(len("stage"), *(len(r[0]) for r in rows))
    print(f"\n{'stage':<{stage_width}} {'stack':<{width}} {'resources':>9}  most common")
    for stage, name, count, top in rows:
        print(f"{stage:<{stage_width}} {name:<{width}} {count:>9}  {top}")
    environments = list(dict.fromkeys(r[0] for r in rows if r[0] != "-"))
    total = sum(r[2] for r in rows)
    print(
        f"\n{len(rows)} stacks, {total} resources in {len(environments)} environments "
        f"({', '.join(environments)})"
    )
    if pipeline_copies:
        print(
            f"the delivery pipeline deploys its own copies of {len(pipeline_copies)} of these "
            "stacks (same templates)"
        )
    print(f"templates: {assembly.resolve()}/assembly-<env>/*.template.json")
    print("\n".join(summary(estimate_assembly(assembly))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
