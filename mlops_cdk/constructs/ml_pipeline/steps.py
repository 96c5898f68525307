"""PipelineSteps: a small typed builder for SageMaker Pipelines definition JSON.

The builder emits the document ``AWS::SageMaker::Pipeline`` takes as ``PipelineDefinitionBody``
(no ``sagemaker`` SDK at synth). Its shape follows the published definition schema
(aws-sagemaker-mlops/sagemaker-model-building-pipeline-definition-JSON-schema) and what the
SageMaker Python SDK writes:

- ``{"Version": "2020-12-01", "Metadata": {}, "Parameters": [...], "Steps": [...]}``;
- a step is ``{"Name", "Type", "Arguments", "DependsOn"?, "PropertyFiles"?}`` where
  ``Arguments`` is the service request (CreateProcessingJob, CreateTrainingJob,
  CreateModelPackage) with values that may be references;
- references are ``{"Get": "Parameters.<name>"}``, ``{"Get": "Steps.<step>.<property path>"}``,
  ``{"Get": "Execution.PipelineExecutionId"}``, ``{"Std:Join": {"On": sep, "Values": [...]}}``
  and ``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.<step>.PropertyFiles.<file>"},
  "Path": "<json path>"}}``;
- a ``Condition`` step nests the full steps of its branches in ``IfSteps`` / ``ElseSteps``.

Steps are added by name; a condition names its branch steps, which the builder moves into the
condition when it renders. :meth:`PipelineSteps.render` checks the graph first: valid and unique
step names, no dangling ``DependsOn`` or ``Steps.<name>`` references, no cycles, every metric a
condition reads is declared by the property file of the step that writes it, and managed spot
training has a checkpoint location and a max wait of at least the max runtime.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_cdk._internal.validation import Checker, Said

VERSION = "2020-12-01"
STEP_NAME = r"[A-Za-z0-9_-]{1,64}"
STEP_NAME_MEANING = "1-64 letters, digits, hyphens or underscores"
PARAMETER_NAME = STEP_NAME
ParameterType = Literal["String", "Integer", "Float", "Boolean"]
PARAMETER_TYPES = ("String", "Integer", "Float", "Boolean")
ConditionType = Literal[
    "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo", "Equals", "NotEquals"
]
CONDITION_TYPES = (
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "Equals",
    "NotEquals",
)
EXECUTION_ID: dict[str, Any] = {"Get": "Execution.PipelineExecutionId"}
# "Steps.<name>." at the start of a Get path; step names have no dots.
_STEP_REFERENCE = re.compile(r"Steps\.([^.\[]+)")


def get(path: str) -> dict[str, Any]:
    """A ``{"Get": path}`` reference (``Parameters.X``, ``Steps.Y.<property>``)."""
    return {"Get": path}


def join(on: str, values: Sequence[Any]) -> dict[str, Any]:
    """``Std:Join``: the values (strings or references) joined with ``on`` at run time."""
    return {"Std:Join": {"On": on, "Values": list(values)}}


def metric_path(metric: str) -> str:
    """Where an evaluation report keeps a metric: ``metrics.<name>.value``.

    The same layout as SageMaker's model quality reports
    (``{"metrics": {"accuracy": {"value": 0.93}}}``).
    """
    return f"metrics.{metric}.value"


@dataclass(frozen=True, kw_only=True)
class PipelineParameter:
    """A pipeline parameter that each execution may override (``PipelineParameters``)."""

    name: str
    type: ParameterType
    default: str | int | float | bool

    def __post_init__(self) -> None:
        check = Checker("PipelineParameter")
        check.matches("name", self.name, PARAMETER_NAME, STEP_NAME_MEANING)
        check.one_of("type", self.type, PARAMETER_TYPES)

    @property
    def ref(self) -> dict[str, Any]:
        """``{"Get": "Parameters.<name>"}``."""
        return get(f"Parameters.{self.name}")

    def render(self) -> dict[str, Any]:
        return {"Name": self.name, "Type": self.type, "DefaultValue": self.default}


@dataclass(frozen=True, kw_only=True)
class PropertyFile:
    """A JSON file a processing step writes to one of its outputs, readable by conditions.

    :param name: the property file name conditions refer to.
    :param output_name: the ``ProcessingOutputConfig`` output that holds the file.
    :param path: the file inside that output, e.g. ``evaluation.json``.
    :param metrics: metric names the file holds at ``metrics.<name>.value``. Conditions may
        only read declared metrics, so a typo fails at synth instead of at run time.
    """

    name: str
    output_name: str
    path: str
    metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check = Checker("PropertyFile")
        check.matches("name", self.name, STEP_NAME, STEP_NAME_MEANING)

    def render(self) -> dict[str, Any]:
        return {
            "PropertyFileName": self.name,
            "OutputName": self.output_name,
            "FilePath": self.path,
        }


@dataclass(frozen=True, kw_only=True)
class PipelineCondition:
    """A comparison, e.g. the evaluation metric against the threshold parameter."""

    type: ConditionType
    left: Any
    right: Any

    def __post_init__(self) -> None:
        Checker("PipelineCondition").one_of("type", self.type, CONDITION_TYPES)

    def render(self) -> dict[str, Any]:
        return {"Type": self.type, "LeftValue": self.left, "RightValue": self.right}


@dataclass(kw_only=True)
class Step:
    """One step: its name, type, request arguments and explicit dependencies."""

    name: str
    type: str
    arguments: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    property_files: tuple[PropertyFile, ...] = ()
    description: str | None = None
    # Condition steps only: names of the steps on each branch.
    if_steps: tuple[str, ...] = ()
    else_steps: tuple[str, ...] = ()
    conditions: tuple[PipelineCondition, ...] = field(default=())

    def references(self) -> set[str]:
        """Names of the steps whose properties this step reads (implicit dependencies)."""
        found: set[str] = set()
        for value in _walk([self.arguments, [c.render() for c in self.conditions]]):
            if isinstance(value, dict) and isinstance(value.get("Get"), str):
                match = _STEP_REFERENCE.match(value["Get"])
                if match:
                    found.add(match.group(1))
        return found

    def json_gets(self) -> Iterator[tuple[str, str, str]]:
        """``(step, property file, path)`` for each ``Std:JsonGet`` in the conditions."""
        for value in _walk([c.render() for c in self.conditions]):
            if isinstance(value, dict) and "Std:JsonGet" in value:
                spec = value["Std:JsonGet"]
                reference = str(spec.get("PropertyFile", {}).get("Get", ""))
                parts = reference.split(".")
                if len(parts) == 4 and parts[0] == "Steps" and parts[2] == "PropertyFiles":
                    yield parts[1], parts[3], str(spec.get("Path", ""))
                else:
                    yield "", reference, str(spec.get("Path", ""))


class PipelineSteps:
    """Build a SageMaker Pipelines definition step by step, then :meth:`render` it.

    Example::

        steps = PipelineSteps()
        threshold = steps.parameter("MetricThreshold", "Float", 0.8)
        steps.processing("Evaluate", arguments={...}, property_files=[
            PropertyFile(name="Report", output_name="evaluation", path="evaluation.json",
                         metrics=("accuracy",))])
        steps.condition("Check", conditions=[PipelineCondition(type="GreaterThanOrEqualTo",
            left=steps.metric("Evaluate", "Report", "accuracy"), right=threshold.ref)],
            if_steps=["Register"], else_steps=["TooWeak"])
        steps.register_model("Register", arguments={...})
        steps.fail("TooWeak", error_message="accuracy below threshold")
        definition = steps.render()
    """

    def __init__(self) -> None:
        self._parameters: list[PipelineParameter] = []
        self._steps: list[Step] = []

    # --- parameters -------------------------------------------------------------------

    def parameter(
        self, name: str, type: ParameterType, default: str | int | float | bool
    ) -> PipelineParameter:
        """Declare a pipeline parameter and return it (use ``.ref`` in arguments)."""
        created = PipelineParameter(name=name, type=type, default=default)
        if any(p.name == name for p in self._parameters):
            Checker("PipelineSteps").fail("parameter names", "unique", name)
        self._parameters.append(created)
        return created

    @property
    def parameters(self) -> tuple[PipelineParameter, ...]:
        return tuple(self._parameters)

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError if there is none)."""
        for candidate in self._steps:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    # --- steps ------------------------------------------------------------------------

    def add(self, step: Step) -> Step:
        """Add a step built elsewhere (any step type SageMaker Pipelines knows)."""
        self._steps.append(step)
        return step

    def processing(
        self,
        name: str,
        *,
        arguments: Mapping[str, Any],
        depends_on: Sequence[str] = (),
        property_files: Sequence[PropertyFile] = (),
        description: str | None = None,
    ) -> Step:
        """A ``Processing`` step; ``arguments`` is a CreateProcessingJob request."""
        return self.add(
            Step(
                name=name,
                type="Processing",
                arguments=arguments,
                depends_on=tuple(depends_on),
                property_files=tuple(property_files),
                description=description,
            )
        )

    def training(
        self,
        name: str,
        *,
        arguments: Mapping[str, Any],
        depends_on: Sequence[str] = (),
        description: str | None = None,
    ) -> Step:
        """A ``Training`` step; ``arguments`` is a CreateTrainingJob request."""
        return self.add(
            Step(
                name=name,
                type="Training",
                arguments=arguments,
                depends_on=tuple(depends_on),
                description=description,
            )
        )

    def register_model(
        self,
        name: str,
        *,
        arguments: Mapping[str, Any],
        depends_on: Sequence[str] = (),
        description: str | None = None,
    ) -> Step:
        """A ``RegisterModel`` step; ``arguments`` is a CreateModelPackage request."""
        return self.add(
            Step(
                name=name,
                type="RegisterModel",
                arguments=arguments,
                depends_on=tuple(depends_on),
                description=description,
            )
        )

    def fail(self, name: str, *, error_message: Any, depends_on: Sequence[str] = ()) -> Step:
        """A ``Fail`` step: the execution ends as Failed with ``error_message``."""
        return self.add(
            Step(
                name=name,
                type="Fail",
                arguments={"ErrorMessage": error_message},
                depends_on=tuple(depends_on),
            )
        )

    def condition(
        self,
        name: str,
        *,
        conditions: Sequence[PipelineCondition],
        if_steps: Sequence[str] = (),
        else_steps: Sequence[str] = (),
        depends_on: Sequence[str] = (),
    ) -> Step:
        """A ``Condition`` step: all ``conditions`` true runs ``if_steps``, else
        ``else_steps`` (names of steps added to this builder, before or after)."""
        return self.add(
            Step(
                name=name,
                type="Condition",
                arguments={},
                conditions=tuple(conditions),
                if_steps=tuple(if_steps),
                else_steps=tuple(else_steps),
                depends_on=tuple(depends_on),
            )
        )

    @staticmethod
    def metric(step: str, property_file: str, metric: str) -> dict[str, Any]:
        """``Std:JsonGet`` of ``metric`` in ``property_file`` written by ``step``."""
        return {
            "Std:JsonGet": {
                "PropertyFile": get(f"Steps.{step}.PropertyFiles.{property_file}"),
                "Path": metric_path(metric),
            }
        }

    # --- rendering --------------------------------------------------------------------

    def render(self, check: Checker | None = None) -> dict[str, Any]:
        """The pipeline definition, after checking the graph (raises ConfigurationError).

        No ``PipelineExperimentConfig``: SageMaker Experiments tracking would need the
        execution role to create experiments, trials and trial components as well.
        """
        check = check or Checker("PipelineSteps")
        self.validate(check)
        nested = {n for s in self._steps for n in (*s.if_steps, *s.else_steps)}
        by_name = {s.name: s for s in self._steps}
        return {
            "Version": VERSION,
            "Metadata": {},
            "Parameters": [p.render() for p in self._parameters],
            "Steps": [_render_step(s, by_name) for s in self._steps if s.name not in nested],
        }

    def validate(self, check: Checker) -> None:
        """Raise ConfigurationError for the first problem in the step graph."""
        if not self._steps:
            check.fail("steps", "at least one step", Said("none"))
        names: set[str] = set()
        for step in self._steps:
            keyword = f"steps[{step.name!r}].name"
            check.max_length(keyword, step.name, 64)
            check.matches(keyword, step.name, STEP_NAME, STEP_NAME_MEANING)
            if step.name in names:
                check.fail("steps", "uniquely named", Said(f"two steps named {step.name!r}"))
            names.add(step.name)
        for step in self._steps:
            for dependency in step.depends_on:
                check.require(
                    dependency in names,
                    f"steps[{step.name!r}].depends_on",
                    "names of steps in the pipeline",
                    dependency,
                )
            for reference in sorted(step.references()):
                check.require(
                    reference in names,
                    f"steps[{step.name!r}].arguments",
                    "references to steps in the pipeline (Steps.<name>...)",
                    Said(f"a reference to step {reference!r}"),
                )
            for branch, members in (("if_steps", step.if_steps), ("else_steps", step.else_steps)):
                for member in members:
                    check.require(
                        member in names and member != step.name,
                        f"steps[{step.name!r}].{branch}",
                        "names of other steps in the pipeline",
                        member,
                    )
        self._check_branches(check)
        self._check_cycles(check)
        self._check_metrics(check)
        for step in self._steps:
            if step.type == "Training":
                check_spot(check, f"steps[{step.name!r}].arguments", step.arguments)

    def _check_branches(self, check: Checker) -> None:
        owner: dict[str, str] = {}
        for step in self._steps:
            for member in (*step.if_steps, *step.else_steps):
                if member in owner:
                    check.fail(
                        f"steps[{step.name!r}]",
                        "the only condition branch a step is on",
                        Said(f"{member!r} is also on a branch of {owner[member]!r}"),
                    )
                owner[member] = step.name

    def _edges(self) -> dict[str, set[str]]:
        """step -> steps that must finish before it."""
        edges = {s.name: set(s.depends_on) | s.references() for s in self._steps}
        for step in self._steps:
            for member in (*step.if_steps, *step.else_steps):
                edges[member].add(step.name)
        return edges

    def _check_cycles(self, check: Checker) -> None:
        edges = self._edges()
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(name: str, path: list[str]) -> None:
            state[name] = 1
            for before in sorted(edges.get(name, ())):
                if state.get(before) == 1:
                    cycle = [*path[path.index(before) :], before] if before in path else [before]
                    check.fail(
                        "steps",
                        "an acyclic graph",
                        Said("a cycle " + " -> ".join(reversed(cycle))),
                    )
                if state.get(before) is None:
                    visit(before, [*path, before])
            state[name] = 2

        for name in sorted(edges):
            if name not in state:
                visit(name, [name])

    def _check_metrics(self, check: Checker) -> None:
        by_name = {s.name: s for s in self._steps}
        for step in self._steps:
            for source, file_name, path in step.json_gets():
                producer = by_name.get(source)
                files = {f.name: f for f in producer.property_files} if producer else {}
                declared = files.get(file_name)
                if declared is None:
                    check.fail(
                        f"steps[{step.name!r}].conditions",
                        "Std:JsonGet of a property file a step declares "
                        "(Steps.<step>.PropertyFiles.<name>)",
                        Said(f"property file {file_name!r} of step {source!r}"),
                    )
                produced = [metric_path(m) for m in declared.metrics]
                if path not in produced:
                    offered = ", ".join(repr(m) for m in declared.metrics) or "none"
                    check.fail(
                        f"steps[{step.name!r}].conditions",
                        f"a metric that step {source!r} writes to {file_name!r} "
                        f"(declared: {offered})",
                        path,
                    )


def check_spot(check: Checker, keyword: str, arguments: Mapping[str, Any]) -> None:
    """Managed spot training needs a checkpoint location and MaxWait >= MaxRuntime."""
    if arguments.get("EnableManagedSpotTraining") is not True:
        return
    checkpoint = arguments.get("CheckpointConfig") or {}
    check.require(
        bool(checkpoint.get("S3Uri")),
        f"{keyword}.CheckpointConfig.S3Uri",
        "set for managed spot training (an interrupted job resumes from its checkpoints)",
        Said("none"),
    )
    stopping = arguments.get("StoppingCondition") or {}
    runtime, wait = stopping.get("MaxRuntimeInSeconds"), stopping.get("MaxWaitTimeInSeconds")
    if not isinstance(wait, int):
        check.fail(
            f"{keyword}.StoppingCondition.MaxWaitTimeInSeconds",
            "set for managed spot training",
            Said("none"),
        )
    if isinstance(runtime, int) and wait < runtime:
        check.fail(
            f"{keyword}.StoppingCondition.MaxWaitTimeInSeconds",
            f"at least MaxRuntimeInSeconds ({runtime})",
            wait,
        )


def _render_step(step: Step, by_name: Mapping[str, Step]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"Name": step.name, "Type": step.type}
    if step.description:
        rendered["Description"] = step.description
    if step.depends_on:
        rendered["DependsOn"] = list(step.depends_on)
    if step.type == "Condition":
        rendered["Arguments"] = {
            "Conditions": [c.render() for c in step.conditions],
            "IfSteps": [_render_step(by_name[n], by_name) for n in step.if_steps],
            "ElseSteps": [_render_step(by_name[n], by_name) for n in step.else_steps],
        }
    else:
        rendered["Arguments"] = dict(step.arguments)
    if step.property_files:
        rendered["PropertyFiles"] = [f.render() for f in step.property_files]
    return rendered


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)
