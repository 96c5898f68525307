"""Small apps for unit tests: cdk.json feature flags, no template validation, no nag plugin;
and the whole app synthesized once per session (the ``synthesized_app`` fixture's type)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import cx_api

from mlops_cdk.stacks.stage import EnvironmentStage
from tests.helpers.paths import ROOT

TEST_ENV = cdk.Environment(account="123456789012", region="eu-west-1")


def cdk_json_context() -> dict[str, Any]:
    """The feature flags and settings from cdk.json, as the CLI would pass them."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


def unit_app() -> cdk.App:
    """An App with the project's feature flags and the (slow) schema validation off."""
    return cdk.App(context=cdk_json_context(), builtin_cloud_formation_validation=False)


def unit_stack(app: cdk.App | None = None, name: str = "Test") -> cdk.Stack:
    """A stack in a fixed account and region, in a fresh app unless one is given."""
    return cdk.Stack(app or unit_app(), name, env=TEST_ENV)


def isolated_vpc(stack: cdk.Stack, construct_id: str = "Vpc") -> ec2.Vpc:
    """Like the environments' VPC: two zones of private isolated subnets, no NAT."""
    return ec2.Vpc(
        stack,
        construct_id,
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )


@dataclass
class SynthesizedApp:
    """The whole app, synthesized once with CloudFormation schema validation on."""

    app: cdk.App
    stages: dict[str, EnvironmentStage]
    assembly: cx_api.CloudAssembly
    outdir: Path

    def templates(self) -> dict[str, dict[str, Any]]:
        """Stack name -> template, for every stack of every environment."""
        return {
            stack.stack_name: stack.template
            for stage in self.stages.values()
            for stack in self.assembly.get_nested_assembly(stage.artifact_id).stacks_recursively
        }

    def template_files(self) -> list[Path]:
        """The template files written to the cloud assembly."""
        return sorted(self.outdir.glob("assembly-*/*.template.json"))
