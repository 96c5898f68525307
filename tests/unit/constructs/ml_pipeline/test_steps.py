"""PipelineSteps: the rendered SageMaker Pipelines definition and each graph rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk.constructs.ml_pipeline.steps import (
    PipelineCondition,
    PipelineParameter,
    PipelineSteps,
    PropertyFile,
    get,
    join,
)

REPORT = PropertyFile(
    name="Report", output_name="evaluation", path="evaluation.json", metrics=("auc",)
)


def graph(
    *,
    metric: str = "auc",
    training: dict[str, Any] | None = None,
    extra: Callable[[PipelineSteps], object] | None = None,
) -> PipelineSteps:
    steps = PipelineSteps()
    threshold = steps.parameter("Threshold", "Float", 0.7)
    steps.processing("Prep", arguments={"AppSpecification": {"ImageUri": "img"}})
    steps.training(
        "Fit",
        arguments=training
        or {
            "InputDataConfig": [
                {"DataSource": {"S3DataSource": {"S3Uri": get(
                    "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri")}}}
            ],
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )  # fmt: skip
    steps.processing(
        "Eval",
        arguments={"Model": get("Steps.Fit.ModelArtifacts.S3ModelArtifacts")},
        property_files=[REPORT],
    )
    steps.condition(
        "Gate",
        conditions=[
            PipelineCondition(
                type="GreaterThan", left=steps.metric("Eval", "Report", metric), right=threshold.ref
            )
        ],
        if_steps=["Register"],
        else_steps=["Stop"],
    )
    steps.register_model("Register", arguments={"ModelPackageGroupName": "churn"})
    steps.fail("Stop", error_message=join(" ", ["below", threshold.ref]))
    if extra:
        extra(steps)
    return steps


def test_render_follows_the_definition_format() -> None:
    definition = graph().render()
    assert definition["Version"] == "2020-12-01"
    assert definition["Parameters"] == [{"Name": "Threshold", "Type": "Float", "DefaultValue": 0.7}]
    top = [step["Name"] for step in definition["Steps"]]
    assert top == ["Prep", "Fit", "Eval", "Gate"]  # branch steps are nested in the condition
    gate = definition["Steps"][3]
    assert gate["Type"] == "Condition"
    assert gate["Arguments"]["Conditions"] == [
        {
            "Type": "GreaterThan",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
                    "Path": "metrics.auc.value",
                }
            },
            "RightValue": {"Get": "Parameters.Threshold"},
        }
    ]
    assert [s["Type"] for s in gate["Arguments"]["IfSteps"]] == ["RegisterModel"]
    assert gate["Arguments"]["ElseSteps"] == [
        {
            "Name": "Stop",
            "Type": "Fail",
            "Arguments": {
                "ErrorMessage": {
                    "Std:Join": {"On": " ", "Values": ["below", {"Get": "Parameters.Threshold"}]}
                }
            },
        }
    ]
    assert definition["Steps"][2]["PropertyFiles"] == [
        {"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}
    ]


def test_explicit_dependencies_are_rendered_and_references_count_as_edges() -> None:
    steps = graph(extra=lambda s: s.processing("Audit", arguments={}, depends_on=["Gate"]))
    definition = steps.render()
    audit = next(s for s in definition["Steps"] if s["Name"] == "Audit")
    assert audit["DependsOn"] == ["Gate"]
    assert steps.step("Eval").references() == {"Fit"}


def test_parameters_render_their_reference() -> None:
    assert PipelineParameter(name="InputDataUrl", type="String", default="s3://b/k/").ref == {
        "Get": "Parameters.InputDataUrl"
    }


def _spot(**stopping: int) -> dict[str, Any]:
    return {"EnableManagedSpotTraining": True, "StoppingCondition": stopping}


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: graph(extra=lambda s: s.step("Prep").__setattr__("depends_on", ("Register",))),
            r"steps must be an acyclic graph \(got a cycle ",
        ),
        (
            lambda: graph(extra=lambda s: s.processing("Audit", arguments={}, depends_on=["Nope"])),
            r"steps\['Audit'\]\.depends_on must be names of steps in the pipeline \(got 'Nope'\)",
        ),
        (
            lambda: graph(extra=lambda s: s.processing(
                "Audit", arguments={"X": get("Steps.Ghost.ModelArtifacts.S3ModelArtifacts")})),
            r"steps\['Audit'\]\.arguments must be references to steps in the pipeline.*"
            r"\(got a reference to step 'Ghost'\)",
        ),
        (
            lambda: graph(extra=lambda s: s.fail("Prep", error_message="x")),
            r"steps must be uniquely named \(got two steps named 'Prep'\)",
        ),
        (
            lambda: graph(extra=lambda s: s.fail("S" * 65, error_message="x")),
            r"steps\['S{65}'\]\.name must be at most 64 characters long \(got 65 characters\)",
        ),
        (
            lambda: graph(extra=lambda s: s.fail("has space", error_message="x")),
            r"steps\['has space'\]\.name must be 1-64 letters, digits, hyphens or underscores "
            r"\(got 'has space'\)",
        ),
        (
            lambda: graph(metric="f1"),
            r"steps\['Gate'\]\.conditions must be a metric that step 'Eval' writes to 'Report' "
            r"\(declared: 'auc'\) \(got 'metrics\.f1\.value'\)",
        ),
        (
            lambda: graph(extra=lambda s: s.step("Eval").__setattr__("property_files", ())),
            r"steps\['Gate'\]\.conditions must be Std:JsonGet of a property file a step declares.*"
            r"\(got property file 'Report' of step 'Eval'\)",
        ),
        (
            lambda: graph(training=_spot(MaxRuntimeInSeconds=3600, MaxWaitTimeInSeconds=7200)),
            r"steps\['Fit'\]\.arguments\.CheckpointConfig\.S3Uri must be set for managed spot",
        ),
        (
            lambda: graph(training={**_spot(MaxRuntimeInSeconds=3600, MaxWaitTimeInSeconds=60),
                                    "CheckpointConfig": {"S3Uri": "s3://b/c/"}}),
            r"steps\['Fit'\]\.arguments\.StoppingCondition\.MaxWaitTimeInSeconds must be at least"
            r" MaxRuntimeInSeconds \(3600\) \(got 60\)",
        ),
        (
            lambda: graph(training={**_spot(MaxRuntimeInSeconds=3600),
                                    "CheckpointConfig": {"S3Uri": "s3://b/c/"}}),
            r"steps\['Fit'\]\.arguments\.StoppingCondition\.MaxWaitTimeInSeconds must be set "
            r"for managed spot training \(got none\)",
        ),
        (
            lambda: graph(extra=lambda s: s.condition("Gate2", conditions=[], if_steps=["Nope"])),
            r"steps\['Gate2'\]\.if_steps must be names of other steps in the pipeline",
        ),
        (
            lambda: graph(extra=lambda s: s.condition("Gate2", conditions=[], else_steps=["Stop"])),
            r"steps\['Gate2'\] must be the only condition branch a step is on",
        ),
        (lambda: PipelineSteps(), r"steps must be at least one step \(got none\)"),
    ],
    ids=["cycle", "dangling-depends-on", "dangling-reference", "duplicate-name", "name-too-long",
         "name-characters", "unknown-metric", "unknown-property-file", "spot-no-checkpoint",
         "spot-wait-below-runtime", "spot-no-wait", "dangling-branch", "two-branches", "empty"],
)  # fmt: skip
def test_invalid_graph_is_rejected(build: Callable[[], PipelineSteps], message: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^PipelineSteps: " + message):
        build().render()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: PipelineParameter(name="bad name", type="String", default="x"), r"^PipelineParameter: name"),
        (lambda: PipelineParameter(name="X", type="Text", default="x"), r"^PipelineParameter: type must be"),  # type: ignore[arg-type]
        (lambda: PipelineCondition(type="Bigger", left=1, right=2), r"^PipelineCondition: type must be one of"),  # type: ignore[arg-type]
    ],
    ids=["parameter-name", "parameter-type", "condition-type"],
)  # fmt: skip
def test_invalid_parts_are_rejected(build: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()


def test_parameter_names_are_unique() -> None:
    steps = PipelineSteps()
    steps.parameter("A", "String", "x")
    with pytest.raises(ConfigurationError, match=r"^PipelineSteps: parameter names must be unique"):
        steps.parameter("A", "String", "y")
