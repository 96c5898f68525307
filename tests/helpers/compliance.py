"""Running the compliance tools from tests: cfn-lint over template files, cdk-nag packs over a
construct tree, and the offline AWS checks (request models, IAM data, deploy limits) over one
template."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from constructs import IConstruct

from tests.helpers.aws_requests import request_findings
from tests.helpers.deploy_limits import limit_findings
from tests.helpers.iam_policies import policy_findings
from tests.helpers.paths import ROOT

Template = Mapping[str, Any]

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


def template_findings(
    template: Template, templates: Mapping[str, Template] | None = None, *, margins: bool = True
) -> list[str]:
    """What the offline AWS checks say of ``template``: embedded requests against botocore's
    models, policies against IAM's data, deploy limits (with the project's margins, or
    ``margins=False``: the limits themselves); ``templates`` (stack name -> template) are its
    siblings, for cross-stack references. Each finding names its check."""
    return [
        *(f"request: {f}" for f in request_findings(template, templates)),
        *(f"iam: {f}" for f in policy_findings(template, templates)),
        *(f"limit: {f}" for f in limit_findings(template, templates, margins=margins)),
    ]
