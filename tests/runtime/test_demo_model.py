"""The checked-in demo model is exactly what scripts/make_demo_model.py produces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DEMO_MODEL_DIR, REPO


def test_make_demo_model_reproduces_the_checked_in_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_demo_model.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    names = [
        "model.onnx",
        "model.tar.gz",
        "features.json",
        "sample_request.json",
        "sample_request.csv",
    ]
    for name in names:
        assert (tmp_path / name).read_bytes() == (DEMO_MODEL_DIR / name).read_bytes(), name


@pytest.mark.parametrize("name", ["model.onnx", "model.tar.gz"])
def test_demo_model_is_small(name: str) -> None:
    assert 0 < (DEMO_MODEL_DIR / name).stat().st_size < 8192
