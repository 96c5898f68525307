"""Print a one-screen summary of a synthesized cloud assembly: stacks per environment, resource
counts and where the templates are. Usage: python scripts/synth_summary.py cdk.out"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


def stacks(assembly: Path) -> list[tuple[str, str, Path]]:
    """(stage, stack name, template path) for every stack, following nested assemblies."""
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    found: list[tuple[str, str, Path]] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        if kind == "cdk:cloud-assembly":
            nested = assembly / artifact["properties"]["directoryName"]
            found += [(artifact_id.removeprefix("assembly-"), n, p) for _, n, p in stacks(nested)]
        elif kind == "aws:cloudformation:stack":
            properties = artifact["properties"]
            name = properties.get("stackName", artifact_id)
            found.append(("", name, assembly / properties["templateFile"]))
    return found


def main(out_dir: str) -> int:
    assembly = Path(out_dir)
    rows = []
    for stage, name, template_path in stacks(assembly):
        template = json.loads(template_path.read_text(encoding="utf-8"))
        types = Counter(r["Type"] for r in template.get("Resources", {}).values())
        top = ", ".join(f"{t.split('::', 1)[1]} x{n}" for t, n in types.most_common(3))
        rows.append((stage or "-", name, sum(types.values()), top, template_path))
    if not rows:
        print(f"no stacks found in {assembly}")
        return 1
    # The delivery pipeline deploys its own copies of the environment stages: count, not list.
    pipeline_copies = [r for r in rows if "-delivery-" in r[0]]
    rows = [r for r in rows if r not in pipeline_copies]
    width = max(len(r[1]) for r in rows)
    stage_width = max(len("stage"), *(len(r[0]) for r in rows))
    print(f"\n{'stage':<{stage_width}} {'stack':<{width}} {'resources':>9}  most common")
    for stage, name, count, top, _ in rows:
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
