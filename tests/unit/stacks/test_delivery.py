"""The delivery pipeline: stages in promotion order, smoke test, approval, triggers, compliance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from mlops_cdk.config import DeliverySettings, EnvironmentConfig, load_delivery
from mlops_cdk.stacks.app import NAG_PACKS
from mlops_cdk.stacks.delivery import DeliveryStack, cli_version
from tests.helpers.apps import cdk_json_context, unit_app
from tests.helpers.compliance import cfn_lint
from tests.helpers.paths import CONFIG_DIR, ROOT

SETTINGS = DeliverySettings(
    account="444444444444",
    region="eu-west-1",
    connection_arn=(
        "arn:aws:codeconnections:eu-west-1:444444444444:connection/"
        "11111111-2222-3333-4444-555555555555"
    ),
    repository="acme/mlops-cdk",
    model_package_group="churn",
    notification_email="ops@example.com",
)


@pytest.fixture(scope="module")
def delivery(environment_configs: list[EnvironmentConfig]) -> DeliveryStack:
    # Path metadata as the CDK CLI writes it: cfn-lint recognises CDK templates by it and skips
    # E3703 (Fn::Join of partition and role name, which CDK Pipelines generates for the
    # bootstrap roles of the target accounts).
    app = cdk.App(
        context={**cdk_json_context(), "aws:cdk:enable-path-metadata": True},
        builtin_cloud_formation_validation=False,
    )
    return DeliveryStack(
        app,
        "mlops-delivery",
        settings=SETTINGS,
        environments=environment_configs,
        cdk_cli_version="2.1148.1",
        env=cdk.Environment(account=SETTINGS.account, region=SETTINGS.region),
    )


@pytest.fixture(scope="module")
def template(delivery: DeliveryStack) -> Template:
    return Template.from_stack(delivery)


@pytest.fixture(scope="module")
def stages(template: Template) -> list[dict[str, Any]]:
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    return list(pipeline["Properties"]["Stages"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def names(stage: dict[str, Any]) -> list[str]:
    return [action["Name"] for action in stage["Actions"]]


def test_stages_run_in_promotion_order_after_build_and_self_mutation(
    stages: list[dict[str, Any]],
) -> None:
    assert [s["Name"] for s in stages] == [
        "Source",
        "Build",
        "UpdatePipeline",
        "Assets",
        "mlops-dev",
        "mlops-staging",
        "mlops-prod",
    ]


def test_every_stage_is_smoke_tested_and_prod_waits_for_approval(
    stages: list[dict[str, Any]],
) -> None:
    by_name = {s["Name"]: s for s in stages}
    for stage in ("mlops-dev", "mlops-staging", "mlops-prod"):
        assert names(by_name[stage])[-1] == "SmokeTest", stage
    prod = names(by_name["mlops-prod"])
    assert prod[0] == "PromoteToProduction"
    assert "CheckPackageImage" not in prod  # no approved package: prod serves the demo model
    approval = by_name["mlops-prod"]["Actions"][0]
    assert approval["ActionTypeId"]["Category"] == "Approval"


def test_source_is_the_configured_connection_and_branch(stages: list[dict[str, Any]]) -> None:
    (action,) = stages[0]["Actions"]
    configuration = action["Configuration"]
    assert configuration["ConnectionArn"] == SETTINGS.connection_arn
    assert (configuration["FullRepositoryId"], configuration["BranchName"]) == (
        "acme/mlops-cdk",
        "main",
    )


def build_spec(template: Template, name_part: str) -> dict[str, Any]:
    projects = template.find_resources("AWS::CodeBuild::Project")
    (project,) = [p for key, p in projects.items() if name_part in key]
    return dict(json.loads(project["Properties"]["Source"]["BuildSpec"]))


def test_synth_runs_the_readme_commands_with_the_approved_package(template: Template) -> None:
    # app.py asks the registry (ModelPackage.latest_approved's lookup): no CLI query here.
    commands = build_spec(template, "Synth")["phases"]["build"]["commands"]
    assert commands == [
        "make test",
        'make synth CDK_CONTEXT_ARGS="-c approved_model_package=latest"',
    ]


ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
# What each environment's config enables: dev has no ECS service; staging's model host has two
# inference components, each called on its own.
TARGETS = {
    "dev": ("invoke-endpoint", "lambda invoke"),
    "staging": (
        "invoke-endpoint",
        "--inference-component-name",
        "--inference-component-name",
        "lambda invoke",
        "describe-target-health",
    ),
    "prod": ("invoke-endpoint", "lambda invoke", "describe-target-health"),
}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_smoke_test_assumes_the_environment_role_and_calls_every_target(
    template: Template, env: str
) -> None:
    commands = build_spec(template, f"{env}SmokeTest")["phases"]["build"]["commands"]
    role = f"arn:aws:iam::{ACCOUNTS[env]}:role/mlops-{env}-smoke-test"
    assert commands[0].startswith(f'CREDENTIALS="$(aws sts assume-role --role-arn {role} ')
    assert [c.split(" ")[1].split("=")[0] for c in commands[1:4]] == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ]
    calls = [c for c in commands[4:] if c.startswith("aws ")]
    kinds = [
        "--inference-component-name" if "--inference-component-name" in c else c for c in calls
    ]
    assert [next(t for t in TARGETS[env] if t in c) for c in kinds] == list(TARGETS[env])
    for call in calls:
        assert "--region eu-west-1" in call
    requests = [c for c in calls if "describe-target-health" not in c]
    assert all("fileb://mlops_cdk/runtime/demo_model/sample_request.json" in c for c in requests)
    # Each answer is checked: predictions from the model, healthy targets behind the ALB.
    checks = [c for c in commands[4:] if c.startswith("python3")]
    assert len(checks) == len(calls)


def test_smoke_steps_run_as_one_role_that_may_assume_exactly_the_environment_roles(
    template: Template,
) -> None:
    roles = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": "mlops-delivery-smoke-test"}}
    )
    (logical_id,) = roles
    assumed = [
        resource
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": logical_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sts:AssumeRole"
        for resource in as_list(statement["Resource"])
    ]
    assert sorted(assumed) == sorted(
        f"arn:aws:iam::{account}:role/mlops-{env}-smoke-test" for env, account in ACCOUNTS.items()
    )
    projects = template.find_resources("AWS::CodeBuild::Project")
    smoke = [p for key, p in projects.items() if "SmokeTest" in key]
    assert len(smoke) == 3
    assert all(p["Properties"]["ServiceRole"] == {"Fn::GetAtt": [logical_id, "Arn"]} for p in smoke)


def test_model_approval_starts_the_pipeline_with_a_dead_letter_queue(
    template: Template,
) -> None:
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn"], "ModelApprovalStatus": ["Approved"]},
    }
    (target,) = rule["Properties"]["Targets"]
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3}


def test_failures_and_approvals_are_notified(template: Template) -> None:
    (rule,) = template.find_resources("AWS::CodeStarNotifications::NotificationRule").values()
    assert sorted(rule["Properties"]["EventTypeIds"]) == [
        "codepipeline-pipeline-manual-approval-needed",
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-pipeline-execution-succeeded",
    ]


def test_artifact_bucket_is_versioned_logged_and_expiring(template: Template) -> None:
    buckets = template.find_resources("AWS::S3::Bucket")
    (artifacts,) = [b for key, b in buckets.items() if "ArtifactsBucket" in key]
    props = artifacts["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "artifacts/"
    assert (
        props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]["SSEAlgorithm"]
        == "aws:kms"
    )


def test_codebuild_is_not_privileged_except_for_docker_asset_publishing(
    template: Template,
) -> None:
    privileged = [
        key
        for key, project in template.find_resources("AWS::CodeBuild::Project").items()
        if project["Properties"]["Environment"].get("PrivilegedMode")
    ]
    assert len(privileged) == 1
    assert "DockerAsset" in privileged[0]


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_delivery_stack_has_no_unacknowledged_findings(delivery: DeliveryStack, pack: Any) -> None:
    report = pack().validate_scope(delivery)
    assert [
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
    ] == []


def test_cli_version_comes_from_package_json() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    assert cli_version(ROOT / "package.json") == pinned.lstrip("^~=")


def test_checked_in_delivery_config_loads() -> None:
    settings = load_delivery(CONFIG_DIR)
    assert settings is not None
    assert settings.environments == ["dev", "staging", "prod"]
    assert settings.stack_name == "mlops-delivery"


def test_registry_in_another_account_is_queried_by_arn_and_may_send_approvals() -> None:
    settings = SETTINGS.model_copy(update={"model_registry_account": "222222222222"})
    stack = DeliveryStack(
        unit_app(),
        "CrossAccount",
        settings=settings,
        environments=[],
        cdk_cli_version="2.1148.1",
        env=cdk.Environment(account=SETTINGS.account, region=SETTINGS.region),
    )
    template = Template.from_stack(stack)
    # app.py queries the group by ARN in the account its pinned package names (the registry's);
    # the synth role may list exactly that group's packages there.
    commands = build_spec(template, "Synth")["phases"]["build"]["commands"]
    assert commands[-1].endswith('-c approved_model_package=latest"')
    listed = [
        statement["Resource"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sagemaker:ListModelPackages"
    ]
    assert listed == ["arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/*"]
    template.has_resource_properties(
        "AWS::Events::EventBusPolicy",
        {
            "EventBusName": "default",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": "events:PutEvents",
                "Resource": f"arn:aws:events:eu-west-1:{SETTINGS.account}:event-bus/default",
                "Condition": {"StringEquals": {"events:source": "aws.sagemaker"}},
            },
        },
    )
    policy = next(iter(template.find_resources("AWS::Events::EventBusPolicy").values()))
    assert not {"Action", "Principal"} & set(policy["Properties"])  # deprecated form


def test_delivery_template_passes_cfn_lint(template: Template, tmp_path: Path) -> None:
    path = tmp_path / "mlops-delivery.template.json"
    path.write_text(json.dumps(template.to_json()), encoding="utf-8")
    result = cfn_lint([path])
    assert result.returncode == 0, result.stdout + result.stderr


APPROVED = "arn:aws:sagemaker:eu-west-1:222222222222:model-package/churn/7"


@pytest.fixture(scope="module")
def promoted(environment_configs: list[EnvironmentConfig]) -> DeliveryStack:
    """The pipeline as the synth step builds it once a package is approved (staging, prod)."""
    from mlops_cdk.config import with_approved_package

    configs = [
        with_approved_package(c, APPROVED)
        for c in environment_configs
        if c.name in ("staging", "prod")
    ]
    return DeliveryStack(
        unit_app(),
        "mlops-delivery",
        settings=SETTINGS,
        environments=configs,
        cdk_cli_version="2.1148.1",
        env=cdk.Environment(account=SETTINGS.account, region=SETTINGS.region),
    )


def test_before_prod_the_promoted_package_must_name_the_image_prod_builds(
    promoted: DeliveryStack,
) -> None:
    template = Template.from_stack(promoted)
    (pipeline,) = template.find_resources("AWS::CodePipeline::Pipeline").values()
    prod = next(s for s in pipeline["Properties"]["Stages"] if s["Name"] == "mlops-prod")
    order = {a["Name"]: a["RunOrder"] for a in prod["Actions"]}
    assert order["CheckPackageImage"] < order["PromoteToProduction"] < order["data.Deploy"]
    commands = build_spec(template, "CheckPackageImage")["phases"]["build"]["commands"]
    assert commands[0] == (
        'PACKAGE_IMAGE="$(aws sagemaker describe-model-package --region eu-west-1 '
        f"--model-package-name {APPROVED} "
        "--query 'InferenceSpecification.Containers[0].Image' --output text)\""
    )
    # The tag prod's endpoint runs: its model server asset, built in prod's account.
    prod_stage = next(s for s in promoted.stages if s.config.name == "prod")
    (model,) = (
        Template.from_stack(prod_stage.serving).find_resources("AWS::SageMaker::Model").values()
    )
    tag = model["Properties"]["PrimaryContainer"]["Image"]["Fn::Sub"].rsplit(":", 1)[1]
    assert f'test "${{PACKAGE_IMAGE##*:}}" = "{tag}" ||' in commands[2]
    granted = [
        statement
        for key, policy in template.find_resources("AWS::IAM::Policy").items()
        if "CheckPackageImage" in key
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sagemaker:" in json.dumps(statement["Action"])
    ]
    assert granted == [
        {"Action": "sagemaker:DescribeModelPackage", "Effect": "Allow", "Resource": APPROVED}
    ]


@pytest.mark.parametrize("pack", NAG_PACKS, ids=lambda p: p.__name__)
def test_promoting_pipeline_has_no_unacknowledged_findings(
    promoted: DeliveryStack, pack: Any
) -> None:
    report = pack().validate_scope(promoted)
    assert [
        f"{v.rule_name} [{r.construct_path}]"
        for v in report.violations
        for r in v.violating_resources
    ] == []
