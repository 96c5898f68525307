"""Which image a synthesized URI names: asset images are told apart by their hash (the tag)."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

from mlops_cdk.constructs import ContainerImage
from tests.helpers.apps import unit_stack


def asset_hash(image: ContainerImage) -> str:
    """The hash of an asset image (its tag in the asset repository), bound in a throwaway
    stack: the same for every stack, so a template's URI can be compared with it."""
    stack = unit_stack(name="ImageProbe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    bound = image.bind(Construct(stack, "Probe"), role)
    assert bound.asset is not None, "not an asset image"
    return bound.asset.asset_hash


def image_tag(uri: Any) -> str:
    """The tag of a resolved image URI (a string, or the ``Fn::Sub`` CDK writes for assets)."""
    text = uri["Fn::Sub"] if isinstance(uri, dict) else uri
    assert isinstance(text, str), uri
    return text.rsplit(":", 1)[1]
