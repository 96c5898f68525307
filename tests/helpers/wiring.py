"""Following references between the stacks of a synthesized app, for tests that assert what is
wired to what (not the values config/*.yaml holds: the snapshots pin those)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Templates = Mapping[str, Mapping[str, Any]]


def produced_by(templates: Templates, reference: Any) -> tuple[str, Any]:
    """The stack a ``Fn::GetStackOutput`` reference reads from, and the value that stack
    outputs there (e.g. ``("mlops-prod-data", {"Fn::GetAtt": ["DataKey17AFBB84", "Arn"]})``)."""
    assert isinstance(reference, dict), reference
    assert set(reference) == {"Fn::GetStackOutput"}, reference
    output = reference["Fn::GetStackOutput"]
    stack = output["StackName"]
    return stack, templates[stack]["Outputs"][output["OutputName"]]["Value"]


def logical_ids(template: Mapping[str, Any], kind: str) -> list[str]:
    """Logical IDs of every resource of ``kind``."""
    return [key for key, r in template["Resources"].items() if r["Type"] == kind]


def only(template: Mapping[str, Any], kind: str) -> str:
    """The logical ID of the one resource of ``kind``."""
    (found,) = logical_ids(template, kind)
    return found


def resources(template: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """Logical ID -> resource, for every resource of ``kind``."""
    return {key: r for key, r in template["Resources"].items() if r["Type"] == kind}


def bucket_name(template: Mapping[str, Any], prefix: str) -> str:
    """The physical name of the bucket whose logical ID starts with ``prefix``."""
    (name,) = [
        r["Properties"]["BucketName"]
        for key, r in resources(template, "AWS::S3::Bucket").items()
        if key.startswith(prefix)
    ]
    assert isinstance(name, str)
    return name


def private_subnets(template: Mapping[str, Any]) -> list[dict[str, str]]:
    """``Ref``s of the network stack's private (isolated) subnets, in order."""
    return [
        {"Ref": key}
        for key, r in resources(template, "AWS::EC2::Subnet").items()
        if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in r["Properties"].get("Tags", [])
    ]


def joined_json(value: Any) -> Any:
    """A JSON document held as a ``Fn::Join`` of text and references (a dashboard body, a state
    machine definition), parsed with each reference replaced by the text ``<token>``."""
    parts = value["Fn::Join"][1]
    return json.loads("".join(p if isinstance(p, str) else "<token>" for p in parts))
