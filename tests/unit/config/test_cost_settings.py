"""Settings of issue #19 (idle cost): cost_ceiling_usd, network.interface_endpoint_zones and the
async endpoint mode, each with a valid and an invalid case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.config import EnvironmentConfig, load_environment
from tests.helpers.config import with_changes, write_config

NETWORK = {"availability_zones": ["eu-west-1a", "eu-west-1b"], "interface_endpoints": True}
CAPTURE = {"data_capture_percent": 100}


def load(tmp_path: Path, data: dict[str, object], name: str = "qa") -> EnvironmentConfig:
    write_config(tmp_path, name, data)
    return load_environment(name, config_dir=tmp_path, environ={})


def test_cost_ceiling_is_read_as_usd_a_month(tmp_path: Path) -> None:
    assert load(tmp_path, with_changes(cost_ceiling_usd=250)).cost_ceiling_usd == 250.0
    assert load(tmp_path, with_changes()).cost_ceiling_usd is None


def test_endpoint_zones_are_the_first_n_zones(tmp_path: Path) -> None:
    config = load(tmp_path, with_changes(network={**NETWORK, "interface_endpoint_zones": 1}))
    assert config.network.endpoint_zones == ["eu-west-1a"]
    assert load(tmp_path, with_changes(network=NETWORK)).network.endpoint_zones == [
        "eu-west-1a",
        "eu-west-1b",
    ]


def test_async_mode_with_its_settings(tmp_path: Path) -> None:
    endpoint = {
        "enabled": True,
        "mode": "async",
        "async_inference": {
            "max_capacity": 3,
            "scale_to_zero": False,
            "target_backlog_per_instance": 2.5,
            "output_prefix": "results/",
            "failure_prefix": "errors/",
            "max_concurrent_invocations_per_instance": 8,
            "success_topic_arn": "arn:aws:sns:eu-west-1:444444444444:scored",
            "error_topic_arn": "arn:aws:sns:eu-west-1:444444444444:failed",
        },
        **CAPTURE,
    }
    config = load(tmp_path, with_changes(realtime_endpoint=endpoint))
    queued = config.realtime_endpoint.async_inference
    assert queued is not None
    assert queued.model_dump() == endpoint["async_inference"]


INVALID = [
    pytest.param(
        with_changes(cost_ceiling_usd=0),
        "qa",
        r"qa\.yaml: cost_ceiling_usd: Input should be greater than 0 \(got 0\)$",
        id="ceiling-not-positive",
    ),
    pytest.param(
        with_changes(cost_ceiling_usd=100, region="ap-south-2", network=None)
        | {"network": {"availability_zones": ["ap-south-2a"]}},
        "qa",
        r"qa\.yaml: cost_ceiling_usd: needs list prices for the region; "
        r"mlops_cdk/cost/data/prices\.json has eu-west-1 .* \(got 100\.0\)$",
        id="ceiling-without-prices",
    ),
    pytest.param(
        with_changes(network={**NETWORK, "interface_endpoint_zones": 3}),
        "qa",
        r"qa\.yaml: network\.interface_endpoint_zones: must be at most the number of "
        r"availability_zones \(2\) \(got 3\)$",
        id="endpoint-zones-above-zones",
    ),
    pytest.param(
        with_changes(network={**NETWORK, "interface_endpoint_zones": 0}),
        "qa",
        r"qa\.yaml: network\.interface_endpoint_zones: Input should be greater than or equal "
        r"to 1 \(got 0\)$",
        id="endpoint-zones-zero",
    ),
    pytest.param(
        with_changes(
            network={**NETWORK, "interface_endpoints": False, "interface_endpoint_zones": 1}
        ),
        "qa",
        r"qa\.yaml: network\.interface_endpoint_zones: must be left out when "
        r"interface_endpoints is false \(got 1\)$",
        id="endpoint-zones-without-endpoints",
    ),
    pytest.param(
        with_changes(
            name="prod",
            removal_policy="retain",
            network={**NETWORK, "interface_endpoint_zones": 1},
        ),
        "prod",
        r"prod\.yaml: network\.interface_endpoint_zones: must cover every zone in prod \(2\), "
        r".* \(got 1\)$",
        id="prod-endpoints-in-fewer-zones",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"mode": "batch"}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.mode: Input should be 'serverless', 'instance' or "
        r"'async' \(got 'batch'\)$",
        id="unknown-mode",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"mode": "instance", "async_inference": {}}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference: must be left out unless mode is async "
        r"\(got 'instance'\)$",
        id="async-settings-without-async",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"mode": "async", "autoscaling": {"max_capacity": 2}}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.autoscaling: must be left out when mode is async "
        r"\(async endpoints scale on their backlog: set async_inference\.max_capacity\)",
        id="async-with-autoscaling",
    ),
    pytest.param(
        with_changes(realtime_endpoint={"mode": "async", "async_inference": {"max_capacity": 0}}),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.max_capacity: Input should be greater "
        r"than or equal to 1 \(got 0\)$",
        id="async-max-capacity-zero",
    ),
    pytest.param(
        with_changes(
            realtime_endpoint={"mode": "async", "async_inference": {"scale_to_zero": "sometimes"}}
        ),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.scale_to_zero: Input should be a valid "
        r"boolean.* \(got 'sometimes'\)$",
        id="async-scale-to-zero-not-boolean",
    ),
    pytest.param(
        with_changes(
            realtime_endpoint={
                "mode": "async",
                "async_inference": {"target_backlog_per_instance": 0},
            }
        ),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.target_backlog_per_instance: Input "
        r"should be greater than 0 \(got 0\)$",
        id="async-backlog-target-zero",
    ),
    pytest.param(
        with_changes(
            realtime_endpoint={"mode": "async", "async_inference": {"output_prefix": "/out"}}
        ),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.output_prefix: must be .* "
        r"\(got '/out'\)$",
        id="async-output-prefix",
    ),
    pytest.param(
        with_changes(
            realtime_endpoint={
                "mode": "async",
                "async_inference": {"failure_prefix": "s3://bucket/errors/"},
            }
        ),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.failure_prefix: must be a key prefix, "
        r"not an s3:// URI .*\(got 's3://bucket/errors/'\)$",
        id="async-failure-prefix",
    ),
    pytest.param(
        with_changes(
            realtime_endpoint={
                "mode": "async",
                "async_inference": {"output_prefix": "out/", "failure_prefix": "out/"},
            }
        ),
        "qa",
        r"qa\.yaml: realtime_endpoint\.async_inference\.failure_prefix: must differ from "
        r"output_prefix .* \(got 'out/'\)$",
        id="async-same-prefixes",
    ),
]


@pytest.mark.parametrize(("data", "name", "message"), INVALID)
def test_invalid_settings_fail_with_one_precise_line(
    tmp_path: Path, data: dict[str, object], name: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        load(tmp_path, data, name)
    lines = str(error.value).splitlines()
    assert len(lines) == 1, lines
    assert re.search(message, lines[0]), lines[0]
