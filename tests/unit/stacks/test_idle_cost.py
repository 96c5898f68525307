"""Idle cost of the shipped environments (issue #19), and cost_ceiling_usd failing synth."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_cdk.config import EnvironmentConfig
from mlops_cdk.cost import Estimate, estimate_assembly
from tests.helpers.apps import SynthesizedApp, cdk_json_context
from tests.helpers.paths import ROOT


@pytest.fixture(scope="module")
def estimates(synthesized_app: SynthesizedApp) -> dict[str, Estimate]:
    return estimate_assembly(synthesized_app.outdir)


@pytest.mark.parametrize(("env", "target"), [("dev", 10), ("staging", 250), ("prod", 400)])
def test_shipped_environments_idle_within_the_issue_targets_and_their_ceilings(
    estimates: dict[str, Estimate],
    environment_configs: list[EnvironmentConfig],
    env: str,
    target: float,
) -> None:
    estimate = estimates[f"mlops-{env}"]
    (config,) = [c for c in environment_configs if c.name == env]
    assert estimate.complete, (estimate.unknown_lines, estimate.unknown_resources)
    assert config.cost_ceiling_usd == target
    assert estimate.total_usd <= target


def test_only_prod_pays_for_a_warm_lambda(estimates: dict[str, Estimate]) -> None:
    warm = "Lambda provisioned concurrency"
    assert [env for env, e in estimates.items() if warm in e.by_kind()] == ["mlops-prod"]


def test_exceeding_the_ceiling_fails_synth_with_one_line(tmp_path: Path) -> None:
    shutil.copy(ROOT / "app.py", tmp_path)
    shutil.copytree(ROOT / "config", tmp_path / "config")
    dev = tmp_path / "config" / "dev.yaml"
    dev.write_text(
        dev.read_text().replace("cost_ceiling_usd: 10", "cost_ceiling_usd: 2"), encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            "PATH": str(Path(sys.executable).parent),
            "CDK_OUTDIR": str(tmp_path / "out"),
            "CDK_VALIDATION": "false",  # the schema validation is another test's job
            # cdk.json's feature flags (python app.py does not read cdk.json), dev only, no nag.
            "CDK_CONTEXT_JSON": json.dumps(
                cdk_json_context() | {"environments": "dev", "nag": False}
            ),
        },
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "config/dev.yaml: cost_ceiling_usd: mlops-dev: idle cost estimate $5.50/month exceeds "
        "the ceiling $2.00 (biggest: CloudWatch dashboards $3.00, CloudWatch alarms $1.50, "
        "KMS keys $1.00)"
    )
