"""Running the compliance tools from tests: cfn-lint over template files, cdk-nag packs over a
construct tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from constructs import IConstruct

from tests.helpers.paths import ROOT

ERROR_BIT = 2  # cfn-lint's exit code is a bit field: 1 failure to run, 2 error, 4 warning
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def cfn_lint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    """cfn-lint over ``files`` with the checked-in .cfnlintrc.yaml."""
    return subprocess.run(
        [str(CFN_LINT), *map(str, files)],
        cwd=ROOT,  # picks up .cfnlintrc.yaml
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def findings(pack: Any, scope: IConstruct) -> list[str]:
    """``rule [construct path]`` for each unacknowledged finding of ``pack`` under ``scope``."""
    report = pack().validate_scope(scope)
    return [
        f"{violation.rule_name} [{construct.construct_path}]"
        for violation in report.violations
        for construct in violation.violating_resources
    ]
