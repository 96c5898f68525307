"""Architecture diagrams of each environment, drawn from the synthesized cloud assembly.

Reads ``cdk.out`` (manifest, templates) and draws two pictures per environment with Graphviz:

- ``<env>.svg``: the resources that matter, grouped by stack, with the references between them
  (across stacks too);
- ``<env>-constructs.svg``: one node per construct (what a stack's code creates at its top level:
  a RealtimeEndpoint, a bucket, the drift monitor...), grouped by stack, with how data and events
  flow between them: EventBridge rules drawn from the event's source to what they start, alarms
  to the topic they notify, and "uses" for the rest (a bucket a job reads, a key, a group name).

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


# What a top-level construct is, from the resources under it: the first rule that matches names
# it (our constructs are Python classes, which the cloud assembly records only as "Construct").
KINDS: tuple[tuple[str, str, str], ...] = (
    # (resource type, text its properties must contain or "", kind)
    ("AWS::SageMaker::Pipeline", "", "MLPipeline"),
    ("AWS::SageMaker::ModelPackageGroup", "", "ModelRegistry"),
    ("AWS::SageMaker::InferenceComponent", "", "ModelHost"),
    ("AWS::SageMaker::MonitoringSchedule", "", "ModelMonitorSchedule"),
    ("AWS::StepFunctions::StateMachine", "createProcessingJob", "ModelMonitorSchedule (drift job)"),
    ("AWS::StepFunctions::StateMachine", "createTransformJob", "BatchTransformJob"),
    ("AWS::SageMaker::Endpoint", "", "RealtimeEndpoint"),
    ("AWS::ECS::Service", "", "EcsModelService"),
    ("AWS::Lambda::Alias", "", "LambdaInference"),
    ("AWS::S3::Bucket", "", "S3 bucket"),
    ("AWS::KMS::Key", "", "KMS key"),
    ("AWS::SNS::Topic", "", "SNS topic"),
    ("AWS::EC2::VPC", "", "VPC"),
    ("AWS::CloudWatch::Dashboard", "", "Dashboard"),
    ("AWS::ApiGateway::Account", "", "API Gateway account settings"),
)
# CDK's own plumbing at a stack's top level, not drawn.
PLUMBING = ("CDKMetadata", "Custom::", "BucketNotificationsHandler", "LogRetention", "AWS679f53")
NAMED = ("BucketName", "ModelPackageGroupName")  # names other stacks use literally
# Identity policies give data directions (reads/writes); resource policies are not flows.
POLICIES = {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
NOT_FLOWS = {
    "AWS::IAM::Role",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::KMS::Key",
    "AWS::CloudWatch::Dashboard",
}
# The kinds that are this library's constructs; edges between plain resources are not drawn.
CONSTRUCTS = {
    "MLPipeline",
    "ModelRegistry",
    "ModelHost",
    "ModelMonitorSchedule",
    "ModelMonitorSchedule (drift job)",
    "BatchTransformJob",
    "RealtimeEndpoint",
    "EcsModelService",
    "LambdaInference",
}


@dataclass(eq=False)  # compared and hashed by identity: one object per construct
class Component:
    """A construct at the top level of a stack: its resources by logical id."""

    stack: str
    name: str
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def node(self) -> str:
        return f"{self.stack}/{self.name}" if self.stack else self.name

    @property
    def kind(self) -> str:
        if not self.stack:
            return "outside this environment"
        for resource_type, marker, kind in KINDS:
            for resource in self.resources.values():
                if resource["Type"] == resource_type and marker in json.dumps(resource):
                    return kind
        return "Construct"


def components(stacks: dict[str, Stack]) -> dict[tuple[str, str], Component]:
    """(stack, logical id) -> the top-level construct that created the resource."""
    owner: dict[tuple[str, str], Component] = {}
    found: dict[str, Component] = {}
    for stack in stacks.values():
        for logical_id, resource in stack.template.get("Resources", {}).items():
            path = resource.get("Metadata", {}).get("aws:cdk:path", "")
            parts = path.split("/")
            top = parts[2] if len(parts) > 3 else None  # <stage>/<stack>/<construct>/...
            if top is None or top.startswith(PLUMBING):
                continue
            component = found.setdefault(f"{stack.name}/{top}", Component(stack.name, top))
            component.resources[logical_id] = resource
            owner[(stack.name, logical_id)] = component
    return owner


def _event_label(pattern: dict[str, Any]) -> str:
    detail_types = pattern.get("detail-type") or ["event"]
    label = str(detail_types[0]).removeprefix("SageMaker ")
    state = pattern.get("detail", {}).get("state", {}).get("value")
    return f"{label}: {state[0]}" if state else label


def construct_edges(stacks: dict[str, Stack]) -> dict[tuple[str, str], str]:
    """(source node, target node) -> labels, at construct level, in the direction data and
    events flow: an event's source -> the rule's construct -> what the rule starts or notifies;
    an alarm -> the topic it notifies; otherwise the construct that refers -> what it uses."""
    owner = components(stacks)
    named: dict[str, Component] = {}
    for (_, _), component in owner.items():
        for resource in component.resources.values():
            for key in NAMED:
                value = resource.get("Properties", {}).get(key)
                if isinstance(value, str):
                    named[value] = component

    def targets(stack: Stack, value: Any) -> set[Component]:
        found: set[Component] = set()
        for other_stack, target in references(value):
            if other_stack is None:
                component = owner.get((stack.name, target))
            else:
                component = _output_owner(stacks, owner, other_stack, target)
            if component is not None:
                found.add(component)
        for text in _strings(value):
            found.update(c for name, c in named.items() if name in text)
        return found

    drawn: dict[tuple[str, str], list[str]] = defaultdict(list)
    external: dict[str, Component] = {}

    def draw(source: Component, target: Component, label: str) -> None:
        if label not in drawn[(source.node, target.node)]:
            drawn[(source.node, target.node)].append(label)

    for stack in stacks.values():
        for logical_id, resource in stack.template.get("Resources", {}).items():
            source = owner.get((stack.name, logical_id))
            kind = resource["Type"]
            properties = resource.get("Properties", {})
            if source is None or kind in NOT_FLOWS:
                continue
            if kind in POLICIES:
                # What a construct's role may do to a bucket gives the direction of the data.
                for statement in _statements(properties):
                    actions = " ".join(_strings(statement.get("Action", [])))
                    for bucket in targets(stack, statement.get("Resource", [])):
                        if bucket.kind != "S3 bucket":
                            continue
                        if "s3:PutObject" in actions:
                            draw(source, bucket, "writes")
                        if "s3:GetObject" in actions:
                            draw(bucket, source, "reads")
            elif kind == "AWS::Events::Rule":
                pattern = properties.get("EventPattern", {})
                for origin in targets(stack, pattern):
                    draw(origin, source, _event_label(pattern))
                for arn in (target.get("Arn") for target in properties.get("Targets", [])):
                    for target in targets(stack, arn):
                        draw(source, target, "starts / notifies")
                    if isinstance(arn, str) and ":event-bus/" in arn:  # another account's bus
                        bus = external.setdefault(arn, Component("", f"event bus {arn}"))
                        draw(source, bus, "forwards")
            elif kind == ALARM:
                for target in targets(stack, properties.get("AlarmActions", [])):
                    draw(source, target, "alarms")
            else:
                for target in targets(stack, properties):
                    if target.kind == "ModelRegistry":
                        draw(source, target, "registers / reads packages")
                    elif target.kind not in ("S3 bucket", "KMS key"):
                        draw(source, target, "uses")
    ours = {c.node for c in owner.values() if c.kind in CONSTRUCTS}
    return {
        edge: ", ".join(label for label in labels if label != "uses" or len(labels) == 1)
        for edge, labels in drawn.items()
        if edge[0] != edge[1] and (edge[0] in ours or edge[1] in ours)
    }


def _statements(properties: dict[str, Any]) -> list[dict[str, Any]]:
    document = properties.get("PolicyDocument", {})
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _output_owner(
    stacks: dict[str, Stack],
    owner: dict[tuple[str, str], Component],
    stack_name: str,
    output: str,
) -> Component | None:
    stack = stacks.get(stack_name)
    if stack is None:
        return None
    value = stack.template.get("Outputs", {}).get(output, {}).get("Value")
    for _, logical_id in references(value):
        component = owner.get((stack_name, logical_id))
        if component is not None:
            return component
    return None


def render_constructs(stage: str, stacks: dict[str, Stack], out_dir: Path) -> list[Path]:
    """Write ``<stage>-constructs.svg`` and ``.png``: constructs, and how data and events flow."""
    owner = components(stacks)
    edges_drawn = construct_edges(stacks)
    connected = {node for edge in edges_drawn for node in edge}
    graph = graphviz.Digraph(
        f"{stage}-constructs",
        graph_attr={"rankdir": "LR", "label": f"{stage}: constructs", "fontsize": "20"},
    )
    graph.attr("node", shape="box", style="rounded,filled", fillcolor="#eef3fb", fontsize="10")
    graph.attr("edge", fontsize="9", color="#55657d")
    by_stack: dict[str, set[Component]] = defaultdict(set)
    for component in owner.values():
        if component.node in connected or component.kind != "Construct":
            by_stack[component.stack].add(component)
    for stack_name, members in by_stack.items():
        with graph.subgraph(name=f"cluster_{stack_name}") as cluster:
            cluster.attr(label=stack_name, style="rounded", color="#7a8ca5")
            for component in sorted(members, key=lambda c: c.name):
                cluster.node(_dot_id(component.node), f"{component.name}\n{component.kind}")
    for node in sorted(connected - {c.node for c in owner.values()}):
        graph.node(_dot_id(node), node.replace(" arn:", "\\narn:"), fillcolor="#fdf1dc")
    for (source, target), label in sorted(edges_drawn.items()):
        style = "dashed" if label == "uses" else "solid"
        graph.edge(
            _dot_id(source), _dot_id(target), label="" if label == "uses" else label, style=style
        )
    return _write(graph, f"{stage}-constructs", out_dir)


def _dot_id(node: str) -> str:
    """A Graphviz node ID: ``a:b`` would be read as node ``a``, port ``b``."""
    return re.sub(r"\W", "_", node)


def _write(graph: graphviz.Digraph, name: str, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in ("svg", "png"):
        path = Path(graph.render(filename=name, directory=str(out_dir), format=fmt, cleanup=True))
        written.append(path)
    return written


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
    return _write(graph, stage, out_dir)


def main(assembly: str = "cdk.out", out_dir: str = "docs/diagrams") -> int:
    stages = stage_stacks(Path(assembly))
    if not stages:
        print(f"no environment stages in {assembly}; run make synth first")
        return 1
    grouped: dict[str, list[Path]] = defaultdict(list)
    for stage, stacks in stages.items():
        loaded = load(stacks)
        grouped[stage] = render(stage, loaded, Path(out_dir))
        grouped[stage] += render_constructs(stage, loaded, Path(out_dir))
    for stage, paths in grouped.items():
        print(f"{stage}: {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
