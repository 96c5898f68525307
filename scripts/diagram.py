"""Architecture diagrams of each environment, drawn from the synthesized cloud assembly.

Reads ``cdk.out`` (manifest, templates), groups the resources that matter by stack, and draws
the main data paths (references between those resources, across stacks too) with Graphviz.
Usage: ``python scripts/diagram.py [cdk.out] [docs/diagrams]`` (``make diagram``).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

# Resource types drawn as nodes, with their label; everything else is summarised per stack.
SHOWN = {
    "AWS::SageMaker::Endpoint": "SageMaker endpoint",
    "AWS::SageMaker::EndpointConfig": "Endpoint config",
    "AWS::SageMaker::Model": "SageMaker model",
    "AWS::SageMaker::MonitoringSchedule": "Monitoring schedule",
    "AWS::SageMaker::Pipeline": "SageMaker pipeline",
    "AWS::SageMaker::ModelPackageGroup": "Model registry",
    "AWS::S3::Bucket": "S3 bucket",
    "AWS::KMS::Key": "KMS key",
    "AWS::SNS::Topic": "SNS topic",
    "AWS::SQS::Queue": "SQS queue",
    "AWS::Lambda::Function": "Lambda function",
    "AWS::Lambda::Alias": "Lambda alias",
    "AWS::ApiGateway::RestApi": "REST API",
    "AWS::ECS::Service": "ECS service",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Load balancer",
    "AWS::StepFunctions::StateMachine": "State machine",
    "AWS::Scheduler::Schedule": "Schedule",
    "AWS::Events::Rule": "EventBridge rule",
    "AWS::EC2::VPC": "VPC",
    "AWS::CodePipeline::Pipeline": "CodePipeline",
}
# Edges worth drawing: data and control paths, not every IAM or logging reference.
NOT_EDGES = {"AWS::KMS::Key"}
SKIPPED_PROPERTIES = {"LoggingConfiguration", "Tags"}
ALARM = "AWS::CloudWatch::Alarm"
ALARMS_NODE = "Alarms"  # one node stands for all alarms of a stack


@dataclass
class Stack:
    """One stack of an environment: its drawn resources, references and summary counts."""

    name: str
    template: dict[str, Any]
    shown: dict[str, str] = field(default_factory=dict)  # logical id -> label
    others: Counter[str] = field(default_factory=Counter)

    def node(self, logical_id: str) -> str:
        return f"{self.name}.{logical_id}"


def stage_stacks(assembly: Path) -> dict[str, list[tuple[str, Path]]]:
    """Stage name -> [(stack name, template path)] from the top-level manifest."""
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    stages: dict[str, list[tuple[str, Path]]] = {}
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        # Environment stages only; the delivery pipeline's copies of them are the same stacks.
        if artifact.get("type") != "cdk:cloud-assembly" or "delivery" in artifact_id:
            continue
        nested = assembly / artifact["properties"]["directoryName"]
        inner = json.loads((nested / "manifest.json").read_text(encoding="utf-8"))
        stages[artifact_id.removeprefix("assembly-")] = [
            (a["properties"].get("stackName", a_id), nested / a["properties"]["templateFile"])
            for a_id, a in inner.get("artifacts", {}).items()
            if a.get("type") == "aws:cloudformation:stack"
        ]
    return stages


def references(value: Any) -> Iterator[tuple[str | None, str]]:
    """(stack name or None for this stack, logical id) of every Ref / GetAtt / GetStackOutput,
    skipping access-logging and tag properties."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in SKIPPED_PROPERTIES}
        if "Ref" in value and isinstance(value["Ref"], str) and "::" not in value["Ref"]:
            yield None, value["Ref"]
        if "Fn::GetAtt" in value:
            yield None, str(value["Fn::GetAtt"][0])
        output = value.get("Fn::GetStackOutput")
        if isinstance(output, dict):
            yield str(output.get("StackName")), str(output.get("OutputName"))
        for inner in value.values():
            yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def load(stacks: list[tuple[str, Path]]) -> dict[str, Stack]:
    loaded = {}
    for name, path in stacks:
        stack = Stack(name, json.loads(path.read_text(encoding="utf-8")))
        alarms = 0
        for logical_id, resource in stack.template.get("Resources", {}).items():
            kind = resource["Type"]
            if kind in SHOWN and not logical_id.startswith("Custom"):  # CDK's own providers
                stack.shown[logical_id] = f"{SHOWN[kind]}\n{_short(logical_id)}"
            elif kind == ALARM:
                alarms += 1
            else:
                stack.others[kind.split("::", 1)[1]] += 1
        if alarms:
            stack.shown[ALARMS_NODE] = f"CloudWatch alarms x{alarms}"
        loaded[name] = stack
    return loaded


def _short(logical_id: str) -> str:
    """``EndpointEndpointConfig5871F635`` -> ``EndpointEndpointConfig``."""
    return re.sub(r"[0-9A-F]{8}$", "", logical_id)


def _output_target(stacks: dict[str, Stack], stack_name: str, output: str) -> str | None:
    """The drawn node an output of another stack publishes (keys excluded), if any."""
    stack = stacks.get(stack_name)
    if stack is None:
        return None
    value = stack.template.get("Outputs", {}).get(output, {}).get("Value")
    resources = stack.template.get("Resources", {})
    for _, logical_id in references(value):
        kind = resources.get(logical_id, {}).get("Type")
        if logical_id in stack.shown and kind not in NOT_EDGES:
            return stack.node(logical_id)
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            if key not in SKIPPED_PROPERTIES:
                yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def _bucket_names(stacks: dict[str, Stack]) -> dict[str, str]:
    """Literal bucket name -> node (other stacks import buckets by name, not by reference)."""
    names = {}
    for stack in stacks.values():
        for logical_id, resource in stack.template.get("Resources", {}).items():
            name = resource.get("Properties", {}).get("BucketName")
            if isinstance(name, str) and logical_id in stack.shown:
                names[name] = stack.node(logical_id)
    return names


def _sources(stack: Stack) -> Iterator[tuple[str, Any]]:
    """(node, properties) of each drawn resource; all alarms of a stack share one node."""
    for logical_id, resource in stack.template.get("Resources", {}).items():
        if logical_id in stack.shown:
            yield stack.node(logical_id), resource.get("Properties", {})
        elif resource["Type"] == ALARM:
            yield stack.node(ALARMS_NODE), resource.get("Properties", {})


def edges(stacks: dict[str, Stack]) -> set[tuple[str, str]]:
    """Drawn resource -> drawn resource it references: by Ref/GetAtt in its stack, by output of
    another stack, or by a literal bucket name."""
    found: set[tuple[str, str]] = set()
    buckets = _bucket_names(stacks)
    for stack in stacks.values():
        resources = stack.template.get("Resources", {})
        for node, properties in _sources(stack):
            for other_stack, target in references(properties):
                if other_stack is None:
                    kind = resources.get(target, {}).get("Type")
                    if target in stack.shown and kind not in NOT_EDGES:
                        found.add((node, stack.node(target)))
                else:
                    other = _output_target(stacks, other_stack, target)
                    if other is not None:
                        found.add((node, other))
            for text in _strings(properties):
                found.update((node, b) for name, b in buckets.items() if name in text)
    return {(source, target) for source, target in found if source != target}


def render(stage: str, stacks: dict[str, Stack], out_dir: Path) -> list[Path]:
    """Write ``<stage>.svg`` and ``<stage>.png`` into ``out_dir``; return their paths."""
    graph = graphviz.Digraph(stage, graph_attr={"rankdir": "LR", "label": stage, "fontsize": "20"})
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb", fontsize="10")
    for stack in stacks.values():
        with graph.subgraph(name=f"cluster_{stack.name}") as cluster:
            summary = ", ".join(f"{kind} x{n}" for kind, n in stack.others.most_common(4))
            cluster.attr(label=f"{stack.name}\n{summary}", style="rounded", color="#7a8ca5")
            for logical_id, label in stack.shown.items():
                cluster.node(stack.node(logical_id), label)
    for source, target in sorted(edges(stacks)):
        graph.edge(source, target)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("svg", "png"):
        path = Path(graph.render(filename=stage, directory=str(out_dir), format=fmt, cleanup=True))
        written.append(path)
    return written


def main(assembly: str = "cdk.out", out_dir: str = "docs/diagrams") -> int:
    stages = stage_stacks(Path(assembly))
    if not stages:
        print(f"no environment stages in {assembly}; run make synth first")
        return 1
    grouped: dict[str, list[Path]] = defaultdict(list)
    for stage, stacks in stages.items():
        grouped[stage] = render(stage, load(stacks), Path(out_dir))
    for stage, paths in grouped.items():
        print(f"{stage}: {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
