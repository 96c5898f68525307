"""RealtimeEndpoint implements aws_sagemaker.IEndpoint: CDK constructs that take an endpoint
(API Gateway's SagemakerIntegration) accept it and read its name and ARN."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from mlops_cdk.constructs import ContainerImage, ModelData, RealtimeEndpoint
from tests.helpers.apps import unit_stack

IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.1-cpu-py310"


def test_realtime_endpoint_goes_where_cdk_takes_an_iendpoint() -> None:
    stack = unit_stack()
    endpoint = RealtimeEndpoint(
        stack,
        "Churn",
        image=ContainerImage.from_uri(IMAGE),
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        endpoint_name="churn",
    )
    typed: sagemaker.IEndpoint = endpoint
    api = apigateway.RestApi(stack, "Api")
    api.root.add_method("POST", apigateway.SagemakerIntegration(typed))
    endpoint.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)

    (method,) = template.find_resources("AWS::ApiGateway::Method").values()
    assert method["Properties"]["Integration"]["Uri"].endswith("/endpoints/churn/invocations")
    (policy,) = template.find_resources("AWS::IAM::Policy").values()  # API Gateway's own role
    assert policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"] == {
        "Ref": stack.get_logical_id(endpoint.endpoint)
    }
    assert stack.resolve(endpoint.endpoint_ref.endpoint_arn) == stack.resolve(endpoint.endpoint_arn)
    assert endpoint.stack is stack
    assert endpoint.env.region == "eu-west-1"
    kinds = ("AWS::SageMaker::Endpoint", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Model")
    for kind in kinds:
        for resource in template.find_resources(kind).values():
            assert resource["DeletionPolicy"] == "Delete"
