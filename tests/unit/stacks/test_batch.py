"""The Batch stack wires BatchTransformJob from each environment's config, and the config section
rejects jobs that cannot start or would not run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from mlops_cdk import ConfigurationError
from mlops_cdk.config import BatchTransformSettings, load_environment
from tests.conftest import SynthesizedApp

ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
VALID = {
    "name": "qa",
    "account": "444444444444",
    "region": "eu-west-1",
    "removal_policy": "destroy",
    "network": {"availability_zones": ["eu-west-1a", "eu-west-1b"]},
    "tags": {"owner": "ml-platform", "cost_centre": "ML-1"},
}


@pytest.fixture(scope="module")
def batch(synthesized_app: SynthesizedApp) -> dict[str, Template]:
    templates = synthesized_app.templates()
    return {env: Template.from_json(templates[f"mlops-{env}-batch"]) for env in ACCOUNTS}


def definition(template: Template) -> dict[str, Any]:
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    loaded: dict[str, Any] = json.loads(
        "".join(p if isinstance(p, str) else "<token>" for p in parts)
    )
    return loaded


def test_dev_runs_on_new_data_and_by_hand_outside_the_vpc(batch: dict[str, Template]) -> None:
    dev = batch["dev"]
    dev.resource_count_is("AWS::Scheduler::Schedule", 0)
    dev.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like(
                {
                    "detail": {
                        "bucket": {"name": ["mlops-dev-batch-input-111111111111-eu-west-1"]},
                        "object": {
                            "key": [{"prefix": "transform/input/"}],
                            "size": [{"numeric": [">", 0]}],
                        },
                    }
                }
            )
        },
    )
    (model,) = dev.find_resources("AWS::SageMaker::Model").values()
    assert "VpcConfig" not in model["Properties"]
    dev.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    assert definition(dev)["States"]["Transform"]["TimeoutSeconds"] == 2 * 3600


@pytest.mark.parametrize(("env", "count"), [("staging", 1), ("prod", 2)])
def test_staging_and_prod_run_nightly_in_the_vpc(
    batch: dict[str, Template], env: str, count: int
) -> None:
    template = batch[env]
    template.has_resource_properties(
        "AWS::Scheduler::Schedule", {"ScheduleExpression": "cron(0 2 * * ? *)"}
    )
    template.resource_count_is("AWS::Events::Rule", 0)
    (model,) = template.find_resources("AWS::SageMaker::Model").values()
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert "VpcConfig" in model["Properties"]
    request = definition(template)["States"]["Transform"]["Parameters"]
    assert request["TransformResources"]["InstanceCount"] == count


@pytest.mark.parametrize("env", list(ACCOUNTS))
def test_the_job_reads_batch_input_and_writes_batch_output(
    batch: dict[str, Template], env: str
) -> None:
    states = definition(batch[env])["States"]
    suffix = f"{ACCOUNTS[env]}-eu-west-1"
    assert states["WholePrefix"]["Parameters"]["uri"] == (
        f"s3://mlops-{env}-batch-input-{suffix}/transform/input/"
    )
    output = states["Transform"]["Parameters"]["TransformOutput"]["S3OutputPath.$"]
    assert output == (
        f"States.Format('s3://mlops-{env}-batch-output-{suffix}/transform/output/{{}}/', "
        "$.job.name)"
    )


@pytest.mark.parametrize("env", list(ACCOUNTS))
def test_alarms_go_to_the_environment_topic_and_the_arn_is_an_output(
    batch: dict[str, Template], env: str
) -> None:
    alarms = batch[env].find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 4  # failed, timed out, throttled, trigger dead letters
    for alarm in alarms.values():
        (action,) = alarm["Properties"]["AlarmActions"]
        assert "AlarmTopic" in json.dumps(action)
    outputs = batch[env].to_json()["Outputs"]
    assert "start-execution" in outputs["StateMachineArn"]["Description"]


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
