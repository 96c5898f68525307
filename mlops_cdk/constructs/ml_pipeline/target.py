"""An EventBridge rule target that starts a SageMaker pipeline with parameters: aws-cdk-lib has
none (aws/aws-cdk#14887), so ``add_pipeline_target`` binds an ordinary target and adds the
``SageMakerPipelineParameters`` to exactly that target with an escape hatch. MLPipeline uses it
for its retraining rules; it is also public for rules built elsewhere."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Duration, Names, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from mlops_cdk._internal.validation import Checker, Said

MAX_TARGET_PARAMETERS = 200


def add_pipeline_target(
    rule: events.Rule,
    *,
    pipeline_arn: str,
    role: iam.IRole,
    parameters: Mapping[str, str] | None = None,
    dead_letter_queue: sqs.IQueue | None = None,
    retry_attempts: int = 5,
    max_event_age: Duration = Duration.hours(1),  # noqa: B008 - immutable
) -> None:
    """Make ``rule`` start the SageMaker pipeline ``pipeline_arn`` with ``parameters``.

    aws-cdk-lib has no EventBridge rule target for SageMaker pipelines (aws/aws-cdk#14887),
    and ``RuleTargetConfig`` has no ``SageMakerPipelineParameters``: this binds an ordinary
    target (ARN, role, retries, dead-letter queue) and adds the parameters to exactly that
    target with an escape hatch. ``role`` must be assumable by ``events.amazonaws.com``; it
    gets ``sagemaker:StartPipelineExecution`` on this pipeline only.
    """
    given = dict(parameters or {})
    # EventBridge passes at most 200 pipeline parameters (SageMakerPipelineParameters).
    Checker.of(rule).require(
        len(given) <= MAX_TARGET_PARAMETERS,
        "parameters",
        f"at most {MAX_TARGET_PARAMETERS} pipeline parameters",
        Said(f"{len(given)} parameters"),
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["sagemaker:StartPipelineExecution"], resources=[pipeline_arn])
    )
    cfn_rule = rule.node.default_child
    assert isinstance(cfn_rule, events.CfnRule)  # noqa: S101 - an L2 rule always has one
    index = len(Stack.of(rule).resolve(cfn_rule.targets) or [])
    rule.add_target(
        _BoundTarget(
            events.RuleTargetConfig(
                arn=pipeline_arn,
                role=role,
                dead_letter_config=events.CfnRule.DeadLetterConfigProperty(
                    arn=dead_letter_queue.queue_arn
                )
                if dead_letter_queue
                else None,
                retry_policy=events.CfnRule.RetryPolicyProperty(
                    maximum_retry_attempts=retry_attempts,
                    maximum_event_age_in_seconds=int(max_event_age.to_seconds()),
                ),
            )
        )
    )
    if dead_letter_queue is not None and isinstance(dead_letter_queue, sqs.Queue):
        dead_letter_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"AllowEventRule{Names.node_unique_id(rule.node)}"[:64],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[dead_letter_queue.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
            )
        )
    cfn_rule.add_property_override(
        f"Targets.{index}.SageMakerPipelineParameters",
        {
            "PipelineParameterList": [
                {"Name": name, "Value": value} for name, value in given.items()
            ]
        },
    )


@jsii.implements(events.IRuleTarget)
class _BoundTarget:
    def __init__(self, config: events.RuleTargetConfig) -> None:
        self._config = config

    def bind(self, rule: Any, id: str | None = None) -> events.RuleTargetConfig:
        return self._config
