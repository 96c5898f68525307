"""The drift job runs as ``mlops_runtime.drift`` (image layout) and imports nothing from CDK."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from mlops_cdk.runtime import drift

from .drift_fixtures import write_csv


def image_layout(tmp_path: Path) -> dict[str, str]:
    """Copy the runtime folder to ``<tmp>/site/mlops_runtime``, as the image installs it."""
    runtime = Path(drift.__file__).parent.parent
    shutil.copytree(
        runtime,
        tmp_path / "site" / "mlops_runtime",
        ignore=shutil.ignore_patterns("__pycache__", "demo_model"),
    )
    return {**os.environ, "PYTHONPATH": str(tmp_path / "site")}


def test_runs_as_mlops_runtime_without_cdk(tmp_path: Path) -> None:
    env = image_layout(tmp_path)
    train = write_csv(tmp_path / "t.csv", ["a", "b"], [[1, "x"], [2, "y"]])
    done = subprocess.run(
        [sys.executable, "-m", "mlops_runtime.drift", "baseline", "--train", str(train),
         "--out", str(tmp_path / "out")],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.splitlines()[-1])["event"] == "baseline_complete"
    assert (tmp_path / "out" / "constraints.json").exists()
    probe = (
        "import sys, mlops_runtime.drift.cli, mlops_runtime.drift.analyze;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mlops_cdk', 'aws_cdk', 'boto3', 'scipy', 'pandas'));"
        "print(bad)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert imported.stdout.strip() == "[]"


def test_help_lists_both_subcommands() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlops_cdk.runtime.drift", "--help"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "{baseline,analyze}" in done.stdout
