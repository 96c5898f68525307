"""cfn-lint over every synthesized template, with the checked-in .cfnlintrc.yaml."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.apps import SynthesizedApp
from tests.helpers.compliance import ERROR_BIT, cfn_lint


def test_every_template_is_clean(synthesized_app: SynthesizedApp) -> None:
    files = synthesized_app.template_files()
    assert len(files) == len(synthesized_app.templates())
    result = cfn_lint(files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_serving_an_approved_package_are_clean(approved_app: SynthesizedApp) -> None:
    files = approved_app.template_files()
    assert len(files) == len(approved_app.templates())
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
