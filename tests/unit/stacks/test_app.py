"""app.py: environment selection, and a bad config fails with one clear line (no traceback)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from mlops_cdk.stacks.app import selected_environments
from tests.helpers.apps import SynthesizedApp
from tests.helpers.paths import ROOT


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (None, None),
        ("all", None),
        ("dev", ["dev"]),
        ("dev, staging", ["dev", "staging"]),
        (["prod"], ["prod"]),
    ],
    ids=["unset", "all", "one", "comma-separated", "list"],
)
def test_environment_selection_from_context(context: object, expected: list[str] | None) -> None:
    app = cdk.App(context={"environments": context} if context is not None else {})
    assert selected_environments(app) == expected


def test_stages_are_named_project_dash_environment(synthesized_app: SynthesizedApp) -> None:
    paths = {name: stage.node.path for name, stage in synthesized_app.stages.items()}
    assert paths == {"dev": "mlops-dev", "staging": "mlops-staging", "prod": "mlops-prod"}


def test_staging_and_prod_stacks_have_termination_protection(
    synthesized_app: SynthesizedApp,
) -> None:
    protected = {
        stack.stack_name: stack.termination_protection
        for stage in synthesized_app.stages.values()
        for stack in (stage.data, stage.network)
    }
    assert [name for name, on in protected.items() if on] == [
        "mlops-staging-data",
        "mlops-staging-network",
        "mlops-prod-data",
        "mlops-prod-network",
    ]


def run_app(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": str(Path(sys.executable).parent), "CDK_OUTDIR": str(workdir / "out")},
    )


def test_bad_config_fails_synth_with_one_line_naming_file_path_and_fix(tmp_path: Path) -> None:
    shutil.copy(ROOT / "app.py", tmp_path)
    shutil.copytree(ROOT / "config", tmp_path / "config")
    prod = tmp_path / "config" / "prod.yaml"
    prod.write_text(
        prod.read_text().replace("removal_policy: retain", "removal_policy: destroy"),
        encoding="utf-8",
    )
    result = run_app(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "config/prod.yaml: removal_policy: must be 'retain' in prod, so that data outlives a "
        "stack (got 'destroy')"
    )
