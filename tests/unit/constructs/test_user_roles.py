"""Every construct that creates a main role accepts the user's own ``iam.Role`` instead: the role
receives exactly the permissions a created role would (in a customer-managed policy the construct
attaches to it, never an inline one), and the five nag packs stay clean."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from constructs import Construct, IConstruct

from mlops_cdk.constructs import (
    Baseline,
    BatchTransformJob,
    ContainerImage,
    DataCapture,
    EcsModelService,
    LambdaInference,
    MLPipeline,
    ModelData,
    ModelMonitorSchedule,
    ModelRegistry,
    MonitoredEndpoint,
    RealtimeEndpoint,
    TransformInput,
    TransformOutput,
)
from mlops_cdk.stacks.app import NAG_PACKS
from tests.helpers.apps import unit_app, unit_stack
from tests.helpers.templates import as_list

IMAGE = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.1-cpu-py310"
SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
# Construct id -> the service that assumes its main role.
SERVICES = {
    "Endpoint": "sagemaker.amazonaws.com",
    "Batch": "sagemaker.amazonaws.com",
    "Monitor": "sagemaker.amazonaws.com",
    "Pipeline": "sagemaker.amazonaws.com",
    "Lambda": "lambda.amazonaws.com",
    "Ecs": "ecs-tasks.amazonaws.com",
}


def main_role(construct: Construct) -> iam.IRole:
    role: iam.IRole = (
        construct.task_role if isinstance(construct, EcsModelService) else construct.role  # type: ignore[attr-defined]
    )
    return role


def build(stack: cdk.Stack, role: Callable[[str], iam.IRole | None]) -> dict[str, Construct]:
    """The six constructs with a main role, each in its smallest useful shape."""
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "data-bucket")
    model = ModelData.from_s3_uri("s3://models/churn/model.tar.gz")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    endpoint = RealtimeEndpoint(
        stack,
        "Endpoint",
        image=ContainerImage.from_uri(IMAGE),
        model_data=model,
        data_capture=DataCapture(bucket=bucket, prefix="capture/"),
        role=role("Endpoint"),
    )
    return {
        "Endpoint": endpoint,
        "Batch": BatchTransformJob(
            stack,
            "Batch",
            model_data=model,
            input=TransformInput(bucket=bucket, prefix="in/"),
            output=TransformOutput(bucket=bucket, prefix="out/"),
            manual=True,
            role=role("Batch"),
        ),
        "Monitor": ModelMonitorSchedule(
            stack,
            "Monitor",
            endpoint=endpoint,
            baseline=Baseline.demo_model(),
            role=role("Monitor"),
        ),
        "Pipeline": MLPipeline(
            stack,
            "Pipeline",
            registry=ModelRegistry(
                stack, "Registry", group_name="churn", removal_policy=cdk.RemovalPolicy.DESTROY
            ),
            data_bucket=bucket,
            input_prefix="churn/input/",
            training_image=ContainerImage.from_uri(SKLEARN),
            metric_name="accuracy",
            metric_threshold=0.8,
            role=role("Pipeline"),
        ),
        "Lambda": LambdaInference(
            stack,
            "Lambda",
            model_data=model,
            outside_vpc_reason="test: the function calls only S3 and the runtime APIs",
            role=role("Lambda"),
        ),
        "Ecs": EcsModelService(
            stack,
            "Ecs",
            vpc=vpc,
            model_data=ModelData.demo_model(archive=False),
            deletion_protection=False,
            role=role("Ecs"),
        ),
    }


@dataclass
class Scenario:
    stack: cdk.Stack
    built: dict[str, Construct]
    template: Template
    user_roles: dict[str, iam.Role]


def scenario(given: bool) -> Scenario:
    stage = cdk.Stage(unit_app(), "Given" if given else "Created")
    stack = unit_stack(stage, "Roles")  # type: ignore[arg-type]
    owners = Construct(stack, "UserRoles")
    user_roles: dict[str, iam.Role] = {}

    def role(name: str) -> iam.IRole | None:
        if not given:
            return None
        user_roles[name] = iam.Role(
            owners,
            name,
            assumed_by=iam.ServicePrincipal(SERVICES[name]),
            description=f"the user's own role for {name}",
        )
        return user_roles[name]

    built = build(stack, role)
    return Scenario(stack, built, Template.from_stack(stack), user_roles)


@pytest.fixture(scope="module")
def given() -> Scenario:
    return scenario(given=True)


@pytest.fixture(scope="module")
def created() -> Scenario:
    return scenario(given=False)


def logical_id(stack: cdk.Stack, construct: IConstruct) -> str:
    return stack.get_logical_id(construct.node.default_child)  # type: ignore[arg-type]


def permissions_of(template: Template, role_logical_id: str) -> Counter[tuple[str, ...]]:
    """Each statement's sorted actions, over every managed policy attached to the role."""
    found: Counter[tuple[str, ...]] = Counter()
    for policy in template.find_resources("AWS::IAM::ManagedPolicy").values():
        if {"Ref": role_logical_id} in policy["Properties"].get("Roles", []):
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found[tuple(sorted(as_list(statement["Action"])))] += 1
    return found


@pytest.mark.parametrize("name", list(SERVICES))
def test_the_users_role_is_the_one_the_construct_runs_with(given: Scenario, name: str) -> None:
    stack, user = given.stack, given.user_roles[name]
    assert stack.resolve(main_role(given.built[name]).role_arn) == stack.resolve(user.role_arn)
    # No role of this construct was created in place of the user's.
    created_roles = given.template.find_resources("AWS::IAM::Role")
    description = {
        "Endpoint": "SageMaker execution role of",
        "Batch": "SageMaker execution role of",
        "Monitor": "SageMaker monitoring job role of",
        "Pipeline": "SageMaker pipeline and job role of",
        "Lambda": "Execution role of the",
        "Ecs": "Model server tasks of",
    }[name]
    assert [
        key
        for key, role in created_roles.items()
        if str(role["Properties"].get("Description", "")).startswith(description)
        and f"/{name}" in str(role["Properties"]["Description"])
    ] == []


@pytest.mark.parametrize("name", list(SERVICES))
def test_the_users_role_gets_exactly_what_a_created_role_gets(
    given: Scenario, created: Scenario, name: str
) -> None:
    user_id = logical_id(given.stack, given.user_roles[name])
    own = main_role(created.built[name])
    own_id = logical_id(created.stack, own)
    received = permissions_of(given.template, user_id)
    assert received, f"{name}: the user's role received nothing"
    assert received == permissions_of(created.template, own_id)


def test_grants_to_the_users_roles_are_never_inline(given: Scenario) -> None:
    given.template.resource_count_is("AWS::IAM::Policy", 0)
    for key in (logical_id(given.stack, role) for role in given.user_roles.values()):
        properties = given.template.find_resources("AWS::IAM::Role")[key]["Properties"]
        assert "Policies" not in properties
        assert "ManagedPolicyArns" not in properties


def test_an_imported_role_works_the_same_way() -> None:
    stack = unit_stack()
    imported = iam.Role.from_role_arn(
        stack, "Imported", "arn:aws:iam::123456789012:role/team-sagemaker"
    )
    endpoint = RealtimeEndpoint(
        stack,
        "Endpoint",
        image=ContainerImage.from_uri(IMAGE),
        model_data=ModelData.from_s3_uri("s3://models/churn/model.tar.gz"),
        role=imported,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is("AWS::IAM::Role", 0)
    (policy,) = template.find_resources("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == ["team-sagemaker"]
    assert stack.resolve(endpoint.role.role_arn) == "arn:aws:iam::123456789012:role/team-sagemaker"


def findings(scope: Construct) -> list[str]:
    return sorted(
        f"{violation.rule_name} [{resource.construct_path}]"
        for pack in NAG_PACKS
        for violation in pack().validate_scope(scope).violations
        for resource in violation.violating_resources
        if "/Vpc/" not in (resource.construct_path or "")  # the test VPC is not under test
    )


def test_every_construct_given_a_users_role_passes_the_nag_packs(given: Scenario) -> None:
    stage = given.stack.node.scope
    assert isinstance(stage, cdk.Stage)
    assert findings(stage) == []


def test_removal_policy_reaches_the_key_of_every_construct_that_creates_data() -> None:
    stack = unit_stack()
    destroy = cdk.RemovalPolicy.DESTROY
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "data-bucket")
    RealtimeEndpoint(
        stack,
        "Endpoint",
        image=ContainerImage.from_uri(IMAGE),
        data_capture=DataCapture(bucket=bucket, prefix="capture/"),
        removal_policy=destroy,
    )
    ModelMonitorSchedule(
        stack,
        "Monitor",
        endpoint=_monitored(stack, bucket),
        baseline=Baseline.demo_model(),
        removal_policy=destroy,
    )
    keys = dict(Template.from_stack(stack).find_resources("AWS::KMS::Key"))
    assert sorted(key[: key.index("Key") + 3] for key in keys) == ["EndpointKey", "MonitorKey"]
    assert {key["DeletionPolicy"] for key in keys.values()} == {"Delete"}


def _monitored(stack: cdk.Stack, bucket: s3.IBucket) -> MonitoredEndpoint:
    return MonitoredEndpoint(endpoint_name="churn", bucket=bucket, prefix="c/")
