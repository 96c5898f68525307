"""Every AWS API request a template embeds, checked against botocore's model of its operation.

Requests come from: Step Functions task states (optimized integrations such as
``sagemaker:createTransformJob.sync`` and ``aws-sdk:*``), EventBridge Scheduler schedules (the
schedule itself as a CreateSchedule request, and universal targets such as
``aws-sdk:sagemaker:createProcessingJob``), EventBridge rule targets (as PutTargets targets,
including ``SageMakerPipelineParameters``), SageMaker pipeline step arguments, ``aws`` CLI
calls in CodeBuild buildspecs, and the SageMaker hosting resources themselves (endpoint
configurations, models and inference components, as the Create/Update requests CloudFormation
makes from their properties).

Run-time values get stand-ins of the right shape: CloudFormation intrinsics through
:class:`~tests.helpers.cfn_values.Resolver`; Step Functions JsonPath and ``States.Format`` /
``States.UUID`` are evaluated where earlier Pass states make them known (so a generated job
name is checked at its real worst-case length), otherwise accepted as :class:`RunTime`;
pipeline ``Get: Parameters.X`` takes the parameter's default, ``Execution.*`` an ID of AWS's
shape; Scheduler ``<aws.scheduler.*>`` context attributes their documented shapes.

Usage: ``request_findings(template, templates)`` returns ``[]`` for a clean template.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from botocore import xform_name

from tests.helpers.aws_models import Choices, RunTime, operation_model, validate
from tests.helpers.cfn_values import ACCOUNT, REGION, UUID, Resolver

Template = Mapping[str, Any]

# SDK service names (Step Functions aws-sdk integrations, Scheduler universal targets) that
# botocore names differently.
_SDK_SERVICES = {"sfn": "stepfunctions", "cloudwatchlogs": "logs", "eventbridge": "events"}
# Step Functions optimized integrations serialize these members from any JSON.
_FREE_MEMBERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("lambda", "Invoke"): ("Payload",),
    ("sns", "Publish"): ("Message",),
    ("sqs", "SendMessage"): ("MessageBody",),
    ("stepfunctions", "StartExecution"): ("Input",),
    ("events", "PutEvents"): ("Entries",),
}
# What SageMaker Pipelines supplies itself for each step type: (operation, generated members).
_PIPELINE_STEPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Processing": ("CreateProcessingJob", ("ProcessingJobName",)),
    "Training": ("CreateTrainingJob", ("TrainingJobName",)),
    "Transform": ("CreateTransformJob", ("TransformJobName",)),
    "Tuning": ("CreateHyperParameterTuningJob", ("HyperParameterTuningJobName",)),
    "Model": ("CreateModel", ("ModelName",)),
    "CreateModel": ("CreateModel", ("ModelName",)),
    "RegisterModel": ("CreateModelPackage", ()),
}
# Pipeline execution variables: the shapes SageMaker gives them.
_EXECUTION_VARIABLES = {
    "Execution.PipelineExecutionId": "x1y2z3a4b5c6",
    "Execution.PipelineExecutionArn": (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/standin/execution/x1y2z3a4b5c6"
    ),
    "Execution.PipelineName": "standin-pipeline",
    "Execution.PipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/standin-pipeline",
}
# EventBridge Scheduler context attributes (documented shapes).
_SCHEDULER_CONTEXT = {
    "<aws.scheduler.execution-id>": UUID,
    "<aws.scheduler.scheduled-time>": "2026-01-01T00:00:00Z",
    "<aws.scheduler.schedule-arn>": (
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/standin-schedule"
    ),
    "<aws.scheduler.attempt-number>": "1",
}
# aws CLI options that are not request members.
_CLI_GLOBAL_OPTIONS = {
    "--query": 1,
    "--output": 1,
    "--region": 1,
    "--profile": 1,
    "--endpoint-url": 1,
    "--cli-binary-format": 1,
    "--color": 1,
    "--cli-read-timeout": 1,
    "--cli-connect-timeout": 1,
    "--ca-bundle": 1,
    "--page-size": 1,
    "--max-items": 1,
    "--starting-token": 1,
    "--no-paginate": 0,
    "--debug": 0,
    "--no-verify-ssl": 0,
    "--no-sign-request": 0,
    "--no-cli-pager": 0,
}


@dataclass
class EmbeddedRequest:
    """One API request found in a template.

    :param where: logical ID and location inside the resource (state, step, target).
    :param service: botocore service name, e.g. ``sagemaker``.
    :param operation: the operation as written (any case), e.g. ``createTransformJob``.
    :param params: the request, with stand-ins, :class:`RunTime` and :class:`Choices` values.
    :param free: members that accept any JSON here.
    """

    where: str
    service: str
    operation: str
    params: Any
    free: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


def request_findings(
    template: Template, templates: Mapping[str, Template] | None = None
) -> list[str]:
    """Every way a request embedded in ``template`` breaks its operation's model."""
    return [
        finding for request in embedded_requests(template, templates) for finding in check(request)
    ]


def check(request: EmbeddedRequest) -> list[str]:
    """``request`` validated against its operation's input shape."""
    model = operation_model(request.service, request.operation)
    if model is None:
        return [f"{request.where}: {request.name}: no such operation in botocore's models"]
    return [
        f"{request.where}: {request.service}:{model.name} {problem}"
        for problem in validate(model.input_shape, request.params, "", request.free)
    ]


def embedded_requests(
    template: Template, templates: Mapping[str, Template] | None = None
) -> list[EmbeddedRequest]:
    """Every API request ``template`` embeds (see the module docstring for the sources)."""
    resolver = Resolver(template, templates or {})
    inputs = _state_machine_inputs(template)
    found: list[EmbeddedRequest] = []
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        props = resource.get("Properties", {})
        if kind == "AWS::StepFunctions::StateMachine":
            found += _state_machine(logical_id, props, resolver, inputs.get(logical_id))
        elif kind == "AWS::Scheduler::Schedule":
            found += _schedule(logical_id, props, resolver)
        elif kind == "AWS::Events::Rule" and props.get("Targets"):
            targets = resolver.resolve(props["Targets"])
            found.append(
                EmbeddedRequest(
                    f"{logical_id} Targets",
                    "events",
                    "PutTargets",
                    {"Rule": resolver.ref(logical_id), "Targets": targets},
                )
            )
        elif kind == "AWS::SageMaker::Pipeline":
            found += _pipeline(logical_id, props, resolver)
        elif kind == "AWS::CodeBuild::Project":
            found += _buildspec(logical_id, props, resolver)
        elif kind in _HOSTING:
            found += _hosting(logical_id, kind, props, resolver)
        elif kind == "Custom::AWS":
            found += _sdk_calls(logical_id, props, resolver)
    return found


# SageMaker hosting ------------------------------------------------------------------------

# The SageMaker hosting resources and the requests CloudFormation makes for them: the
# resource's properties are the request (same member names), less what only CloudFormation
# reads; a physical name CloudFormation generates is a stand-in. An inference component is
# also updated in place (UpdateInferenceComponent), where its DeploymentConfig applies.
_HOSTING: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "AWS::SageMaker::EndpointConfig": ("CreateEndpointConfig", "EndpointConfigName", ()),
    "AWS::SageMaker::Model": ("CreateModel", "ModelName", ()),
    "AWS::SageMaker::InferenceComponent": (
        "CreateInferenceComponent",
        "InferenceComponentName",
        ("DeploymentConfig", "EndpointArn"),
    ),
}
_COMPONENT_UPDATE = ("Specification", "Specifications", "RuntimeConfig", "DeploymentConfig")


def _hosting(
    logical_id: str, kind: str, props: Mapping[str, Any], resolver: Resolver
) -> list[EmbeddedRequest]:
    operation, name, cloudformation_only = _HOSTING[kind]
    request = {k: resolver.resolve(v) for k, v in props.items() if k not in cloudformation_only}
    request.setdefault(name, resolver.name(logical_id))
    found = [EmbeddedRequest(f"{logical_id} ({kind})", "sagemaker", operation, request)]
    if kind == "AWS::SageMaker::InferenceComponent":
        update = {k: resolver.resolve(props[k]) for k in _COMPONENT_UPDATE if k in props}
        update["InferenceComponentName"] = request[name]
        found.append(
            EmbeddedRequest(
                f"{logical_id} (update)", "sagemaker", "UpdateInferenceComponent", update
            )
        )
    return found


def _sdk_calls(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> list[EmbeddedRequest]:
    """The SDK calls of an ``AwsCustomResource`` (``Create``/``Update``/``Delete``: JSON with
    the JS SDK's service name, action and parameters)."""
    found = []
    for event in ("Create", "Update", "Delete"):
        if event not in props:
            continue
        call = json.loads(resolver.text(props[event]))
        found.append(
            EmbeddedRequest(
                f"{logical_id} {event}",
                str(call["service"]).lower(),
                str(call["action"]),
                call.get("parameters", {}),
            )
        )
    return found


# Step Functions ---------------------------------------------------------------------------


def _state_machine_inputs(template: Template) -> dict[str, list[Any] | None]:
    """State machine logical ID -> the inputs its schedules and rules start it with (``None``
    when one of them passes an event or has no fixed input)."""
    inputs: dict[str, list[Any] | None] = {}
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Scheduler::Schedule":
            targets = [props.get("Target", {})]
        elif resource.get("Type") == "AWS::Events::Rule":
            targets = props.get("Targets", [])
        else:
            continue
        for target in targets:
            arn = target.get("Arn")
            if not isinstance(arn, dict) or set(arn) != {"Ref"}:
                continue
            logical_id = str(arn["Ref"])
            text = target.get("Input")
            if not isinstance(text, str) or (logical_id in inputs and inputs[logical_id] is None):
                inputs[logical_id] = None
                continue
            inputs.setdefault(logical_id, []).append(json.loads(text))  # type: ignore[union-attr]
    return inputs


def _seeded_paths(inputs: list[Any] | None) -> dict[str, Any]:
    """``$.key`` for each top-level key that every known input of a state machine has."""
    if not inputs or not all(isinstance(given, dict) for given in inputs):
        return {}
    shared = set.intersection(*(set(given) for given in inputs))
    seeded = {}
    for key in sorted(shared):
        values = tuple(given[key] for given in inputs)
        distinct = [value for i, value in enumerate(values) if value not in values[:i]]
        seeded[f"$.{key}"] = distinct[0] if len(distinct) == 1 else Choices(tuple(distinct))
    return seeded


def _state_machine(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver, inputs: list[Any] | None
) -> list[EmbeddedRequest]:
    if "Definition" in props:
        definition = resolver.resolve(props["Definition"])
    elif "DefinitionString" in props:
        text = resolver.text(props["DefinitionString"])
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            text = text.replace("${" + key + "}", resolver.text(value))
        definition = json.loads(text)
    else:
        return []
    states = dict(_all_states(definition))
    known = {**_seeded_paths(inputs), **_known_paths(states.values())}
    found = []
    for name, state in states.items():
        parsed = _task_integration(state)
        if parsed is None:
            continue
        service, operation = parsed
        raw = state.get("Parameters", state.get("Arguments", {}))
        params = _jsonpath_params(raw, known)
        free = _FREE_MEMBERS.get((service, operation[:1].upper() + operation[1:]), ())
        found.append(
            EmbeddedRequest(f"{logical_id} state {name!r}", service, operation, params, free)
        )
    return found


def _all_states(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition.get("States", {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _all_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _all_states(state[key])


def _task_integration(state: Mapping[str, Any]) -> tuple[str, str] | None:
    resource = state.get("Resource")
    if state.get("Type") != "Task" or not isinstance(resource, str):
        return None
    match = re.fullmatch(
        r"arn:aws[a-z-]*:states:::(aws-sdk:)?([a-z0-9-]+):([A-Za-z0-9]+)(\.\w+)?", resource
    )
    if match is None:
        return None  # an activity or a Lambda function ARN: no request shape
    service = match.group(2)
    return _SDK_SERVICES.get(service, service), match.group(3)


def _known_paths(states: Any) -> dict[str, Any]:
    """JsonPaths that Pass states set to values known before run time (``$.job.name`` set by
    ``States.Format('prefix-{}', States.UUID())``); a path also set from unknown input stays
    unknown."""
    written: dict[str, list[Any]] = {}
    for state in states:
        if state.get("Type") != "Pass" or not isinstance(state.get("ResultPath"), str):
            continue
        result = state.get("Parameters", state.get("Result"))
        if not isinstance(result, dict):
            continue
        for key, value in result.items():
            path = f"{state['ResultPath']}.{key.removesuffix('.$')}"
            evaluated = _expression(value, {}) if key.endswith(".$") else value
            written.setdefault(path, []).append(evaluated)
    return {
        path: values[0] if len(values) == 1 else Choices(tuple(values))
        for path, values in written.items()
        if not any(isinstance(value, RunTime) for value in values)
    }


def _jsonpath_params(node: Any, known: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        return {
            key.removesuffix(".$"): (
                _expression(value, known) if key.endswith(".$") else _jsonpath_params(value, known)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_jsonpath_params(item, known) for item in node]
    return node


def _expression(expression: Any, known: Mapping[str, Any]) -> Any:
    """The value of a JsonPath or intrinsic function when it is known, else :class:`RunTime`."""
    if not isinstance(expression, str):
        return RunTime(repr(expression))
    text = expression.strip()
    if text in known:
        return known[text]
    if text == "States.UUID()":
        return UUID
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("\\'", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = re.fullmatch(r"States\.Format\((.*)\)", text, re.DOTALL)
    if match is not None:
        template, *arguments = _arguments(match.group(1))
        values = [_expression(argument, known) for argument in arguments]
        if isinstance(_expression(template, known), RunTime) or any(
            isinstance(v, RunTime) for v in values
        ):
            return RunTime(text)
        fmt = str(_expression(template, known))
        options = [list(v.values) if isinstance(v, Choices) else [v] for v in values]
        results = tuple(_format(fmt, combination) for combination in itertools.product(*options))
        return results[0] if len(results) == 1 else Choices(results)
    return RunTime(text)


def _format(template: str, values: tuple[Any, ...]) -> str:
    parts = template.split("{}")
    return "".join(
        part + (str(values[i]) if i < len(values) else "") for i, part in enumerate(parts)
    )


def _arguments(text: str) -> list[str]:
    """Top-level comma-separated arguments of an intrinsic function."""
    arguments, depth, quoted, current = [], 0, False, ""
    for index, char in enumerate(text):
        if char == "'" and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            arguments.append(current.strip())
            current = ""
            continue
        current += char
    arguments.append(current.strip())
    return arguments


# EventBridge Scheduler --------------------------------------------------------------------


def _schedule(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> list[EmbeddedRequest]:
    resolved = resolver.resolve(props)
    found = [
        EmbeddedRequest(
            f"{logical_id}",
            "scheduler",
            "CreateSchedule",
            {"Name": resolver.name(logical_id), **resolved},
        )
    ]
    target = resolved.get("Target", {})
    match = re.fullmatch(
        r"arn:aws[a-z-]*:scheduler:::aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)", str(target.get("Arn"))
    )
    if match is not None:
        text = str(target.get("Input", "{}"))
        for attribute, value in _SCHEDULER_CONTEXT.items():
            text = text.replace(attribute, value)
        service = _SDK_SERVICES.get(match.group(1), match.group(1))
        found.append(
            EmbeddedRequest(f"{logical_id} Target.Input", service, match.group(2), json.loads(text))
        )
    return found


# SageMaker Pipelines ----------------------------------------------------------------------


def _pipeline(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> list[EmbeddedRequest]:
    body = props.get("PipelineDefinition", {}).get("PipelineDefinitionBody")
    if body is None:
        return []
    definition = json.loads(resolver.text(body))
    defaults = {
        f"Parameters.{parameter['Name']}": parameter.get("DefaultValue", RunTime(parameter["Name"]))
        for parameter in definition.get("Parameters", [])
    }
    found = []
    for step in _pipeline_steps(definition.get("Steps", [])):
        if step.get("Type") not in _PIPELINE_STEPS:
            continue
        operation, generated = _PIPELINE_STEPS[step["Type"]]
        arguments = _pipeline_value(step.get("Arguments", {}), defaults)
        for member in generated:
            arguments.setdefault(member, "standin-generated-name")
        found.append(
            EmbeddedRequest(
                f"{logical_id} step {step['Name']!r}", "sagemaker", operation, arguments
            )
        )
    return found


def _pipeline_steps(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for step in steps:
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments", {})
            yield from _pipeline_steps(
                arguments.get("IfSteps", []) + arguments.get("ElseSteps", [])
            )


def _pipeline_value(node: Any, defaults: Mapping[str, Any]) -> Any:
    """Pipeline expressions (``Get``, ``Std:Join``, ``Std:JsonGet``) as values or RunTime."""
    if isinstance(node, list):
        return [_pipeline_value(item, defaults) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Get"}:
        reference = str(node["Get"])
        if reference in defaults:
            return defaults[reference]
        return _EXECUTION_VARIABLES.get(reference, RunTime(reference))
    if set(node) == {"Std:Join"}:
        values = [_pipeline_value(value, defaults) for value in node["Std:Join"]["Values"]]
        if any(isinstance(value, RunTime) for value in values):
            return RunTime("Std:Join")
        return str(node["Std:Join"]["On"]).join(str(value) for value in values)
    if len(node) == 1 and next(iter(node)).startswith("Std:"):
        return RunTime(next(iter(node)))
    return {key: _pipeline_value(value, defaults) for key, value in node.items()}


# CodeBuild buildspecs ---------------------------------------------------------------------


def _buildspec(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> list[EmbeddedRequest]:
    spec_text = props.get("Source", {}).get("BuildSpec")
    if spec_text is None:
        return []
    spec = yaml.safe_load(resolver.text(spec_text))
    if not isinstance(spec, dict):
        return []
    found = []
    for phase_name, phase in (spec.get("phases") or {}).items():
        for command in (phase or {}).get("commands", []):
            for call in aws_cli_calls(str(command)):
                found.append(_cli_request(f"{logical_id} buildspec {phase_name}", call))
    return found


def aws_cli_calls(command: str) -> list[list[str]]:
    """The ``aws <service> <command> ...`` invocations in a shell command, as argument lists
    (also inside ``$(...)``; each ends at an unquoted ``)``, ``;``, ``|``, ``&`` or a
    redirection ``>`` / ``<``)."""
    calls = []
    for match in re.finditer(r"(?<![\w-])aws\s+[a-z0-9-]+\s+[a-z0-9-]+", command):
        end, quote = match.start(), ""
        while end < len(command):
            char = command[end]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char in ");|&<>":
                break
            end += 1
        calls.append(shlex.split(command[match.start() : end]))
    return calls


def _cli_request(where: str, argv: list[str]) -> EmbeddedRequest:
    service, command = argv[1], argv[2]
    operation = "".join(part.capitalize() for part in command.split("-"))
    model = operation_model(service, operation)
    if model is None:
        return EmbeddedRequest(f"{where} `aws {service} {command}`", service, operation, {})
    members = model.input_shape.members if model.input_shape is not None else {}
    by_option = {"--" + xform_name(name, "-"): name for name in members}
    params: dict[str, Any] = {}
    index = 3
    while index < len(argv):
        token = argv[index]
        option, _, inline = token.partition("=")
        if option in _CLI_GLOBAL_OPTIONS:
            index += 1 + (0 if inline else _CLI_GLOBAL_OPTIONS[option])
            continue
        if not option.startswith("--"):
            params.setdefault("<positional>", []).append(token)
            index += 1
            continue
        name = by_option.get(option) or by_option.get(option.replace("--no-", "--", 1))
        if name is None:
            params[option] = token  # reported as an unknown member
            index += 1
            continue
        shape = members[name]
        if shape.type_name == "boolean" and not inline:
            params[name] = not option.startswith("--no-")
            index += 1
            continue
        value = inline or (argv[index + 1] if index + 1 < len(argv) else "")
        params[name] = _cli_value(shape.type_name, value)
        index += 1 if inline else 2
    positional = params.pop("<positional>", [])
    if positional and not (model.has_streaming_output and len(positional) == 1):
        params["<positional>"] = positional
    return EmbeddedRequest(f"{where} `aws {service} {command}`", service, model.name, params)


def _cli_value(kind: str, value: str) -> Any:
    if "$" in value or value.startswith(("file://", "fileb://")):
        return RunTime(value)
    if kind in ("integer", "long"):
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    if kind in ("structure", "map", "list"):
        return RunTime(value)  # shorthand syntax or JSON: not parsed here
    return value
