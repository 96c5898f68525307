"""Smoke tests of every serving target, run by the delivery pipeline after each stage deploys.

The pipeline's steps run in the delivery (tooling) account, the targets live in each
environment's account, and none of InvokeEndpoint, Invoke (Lambda) or DescribeTargetHealth is
authorized by a resource policy across accounts. So each environment's Serving stack has a
role, ``<project>-<env>-smoke-test``, that only the delivery account's smoke-test role
(``<project>-delivery-smoke-test``) may assume, allowed exactly the calls below; the step
assumes it and calls each target with the model's own sample request
(``mlops_cdk/runtime/demo_model/sample_request.json``).

A model host is called once per inference component (``--inference-component-name``), with
the same sample request: right after a deploy every component has its initial copy (a host that
scales to zero gets there only after an idle spell).

The ECS service sits behind an internal load balancer in the environment's VPC. A CodeBuild
project can join only a VPC of its own account (the delivery account's), so the step cannot
send it a request; it checks instead that the load balancer reports a healthy task and no
unhealthy one (the health check calls the model server's ``/ping``). Requests to ``/invocations``
through the load balancer are exercised by the model server's own tests (tests/runtime).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from mlops_cdk._internal import nag
from mlops_cdk._internal.iam import ManagedPolicyRole

SAMPLE_REQUEST = "mlops_cdk/runtime/demo_model/sample_request.json"
SESSION_NAME = "delivery-smoke-test"
# Reads the predictions of a response file and fails the step unless there are some.
CHECK_PREDICTIONS = (
    'python3 -c "import json, sys; r = json.load(open(sys.argv[1])); '
    "assert r.get('predictions'), r; print(sys.argv[1], r)\" {file}"
)
# At least one target healthy and none unhealthy (targets of replaced tasks may be draining).
CHECK_HEALTH = (
    'python3 -c "import json, sys; t = json.load(open(sys.argv[1]))'
    "['TargetHealthDescriptions']; s = [d['TargetHealth']['State'] for d in t]; "
    "assert 'healthy' in s and 'unhealthy' not in s, s; print('targets', s)\" {file}"
)


def environment_role_name(stage_name: str) -> str:
    """``<project>-<env>-smoke-test``: the role the smoke test assumes in an environment."""
    return f"{stage_name}-smoke-test"


def delivery_role_name(project: str) -> str:
    """``<project>-delivery-smoke-test``: the smoke steps' role in the delivery account."""
    return f"{project}-delivery-smoke-test"


@dataclass(frozen=True, kw_only=True)
class SmokeTargets:
    """What an environment serves, as the CloudFormation outputs the smoke step reads."""

    endpoint_name: CfnOutput | None = None
    lambda_alias_arn: CfnOutput | None = None
    target_group_arn: CfnOutput | None = None
    # A model host: its endpoint's name, and its inference components' names (fixed at synth).
    model_host_endpoint_name: CfnOutput | None = None
    model_host_components: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        """Whether there is anything to test."""
        return any(
            (
                self.endpoint_name,
                self.lambda_alias_arn,
                self.target_group_arn,
                self.model_host_endpoint_name,
            )
        )


def environment_role(
    scope: Construct,
    *,
    stage_name: str,
    delivery_account: str,
    project: str,
    endpoint_arn: str | None,
    lambda_alias_arn: str | None,
    checks_load_balancer: bool,
    model_host_arns: tuple[str, ...] = (),
) -> iam.Role:
    """The role the delivery account's smoke steps assume here: trusted by that account only
    for its smoke-test role (``aws:PrincipalArn``: a condition, so the trust holds before that
    role exists), allowed exactly the calls of the smoke test."""
    stack = Stack.of(scope)
    caller = stack.format_arn(
        service="iam",
        region="",
        account=delivery_account,
        resource="role",
        resource_name=delivery_role_name(project),
    )
    role = ManagedPolicyRole(
        scope,
        "SmokeTestRole",
        role_name=environment_role_name(stage_name),
        assumed_by=iam.AccountPrincipal(delivery_account).with_conditions(
            {"ArnEquals": {"aws:PrincipalArn": caller}}
        ),
        description="Assumed by the delivery pipeline's smoke tests to call the serving targets",
    )
    if endpoint_arn is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[endpoint_arn])
        )
    if model_host_arns:
        # A model host: the endpoint and each inference component (the resource types
        # InvokeEndpoint takes with an InferenceComponentName).
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sagemaker:InvokeEndpoint"], resources=[*model_host_arns])
        )
    if lambda_alias_arn is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[lambda_alias_arn])
        )
    if checks_load_balancer:
        # DescribeTargetHealth supports no resource-level permissions (Service Authorization
        # Reference, Elastic Load Balancing V2): "*" is the only resource it takes.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["elasticloadbalancing:DescribeTargetHealth"], resources=["*"]
            )
        )
        nag.acknowledge_wildcard_resource(
            role,
            "*",
            "elasticloadbalancing:DescribeTargetHealth supports no resource-level permissions; "
            "it reads target health only.",
        )
    return role


def commands(*, role_arn: str, region: str, targets: SmokeTargets) -> list[str]:
    """The smoke step's shell commands (buildspec 0.2 runs them in one shell): assume the
    environment's role, then call each target and check its answer."""
    assume = (
        f"aws sts assume-role --role-arn {role_arn} --role-session-name {SESSION_NAME} "
        "--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text"
    )
    lines = [
        f'CREDENTIALS="$({assume})"',
        'export AWS_ACCESS_KEY_ID="$(echo "$CREDENTIALS" | cut -f1)"',
        'export AWS_SECRET_ACCESS_KEY="$(echo "$CREDENTIALS" | cut -f2)"',
        'export AWS_SESSION_TOKEN="$(echo "$CREDENTIALS" | cut -f3)"',
    ]
    if targets.endpoint_name is not None:
        lines += [
            f"aws sagemaker-runtime invoke-endpoint --region {region} "
            '--endpoint-name "$ENDPOINT_NAME" --content-type application/json '
            "--accept application/json "
            f"--body fileb://{SAMPLE_REQUEST} endpoint.json",
            CHECK_PREDICTIONS.format(file="endpoint.json"),
        ]
    for number, component in enumerate(targets.model_host_components):
        lines += [
            f"aws sagemaker-runtime invoke-endpoint --region {region} "
            '--endpoint-name "$MODEL_HOST_ENDPOINT_NAME" '
            f"--inference-component-name {component} --content-type application/json "
            "--accept application/json "
            f"--body fileb://{SAMPLE_REQUEST} host-{number}.json",
            CHECK_PREDICTIONS.format(file=f"host-{number}.json"),
        ]
    if targets.lambda_alias_arn is not None:
        lines += [
            f'aws lambda invoke --region {region} --function-name "$LAMBDA_ALIAS_ARN" '
            f"--payload fileb://{SAMPLE_REQUEST} lambda.json",
            CHECK_PREDICTIONS.format(file="lambda.json"),
        ]
    if targets.target_group_arn is not None:
        lines += [
            f"aws elbv2 describe-target-health --region {region} "
            '--target-group-arn "$TARGET_GROUP_ARN" --output json > targets.json',
            CHECK_HEALTH.format(file="targets.json"),
        ]
    return lines


def environment_variables(targets: SmokeTargets) -> dict[str, CfnOutput]:
    """The step's variables from the stage's outputs."""
    pairs = {
        "ENDPOINT_NAME": targets.endpoint_name,
        "LAMBDA_ALIAS_ARN": targets.lambda_alias_arn,
        "TARGET_GROUP_ARN": targets.target_group_arn,
        "MODEL_HOST_ENDPOINT_NAME": targets.model_host_endpoint_name,
    }
    return {name: output for name, output in pairs.items() if output is not None}
