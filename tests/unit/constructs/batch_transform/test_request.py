"""The CreateTransformJob request a run sends, checked offline.

The state machine definition is taken from the synthesized template (``Fn::Join`` resolved with
recognisable placeholders) and run by a small interpreter of the states it uses (Pass, Choice,
Task; JSONPath with States.Format and States.UUID). The request the Transform task would send is
then checked against the CreateTransformJob API: required fields, allowed fields, enums, limits
and name patterns (SageMaker API reference, CreateTransformJob and its shapes).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from mlops_cdk.constructs import BatchTransformJob, ModelData, TransformInput, TransformOutput
from tests.helpers.apps import unit_stack

JOB_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
S3_URI = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*")
ALLOWED = {
    "BatchStrategy",
    "DataCaptureConfig",
    "DataProcessing",
    "Environment",
    "ExperimentConfig",
    "MaxConcurrentTransforms",
    "MaxPayloadInMB",
    "ModelClientConfig",
    "ModelName",
    "Tags",
    "TransformInput",
    "TransformJobName",
    "TransformOutput",
    "TransformResources",
}
REQUIRED = {
    "TransformJobName",
    "ModelName",
    "TransformInput",
    "TransformOutput",
    "TransformResources",
}
MODEL = "<Model.ModelName>"
KEY = "<Key.Arn>"
EXECUTION_ID = "arn:aws:states:eu-west-1:123456789012:execution:Job:run-1"


# --- rendering ---------------------------------------------------------------------------


def _placeholder(token: dict[str, Any]) -> str:
    if token == {"Ref": "AWS::Partition"}:
        return "aws"
    if "Fn::GetAtt" in token:
        logical, attribute = token["Fn::GetAtt"]
        if "Model" in logical and attribute == "ModelName":
            return MODEL
        if "Key" in logical and attribute == "Arn":
            return KEY
        return f"<{logical}.{attribute}>"
    if "Ref" in token:
        return f"<{token['Ref']}>"
    raise AssertionError(f"unexpected token in the definition: {token}")


def definition(template: Template) -> dict[str, Any]:
    """The state machine definition with every token replaced by a placeholder."""
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, dict):
        parts = body["Fn::Join"][1]
        body = "".join(p if isinstance(p, str) else _placeholder(p) for p in parts)
    loaded: dict[str, Any] = json.loads(body)
    return loaded


# --- a small interpreter of the states and intrinsics the definition uses ----------------


def path(document: Any, expression: str, context: dict[str, Any]) -> Any:
    if expression.startswith("$$."):
        document, expression = context, expression[1:]
    assert expression.startswith("$"), expression
    if expression == "$[0]":
        if not isinstance(document, list) or not document:
            raise KeyError(expression)
        return document[0]
    if expression.startswith("$[*]."):
        assert isinstance(document, list), document
        return [path(item, "$." + expression[5:], context) for item in document]
    value = document
    for part in expression[2:].split(".") if expression != "$" else []:
        if not isinstance(value, dict) or part not in value:
            raise KeyError(expression)
        value = value[part]
    return value


def _arguments(text: str) -> list[str]:
    parts, depth, current, quoted = [], 0, "", False
    for char in text:
        if char == "'" and not current.endswith("\\"):
            quoted = not quoted
        if not quoted and char == "(":
            depth += 1
        if not quoted and char == ")":
            depth -= 1
        if not quoted and depth == 0 and char == ",":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return parts


def evaluate(expression: str, document: Any, context: dict[str, Any]) -> Any:
    if expression == "States.UUID()":
        return str(uuid.uuid4())
    if expression.startswith("States.Format(") and expression.endswith(")"):
        template, *values = _arguments(expression[len("States.Format(") : -1])
        assert template.startswith("'"), template
        assert template.endswith("'"), template
        text = template[1:-1]
        for value in values:
            text = text.replace("{}", str(evaluate(value, document, context)), 1)
        return text
    if expression.startswith("'"):
        return expression[1:-1]
    return path(document, expression, context)


def render(template: Any, document: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        rendered = {}
        for key, value in template.items():
            if key.endswith(".$"):
                rendered[key[:-2]] = evaluate(value, document, context)
            else:
                rendered[key] = render(value, document, context)
        return rendered
    if isinstance(template, list):
        return [render(item, document, context) for item in template]
    return template


def put(document: Any, result_path: str | None, value: Any) -> Any:
    if result_path is None or result_path == "$":
        return value
    assert isinstance(document, dict), document
    assert result_path.startswith("$."), result_path
    assert "." not in result_path[2:], result_path
    return {**document, result_path[2:]: value}


def holds(rule: dict[str, Any], document: Any, context: dict[str, Any]) -> bool:
    if "And" in rule:
        return all(holds(r, document, context) for r in rule["And"])
    if "Not" in rule:
        return not holds(rule["Not"], document, context)
    try:
        value = path(document, rule["Variable"], context)
    except KeyError:
        return rule.get("IsPresent") is False
    if "IsPresent" in rule:
        return bool(rule["IsPresent"])
    if "IsString" in rule:
        return bool(isinstance(value, str) == rule["IsString"])
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    if "StringMatches" in rule:
        pattern = ".*".join(re.escape(p) for p in rule["StringMatches"].split("*"))
        return isinstance(value, str) and re.fullmatch(pattern, value) is not None
    raise AssertionError(f"unsupported rule {rule}")


def run(machine: dict[str, Any], execution_input: Any) -> tuple[str, Any]:
    """Follow the definition from StartAt until the first Task, Fail or Succeed state.

    Returns ``("Task:<name>", parameters)`` with the request the task sends, or the final
    state's type and the state itself.
    """
    context = {"Execution": {"Id": EXECUTION_ID, "Input": execution_input}}
    document: Any = json.loads(json.dumps(execution_input))
    name = machine["StartAt"]
    for _ in range(20):
        state = machine["States"][name]
        kind = state["Type"]
        if kind == "Pass":
            value = render(state["Parameters"], document, context)
            document = put(document, state.get("ResultPath", "$"), value)
            name = state["Next"]
        elif kind == "Task" and state.get("QueryLanguage") == "JSONata":
            # The one JSONata state, WriteManifest; its expressions are checked as text by
            # test_the_manifest_state_writes_a_sagemaker_manifest, and applied here.
            document = write_manifest(state, document)
            name = state["Next"]
        elif kind == "Choice":
            name = next(
                (c["Next"] for c in state["Choices"] if holds(c, document, context)),
                state["Default"],
            )
        elif kind == "Task":
            return f"Task:{name}", render(state["Parameters"], document, context)
        else:
            return kind, state
    raise AssertionError("no Task reached")


MANIFEST_BODY = "{% $string($append([{'prefix': 's3://scoring-input/'}], $states.input.keys)) %}"
MANIFEST_KEY = "{% 'out/manifests/' & $states.input.job.name & '.manifest' %}"
MANIFEST_OUTPUT = (
    "{% $merge([$states.input, {'input': {'uri': 's3://scoring-output/' & "
    "'out/manifests/' & $states.input.job.name & '.manifest', 'type': 'ManifestFile'}}]) %}"
)


def write_manifest(state: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """What the WriteManifest expressions compute (asserted verbatim), without a JSONata engine."""
    assert state["Arguments"]["Body"] == MANIFEST_BODY
    assert state["Arguments"]["Key"] == MANIFEST_KEY
    assert state["Output"] == MANIFEST_OUTPUT
    key = f"out/manifests/{document['job']['name']}.manifest"
    written = [{"prefix": "s3://scoring-input/"}, *document["keys"]]
    MANIFESTS[key] = written
    return {**document, "input": {"uri": f"s3://scoring-output/{key}", "type": "ManifestFile"}}


MANIFESTS: dict[str, list[Any]] = {}


# --- the API's rules for the request -----------------------------------------------------


def check_request(request: dict[str, Any]) -> None:
    """Raise AssertionError where ``request`` breaks a CreateTransformJob rule."""
    assert set(request) <= ALLOWED, set(request) - ALLOWED
    assert set(request) >= REQUIRED, REQUIRED - set(request)
    name = request["TransformJobName"]
    assert JOB_NAME.fullmatch(name), name
    assert isinstance(request["ModelName"], str), "ModelName"
    assert request["ModelName"], "ModelName"
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    assert source["S3DataType"] in {"S3Prefix", "ManifestFile", "AugmentedManifestFile"}
    assert S3_URI.fullmatch(source["S3Uri"]), source
    assert len(source["S3Uri"]) <= 1024, source
    transform_input = request["TransformInput"]
    assert transform_input.get("SplitType", "None") in {"None", "Line", "RecordIO", "TFRecord"}
    assert transform_input.get("CompressionType", "None") in {"None", "Gzip"}
    assert len(transform_input.get("ContentType", "")) <= 256
    output = request["TransformOutput"]
    assert S3_URI.fullmatch(output["S3OutputPath"]), output
    assert len(output["S3OutputPath"]) <= 1024, output
    assert output.get("AssembleWith", "None") in {"None", "Line"}
    assert len(output.get("Accept", "")) <= 256
    resources = request["TransformResources"]
    assert resources["InstanceCount"] >= 1
    assert re.fullmatch(r"ml\.[a-z0-9]+\.[a-z0-9]+", resources["InstanceType"])
    assert request.get("BatchStrategy", "MultiRecord") in {"MultiRecord", "SingleRecord"}
    payload = request.get("MaxPayloadInMB", 6)
    assert 0 <= payload <= 100, f"MaxPayloadInMB {payload}"
    assert request.get("MaxConcurrentTransforms", 1) * payload <= 100, "MaxConcurrentTransforms"
    client = request.get("ModelClientConfig", {})
    assert 1 <= client.get("InvocationsTimeoutInSeconds", 600) <= 3600
    assert 0 <= client.get("InvocationsMaxRetries", 3) <= 3
    processing = request.get("DataProcessing", {})
    assert set(processing) <= {"InputFilter", "OutputFilter", "JoinSource"}
    assert processing.get("JoinSource", "None") in {"Input", "None"}
    for key in ("InputFilter", "OutputFilter"):
        assert len(processing.get(key, "")) <= 63
    environment = request.get("Environment", {})
    assert len(environment) <= 16
    assert all(re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_]{0,1023}", k) for k in environment)


# --- scenarios ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def defaults() -> dict[str, Any]:
    stack = unit_stack()
    BatchTransformJob(
        stack,
        "Job",
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        input=TransformInput(
            bucket=s3.Bucket.from_bucket_name(stack, "In", "scoring-input"), prefix="in/"
        ),
        output=TransformOutput(
            bucket=s3.Bucket.from_bucket_name(stack, "Out", "scoring-output"), prefix="out/"
        ),
        run_on_new_data=True,
    )
    return definition(Template.from_stack(stack))


@pytest.fixture(scope="module")
def batched() -> dict[str, Any]:
    stack = unit_stack()
    BatchTransformJob(
        stack,
        "Job",
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        input=TransformInput(
            bucket=s3.Bucket.from_bucket_name(stack, "In", "scoring-input"), prefix="in/"
        ),
        output=TransformOutput(
            bucket=s3.Bucket.from_bucket_name(stack, "Out", "scoring-output"), prefix="out/"
        ),
        run_on_new_data=True,
        new_data_batch_window=cdk.Duration.minutes(5),
    )
    return definition(Template.from_stack(stack))


@pytest.fixture(scope="module")
def customised() -> dict[str, Any]:
    stack = unit_stack()
    data = s3.Bucket.from_bucket_name(stack, "Data", "shared-data")
    BatchTransformJob(
        stack,
        "Job",
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        input=TransformInput(
            bucket=data,
            prefix="date=2026-11-21/in/",
            content_type="application/jsonlines",
            compression="Gzip",
        ),
        output=TransformOutput(bucket=data, prefix="scored/", accept="application/jsonlines"),
        instance_type="ml.g4dn.xlarge",  # NVMe instance storage: no volume key allowed
        instance_count=2,
        max_concurrent_transforms=4,
        max_payload_mb=25,
        join_source="Input",
        input_filter="$.features",
        output_filter="$['id','SageMakerOutput']",
        invocation_timeout=cdk.Duration.seconds(90),
        invocation_max_retries=0,
        environment={"MODEL_THREADS": "2"},
        encryption_key=kms.Key(stack, "Key", enable_key_rotation=True),
        job_name_prefix="a2345678901234567890123456",  # the longest allowed: 26 characters
        manual=True,
        notify_success=False,
    )
    return definition(Template.from_stack(stack))


def test_an_empty_input_transforms_the_whole_input_prefix(defaults: dict[str, Any]) -> None:
    kind, request = run(defaults, {})
    assert kind == "Task:Transform"
    check_request(request)
    name = request["TransformJobName"]
    assert request["TransformInput"] == {
        "ContentType": "text/csv",
        "SplitType": "Line",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://scoring-input/in/"}
        },
    }
    assert request["TransformOutput"] == {
        "S3OutputPath": f"s3://scoring-output/out/{name}/",
        "KmsKeyId": KEY,
        "Accept": "text/csv",
        "AssembleWith": "Line",
    }
    assert request["TransformResources"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "VolumeKmsKeyId": KEY,
    }
    assert request["ModelName"] == MODEL
    assert request["BatchStrategy"] == "MultiRecord"
    assert request["MaxPayloadInMB"] == 6
    assert request["ModelClientConfig"] == {
        "InvocationsMaxRetries": 3,
        "InvocationsTimeoutInSeconds": 600,
    }
    assert "DataProcessing" not in request
    assert "MaxConcurrentTransforms" not in request


def test_a_key_transforms_that_object(defaults: dict[str, Any]) -> None:
    kind, request = run(defaults, {"key": "in/2026/11/21/batch-7.csv"})
    assert kind == "Task:Transform"
    check_request(request)
    source = request["TransformInput"]["DataSource"]["S3DataSource"]
    assert source["S3Uri"] == "s3://scoring-input/in/2026/11/21/batch-7.csv"


@pytest.mark.parametrize(
    "key",
    ["out/elsewhere.csv", "in/", "other/in/file.csv", 42],
    ids=["other", "prefix", "nested", "number"],
)
def test_a_key_outside_the_input_prefix_fails_before_any_job(
    defaults: dict[str, Any], key: object
) -> None:
    kind, state = run(defaults, {"key": key})
    assert kind == "Fail"
    assert state["Error"] == "InvalidInput"


def test_a_batch_from_the_pipe_is_transformed_through_a_manifest(batched: dict[str, Any]) -> None:
    batch = [{"key": "in/a.csv"}, {"key": "in/2026/b.csv"}]
    kind, request = run(batched, batch)
    assert kind == "Task:Transform"
    check_request(request)
    name = request["TransformJobName"]
    manifest = f"out/manifests/{name}.manifest"
    assert request["TransformInput"]["DataSource"]["S3DataSource"] == {
        "S3DataType": "ManifestFile",
        "S3Uri": f"s3://scoring-output/{manifest}",
    }
    # SageMaker's manifest format: a prefix, then keys relative to it.
    assert MANIFESTS[manifest] == [{"prefix": "s3://scoring-input/"}, "in/a.csv", "in/2026/b.csv"]
    assert request["TransformOutput"]["S3OutputPath"] == f"s3://scoring-output/out/{name}/"


def test_a_batch_of_one_is_still_a_list_of_keys(batched: dict[str, Any]) -> None:
    _, request = run(batched, [{"key": "in/only.csv"}])
    name = request["TransformJobName"]
    assert MANIFESTS[f"out/manifests/{name}.manifest"][1:] == ["in/only.csv"]


@pytest.mark.parametrize("execution_input", [{}, {"key": "in/x.csv"}], ids=["prefix", "object"])
def test_batching_keeps_single_runs_working(
    batched: dict[str, Any], execution_input: dict[str, Any]
) -> None:
    kind, request = run(batched, execution_input)
    assert kind == "Task:Transform"
    check_request(request)
    assert request["TransformInput"]["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"


def test_the_manifest_state_writes_a_sagemaker_manifest(batched: dict[str, Any]) -> None:
    state = batched["States"]["WriteManifest"]
    assert state["Resource"] == "arn:aws:states:::aws-sdk:s3:putObject"
    assert state["QueryLanguage"] == "JSONata"
    arguments = state["Arguments"]
    assert arguments["Bucket"] == "scoring-output"
    assert arguments["ServerSideEncryption"] == "aws:kms"
    assert arguments["SSEKMSKeyId"] == KEY
    assert state["Next"] == "Transform"
    assert "QueryLanguage" not in batched  # the machine stays JSONPath; one state opts in


def test_single_runs_have_no_batch_states(defaults: dict[str, Any]) -> None:
    assert "WriteManifest" not in defaults["States"]
    assert defaults["StartAt"] == "NameJob"


def test_every_run_gets_a_new_valid_job_name(defaults: dict[str, Any]) -> None:
    names = {run(defaults, {})[1]["TransformJobName"] for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert JOB_NAME.fullmatch(name)
        assert len(name) <= 63


def test_the_customised_request_has_data_processing_and_no_volume_key(
    customised: dict[str, Any],
) -> None:
    kind, request = run(customised, {"key": "date=2026-11-21/in/part-0001.jsonl.gz"})
    assert kind == "Task:Transform"
    check_request(request)
    assert len(request["TransformJobName"]) == 63
    assert request["DataProcessing"] == {
        "InputFilter": "$.features",
        "OutputFilter": "$['id','SageMakerOutput']",
        "JoinSource": "Input",
    }
    assert request["TransformResources"] == {"InstanceCount": 2, "InstanceType": "ml.g4dn.xlarge"}
    assert request["TransformOutput"]["KmsKeyId"] == KEY
    assert request["TransformInput"]["CompressionType"] == "Gzip"
    assert request["MaxConcurrentTransforms"] == 4
    assert request["MaxPayloadInMB"] == 25
    assert request["ModelClientConfig"] == {
        "InvocationsMaxRetries": 0,
        "InvocationsTimeoutInSeconds": 90,
    }
    assert request["Environment"] == {"MODEL_THREADS": "2"}


def test_the_task_runs_the_job_with_retries_and_stops_it_after_the_timeout(
    defaults: dict[str, Any],
) -> None:
    task = defaults["States"]["Transform"]
    assert task["Resource"] == "arn:aws:states:::sagemaker:createTransformJob.sync"
    assert task["TimeoutSeconds"] == 24 * 3600
    (retry,) = task["Retry"]
    assert retry["ErrorEquals"] == ["SageMaker.AmazonSageMakerException"]
    assert retry["MaxAttempts"] >= 3
    timeout, other = task["Catch"]
    assert timeout == {
        "ErrorEquals": ["States.Timeout"],
        "ResultPath": "$.error",
        "Next": "StopJob",
    }
    assert other == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "NotifyFailure",
    }
    stop = defaults["States"]["StopJob"]
    assert stop["Resource"] == "arn:aws:states:::aws-sdk:sagemaker:stopTransformJob"
    assert stop["Parameters"] == {"TransformJobName.$": "$.job.name"}
    assert stop["Next"] == "NotifyFailure"
    # Stopping is best effort: if it fails (the job already ended), the failure is still reported.
    assert stop["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": "NotifyFailure"}
    ]
    assert task["Next"] == "NotifySuccess"
    assert defaults["TimeoutSeconds"] > task["TimeoutSeconds"]


def test_failures_and_successes_are_published_to_the_topic(defaults: dict[str, Any]) -> None:
    states = defaults["States"]
    failure, success = states["NotifyFailure"], states["NotifySuccess"]
    for state in (failure, success):
        assert state["Resource"] == "arn:aws:states:::sns:publish"
        assert state["Parameters"]["TopicArn"].startswith("<JobAlarmTopic")
    assert failure["Parameters"]["Message"]["error.$"] == "$.error.Error"
    assert states[failure["Next"]]["Type"] == "Fail"
    assert states[success["Next"]]["Type"] == "Succeed"
    document = {
        "job": {"name": "j-1"},
        "input": {"uri": "s3://scoring-input/in/"},
        "result": {"output": "s3://scoring-output/out/j-1/"},
    }
    message = render(success["Parameters"]["Message"], document, {"Execution": {"Id": "x"}})
    assert message["output"] == "s3://scoring-output/out/j-1/"
    assert len(success["Parameters"]["Subject"]) <= 100


def test_without_success_notifications_a_run_just_succeeds(customised: dict[str, Any]) -> None:
    assert "NotifySuccess" not in customised["States"]
    assert customised["States"][customised["States"]["Transform"]["Next"]]["Type"] == "Succeed"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"TransformJobName": "bad_name"}, "bad_name"),
        ({"MaxPayloadInMB": 101}, "MaxPayloadInMB 101"),
        ({"Unknown": 1}, "Unknown"),
    ],
    ids=["bad-job-name", "payload-too-large", "unknown-field"],
)
def test_the_request_checker_catches_bad_requests(
    defaults: dict[str, Any], change: dict[str, Any], problem: str
) -> None:
    _, request = run(defaults, {})
    with pytest.raises(AssertionError, match=re.escape(problem)):
        check_request({**request, **change})
