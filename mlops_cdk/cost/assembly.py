"""Reading a synthesized cloud assembly (``cdk.out``) without the CDK: stacks and templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, kw_only=True)
class StackTemplate:
    """One stack of a cloud assembly: its stage (``""`` at the top level), name, region and
    template file."""

    stage: str
    name: str
    region: str | None
    path: Path

    def template(self) -> dict[str, Any]:
        """The parsed CloudFormation template."""
        document: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return document


def read_assembly(assembly: Path) -> list[StackTemplate]:
    """Every stack in ``assembly``, following nested (stage) assemblies."""
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    found: list[StackTemplate] = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        kind = artifact.get("type")
        if kind == "cdk:cloud-assembly":
            stage = artifact_id.removeprefix("assembly-")
            nested = assembly / artifact["properties"]["directoryName"]
            found += [
                StackTemplate(stage=stage, name=s.name, region=s.region, path=s.path)
                for s in read_assembly(nested)
            ]
        elif kind == "aws:cloudformation:stack":
            properties = artifact["properties"]
            environment = artifact.get("environment", "")
            region = environment.rsplit("/", 1)[-1] if environment.startswith("aws://") else None
            found.append(
                StackTemplate(
                    stage="",
                    name=properties.get("stackName", artifact_id),
                    region=None if region in (None, "unknown-region") else region,
                    path=assembly / properties["templateFile"],
                )
            )
    return found
