"""The Serving stack wires RealtimeEndpoint from each environment's config."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from tests.helpers.apps import SynthesizedApp


@pytest.fixture(scope="module")
def serving(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {
        env: Template.from_json(templates[f"mlops-{env}-serving"])
        for env in ("dev", "staging", "prod")
    }


def variant(template: Template) -> dict[str, object]:
    (config,) = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    (only,) = config["Properties"]["ProductionVariants"]
    return dict(only)


def test_dev_is_serverless_outside_the_vpc(serving: dict[str, Template]) -> None:
    assert variant(serving["dev"])["ServerlessConfig"] == {
        "MaxConcurrency": 5,
        "MemorySizeInMB": 2048,
    }
    (model,) = serving["dev"].find_resources("AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    assert model["Properties"]["EnableNetworkIsolation"] is False
    serving["dev"].resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


@pytest.mark.parametrize(("env", "count", "low", "high"), [("staging", 1, 1, 2), ("prod", 2, 2, 8)])
def test_staging_and_prod_run_instances_in_the_vpc_with_autoscaling(
    serving: dict[str, Template], env: str, count: int, low: int, high: int
) -> None:
    assert variant(serving[env])["InstanceType"] == "ml.m5.large"
    assert variant(serving[env])["InitialInstanceCount"] == count
    (model,) = serving[env].find_resources("AWS::SageMaker::Model").values()
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert "VpcConfig" in model["Properties"]
    serving[env].has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget", {"MinCapacity": low, "MaxCapacity": high}
    )


@pytest.mark.parametrize(("env", "percent", "canary"), [("staging", 100, 50), ("prod", 20, 10)])
def test_capture_into_the_data_bucket_and_canary_deploys(
    serving: dict[str, Template], env: str, percent: int, canary: int
) -> None:
    serving[env].has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "DataCaptureConfig": Match.object_like(
                {
                    "InitialSamplingPercentage": percent,
                    "DestinationS3Uri": f"s3://mlops-{env}-capture-"
                    f"{'222222222222' if env == 'staging' else '333333333333'}"
                    "-eu-west-1/data-capture/",
                }
            )
        },
    )
    serving[env].has_resource_properties(
        "AWS::SageMaker::Endpoint",
        {
            "DeploymentConfig": Match.object_like(
                {
                    "BlueGreenUpdatePolicy": Match.object_like(
                        {
                            "TrafficRoutingConfiguration": {
                                "Type": "CANARY",
                                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": canary},
                                "WaitIntervalInSeconds": 600,
                            }
                        }
                    )
                }
            )
        },
    )


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_demo_model_is_deployed_from_package_assets(
    serving: dict[str, Template], env: str
) -> None:
    (model,) = serving[env].find_resources("AWS::SageMaker::Model").values()
    container = model["Properties"]["PrimaryContainer"]
    assert container["ModelDataSource"]["S3DataSource"]["CompressionType"] == "Gzip"
    assert "container-assets" in str(container["Image"])


def test_alarms_go_to_the_environment_topic(serving: dict[str, Template]) -> None:
    for alarm in serving["prod"].find_resources("AWS::CloudWatch::Alarm").values():
        actions = alarm["Properties"]["AlarmActions"]
        assert len(actions) == 1
        assert "AlarmTopic" in str(actions[0])


# --- EcsModelService ---------------------------------------------------------------------------

ECS_SIZES = {"staging": (1, 1, 2, "false", 2), "prod": (2, 2, 6, "true", 3)}


def test_dev_runs_no_ecs_service(serving: dict[str, Template]) -> None:
    # dev has neither interface endpoints nor NAT: tasks could not pull their image there.
    serving["dev"].resource_count_is("AWS::ECS::Service", 0)
    serving["dev"].resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 0)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_runs_across_the_private_subnets(
    serving: dict[str, Template], env: str
) -> None:
    desired, low, high, protection, zones = ECS_SIZES[env]
    (service,) = serving[env].find_resources("AWS::ECS::Service").values()
    properties = service["Properties"]
    # Both environments autoscale, so the template leaves the running count to Application
    # Auto Scaling (a deployment must not reset it); desired_count only has to fit the bounds.
    assert "DesiredCount" not in properties
    assert low <= desired <= high
    assert properties["LaunchType"] == "FARGATE"
    network = properties["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert len(network["Subnets"]) == zones
    assert all("PrivateSubnet" in str(subnet) for subnet in network["Subnets"])
    serving[env].has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": low, "MaxCapacity": high, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    (balancer,) = serving[env].find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert balancer["Properties"]["Scheme"] == "internal"
    assert attributes["deletion_protection.enabled"] == protection
    assert attributes["access_logs.s3.prefix"] == "model-service"


@pytest.mark.parametrize(("env", "cidr"), [("staging", "10.20.0.0/16"), ("prod", "10.30.0.0/16")])
def test_model_service_admits_the_environment_vpc_only(
    serving: dict[str, Template], env: str, cidr: str
) -> None:
    serving[env].has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                {
                    "CidrIp": cidr,
                    "FromPort": 80,
                    "ToPort": 80,
                    "IpProtocol": "tcp",
                    "Description": "callers inside the environment VPC",
                }
            ]
        },
    )


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_downloads_the_demo_onnx_and_logs_with_the_data_key(
    serving: dict[str, Template], env: str
) -> None:
    (task,) = serving[env].find_resources("AWS::ECS::TaskDefinition").values()
    (server,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "Model"]
    env_vars = {e["Name"]: e["Value"] for e in server["Environment"]}
    assert str(env_vars["MLOPS_MODEL_S3_URI"]).endswith(".onnx")
    assert "container-assets" in str(server["Image"])
    (group,) = [
        r
        for key, r in serving[env].find_resources("AWS::Logs::LogGroup").items()
        if key.startswith("ModelService")  # the Lambda function and its API log too
    ]
    assert "DataKey" in str(group["Properties"]["KmsKeyId"])
    assert group["Properties"]["RetentionInDays"] == (90 if env == "staging" else 365)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_url_is_an_output(serving: dict[str, Template], env: str) -> None:
    outputs = serving[env].find_outputs("ModelServiceUrl")
    assert len(outputs) == 1


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_alb_may_write_its_access_logs_into_the_data_bucket(
    synthesized_app: SynthesizedApp, env: str
) -> None:
    data = Template.from_json(synthesized_app.templates()[f"mlops-{env}-data"])
    account = "222222222222" if env == "staging" else "333333333333"
    data.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "s3:PutObject",
                            "Effect": "Allow",
                            # eu-west-1's Elastic Load Balancing account
                            "Principal": {"AWS": "arn:aws:iam::156460612806:root"},
                            "Resource": {
                                "Fn::Join": [
                                    "",
                                    [
                                        {
                                            "Fn::GetAtt": [
                                                Match.string_like_regexp("AccessLogs"),
                                                "Arn",
                                            ]
                                        },
                                        f"/model-service/AWSLogs/{account}/*",
                                    ],
                                ]
                            },
                        }
                    ]
                )
            }
        },
    )


# --- LambdaInference ---------------------------------------------------------------------------


def lambda_function(template: Template) -> dict[str, Any]:
    (function,) = [
        r
        for key, r in template.find_resources("AWS::Lambda::Function").items()
        if key.startswith("LambdaInference")
    ]
    return dict(function["Properties"])


def test_dev_lambda_has_an_iam_function_url_outside_the_vpc(
    serving: dict[str, Template],
) -> None:
    dev = serving["dev"]
    function = lambda_function(dev)
    assert "VpcConfig" not in function
    assert function["Timeout"] == 30
    assert str(function["Environment"]["Variables"]["MLOPS_MODEL_S3_URI"]).endswith(".onnx")
    dev.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM", "Qualifier": "live"})
    dev.resource_count_is("AWS::ApiGateway::RestApi", 0)
    dev.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 0)
    (logs,) = [
        r
        for key, r in dev.find_resources("AWS::Logs::LogGroup").items()
        if key.startswith("LambdaInferenceLogs")
    ]
    assert logs["Properties"]["RetentionInDays"] == 30
    assert logs["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize(
    ("env", "low", "high", "reserved", "minutes"),
    [("staging", 1, 3, None, 5), ("prod", 2, 20, 50, 10)],
)
def test_staging_and_prod_lambda_sits_behind_an_iam_api_with_canaries(
    serving: dict[str, Template],
    env: str,
    low: int,
    high: int,
    reserved: int | None,
    minutes: int,
) -> None:
    template = serving[env]
    function = lambda_function(template)
    assert len(function["VpcConfig"]["SubnetIds"]) == (2 if env == "staging" else 3)
    assert function["Timeout"] == 29  # the API's integration timeout
    assert function.get("ReservedConcurrentExecutions") == reserved
    template.resource_count_is("AWS::Lambda::Url", 0)
    for method in template.find_resources("AWS::ApiGateway::Method").values():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": low,
            "MaxCapacity": high,
            "ScalableDimension": "lambda:function:ProvisionedConcurrency",
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": low}},
    )
    canary = template.find_resources("AWS::CodeDeploy::DeploymentGroup")
    (group,) = canary.values()
    name = group["Properties"]["DeploymentConfigName"]
    assert name == f"CodeDeployDefault.LambdaCanary10Percent{minutes}Minutes"
    assert len(group["Properties"]["AlarmConfiguration"]["Alarms"]) == 3


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_lambda_url_is_an_output(serving: dict[str, Template], env: str) -> None:
    assert "LambdaInferenceUrl" in serving[env].find_outputs("*")


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_one_dashboard_shows_every_serving_target(serving: dict[str, Template], env: str) -> None:
    (dashboard,) = serving[env].find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"mlops-{env}-serving"
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "ModelLatency" in body  # the endpoint
    assert "AWS/Lambda" in body  # the Lambda function
    assert ("AWS/ApplicationELB" in body) == (env != "dev")  # the ECS service, staging/prod
