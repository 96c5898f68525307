"""Per-environment stacks and the stage that groups them."""

from mlops_cdk.stacks.data import DataStack
from mlops_cdk.stacks.network import NetworkStack
from mlops_cdk.stacks.stage import EnvironmentStage

__all__ = ["DataStack", "EnvironmentStage", "NetworkStack"]
