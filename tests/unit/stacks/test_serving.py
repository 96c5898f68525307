"""The Serving stack wires RealtimeEndpoint, EcsModelService and LambdaInference from each
environment's config to the Data stack's key, topic and buckets and the Network stack's subnets.

Values that only repeat config/*.yaml are read from the loaded config here (the snapshots pin
the rendered templates); what these tests own is what connects to what."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk.config import AsyncInferenceSettings, DeploymentSettings, EnvironmentConfig
from mlops_cdk.stacks.stage import EnvironmentStage
from tests.helpers.apps import SynthesizedApp, unit_app
from tests.helpers.templates import ASSET_IMAGE, assert_matches, widget_metrics
from tests.helpers.wiring import (
    bucket_name,
    joined_json,
    only,
    private_subnets,
    produced_by,
    resources,
)

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def templates(synthesized_app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    return synthesized_app.templates()


@pytest.fixture(scope="module")
def serving(templates: dict[str, dict[str, Any]]) -> dict[str, Template]:
    return {env: Template.from_json(templates[f"mlops-{env}-serving"]) for env in ENVIRONMENTS}


def endpoint_resources(template: Template, kind: str) -> list[dict[str, Any]]:
    """The RealtimeEndpoint's resources of ``kind`` (construct id ``Endpoint``; a model host's
    are under ``ModelHost``)."""
    return [dict(r) for k, r in template.find_resources(kind).items() if k.startswith("Endpoint")]


def variant(template: Template) -> dict[str, object]:
    (config,) = endpoint_resources(template, "AWS::SageMaker::EndpointConfig")
    (only_variant,) = config["Properties"]["ProductionVariants"]
    return dict(only_variant)


def data_key(templates: dict[str, dict[str, Any]], env: str) -> tuple[str, Any]:
    """Where a reference to the environment's data key leads."""
    data = templates[f"mlops-{env}-data"]
    return f"mlops-{env}-data", {"Fn::GetAtt": [only(data, "AWS::KMS::Key"), "Arn"]}


def alarm_topic(templates: dict[str, dict[str, Any]], env: str) -> tuple[str, Any]:
    """Where a reference to the environment's alarm topic leads."""
    data = templates[f"mlops-{env}-data"]
    return f"mlops-{env}-data", {"Ref": only(data, "AWS::SNS::Topic")}


def subnets_of(templates: dict[str, dict[str, Any]], refs: list[Any]) -> list[Any]:
    """Where each subnet reference leads: (producing stack, its output value)."""
    return [produced_by(templates, ref) for ref in refs]


def network_private_subnets(templates: dict[str, dict[str, Any]], env: str) -> list[Any]:
    """The environment's Network stack's private subnets, as subnets_of reports them."""
    subnets = private_subnets(templates[f"mlops-{env}-network"])
    assert subnets  # the network stack has private subnets to compare with
    return [(f"mlops-{env}-network", ref) for ref in subnets]


# --- RealtimeEndpoint --------------------------------------------------------------------------


def test_dev_is_serverless_outside_the_vpc(
    serving: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    settings = configs["dev"].realtime_endpoint
    assert settings.mode == "serverless"
    assert variant(serving["dev"])["ServerlessConfig"] == {
        "MaxConcurrency": settings.max_concurrency,
        "MemorySizeInMB": settings.memory_size_mb,
    }
    (model,) = serving["dev"].find_resources("AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    assert model["Properties"]["EnableNetworkIsolation"] is False
    serving["dev"].resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_run_instances_in_the_vpc_with_autoscaling(
    serving: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].realtime_endpoint
    assert settings.autoscaling is not None
    assert variant(serving[env])["InstanceType"] == settings.instance_type
    assert variant(serving[env])["InitialInstanceCount"] == settings.initial_instance_count
    (model,) = endpoint_resources(serving[env], "AWS::SageMaker::Model")
    assert model["Properties"]["EnableNetworkIsolation"] is True
    # The model runs in the Network stack's private subnets.
    subnets = model["Properties"]["VpcConfig"]["Subnets"]
    assert subnets_of(templates, subnets) == network_private_subnets(templates, env)
    serving[env].has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": settings.autoscaling.min_capacity,
            "MaxCapacity": settings.autoscaling.max_capacity,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        },
    )


@pytest.fixture(scope="module")
def async_staging(environment_configs: list[EnvironmentConfig]) -> Template:
    """Staging with its endpoint in async mode (the async_inference defaults)."""
    (staging,) = [c for c in environment_configs if c.name == "staging"]
    endpoint = staging.realtime_endpoint.model_copy(
        update={
            "mode": "async",
            "autoscaling": None,
            "async_inference": AsyncInferenceSettings(),
            "deployment": DeploymentSettings(strategy="all_at_once"),
        }
    )
    config = staging.model_copy(update={"realtime_endpoint": endpoint})
    return Template.from_stack(EnvironmentStage(unit_app(), "mlops-staging", config=config).serving)


def test_async_endpoint_writes_to_batch_output_and_scales_from_zero(
    async_staging: Template,
) -> None:
    (config,) = endpoint_resources(async_staging, "AWS::SageMaker::EndpointConfig")
    output = config["Properties"]["AsyncInferenceConfig"]["OutputConfig"]
    bucket = "s3://mlops-staging-batch-output-222222222222-eu-west-1"
    assert (output["S3OutputPath"], output["S3FailurePath"]) == (
        f"{bucket}/async/output/",
        f"{bucket}/async/failure/",
    )
    async_staging.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "MinCapacity": 0,
            "MaxCapacity": 2,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        },
    )
    async_staging.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy", {"PolicyType": "StepScaling"}
    )
    (model,) = endpoint_resources(async_staging, "AWS::SageMaker::Model")
    assert "VpcConfig" in model["Properties"]  # same isolation as instance mode


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_capture_into_the_data_bucket_and_canary_deploys(
    serving: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].realtime_endpoint
    assert settings.deployment is not None
    capture_bucket = bucket_name(templates[f"mlops-{env}-data"], "DataCapture")
    serving[env].has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "DataCaptureConfig": Match.object_like(
                {
                    "InitialSamplingPercentage": settings.data_capture_percent,
                    "DestinationS3Uri": f"s3://{capture_bucket}/data-capture/",
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
                                "CanarySize": {
                                    "Type": "CAPACITY_PERCENT",
                                    "Value": settings.deployment.percent,
                                },
                                "WaitIntervalInSeconds": settings.deployment.wait_minutes * 60,
                            }
                        }
                    )
                }
            )
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_endpoint_encrypts_with_the_data_stacks_key(
    serving: dict[str, Template], templates: dict[str, dict[str, Any]], env: str
) -> None:
    (config,) = endpoint_resources(serving[env], "AWS::SageMaker::EndpointConfig")
    properties = config["Properties"]
    references = [properties["KmsKeyId"]]
    if "DataCaptureConfig" in properties:
        references.append(properties["DataCaptureConfig"]["KmsKeyId"])
    for reference in references:
        assert produced_by(templates, reference) == data_key(templates, env)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_demo_model_is_deployed_from_package_assets(
    serving: dict[str, Template], env: str
) -> None:
    models = serving[env].find_resources("AWS::SageMaker::Model").values()
    assert models  # the endpoint's, and in staging the model host's two
    for model in models:
        container = model["Properties"]["PrimaryContainer"]
        assert container["ModelDataSource"]["S3DataSource"]["CompressionType"] == "Gzip"
        assert_matches(container["Image"], {"Fn::Sub": Match.string_like_regexp(ASSET_IMAGE)})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_go_to_the_environment_topic(
    serving: dict[str, Template], templates: dict[str, dict[str, Any]], env: str
) -> None:
    alarms = serving[env].find_resources("AWS::CloudWatch::Alarm")
    assert alarms
    policies = serving[env].find_resources("AWS::ApplicationAutoScaling::ScalingPolicy")
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        if action.get("Ref") in policies:
            continue  # a step-scaling alarm (a model scaling out from zero copies): it acts
        assert produced_by(templates, action) == alarm_topic(templates, env)


# --- EcsModelService ---------------------------------------------------------------------------


def test_dev_runs_no_ecs_service(
    serving: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    # dev has neither interface endpoints nor NAT: tasks could not pull their image there.
    assert configs["dev"].ecs_model_service.enabled is False
    serving["dev"].resource_count_is("AWS::ECS::Service", 0)
    serving["dev"].resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 0)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_runs_across_the_private_subnets(
    serving: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].ecs_model_service
    assert settings.autoscaling is not None
    low, high = settings.autoscaling.min_capacity, settings.autoscaling.max_capacity
    (service,) = serving[env].find_resources("AWS::ECS::Service").values()
    properties = service["Properties"]
    # Both environments autoscale, so the template leaves the running count to Application
    # Auto Scaling (a deployment must not reset it); desired_count only has to fit the bounds.
    assert "DesiredCount" not in properties
    assert low <= settings.desired_count <= high
    assert properties["LaunchType"] == "FARGATE"
    network = properties["NetworkConfiguration"]["AwsvpcConfiguration"]
    expected = network_private_subnets(templates, env)
    assert subnets_of(templates, network["Subnets"]) == expected
    serving[env].has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": low, "MaxCapacity": high, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    (balancer,) = serving[env].find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    assert subnets_of(templates, balancer["Properties"]["Subnets"]) == expected
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert balancer["Properties"]["Scheme"] == "internal"
    assert attributes["deletion_protection.enabled"] == str(settings.deletion_protection).lower()
    assert attributes["access_logs.s3.prefix"] == "model-service"
    # ... into the Data stack's access-log bucket.
    (access_logs,) = [
        key
        for key in resources(templates[f"mlops-{env}-data"], "AWS::S3::Bucket")
        if key.startswith("AccessLogs")
    ]
    assert produced_by(templates, attributes["access_logs.s3.bucket"]) == (
        f"mlops-{env}-data",
        {"Ref": access_logs},
    )


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_admits_the_environment_vpc_only(
    serving: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    serving[env].has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "SecurityGroupIngress": [
                {
                    "CidrIp": configs[env].network.cidr,
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
    serving: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    (task,) = serving[env].find_resources("AWS::ECS::TaskDefinition").values()
    (server,) = [c for c in task["Properties"]["ContainerDefinitions"] if c["Name"] == "Model"]
    env_vars = {e["Name"]: e["Value"] for e in server["Environment"]}
    assert_matches(env_vars["MLOPS_MODEL_S3_URI"], Match.string_like_regexp(r"\.onnx$"))
    assert_matches(server["Image"], {"Fn::Sub": Match.string_like_regexp(ASSET_IMAGE)})
    (group,) = [
        r
        for key, r in serving[env].find_resources("AWS::Logs::LogGroup").items()
        if key.startswith("ModelService")  # the Lambda function and its API log too
    ]
    assert produced_by(templates, group["Properties"]["KmsKeyId"]) == data_key(templates, env)
    assert group["Properties"]["RetentionInDays"] == configs[env].log_retention_days


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_model_service_url_is_an_output(serving: dict[str, Template], env: str) -> None:
    outputs = serving[env].find_outputs("ModelServiceUrl")
    assert len(outputs) == 1


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_alb_may_write_its_access_logs_into_the_data_bucket(
    templates: dict[str, dict[str, Any]], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    data = Template.from_json(templates[f"mlops-{env}-data"])
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
                                        f"/model-service/AWSLogs/{configs[env].account}/*",
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
    serving: dict[str, Template], configs: dict[str, EnvironmentConfig]
) -> None:
    dev = serving["dev"]
    function = lambda_function(dev)
    assert "VpcConfig" not in function
    assert function["Timeout"] == 30  # the construct's default: no API caps it
    assert_matches(
        function["Environment"]["Variables"]["MLOPS_MODEL_S3_URI"],
        Match.string_like_regexp(r"\.onnx$"),
    )
    dev.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM", "Qualifier": "live"})
    dev.resource_count_is("AWS::ApiGateway::RestApi", 0)
    dev.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 0)
    (logs,) = [
        r
        for key, r in dev.find_resources("AWS::Logs::LogGroup").items()
        if key.startswith("LambdaInferenceLogs")
    ]
    assert logs["Properties"]["RetentionInDays"] == configs["dev"].log_retention_days
    assert logs["DeletionPolicy"] == "Delete"  # removal_policy: destroy


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_lambda_sits_behind_an_iam_api_with_canaries(
    serving: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].lambda_inference
    assert settings.deployment is not None
    template = serving[env]
    function = lambda_function(template)
    subnets = function["VpcConfig"]["SubnetIds"]
    assert subnets_of(templates, subnets) == network_private_subnets(templates, env)
    assert produced_by(templates, function["KmsKeyArn"]) == data_key(templates, env)
    assert function["Timeout"] == 29  # the API's integration timeout
    assert function.get("ReservedConcurrentExecutions") == settings.reserved_concurrency
    template.resource_count_is("AWS::Lambda::Url", 0)
    for method in template.find_resources("AWS::ApiGateway::Method").values():
        assert method["Properties"]["AuthorizationType"] == "AWS_IAM"
    if settings.provisioned_concurrency is None:
        (alias,) = template.find_resources("AWS::Lambda::Alias").values()
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
    else:
        low = settings.provisioned_concurrency.min_capacity
        template.has_resource_properties(
            "AWS::ApplicationAutoScaling::ScalableTarget",
            {
                "MinCapacity": low,
                "MaxCapacity": settings.provisioned_concurrency.max_capacity,
                "ScalableDimension": "lambda:function:ProvisionedConcurrency",
            },
        )
        template.has_resource_properties(
            "AWS::Lambda::Alias",
            {
                "Name": "live",
                "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": low},
            },
        )
    (group,) = template.find_resources("AWS::CodeDeploy::DeploymentGroup").values()
    name = group["Properties"]["DeploymentConfigName"]
    deployment = settings.deployment
    assert (
        name
        == f"CodeDeployDefault.LambdaCanary{deployment.percent}Percent{deployment.minutes}Minutes"
    )
    # Rolls back on three of the function's own alarms, in this stack.
    rollback = [a["Name"]["Ref"] for a in group["Properties"]["AlarmConfiguration"]["Alarms"]]
    alarms = resources(templates[f"mlops-{env}-serving"], "AWS::CloudWatch::Alarm")
    assert len(set(rollback)) == 3
    assert all(key.startswith("LambdaInference") for key in rollback)
    assert set(rollback) <= set(alarms)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_lambda_url_is_an_output(serving: dict[str, Template], env: str) -> None:
    assert "LambdaInferenceUrl" in serving[env].find_outputs("*")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_dashboard_shows_every_serving_target(
    serving: dict[str, Template], configs: dict[str, EnvironmentConfig], env: str
) -> None:
    (dashboard,) = serving[env].find_resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"mlops-{env}-serving"
    rows = widget_metrics(joined_json(dashboard["Properties"]["DashboardBody"]))
    namespaces = {row[0] for row in rows}
    names = {row[1] for row in rows}
    assert "ModelLatency" in names  # the endpoint
    assert "AWS/Lambda" in namespaces  # the Lambda function
    # the ECS service, where the config enables it
    assert ("AWS/ApplicationELB" in namespaces) == configs[env].ecs_model_service.enabled
