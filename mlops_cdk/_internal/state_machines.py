"""Step Functions state machines that log every execution and trace it with X-Ray."""

from __future__ import annotations

from aws_cdk import Duration, Names, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from mlops_cdk._internal import defaults

# Step Functions delivers logs through CloudWatch Logs vended-log delivery: with this prefix one
# account-wide resource policy covers every log group (no per-group policy growth).
VENDED_LOGS_PREFIX = "/aws/vendedlogs/states/"


def logged_state_machine(
    scope: Construct,
    construct_id: str,
    *,
    log_group_id: str,
    definition: sfn.IChainable,
    role: iam.IRole,
    timeout: Duration,
    comment: str,
    encryption_key: kms.IKey,
    removal_policy: RemovalPolicy,
    retention: logs.RetentionDays,
) -> tuple[sfn.StateMachine, logs.LogGroup]:
    """A Standard state machine ``construct_id`` of ``scope`` running as ``role``, traced, and
    logging every event with its data to an encrypted log group ``log_group_id`` named under the
    vended-logs prefix after ``scope``. Returns the state machine and its log group."""
    log_group = defaults.log_group(
        scope,
        log_group_id,
        encryption_key=encryption_key,
        removal_policy=removal_policy,
        retention=retention,
        log_group_name=VENDED_LOGS_PREFIX
        + Names.unique_resource_name(scope, max_length=200, separator="-"),
    )
    machine = sfn.StateMachine(
        scope,
        construct_id,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        state_machine_type=sfn.StateMachineType.STANDARD,
        role=role,
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(
            destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
        ),
        comment=comment,
    )
    return machine, log_group


def retry_sagemaker_calls(task: sfn.TaskStateBase) -> None:
    """Retry an AWS SDK call to SageMaker on its service errors and throttling: four attempts,
    10 s apart and doubling, with full jitter."""
    task.add_retry(
        errors=["SageMaker.SageMakerException", "SageMaker.ThrottlingException"],
        interval=Duration.seconds(10),
        backoff_rate=2,
        max_attempts=4,
        jitter_strategy=sfn.JitterType.FULL,
    )
