"""The config keys of issue #13 reach the templates: each test loads a checked-in environment
with the keys set (validated like a file), builds its stage, and follows the keys into the
Serving and Batch stacks' resources and their wiring to the Data stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from mlops_cdk.config import EnvironmentConfig
from mlops_cdk.stacks.stage import EnvironmentStage
from tests.helpers.apps import unit_app
from tests.helpers.templates import resolve_join
from tests.helpers.wiring import joined_json, only, resources

GROUP_ARN = "arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn"
SUCCESS_TOPIC = "arn:aws:sns:eu-west-1:222222222222:scored"
ERROR_TOPIC = "arn:aws:sns:eu-west-1:222222222222:failed"


def changed(
    configs: dict[str, EnvironmentConfig], env: str, change: Callable[[dict[str, Any]], None]
) -> EnvironmentConfig:
    """``env``'s checked-in config with ``change`` applied to its data, validated again."""
    data = configs[env].model_dump(mode="json")
    change(data)
    return EnvironmentConfig.model_validate(data)


@pytest.fixture(scope="module")
def ab_stage(configs: dict[str, EnvironmentConfig]) -> EnvironmentStage:
    """Staging with an A/B test of two registry packages, p95 alarms everywhere, an S3-triggered
    Lambda function, GPU tasks on ECS and a tuned batch job."""

    def change(data: dict[str, Any]) -> None:
        endpoint = data["realtime_endpoint"]
        endpoint["model_package"] = {"group": "churn", "pinned_arn": f"{GROUP_ARN}/3"}
        endpoint["variants"] = [
            {"name": "champion", "weight": 9},
            {
                "name": "challenger",
                "weight": 1,
                "instance_type": "ml.c5.large",
                "model_package_arn": f"{GROUP_ARN}/4",
            },
        ]
        endpoint["alarms"] = {"latency_percentile": "p95", "latency_ms": 200, "cpu_percent": 70}
        data["lambda_inference"]["s3_trigger"] = {
            "input_prefix": "lambda/in/",
            "output_prefix": "lambda/out/",
            "retry_attempts": 1,
            "max_event_age_minutes": 30,
        }
        data["lambda_inference"]["alarms"] = {"latency_percentile": "p90", "latency_ms": 800}
        service = data["ecs_model_service"]
        service.update(gpu_count=1, gpu_instance_type="g5.xlarge", cpu=4096, memory_mib=8192)
        service["alarms"] = {"latency_percentile": "p50", "latency_ms": 150}
        data["batch_transform"].update(
            max_concurrent_transforms=4,
            max_payload_mb=20,
            split_type="RecordIO",
            batch_strategy="SingleRecord",
            assemble_with="None",
        )

    config = changed(configs, "staging", change)
    return EnvironmentStage(unit_app(), "mlops-staging", config=config)


@pytest.fixture(scope="module")
def ab_serving(ab_stage: EnvironmentStage) -> Template:
    return Template.from_stack(ab_stage.serving)


@pytest.fixture(scope="module")
def shadow_serving(configs: dict[str, EnvironmentConfig]) -> Template:
    """Staging with a shadow variant beside production (its autoscaling is the endpoint's)."""

    def change(data: dict[str, Any]) -> None:
        data["realtime_endpoint"]["variants"] = [
            {"name": "live"},
            {"name": "candidate", "shadow": True, "instance_type": "ml.c5.large"},
        ]

    config = changed(configs, "staging", change)
    return Template.from_stack(EnvironmentStage(unit_app(), "mlops-staging", config=config).serving)


@pytest.fixture(scope="module")
def queued_serving(configs: dict[str, EnvironmentConfig]) -> Template:
    """Staging's endpoint in async mode with notification topics and more concurrency."""

    def change(data: dict[str, Any]) -> None:
        endpoint = data["realtime_endpoint"]
        endpoint.update(mode="async", autoscaling=None, deployment={"strategy": "all_at_once"})
        endpoint["async_inference"] = {
            "max_concurrent_invocations_per_instance": 8,
            "success_topic_arn": SUCCESS_TOPIC,
            "error_topic_arn": ERROR_TOPIC,
        }

    config = changed(configs, "staging", change)
    return Template.from_stack(EnvironmentStage(unit_app(), "mlops-staging", config=config).serving)


@pytest.fixture(scope="module")
def warm_serverless(configs: dict[str, EnvironmentConfig]) -> Template:
    """Dev's serverless endpoint with provisioned concurrency."""

    def change(data: dict[str, Any]) -> None:
        data["realtime_endpoint"]["provisioned_concurrency"] = 2

    config = changed(configs, "dev", change)
    return Template.from_stack(EnvironmentStage(unit_app(), "mlops-dev", config=config).serving)


def endpoint_config(template: Template) -> dict[str, Any]:
    """The RealtimeEndpoint's config (staging also runs a model host, with its own)."""
    (config,) = [
        c
        for logical_id, c in template.find_resources("AWS::SageMaker::EndpointConfig").items()
        if logical_id.startswith("Endpoint")
    ]
    properties: dict[str, Any] = config["Properties"]
    return properties


def variant_of_alarm(alarm: dict[str, Any]) -> str | None:
    dimensions = alarm["Properties"].get("Dimensions", [])
    return next((d["Value"] for d in dimensions if d["Name"] == "VariantName"), None)


# --- realtime_endpoint -------------------------------------------------------------------------


def test_ab_variants_split_traffic_between_two_registry_packages(ab_serving: Template) -> None:
    variants = endpoint_config(ab_serving)["ProductionVariants"]
    assert [(v["VariantName"], v["InitialVariantWeight"]) for v in variants] == [
        ("champion", 9),
        ("challenger", 1),
    ]
    # The challenger's own instance type; the champion keeps the endpoint's.
    assert [v["InstanceType"] for v in variants] == ["ml.m5.large", "ml.c5.large"]
    models = {
        logical_id: m
        for logical_id, m in resources(ab_serving.to_json(), "AWS::SageMaker::Model").items()
        if logical_id.startswith("Endpoint")
    }
    packages = sorted(str(m["Properties"]) for m in models.values())
    assert len(packages) == 2
    assert f"{GROUP_ARN}/3'" in packages[0] + packages[1]
    assert f"{GROUP_ARN}/4'" in packages[0] + packages[1]
    # Each variant runs its own model.
    assert len({resolve_join(v["ModelName"]) for v in variants}) == 2


def test_endpoint_latency_alarms_watch_the_configured_percentile(ab_serving: Template) -> None:
    alarms = {
        logical_id: a
        for logical_id, a in resources(ab_serving.to_json(), "AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("Endpoint")  # not the staging model host's
    }
    latency = [a for a in alarms.values() if a["Properties"].get("MetricName") == "ModelLatency"]
    assert sorted(variant_of_alarm(a) or "" for a in latency) == ["challenger", "champion"]
    for alarm in latency:
        assert alarm["Properties"]["ExtendedStatistic"] == "p95"
        assert alarm["Properties"]["Threshold"] == 200_000  # microseconds
    cpu = [a for a in alarms.values() if a["Properties"].get("MetricName") == "CPUUtilization"]
    # 70 % of the vCPUs of each variant's instance type (ml.m5.large and ml.c5.large: 2 each).
    assert {a["Properties"]["Threshold"] for a in cpu if variant_of_alarm(a)} == {140}


def test_shadow_variant_is_rendered_with_alarms_and_autoscaling(shadow_serving: Template) -> None:
    config = endpoint_config(shadow_serving)
    assert [v["VariantName"] for v in config["ProductionVariants"]] == ["live"]
    (shadow,) = config["ShadowProductionVariants"]
    assert (shadow["VariantName"], shadow["InstanceType"]) == ("candidate", "ml.c5.large")
    alarms = {
        logical_id: a
        for logical_id, a in resources(shadow_serving.to_json(), "AWS::CloudWatch::Alarm").items()
        if logical_id.startswith("Endpoint")  # not the staging model host's
    }
    watched = {variant_of_alarm(a) for a in alarms.values()} - {None}
    assert watched == {"live", "candidate"}
    targets = resources(shadow_serving.to_json(), "AWS::ApplicationAutoScaling::ScalableTarget")
    scaled = sorted(
        resolve_join(t["Properties"]["ResourceId"]).rsplit("/", 1)[-1]
        for t in targets.values()
        if t["Properties"]["ScalableDimension"] == "sagemaker:variant:DesiredInstanceCount"
    )
    assert scaled == ["candidate", "live"]


def test_async_endpoint_notifies_the_configured_topics(queued_serving: Template) -> None:
    config = endpoint_config(queued_serving)["AsyncInferenceConfig"]
    assert config["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 8}
    assert config["OutputConfig"]["NotificationConfig"] == {
        "SuccessTopic": SUCCESS_TOPIC,
        "ErrorTopic": ERROR_TOPIC,
    }
    # The execution role may publish to exactly those topics.
    queued_serving.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Action": "sns:Publish", "Resource": [ERROR_TOPIC, SUCCESS_TOPIC]}
                        )
                    ]
                )
            }
        },
    )


def test_serverless_endpoint_keeps_provisioned_concurrency_warm(warm_serverless: Template) -> None:
    (variant,) = endpoint_config(warm_serverless)["ProductionVariants"]
    assert variant["ServerlessConfig"]["ProvisionedConcurrency"] == 2


# --- lambda_inference --------------------------------------------------------------------------


def test_lambda_s3_trigger_watches_batch_input_and_writes_batch_output(
    ab_serving: Template, ab_stage: EnvironmentStage
) -> None:
    config = ab_stage.config
    ab_serving.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": Match.object_like(
                        {
                            "bucket": {"name": [config.bucket_name("batch-input")]},
                            "object": Match.object_like({"key": [{"prefix": "lambda/in/"}]}),
                        }
                    )
                }
            )
        },
    )
    (function,) = resources(ab_serving.to_json(), "AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["MLOPS_INPUT_PREFIX"] == "lambda/in/"
    assert variables["MLOPS_OUTPUT_PREFIX"] == "lambda/out/"
    assert variables["MLOPS_OUTPUT_BUCKET"] == config.bucket_name("batch-output")
    invoke = only(ab_serving.to_json(), "AWS::Lambda::EventInvokeConfig")
    properties = ab_serving.to_json()["Resources"][invoke]["Properties"]
    assert (properties["MaximumRetryAttempts"], properties["MaximumEventAgeInSeconds"]) == (1, 1800)


def test_lambda_duration_alarm_watches_the_configured_percentile(ab_serving: Template) -> None:
    alarms = resources(ab_serving.to_json(), "AWS::CloudWatch::Alarm")
    (duration,) = [a for a in alarms.values() if a["Properties"].get("MetricName") == "Duration"]
    assert duration["Properties"]["ExtendedStatistic"] == "p90"
    assert duration["Properties"]["Threshold"] == 800  # milliseconds


# --- ecs_model_service -------------------------------------------------------------------------


def test_gpu_tasks_run_on_the_configured_instances(ab_serving: Template) -> None:
    template = ab_serving.to_json()
    (task,) = resources(template, "AWS::ECS::TaskDefinition").values()
    requirements = [
        c.get("ResourceRequirements") for c in task["Properties"]["ContainerDefinitions"]
    ]
    assert [{"Type": "GPU", "Value": "1"}] in requirements
    (launch,) = resources(template, "AWS::EC2::LaunchTemplate").values()
    assert launch["Properties"]["LaunchTemplateData"]["InstanceType"] == "g5.xlarge"
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    # Blue/green: the alarm takes the worse of both target groups' response times.
    (latency,) = [a for logical, a in alarms.items() if "LatencyP50" in logical]
    stats = [
        query["MetricStat"] for query in latency["Properties"]["Metrics"] if "MetricStat" in query
    ]
    assert {s["Metric"]["MetricName"] for s in stats} == {"TargetResponseTime"}
    assert {s["Stat"] for s in stats} == {"p50"}
    assert latency["Properties"]["Threshold"] == 0.15


# --- batch_transform ---------------------------------------------------------------------------


def test_batch_tuning_reaches_the_transform_request(ab_stage: EnvironmentStage) -> None:
    template = Template.from_stack(ab_stage.batch).to_json()
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine").values()
    text = json.dumps(joined_json(machine["Properties"]["DefinitionString"]))
    for fragment in (
        '"MaxConcurrentTransforms": 4',
        '"MaxPayloadInMB": 20',
        '"BatchStrategy": "SingleRecord"',
        '"SplitType": "RecordIO"',
        '"AssembleWith": "None"',
    ):
        assert fragment in text, fragment
