"""Where the runtime's images and the demo model live inside the installed package.

Paths are resolved from package data, never from this repository's layout, so a wheel
installed elsewhere synthesizes the same assets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from mlops_cdk.constructs.container_image import ContainerImage
from mlops_cdk.constructs.model_data import ModelData


def runtime_dir() -> Path:
    """The runtime package folder: the Docker build context of both images."""
    return Path(str(resources.files("mlops_cdk.runtime")))


def server_image() -> ContainerImage:
    """The reference model server (SageMaker container contract), built at deploy time."""
    return ContainerImage.from_asset(runtime_dir(), file="Dockerfile")


def lambda_image() -> ContainerImage:
    """The Lambda image running the same predictor, built at deploy time."""
    return ContainerImage.from_asset(runtime_dir(), file="Dockerfile.lambda")


def demo_model() -> ModelData:
    """The demo churn scorer as ``model.tar.gz`` (SageMaker unpacks it to /opt/ml/model)."""
    return ModelData.from_asset(runtime_dir() / "demo_model" / "model.tar.gz")


def demo_model_file() -> ModelData:
    """The demo churn scorer as a single ``model.onnx`` (for servers that download the model
    themselves: ECS and Lambda; a file asset's key keeps only its last suffix, so a packed
    ``.tar.gz`` asset would not be recognised as an archive there)."""
    return ModelData.from_asset(runtime_dir() / "demo_model" / "model.onnx")
