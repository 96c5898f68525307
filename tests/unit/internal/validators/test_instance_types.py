"""Instance types per SageMaker API (botocore's enumerations, kept in package data) and the EC2
capacities an ECS GPU task is checked against."""

from __future__ import annotations

import re

import botocore
import pytest

from mlops_cdk import ConfigurationError
from mlops_cdk._internal.sagemaker import check_instance_type
from mlops_cdk._internal.validation import Checker
from mlops_cdk._internal.validators._data import load
from mlops_cdk._internal.validators.instance_types import (
    ec2_capacity,
    gpu_task_problems,
    instance_type_problem,
    sagemaker_capacity,
    sagemaker_instance_types,
)
from scripts.make_instance_types import documents
from tests.helpers.aws_models import service_model


@pytest.mark.parametrize(
    ("instance_type", "api", "message"),
    [
        pytest.param("ml.m5.large", "endpoint", None, id="endpoint-m5"),
        pytest.param("ml.c5d.xlarge", "endpoint", None, id="endpoint-c5d"),
        pytest.param("ml.m5.large", "transform", None, id="transform-m5"),
        pytest.param("ml.g5.xlarge", "training", None, id="training-g5"),
        pytest.param("ml.m5.xlarge", "processing", None, id="processing-m5"),
        pytest.param(
            "ml.c5d.xlarge",
            "transform",
            r"^an instance type CreateTransformJob accepts \(ml\.<family>\.<size>, families c4, "
            r".*\) \(did you mean 'ml\.c5\.xlarge'\?\); ml\.c5d\.xlarge is for "
            r"CreateEndpointConfig only$",
            id="transform-c5d-endpoint-only",
        ),
        pytest.param(
            "ml.m5d.large",
            "processing",
            r"CreateProcessingJob accepts .*ml\.m5d\.large is for CreateEndpointConfig only$",
            id="processing-m5d-endpoint-only",
        ),
        pytest.param(
            "m5.large", "endpoint", r"\(did you mean 'ml\.m5\.large'\?\)$", id="missing-ml-prefix"
        ),
        pytest.param("ml.m5.huge", "training", r"CreateTrainingJob accepts", id="unknown-size"),
    ],
)
def test_instance_types_per_api(instance_type: str, api: str, message: str | None) -> None:
    problem = instance_type_problem(instance_type, api=api)  # type: ignore[arg-type]
    if message is None:
        assert problem is None
    else:
        assert problem is not None
        assert re.search(message, problem), problem


def test_job_lists_are_narrower_than_endpoints() -> None:
    endpoint = set(sagemaker_instance_types("endpoint"))
    for api in ("transform", "processing"):
        jobs = set(sagemaker_instance_types(api))
        assert "ml.c5d.xlarge" not in jobs
        assert not {t for t in jobs if t.startswith("ml.m5d.")}
    assert {"ml.c5d.xlarge", "ml.m5d.large"} <= endpoint


def test_package_data_matches_the_installed_botocore() -> None:
    # A botocore bump that changes a list fails here: run scripts/make_instance_types.py.
    for name, expected in documents("today").items():
        stored = load(name)
        assert stored["_botocore"] == botocore.__version__, name
        for key in ("instance_types", "regions"):
            if key in expected:
                assert stored[key] == expected[key], f"{name}: regenerate it"


def test_construct_helper_checks_against_the_api_and_skips_tokens() -> None:
    check = Checker("Prod/Batch/Scoring")
    with pytest.raises(
        ConfigurationError,
        match=r"^Prod/Batch/Scoring: instance_type must be an instance type CreateTransformJob "
        r"accepts .* \(got 'ml\.c5d\.xlarge'\)$",
    ):
        check_instance_type(check, "instance_type", "ml.c5d.xlarge", api="transform")
    check_instance_type(check, "instance_type", "${Token[TOKEN.12]}", api="transform")
    check_instance_type(check, "instance_type", "ml.c5d.xlarge", api="endpoint")
    check_instance_type(check, "instance_type", None, api="transform")  # not set


@pytest.mark.parametrize(
    ("instance_type", "gpus", "memory", "cpu", "keywords"),
    [
        pytest.param("g5.xlarge", 1, 15000, 4096, [], id="fits"),
        pytest.param("g5.12xlarge", 4, 180000, None, [], id="four-gpus"),
        pytest.param("g5.xlarge", 2, 8192, None, ["gpu_count"], id="too-many-gpus"),
        pytest.param("g4dn.xlarge", 1, 16384, None, ["memory_mib"], id="all-the-memory"),
        pytest.param("p3.2xlarge", 1, 8192, 16384, ["cpu"], id="too-many-vcpus"),
        pytest.param("inf2.xlarge", 1, 8192, None, ["gpu_count"], id="inferentia-has-no-gpu"),
        pytest.param("g5.xlage", 1, 8192, None, ["gpu_instance_type"], id="unknown-type"),
    ],
)
def test_gpu_task_fits_its_instance(
    instance_type: str, gpus: int, memory: int, cpu: int | None, keywords: list[str]
) -> None:
    problems = gpu_task_problems(instance_type, gpu_count=gpus, memory_mib=memory, cpu=cpu)
    assert sorted(problems) == keywords


def test_gpu_messages_name_the_capacity() -> None:
    problems = gpu_task_problems("g5.xlarge", gpu_count=2, memory_mib=16384)
    assert problems["gpu_count"].startswith("at most 1, the NVIDIA GPUs of one g5.xlarge")
    assert problems["memory_mib"].startswith("less than the 16384 MiB of one g5.xlarge")
    unknown = gpu_task_problems("g5.xlage", gpu_count=1, memory_mib=1)["gpu_instance_type"]
    assert unknown.endswith("(did you mean 'g5.xlarge'?)")


def test_capacity_data_is_consistent() -> None:
    data = load("ec2-accelerated-capacities.json")
    assert data["_source"].startswith("Amazon EC2 Instance Types guide")
    for name in data["instance_types"]:
        capacity = ec2_capacity(name)
        assert capacity is not None
        assert capacity.accelerator in ("nvidia", "neuron")
        assert capacity.gpus == (capacity.accelerators if capacity.accelerator == "nvidia" else 0)
        assert capacity.memory_mib % 1024 == 0
    # The ECS GPU families the service accepts all have capacities.
    families = {name.split(".")[0] for name in data["instance_types"]}
    ecs_gpu_families = {
        "g4dn", "g5", "g6", "g6e", "gr6", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en",
    }  # fmt: skip
    assert ecs_gpu_families <= families


def test_capacity_data_names_real_ec2_instance_types() -> None:
    """Every type in the hand-checked table is one botocore's EC2 model knows (the model has no
    capacities; the table's `_cross_checked` records the second source its numbers agree with)."""
    data = load("ec2-accelerated-capacities.json")
    assert data["_cross_checked"]
    enum = set(service_model("ec2").shape_for("InstanceType").enum)
    assert set(data["instance_types"]) - enum == set()


@pytest.mark.parametrize(
    ("instance_type", "vcpus", "memory_mib", "accelerators"),
    [
        ("ml.m5.large", 2, 8192, 0),
        ("ml.c5.9xlarge", 36, 73728, 0),
        ("ml.c4.8xlarge", 36, 61440, 0),  # off the size convention
        ("ml.r5.24xlarge", 96, 786432, 0),
        ("ml.t2.medium", 2, 4096, 0),
        ("ml.g5.12xlarge", 48, 196608, 4),
        ("ml.inf2.xlarge", 4, 16384, 1),
    ],
)
def test_sagemaker_capacity(
    instance_type: str, vcpus: int, memory_mib: int, accelerators: int
) -> None:
    capacity = sagemaker_capacity(instance_type)
    assert capacity is not None
    assert (capacity.vcpus, capacity.memory_mib, capacity.accelerators) == (
        vcpus,
        memory_mib,
        accelerators,
    )


def test_sagemaker_capacity_knows_every_cpu_type_and_guesses_no_accelerator() -> None:
    unknown = {
        t.split(".")[1]
        for t in sagemaker_instance_types("endpoint")
        if sagemaker_capacity(t) is None
    }
    # Only accelerated families the EC2 data does not list yet: never a CPU family, which
    # would mean a wrong ratio, and never a made-up accelerator count.
    assert unknown <= {
        "dl1",
        "g7",
        "g7e",
        "p2",
        "p6-b200",
        "p6-b300",
        "p6e-gb200",
        "trn1",
        "trn1n",
        "trn2",
    }
    assert sagemaker_capacity("g5.xlarge") is None  # not a SageMaker name
