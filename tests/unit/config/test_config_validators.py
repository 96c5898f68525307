"""Config uses the shared validators: each setting is checked against the API it feeds, and the
YAML mistakes from issue #14 get messages that say what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import load_environment
from tests.helpers.config import with_changes, write_config

INSTANCE = {"enabled": True, "mode": "instance", "data_capture_percent": 10}
DLC = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
PACKAGE = {
    "group": "churn",
    "pinned_arn": "arn:aws:sagemaker:eu-west-1:444444444444:model-package/churn/1",
    "image": DLC,
}


def load_error(tmp_path: Path, data: object) -> str:
    write_config(tmp_path, "qa", data)
    with pytest.raises(ConfigurationError) as error:
        load_environment("qa", config_dir=tmp_path, environ={})
    lines = str(error.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0].split("qa.yaml: ", 1)[1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            with_changes(batch_transform={"instance_type": "ml.c5d.xlarge"}),
            r"batch_transform\.instance_type: must be an instance type CreateTransformJob "
            r"accepts .*; ml\.c5d\.xlarge is for CreateEndpointConfig only \(got 'ml\.c5d\.xlarge'\)$",
            id="transform-gets-an-endpoint-only-type",
        ),
        pytest.param(
            with_changes(ml_pipeline={"processing_instance_type": "ml.m5d.large"}),
            r"ml_pipeline\.processing_instance_type: must be an instance type "
            r"CreateProcessingJob accepts .*\(got 'ml\.m5d\.large'\)$",
            id="processing-gets-an-endpoint-only-type",
        ),
        pytest.param(
            with_changes(model_monitor={"instance_type": "ml.c5d.xlarge"}),
            r"model_monitor\.instance_type: must be an instance type CreateProcessingJob accepts",
            id="monitor-is-a-processing-job",
        ),
        pytest.param(
            with_changes(ml_pipeline={"training_instance_type": "ml.m5.xlarg"}),
            r"ml_pipeline\.training_instance_type: must be an instance type CreateTrainingJob "
            r"accepts .*\(did you mean 'ml\.m5\.xlarge'\?\)",
            id="training-typo",
        ),
        pytest.param(
            with_changes(batch_transform={"schedule": "cron(0 25 * * ? *)", "enabled": True}),
            r"batch_transform\.schedule: must be a cron expression whose hours field is 0-23 "
            r"with , - \* / \(25 is out of range\) \(got 'cron\(0 25 \* \* \? \*\)'\)$",
            id="cron-hour-25",
        ),
        pytest.param(
            with_changes(batch_transform={"schedule": "at(2026-02-30T00:00:00)", "enabled": True}),
            r"batch_transform\.schedule: must be a one-time schedule at\(yyyy-mm-ddThh:mm:ss\) "
            r"naming a real date and time",
            id="at-february-30",
        ),
        pytest.param(
            with_changes(ml_pipeline={"retrain_schedule": "cron(0 3 1 13 ? *)"}),
            r"ml_pipeline\.retrain_schedule: must be a cron expression whose month field is "
            r"1-12 or JAN-DEC .*\(13 is out of range\)",
            id="cron-month-13",
        ),
        pytest.param(
            with_changes(batch_transform={"input_prefix": "s3://bucket/in/"}),
            r"batch_transform\.input_prefix: must be a key prefix, not an s3:// URI",
            id="prefix-given-as-uri",
        ),
        pytest.param(
            with_changes(batch_transform={"output_prefix": "/out/"}),
            r"batch_transform\.output_prefix: must be a key prefix without a leading / "
            r"\(such as 'out/'\)",
            id="prefix-leading-slash",
        ),
        pytest.param(
            with_changes(region="eu-wset-1"),
            r"^region: must be an AWS region code <area>-<direction>-<number> such as "
            r"eu-west-1, one botocore [\d.]+ knows \(did you mean 'eu-west-1'\?\) "
            r"\(got 'eu-wset-1'\)$",
            id="region-typo-is-a-region-error",
        ),
        pytest.param(
            with_changes(ml_pipeline={"training_image": DLC.replace("eu-west-1", "us-east-1")}),
            r"ml_pipeline\.training_image: must be an ECR image in the stack's region eu-west-1",
            id="image-in-another-region",
        ),
        pytest.param(
            with_changes(
                realtime_endpoint={
                    **INSTANCE,
                    "model_package": {**PACKAGE, "image": "python:3.11"},
                }
            ),
            r"realtime_endpoint\.model_package\.image: must be an ECR image URI",
            id="image-not-ecr",
        ),
    ],
)
def test_settings_are_checked_by_the_shared_validators(
    tmp_path: Path, data: object, message: str
) -> None:
    line = load_error(tmp_path, data)
    assert re.search(message, line), line


def test_an_octal_account_id_says_quote_it(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) reads 012345670123 as octal: 1402433619.
    text = "\n".join(
        [
            "name: qa",
            "account: 012345670123",
            "region: eu-west-1",
            "removal_policy: destroy",
            "network: {availability_zones: [eu-west-1a]}",
            "tags: {owner: ml, cost_centre: ML-1}",
            "",
        ]
    )
    line = load_error(tmp_path, text)
    assert line == (
        "account: must be a 12-digit AWS account ID in quotes: YAML read the unquoted value as "
        "the number 1402433619 (a leading 0 makes it octal); quote it: '012345670123' "
        "(got 1402433619)"
    )


def test_a_region_typo_is_not_reported_as_a_zone_error(tmp_path: Path) -> None:
    data = with_changes(
        region="eu-wset-1", network={"availability_zones": ["eu-wset-1a", "eu-wset-1b"]}
    )
    line = load_error(tmp_path, data)
    assert line.startswith("region: ")
    assert "availability_zones" not in line


def test_a_prefix_without_its_slash_is_normalised(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "qa",
        with_changes(
            batch_transform={"input_prefix": "scoring/in", "output_prefix": "scoring/out/"},
            model_monitor={"reports_prefix": "monitoring"},
        ),
    )
    config = load_environment("qa", config_dir=tmp_path, environ={})
    assert config.batch_transform.input_prefix == "scoring/in/"
    assert config.batch_transform.output_prefix == "scoring/out/"
    assert config.model_monitor.reports_prefix == "monitoring/"


def test_valid_per_api_types_and_an_aws_image_of_the_region_load(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        "qa",
        with_changes(
            realtime_endpoint={
                **INSTANCE,
                "instance_type": "ml.c5d.xlarge",
                "model_package": PACKAGE,
            },
            batch_transform={"instance_type": "ml.c5.xlarge"},
            ml_pipeline={"training_image": DLC, "training_instance_type": "ml.g5.xlarge"},
        ),
    )
    config = load_environment("qa", config_dir=tmp_path, environ={})
    assert config.realtime_endpoint.instance_type == "ml.c5d.xlarge"
    assert config.ml_pipeline.training_image == DLC


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(
            with_changes(
                model_monitor={"model_quality": {"problem_type": "Regression", "metric": "auc"}}
            ),
            r"model_monitor\.model_quality\.metric: must be one of mae, mse, rmse, r2 for "
            r"Regression \(got 'auc'\)",
            id="quality-metric-of-another-problem-type",
        ),
        pytest.param(
            with_changes(model_monitor={"instance_count": 3, "max_runtime_minutes": 56}),
            r"model_monitor\.max_runtime_minutes: must be less than the schedule interval "
            r"\(60 minutes, less the 5-minute reduce step\)",
            id="no-time-for-the-reduce-step",
        ),
        pytest.param(
            with_changes(
                model_monitor={"backend": "model_monitor", "model_quality": {"enabled": True}}
            ),
            r"model_monitor\.model_quality\.enabled: must be false with backend model_monitor",
            id="quality-needs-the-drift-job",
        ),
        pytest.param(
            with_changes(model_monitor={"model_quality": {"label_delay_hours": 721}}),
            r"model_monitor\.model_quality\.label_delay_hours",
            id="label-delay-over-30-days",
        ),
    ],
)
def test_model_quality_and_instance_count_settings(
    tmp_path: Path, data: object, message: str
) -> None:
    line = load_error(tmp_path, data)
    assert re.search(message, line), line
