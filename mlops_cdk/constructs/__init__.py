"""The public constructs and the value types they share."""

from mlops_cdk.constructs.container_image import BoundImage, ContainerImage
from mlops_cdk.constructs.model_data import BoundModelData, ModelData

__all__ = ["BoundImage", "BoundModelData", "ContainerImage", "ModelData"]
