"""Estimating every environment of a cloud assembly on disk (what make synth prints)."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_cdk.cost import estimate_assembly, read_assembly, summary

KEY: dict[str, object] = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}}


def write_stage(root: Path, stage: str, stacks: dict[str, dict[str, object]]) -> None:
    directory = root / f"assembly-{stage}"
    directory.mkdir()
    artifacts = {}
    for name, template in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/eu-west-1",
            "properties": {"templateFile": f"{name}.template.json", "stackName": name},
        }
    (directory / "manifest.json").write_text(json.dumps({"artifacts": artifacts}))


def test_one_estimate_per_stage_without_the_pipeline_copies(tmp_path: Path) -> None:
    write_stage(tmp_path, "mlops-dev", {"mlops-dev-data": KEY, "mlops-dev-serving": KEY})
    write_stage(tmp_path, "mlops-delivery-mlops-dev", {"mlops-dev-data": KEY})
    manifest = {
        "artifacts": {
            f"assembly-{stage}": {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": f"assembly-{stage}"},
            }
            for stage in ("mlops-dev", "mlops-delivery-mlops-dev")
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))

    assert [s.region for s in read_assembly(tmp_path)] == ["eu-west-1"] * 3
    estimates = estimate_assembly(tmp_path)
    assert list(estimates) == ["mlops-dev"]
    assert estimates["mlops-dev"].total_usd == 2.0  # two KMS keys at $1 a month
    assert summary(estimates)[-1].split() == ["mlops-dev", "$2.00/month", "KMS", "keys", "$2.00"]
