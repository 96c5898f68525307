"""mlops_cdk.cost stays CDK-free: app.py, scripts and tests use it without loading the CDK."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("aws_cdk", "jsii", "mlops_cdk.stacks", "mlops_cdk.config", "mlops_cdk.constructs.")


def test_importing_the_estimator_loads_no_cdk_stacks_or_config() -> None:
    code = (
        "import sys, mlops_cdk.cost; "
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
