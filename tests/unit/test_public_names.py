"""Every public name the docs show imports from both mlops_cdk and mlops_cdk.constructs, and
mlops_cdk re-exports exactly the one list (constructs/__init__.pyi) plus its own two names."""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

import mlops_cdk
import mlops_cdk.constructs
from tests.helpers.paths import ROOT

# The one export list. constructs/__init__.pyi spells it as imports (type checkers read that);
# lazy_loader builds __all__ from it at run time (mypy reads the stubs, which have none).
EXPORTED: list[str] = vars(mlops_cdk.constructs)["__all__"]
DOCS = sorted((ROOT / "docs").glob("*.md"))
CONSTRUCTS_DIR = ROOT / "mlops_cdk" / "constructs"
FENCE = re.compile(r"```([^\n]*)\n(.*?)```", re.DOTALL)
SPAN = re.compile(r"`([^`\n]+)`")
IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def defined_public_names(package: Path) -> set[str]:
    """Top-level public classes and functions defined in the construct package's public
    modules (no ``_``-prefixed module, folder or name)."""
    names: set[str] = set()
    for path in package.rglob("*.py"):
        if any(
            part.startswith("_") and part != "__init__.py"
            for part in path.relative_to(package).parts
        ):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef | ast.FunctionDef) and not node.name.startswith("_"):
                names.add(node.name)
    return names


def code_identifiers(texts: Iterable[str]) -> set[str]:
    """Identifiers inside Python (and untagged) code blocks and inline code spans; not in
    diagrams, shell, JSON or YAML blocks."""
    found: set[str] = set()
    for text in texts:
        for language, block in FENCE.findall(text):
            if language.strip() in {"", "python", "py"}:
                found.update(IDENTIFIER.findall(block))
        for span in SPAN.findall(FENCE.sub("", text)):
            found.update(IDENTIFIER.findall(span))
    return found


def imported_from_the_package(texts: Iterable[str]) -> set[str]:
    """Names the docs' examples import from mlops_cdk or mlops_cdk.constructs."""
    pattern = re.compile(r"^from mlops_cdk(?:\.constructs)? import ([^\n]+)$", re.MULTILINE)
    return {
        name.strip()
        for text in texts
        for match in pattern.finditer(text)
        for name in match.group(1).strip("()").split(",")
        if name.strip()
    }


def documented_public_names(docs: list[Path], package: Path) -> set[str]:
    """What the docs present as public: every name their examples import from the package, and
    every public class or function of the construct package named in their code."""
    texts = [path.read_text(encoding="utf-8") for path in docs]
    return imported_from_the_package(texts) | (
        code_identifiers(texts) & defined_public_names(package)
    )


DOCUMENTED = sorted(documented_public_names(DOCS, CONSTRUCTS_DIR))


def test_the_docs_document_public_names() -> None:
    # Guards the parser: if it found nothing, the tests below would pass vacuously.
    assert {"RealtimeEndpoint", "ModelData", "MLPipeline", "ModelMonitorSchedule"} <= set(
        DOCUMENTED
    )


@pytest.mark.parametrize("name", DOCUMENTED)
def test_documented_name_is_exported_from_both_packages(name: str) -> None:
    assert name in EXPORTED
    assert getattr(mlops_cdk, name) is getattr(mlops_cdk.constructs, name)


def test_mlops_cdk_re_exports_the_one_list() -> None:
    assert vars(mlops_cdk)["__all__"] == ["ConfigurationError", "__version__", *EXPORTED]


@pytest.mark.parametrize("module", ["mlops_cdk", "mlops_cdk.constructs"])
def test_every_exported_name_resolves(module: str) -> None:
    package = importlib.import_module(module)
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert missing == []


def test_a_documented_name_missing_from_the_list_is_caught(tmp_path: Path) -> None:
    """The check above fails when the docs show a name the export list lacks."""
    doc = tmp_path / "new-construct.md"
    doc.write_text("```python\nfrom mlops_cdk import RealtimeEndpoint, ShinyNewThing\n```\n")
    documented = documented_public_names([doc], CONSTRUCTS_DIR)
    assert set(documented) - set(EXPORTED) == {"ShinyNewThing"}
