"""Which image SageMaker runs for a ModelMonitorSchedule on the MODEL_MONITOR backend: the Model
Monitor analyzer or Clarify image of the stack's region, read from the package's registry table
(``sagemaker-monitor-images.json``); a stack without a concrete region, or a region without an
image, is a ConfigurationError."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from aws_cdk import Stack, Token
from constructs import Construct

from mlops_cdk._internal.validation import Checker, Said
from mlops_cdk.constructs.model_monitor.options import MonitoringType

CLARIFY_TYPES = (MonitoringType.MODEL_BIAS, MonitoringType.MODEL_EXPLAINABILITY)


@cache
def monitor_images() -> dict[str, Any]:
    """The Model Monitor analyzer and Clarify registries per region (package data)."""
    text = resources.files("mlops_cdk._internal.data").joinpath("sagemaker-monitor-images.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def monitor_image_uri(monitoring_type: MonitoringType, region: str) -> str | None:
    """The image SageMaker runs for ``monitoring_type`` in ``region``; ``None`` if unknown."""
    data = monitor_images()
    family = data[
        "clarify_processing" if monitoring_type in CLARIFY_TYPES else ("model_monitor_analyzer")
    ]
    account = family["accounts"].get(region)
    if account is None or region.startswith("us-iso"):
        return None
    suffix = data["dns_suffix"].get(region, data["dns_suffix"]["default"])
    return str(data["uri_template"]).format(
        account=account,
        region=region,
        dns_suffix=suffix,
        repository=family["repository"],
        tag=family["tag"],
    )


def _known_regions(monitoring_type: MonitoringType) -> list[str]:
    data = monitor_images()
    family = data[
        "clarify_processing" if monitoring_type in CLARIFY_TYPES else ("model_monitor_analyzer")
    ]
    return sorted(r for r in family["accounts"] if not r.startswith("us-iso"))


def native_image(check: Checker, scope: Construct, monitoring_type: MonitoringType) -> str:
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        check.fail(
            "region",
            "a concrete region (set the stack's env) so the Model Monitor image can be chosen",
            Said("unresolved (environment-agnostic stack)"),
        )
    uri = monitor_image_uri(monitoring_type, region)
    if uri is None:
        family = "Clarify" if monitoring_type in CLARIFY_TYPES else "Model Monitor analyzer"
        check.fail(
            "region",
            f"a region with a {family} image (" + ", ".join(_known_regions(monitoring_type)) + ")",
            region,
        )
    return uri
