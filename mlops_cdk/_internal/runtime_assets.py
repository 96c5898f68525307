"""Where the runtime (the model server's Docker build context and the demo model) lives inside
the installed package.

Paths are resolved from package data, never from this repository's layout, so a wheel
installed elsewhere synthesizes the same assets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def runtime_dir() -> Path:
    """The runtime package folder: the Docker build context of the runtime's images."""
    return Path(str(resources.files("mlops_cdk.runtime")))


def demo_model_dir() -> Path:
    """The demo churn model: ``model.tar.gz``, ``model.onnx`` and its drift ``baseline/``."""
    return runtime_dir() / "demo_model"
