"""Deploy limits as tests: template size and counts, IAM policy sizes, name lengths including
run-time suffixes, metrics per alarm, targets per rule; each check catches a planted defect."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.helpers import deploy_limits as limits
from tests.helpers.deploy_limits import CHECKS, HEADROOM, over

Template = Mapping[str, Any]
STACK_GROUPS = ("mlops-dev-", "mlops-staging-", "mlops-prod-", "mlops-delivery")


@pytest.mark.parametrize("check", CHECKS, ids=str)
@pytest.mark.parametrize("prefix", STACK_GROUPS, ids=lambda p: p.strip("-"))
def test_every_stack_is_within_its_deploy_limits(
    deployed_templates: dict[str, Template], prefix: str, check: str
) -> None:
    measure, share = CHECKS[check]
    problems = [
        f"{name}/{problem}"
        for name, template in deployed_templates.items()
        if name.startswith(prefix)
        for problem in over(measure(template, deployed_templates), share)
    ]
    assert problems == []


def test_the_limits_see_what_they_measure(deployed_templates: dict[str, Template]) -> None:
    """Each check measures something in the real app (none passes vacuously)."""
    for check, (measure, _) in CHECKS.items():
        measured = [m for t in deployed_templates.values() for m in measure(t, deployed_templates)]
        assert measured, check
    names = [
        m[0] for t in deployed_templates.values() for m in limits.job_names(t, deployed_templates)
    ]
    assert any("TransformJobName" in n for n in names)
    assert any("ProcessingJobName" in n for n in names)  # the Scheduler drift job


def planted(template: Template, old: str, new: str) -> dict[str, Any]:
    text = json.dumps(template)
    assert old in text, "the planted change no longer applies: update the case"
    result: dict[str, Any] = json.loads(text.replace(old, new, 1))
    return result


def test_an_over_long_generated_job_name_is_caught(deployed_templates: dict[str, Template]) -> None:
    template = planted(
        deployed_templates["mlops-prod-batch"],
        "States.Format('mlops-prod-712ba4-{}'",
        "States.Format('mlops-prod-batch-Transforms-{}'",
    )
    problems = over(limits.job_names(template, deployed_templates), 1.0)
    assert any(
        "TransformJobName 'mlops-prod-batch-Transforms-" in p and "64 > " in p for p in problems
    )


def test_an_over_long_drift_job_name_is_caught(deployed_templates: dict[str, Template]) -> None:
    template = planted(
        deployed_templates["mlops-prod-monitoring"],
        "States.Format('mlopsrift-",
        "States.Format('mlopsprodng-drifts-",
    )
    problems = over(limits.job_names(template, deployed_templates), 1.0)
    assert any("ProcessingJobName" in p and "64 > " in p for p in problems), problems


def test_an_over_long_physical_name_is_caught() -> None:
    template = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": {
                        "Fn::Join": [
                            "-",
                            [
                                "a-rather-long-project-name-model-artifacts",
                                {"Ref": "AWS::AccountId"},
                                {"Ref": "AWS::Region"},
                            ],
                        ]
                    }
                },
            },
            "Group": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {"Name": "a-target-group-name-over-32-chars"},
            },
        }
    }
    problems = over(limits.physical_names(template, {}), 1.0)
    assert any("Bucket.BucketName" in p and "> 100% of 63" in p for p in problems), problems
    assert any("Group.Name" in p and "> 100% of 32" in p for p in problems), problems


def test_an_oversized_managed_policy_is_caught() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/" + "k" * 100,
    }
    template = {
        "Resources": {
            "Policy": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement] * 60}
                },
            }
        }
    }
    problems = over(limits.policy_sizes(template, {}), HEADROOM)
    assert any("Policy managed policy chars" in p for p in problems), problems


def test_oversized_inline_policies_of_one_role_are_added_up(
    deployed_templates: dict[str, Template],
) -> None:
    template = copy.deepcopy(dict(deployed_templates["mlops-delivery"]))
    role, policy = "PipelineRoleB27FAA37", "PipelineRoleDefaultPolicy7BDC1ABB"
    assert role in template["Resources"]
    assert policy in template["Resources"]
    document = template["Resources"][policy]["Properties"]["PolicyDocument"]
    document["Statement"] = document["Statement"] * 20
    problems = over(limits.policy_sizes(template, deployed_templates), HEADROOM)
    assert any(p.startswith(f"{role} inline policy chars") for p in problems), problems


def test_too_many_alarm_metrics_and_rule_targets_are_caught() -> None:
    metric = {
        "Id": "m",
        "MetricStat": {
            "Metric": {"MetricName": "x", "Namespace": "y"},
            "Period": 60,
            "Stat": "Sum",
        },
    }
    template = {
        "Resources": {
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [metric] * 11}},
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {"Targets": [{"Id": "t", "Arn": "a"}] * 6},
            },
        }
    }
    assert over(limits.alarm_metrics(template), 1.0) == ["Alarm metrics: 11 > 100% of 10"]
    assert over(limits.rule_targets(template), 1.0) == ["Rule targets: 6 > 100% of 5"]
