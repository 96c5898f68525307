"""ContainerImage.aws_image: AWS's inference images per region from the SDK's published data
(package data), a template mapping while the region is a token, and precise errors."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.framework_images import frameworks, versions
from mlops_cdk._internal.validators.images import image_uri_problem, is_aws_owned
from mlops_cdk.constructs import ContainerImage, RealtimeEndpoint
from tests.helpers.apps import unit_app, unit_stack


def bound_uri(image: ContainerImage, stack: cdk.Stack) -> Any:
    role = iam.Role(stack, f"Role{len(stack.node.children)}", assumed_by=iam.AccountRootPrincipal())
    return stack.resolve(image.bind(stack, role).image_uri)


# Known URIs, as AWS documents them (the DLC account 763104351884 in most regions; the
# scikit-learn/XGBoost account of eu-west-1 that the docs' examples use).
@pytest.mark.parametrize(
    ("framework", "version", "kwargs", "region", "uri"),
    [
        ("sklearn", "1.2-1", {}, "eu-west-1",
         "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
        ("xgboost", "1.7-1", {}, "eu-west-1",
         "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
        ("pytorch", "2.6", {"processor": "gpu"}, "us-east-1",
         "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312"),
        ("huggingface-llm", "3.3", {}, "us-west-2",
         "763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-tgi-inference:"
         "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"),
    ],
)  # fmt: skip
def test_known_uris(
    framework: str, version: str, kwargs: dict[str, str], region: str, uri: str
) -> None:
    stack = cdk.Stack(unit_app(), "S", env=cdk.Environment(account="123456789012", region=region))
    assert bound_uri(ContainerImage.aws_image(framework, version, **kwargs), stack) == uri
    explicit = ContainerImage.aws_image(framework, version, region=region, **kwargs)
    assert bound_uri(explicit, stack) == uri


def test_every_published_image_is_a_valid_aws_owned_uri() -> None:
    """The data and the image validator agree for every framework, version and region."""
    from mlops_cdk._internal import framework_images as fi
    from mlops_cdk._internal.validation import Checker

    count = 0
    for framework in frameworks():
        for version in versions(framework):
            config = fi._data()["frameworks"][framework]
            entry = config["versions"][config["aliases"].get(version, version)]
            processors = entry.get("processors") or config.get("processors") or [None]
            pythons = entry.get("py_versions") or [None]
            image = fi.framework_image(
                Checker("t"), framework, version, processor=processors[0], py_version=pythons[0]
            )
            for region in image.registries:
                uri = image.uri(region)
                assert image_uri_problem(uri, region=region) is None, uri
                assert is_aws_owned(uri)
                count += 1
    assert count > 1000


def test_a_token_region_looks_the_account_up_in_a_mapping() -> None:
    stack = cdk.Stack(unit_app(), "Agnostic")  # region unresolved
    image = ContainerImage.aws_image("sklearn", "1.2-1")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    uri = stack.resolve(image.bind(stack, role).image_uri)
    lookup = {
        "Fn::FindInMap": [
            "AwsImageSagemakerScikitLearn121CpuPy3",
            {"Ref": "AWS::Region"},
            "account",
        ]
    }
    assert uri["Fn::Join"][1][0] == lookup
    assert uri["Fn::Join"][1][-1] == "/sagemaker-scikit-learn:1.2-1-cpu-py3"
    # A second use shares the mapping.
    image.bind(stack, role)
    template = Template.from_stack(stack).to_json()
    mapping = template["Mappings"]["AwsImageSagemakerScikitLearn121CpuPy3"]
    assert mapping["eu-west-1"] == {"account": "141502667606"}
    assert mapping["us-east-1"] == {"account": "683313688378"}
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in s["Action"]
    ]
    assert statements
    assert lookup in statements[0]["Resource"]["Fn::Join"][1]


def test_an_endpoint_serves_it_in_an_environment_agnostic_stack() -> None:
    stack = cdk.Stack(unit_app(), "Agnostic")
    RealtimeEndpoint(stack, "Churn", image=ContainerImage.aws_image("xgboost", "1.7-1"))
    template = Template.from_stack(stack).to_json()
    (model,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    image = model["Properties"]["PrimaryContainer"]["Image"]
    assert image["Fn::Join"][1][0]["Fn::FindInMap"][0] in template["Mappings"]


BAD = [
    ({"framework": "torch"},
     r"framework must be one of 'sklearn', 'xgboost', 'pytorch', 'tensorflow', "
     r"'huggingface-llm', 'djl-lmi' \(got 'torch'\)"),
    ({"framework": "pytorch", "version": "9.9", "processor": "cpu"},
     r"version must be one of '0\.4\.0', .*'2\.6\.0', .*'2\.6' \(got '9\.9'\)"),
    ({"framework": "pytorch", "version": "2.6"},
     r"processor must be given: one of 'cpu', 'gpu' \(got none\)"),
    ({"framework": "pytorch", "version": "2.6", "processor": "inf"},
     r"processor must be one of 'cpu', 'gpu' \(got 'inf'\)"),
    ({"processor": "gpu"}, r"processor must be one of 'cpu' \(got 'gpu'\)"),
    ({"framework": "xgboost", "version": "1.7-1", "py_version": "py3"},
     r"py_version must be left out: this image has none \(got 'py3'\)"),
    ({"region": "ap-southeast-7"},
     r"region must be a region where sklearn 1\.2-1 images are published \(af-south-1, .*\) "
     r"\(got 'ap-southeast-7'\)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    BAD,
    ids=["framework", "version", "no-processor", "processor", "cpu-only", "python", "region"],
)
def test_bad_input(change: dict[str, str], message: str) -> None:
    kwargs = {"framework": "sklearn", "version": "1.2-1", **change}
    with pytest.raises(ConfigurationError, match=r"^ContainerImage\.aws_image: " + message):
        ContainerImage.aws_image(kwargs.pop("framework"), kwargs.pop("version"), **kwargs)


def test_an_image_of_another_region_is_rejected_where_it_is_used() -> None:
    stack = unit_stack()  # eu-west-1
    image = ContainerImage.aws_image("sklearn", "1.2-1", region="us-east-1")
    with pytest.raises(
        ConfigurationError,
        match=re.escape("Test/Churn: image must be an ECR image in the stack's region eu-west-1"),
    ):
        RealtimeEndpoint(stack, "Churn", image=image)


def test_a_stack_region_without_the_image_is_rejected_where_it_is_used() -> None:
    stack = cdk.Stack(
        unit_app(), "S", env=cdk.Environment(account="123456789012", region="ap-southeast-7")
    )
    with pytest.raises(
        ConfigurationError,
        match=r"^S/Churn: image must be a region where sklearn 1\.2-1 images are published",
    ):
        RealtimeEndpoint(stack, "Churn", image=ContainerImage.aws_image("sklearn", "1.2-1"))
