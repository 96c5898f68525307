"""The Serving stack wires RealtimeEndpoint from each environment's config."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.conftest import SynthesizedApp


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
