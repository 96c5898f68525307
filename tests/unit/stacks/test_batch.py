"""The Batch stack wires BatchTransformJob from each environment's config, and the config section
rejects jobs that cannot start or would not run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.config import BatchTransformSettings, EnvironmentConfig, load_environment
from tests.helpers.apps import SynthesizedApp
from tests.helpers.config import VALID
from tests.helpers.wiring import bucket_name, joined_json, only, private_subnets, produced_by

ENVIRONMENTS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def templates(synthesized_app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    return synthesized_app.templates()


@pytest.fixture(scope="module")
def batch(templates: dict[str, dict[str, Any]]) -> dict[str, Template]:
    return {env: Template.from_json(templates[f"mlops-{env}-batch"]) for env in ENVIRONMENTS}


def definition(template: Template) -> dict[str, Any]:
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    loaded: dict[str, Any] = joined_json(machine["Properties"]["DefinitionString"])
    return loaded


def test_dev_runs_on_new_data_and_by_hand_outside_the_vpc(
    batch: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
) -> None:
    dev = batch["dev"]
    settings = configs["dev"].batch_transform
    assert settings.run_on_new_data is True
    assert settings.schedule is None
    dev.resource_count_is("AWS::Scheduler::Schedule", 0)
    # New objects in the Data stack's batch-input bucket, under the configured prefix.
    dev.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": {
                        "bucket": {
                            "name": [bucket_name(templates["mlops-dev-data"], "BatchInput")]
                        },
                        "object": {
                            "key": [{"prefix": settings.input_prefix}],
                            "size": [{"numeric": [">", 0]}],
                        },
                    }
                }
            )
        },
    )
    (model,) = dev.find_resources("AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    dev.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": configs["dev"].log_retention_days}
    )
    transform = definition(dev)["States"]["Transform"]
    assert transform["TimeoutSeconds"] == settings.max_runtime_hours * 3600


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_run_nightly_in_the_vpc(
    batch: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].batch_transform
    template = batch[env]
    machine = only(templates[f"mlops-{env}-batch"], "AWS::StepFunctions::StateMachine")
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": settings.schedule,
            "Target": Match.object_like({"Arn": {"Ref": machine}}),
        },
    )
    template.resource_count_is("AWS::Events::Rule", 0)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    assert model["Properties"]["EnableNetworkIsolation"] is True
    subnets = [produced_by(templates, ref) for ref in model["Properties"]["VpcConfig"]["Subnets"]]
    network = templates[f"mlops-{env}-network"]
    assert subnets == [(f"mlops-{env}-network", ref) for ref in private_subnets(network)]
    request = definition(template)["States"]["Transform"]["Parameters"]
    assert request["TransformResources"]["InstanceCount"] == settings.instance_count


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_job_reads_batch_input_and_writes_batch_output(
    batch: dict[str, Template],
    templates: dict[str, dict[str, Any]],
    configs: dict[str, EnvironmentConfig],
    env: str,
) -> None:
    settings = configs[env].batch_transform
    data = templates[f"mlops-{env}-data"]
    states = definition(batch[env])["States"]
    assert states["WholePrefix"]["Parameters"]["uri"] == (
        f"s3://{bucket_name(data, 'BatchInput')}/{settings.input_prefix}"
    )
    output = states["Transform"]["Parameters"]["TransformOutput"]["S3OutputPath.$"]
    assert output == (
        f"States.Format('s3://{bucket_name(data, 'BatchOutput')}/{settings.output_prefix}{{}}/', "
        "$.job.name)"
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alarms_go_to_the_environment_topic_and_the_arn_is_an_output(
    batch: dict[str, Template], templates: dict[str, dict[str, Any]], env: str
) -> None:
    alarms = batch[env].find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 4  # failed, timed out, throttled, trigger dead letters
    topic = (f"mlops-{env}-data", {"Ref": only(templates[f"mlops-{env}-data"], "AWS::SNS::Topic")})
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert produced_by(templates, action) == topic
    outputs = batch[env].to_json()["Outputs"]
    assert "start-execution" in outputs["StateMachineArn"]["Description"]
    machine = only(templates[f"mlops-{env}-batch"], "AWS::StepFunctions::StateMachine")
    assert outputs["StateMachineArn"]["Value"] == {"Ref": machine}


# --- the config section ------------------------------------------------------------------


def load(tmp_path: Path, section: dict[str, Any]) -> BatchTransformSettings:
    path = tmp_path / "qa.yaml"
    path.write_text(yaml.safe_dump({**VALID, "batch_transform": section}), encoding="utf-8")
    return load_environment("qa", config_dir=tmp_path, environ={}).batch_transform


def test_the_section_is_off_by_default_with_safe_defaults(tmp_path: Path) -> None:
    settings = load(tmp_path, {})
    assert settings.enabled is False
    assert settings.instance_type == "ml.m5.large"
    assert settings.input_prefix == "transform/input/"
    assert settings.output_prefix == "transform/output/"
    assert settings.in_vpc is True


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"enabled": True},
            r"qa\.yaml: batch_transform: needs schedule, run_on_new_data: true or manual: true "
            r"when enabled",
        ),
        (
            {"enabled": True, "schedule": "cron(0 2 * * *)"},
            r"qa\.yaml: batch_transform\.schedule: must be a cron expression with six fields",
        ),
        (
            {"enabled": True, "schedule": "rate(1 hours)"},
            r"qa\.yaml: batch_transform\.schedule: must be a rate with a singular unit for 1",
        ),
        (
            {"enabled": True, "manual": True, "input_prefix": "/input"},
            r"qa\.yaml: batch_transform\.input_prefix: must be a key prefix without a leading /",
        ),
        (
            {"enabled": True, "manual": True, "instance_type": "m5.large"},
            r"qa\.yaml: batch_transform\.instance_type: must be an instance type "
            r"CreateTransformJob accepts",
        ),
        (
            {"enabled": True, "manual": True, "max_runtime_hours": 0},
            r"qa\.yaml: batch_transform\.max_runtime_hours: Input should be greater than or "
            r"equal to 1",
        ),
        (
            {"enabled": True, "manual": True, "schedul": "rate(1 day)"},
            r"qa\.yaml: batch_transform\.schedul: unknown key",
        ),
    ],
    ids=[
        "no-trigger",
        "cron-five-fields",
        "rate-plural",
        "prefix",
        "instance-type",
        "max-runtime",
        "typo",
    ],
)
def test_bad_sections_fail_with_a_precise_message(
    tmp_path: Path, section: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(tmp_path, section)
