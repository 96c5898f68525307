"""Arrows one way (stacks -> constructs | config -> _internal; runtime apart), no cycles, and
every third-party package the library imports is declared in pyproject.toml.

The contracts live in pyproject.toml ([tool.importlinter]) and run through import-linter.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
STDLIB = sys.stdlib_module_names


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_layering_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        (
            "_internal/nag.py",
            "from mlops_cdk.constructs.model_data import ModelData",
            "one way",
        ),
        (
            "stacks/batch.py",
            "from mlops_cdk.constructs.batch_transform.construct import BatchTransformJob",
            "public API of constructs only",
        ),
        ("runtime/settings.py", "import aws_cdk", "the runtime stands apart"),
    ],
    ids=["internal-imports-constructs", "stack-imports-a-construct-module", "runtime-imports-cdk"],
)
def test_a_planted_wrong_arrow_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    shutil.copytree(
        ROOT / "mlops_cdk",
        tmp_path / "mlops_cdk",
        ignore=shutil.ignore_patterns("__pycache__", "*.onnx", "*.tar.gz", "*.csv"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "mlops_cdk" / module
    target.write_text(planted + "\n" + target.read_text(encoding="utf-8"), encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken.replace("\n", " "), result.stdout


def _third_party_imports(files: list[Path]) -> set[str]:
    """Top-level names of the non-stdlib packages that ``files`` import."""
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(STDLIB) - {"mlops_cdk", "__future__"}


def _normalised(name: str) -> str:
    return name.lower().replace("_", "-")


def _declared(requirements: list[str]) -> set[str]:
    """Distribution names of PEP 508 requirement strings."""
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for separator in "<>=!~[ ":
            name = name.split(separator)[0]
        names.add(_normalised(name))
    return names


def test_every_library_import_is_a_declared_dependency() -> None:
    """Everything outside runtime/ (which has its own requirements and images)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _declared(project["dependencies"])
    distributions = metadata.packages_distributions()
    library = ROOT / "mlops_cdk"
    files = [p for p in library.rglob("*.py") if "runtime" not in p.relative_to(library).parts]
    undeclared = {
        name: distributions.get(name, [name])
        for name in _third_party_imports(files)
        if not {_normalised(d) for d in distributions.get(name, [name])} & declared
    }
    assert not undeclared, f"imported but not in [project] dependencies: {undeclared}"
