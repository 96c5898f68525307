"""cfn-lint over every synthesized template, with the checked-in .cfnlintrc.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SynthesizedApp

ERROR_BIT = 2  # cfn-lint's exit code is a bit field: 1 failure to run, 2 error, 4 warning
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


def cfn_lint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CFN_LINT), *map(str, files)],
        cwd=ROOT,  # picks up .cfnlintrc.yaml
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_template_is_clean(synthesized_app: SynthesizedApp) -> None:
    files = synthesized_app.template_files()
    assert len(files) == len(synthesized_app.templates())
    result = cfn_lint(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_reports_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.template.json"
    broken.write_text(
        '{"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}}}',
        encoding="utf-8",
    )
    result = cfn_lint([broken])
    assert result.returncode & ERROR_BIT, result.stdout + result.stderr
    assert "E3002" in result.stdout  # "Additional properties are not allowed ('Nope' ...)"
