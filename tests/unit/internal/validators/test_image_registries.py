"""The AWS-owned SageMaker image registries: generated from the SDK's image_uri_config, and
consistent with the Model Monitor / Clarify registries the project already ships."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_cdk._internal.validators._data import load
from mlops_cdk._internal.validators.images import aws_image_accounts
from scripts.make_image_registries import collect


def test_generated_file_records_its_source_and_date() -> None:
    data = load("sagemaker-image-registries.json")
    assert "image_uri_config" in data["_source"]
    assert data["_generated"]
    assert "us-east-1" in data["accounts"]


def test_monitor_and_clarify_registries_are_included() -> None:
    monitor = load("sagemaker-monitor-images.json")
    accounts = aws_image_accounts()
    for key in ("model_monitor_analyzer", "clarify_processing"):
        for region, account in monitor[key]["accounts"].items():
            assert account in accounts.get(region, frozenset()), (key, region)


def test_collect_reads_every_registries_map(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        json.dumps(
            {
                "scope": ["inference"],
                "versions": {"1": {"registries": {"eu-west-1": "111111111111"}}},
            }
        ),
        encoding="utf-8",
    )
    (tmp_path / "b.json").write_text(
        json.dumps({"registries": {"eu-west-1": "222222222222", "us-east-1": "333333333333"}}),
        encoding="utf-8",
    )
    assert collect(tmp_path) == {
        "eu-west-1": ["111111111111", "222222222222"],
        "us-east-1": ["333333333333"],
    }
