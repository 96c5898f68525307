"""checkov over CloudFormation template files, offline, from its own virtualenv.

checkov's pins conflict with the project's (botocore 1.35, packaging 23), so ``make setup``
installs it into ``.venv-checkov`` from ``requirements-checkov.txt`` and tests run it as a
subprocess: one process for many files (its start-up is most of its cost). It never reaches
the network: ``--skip-download`` and a loopback proxy for anything it would still try.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.paths import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
_OFFLINE = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
}


@dataclass(frozen=True)
class Result:
    """One check on one resource: ``file`` is the template's name, ``comment`` a skip's reason."""

    check_id: str
    file: str
    resource: str
    name: str
    comment: str | None = None

    def __str__(self) -> str:
        return f"{self.file} {self.resource}: {self.check_id} {self.name}"


@dataclass(frozen=True)
class Report:
    failed: list[Result]
    skipped: list[Result]
    passed: int
    version: str


def scan(files: Sequence[Path]) -> Report:
    """Run checkov's CloudFormation checks over ``files`` in one process."""
    if not CHECKOV.is_file():
        msg = f"{CHECKOV} is missing: run `make setup` (it installs requirements-checkov.txt)"
        raise FileNotFoundError(msg)
    command = [str(CHECKOV), "--framework", "cloudformation", "--output", "json", "--compact"]
    command += ["--skip-download", "--file", *map(str, files)]
    env = {**os.environ, **_OFFLINE}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False, env=env
    )
    if done.returncode not in (0, 1):  # 1: some check failed
        msg = f"checkov exited {done.returncode}: {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    reports: Any = json.loads(done.stdout)
    report = reports if isinstance(reports, dict) else reports[0]
    results = report["results"]
    return Report(
        failed=[_result(r) for r in results["failed_checks"]],
        skipped=[_result(r) for r in results["skipped_checks"]],
        passed=len(results["passed_checks"]),
        version=str(report["summary"]["checkov_version"]),
    )


def _result(raw: dict[str, Any]) -> Result:
    return Result(
        check_id=raw["check_id"],
        file=Path(raw["file_abs_path"]).name,
        resource=raw["resource"],
        name=raw["check_name"],
        comment=raw["check_result"].get("suppress_comment"),
    )
