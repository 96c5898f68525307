"""Deploy-time limits that synth, cdk-nag and cfn-lint do not check, computed at their worst
case: each function returns ``(what, value, limit)`` measurements so a test can assert a margin
and report the headroom.

Sources: CloudFormation quotas (template body 1 MB via S3, which the CDK uses; 500 resources,
200 outputs, 200 parameters), IAM quotas (managed policy 6,144 and a role's inline policies
10,240 characters without whitespace; trust policy 2,048; 10 managed policies per role),
CloudWatch (10 metrics per metric-math alarm), EventBridge (5 targets per rule), and the
CloudFormation registry schemas bundled with cfn-lint for every ``*Name`` property's maximum.
Values only CloudFormation knows (generated names) are taken at their longest (64 characters).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from typing import Any

from mlops_cdk._internal.names import JOB_NAME_LIMIT, NAME_MARGIN
from tests.helpers.aws_models import Choices
from tests.helpers.aws_requests import embedded_requests
from tests.helpers.cfn_values import Resolver

Template = Mapping[str, Any]
Measure = tuple[str, int, int]

TEMPLATE_BODY_BYTES = 1_048_576  # via S3 (the CDK uploads templates over 50 KB)
RESOURCES, OUTPUTS, PARAMETERS = 500, 200, 200
MANAGED_POLICY_CHARS = 6_144
ROLE_INLINE_POLICY_CHARS = 10_240
TRUST_POLICY_CHARS = 2_048
MANAGED_POLICIES_PER_ROLE = 10
METRICS_PER_ALARM = 10
TARGETS_PER_RULE = 5
JOB_NAME = 63
LONGEST_GENERATED_NAME = 64
# Name limits the registry schemas leave out (ELB: "up to 32 characters").
_EXTRA_NAME_LIMITS = {
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"): 32,
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"): 32,
}
_JOB_NAME_MEMBERS = (
    "TransformJobName",
    "ProcessingJobName",
    "TrainingJobName",
    "HyperParameterTuningJobName",
)
_SCHEMAS = resources.files("cfnlint") / "data" / "schemas"


def template_size(template: Template) -> list[Measure]:
    """Body size (as the CDK writes it) and counts of resources, outputs and parameters."""
    body = len(json.dumps(template, indent=1).encode())
    return [
        ("template body bytes", body, TEMPLATE_BODY_BYTES),
        ("resources", len(template.get("Resources", {})), RESOURCES),
        ("outputs", len(template.get("Outputs", {})), OUTPUTS),
        ("parameters", len(template.get("Parameters", {})), PARAMETERS),
    ]


def _chars(document: Any) -> int:
    """IAM's policy size: characters of the JSON without whitespace."""
    return len(json.dumps(document, separators=(",", ":")))


def policy_sizes(
    template: Template, templates: Mapping[str, Template] | None = None
) -> list[Measure]:
    """Managed policy sizes, each role's inline total and trust policy, managed policies per role."""
    resolver = Resolver(template, templates or {}, name_length=LONGEST_GENERATED_NAME)
    resources = template.get("Resources", {})
    measures: list[Measure] = []
    inline: dict[str, int] = {}
    attached: dict[str, int] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::IAM::ManagedPolicy":
            size = _chars(resolver.resolve(props["PolicyDocument"]))
            measures.append((f"{logical_id} managed policy chars", size, MANAGED_POLICY_CHARS))
            for role in _role_refs(props.get("Roles", [])):
                attached[role] = attached.get(role, 0) + 1
        elif kind == "AWS::IAM::Policy":
            size = _chars(resolver.resolve(props["PolicyDocument"]))
            for role in _role_refs(props.get("Roles", [])):
                inline[role] = inline.get(role, 0) + size
        elif kind == "AWS::IAM::Role":
            policies = props.get("Policies", [])
            size = sum(_chars(resolver.resolve(p["PolicyDocument"])) for p in policies)
            inline[logical_id] = inline.get(logical_id, 0) + size
            attached[logical_id] = attached.get(logical_id, 0) + len(
                props.get("ManagedPolicyArns", [])
            )
            trust = _chars(resolver.resolve(props["AssumeRolePolicyDocument"]))
            measures.append((f"{logical_id} trust policy chars", trust, TRUST_POLICY_CHARS))
    measures += [
        (f"{role} inline policy chars", size, ROLE_INLINE_POLICY_CHARS)
        for role, size in inline.items()
    ]
    measures += [
        (f"{role} managed policies", count, MANAGED_POLICIES_PER_ROLE)
        for role, count in attached.items()
    ]
    return measures


def _role_refs(roles: list[Any]) -> Iterator[str]:
    for role in roles:
        if isinstance(role, dict) and set(role) == {"Ref"}:
            yield str(role["Ref"])


def alarm_metrics(template: Template) -> list[Measure]:
    """Metrics (not expressions) per metric-math alarm."""
    return [
        (
            f"{logical_id} metrics",
            sum(1 for m in resource["Properties"]["Metrics"] if "MetricStat" in m),
            METRICS_PER_ALARM,
        )
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in resource["Properties"]
    ]


def rule_targets(template: Template) -> list[Measure]:
    """Targets per EventBridge rule."""
    return [
        (f"{logical_id} targets", len(resource["Properties"].get("Targets", [])), TARGETS_PER_RULE)
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::Events::Rule"
    ]


def job_names(template: Template, templates: Mapping[str, Template] | None = None) -> list[Measure]:
    """SageMaker job names built at run time (Step Functions ``States.Format`` with
    ``States.UUID()``, Scheduler ``<aws.scheduler.execution-id>``), at their real length."""
    measures = []
    for request in embedded_requests(template, templates):
        if not isinstance(request.params, dict):
            continue
        for member in _JOB_NAME_MEMBERS:
            value = request.params.get(member)
            values = value.values if isinstance(value, Choices) else (value,)
            measures += [
                (f"{request.where} {member} {v!r}", len(v), JOB_NAME)
                for v in values
                if isinstance(v, str) and v != "standin-generated-name"
            ]
    return measures


@functools.cache
def _name_limits(resource_type: str) -> dict[str, int]:
    providers = json.loads((_SCHEMAS / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    key = providers.get(resource_type)
    limits: dict[str, int] = {}
    if key is not None:
        schema = json.loads((_SCHEMAS / "resources" / f"{key}.json").read_text(encoding="utf-8"))
        limits = {
            name: int(spec["maxLength"])
            for name, spec in schema.get("properties", {}).items()
            if name.endswith("Name") and "maxLength" in spec
        }
    limits.update({p: n for (t, p), n in _EXTRA_NAME_LIMITS.items() if t == resource_type})
    return limits


def physical_names(
    template: Template, templates: Mapping[str, Template] | None = None
) -> list[Measure]:
    """Every ``*Name`` property with a maximum length, resolved with the longest stand-ins."""
    resolver = Resolver(template, templates or {}, name_length=LONGEST_GENERATED_NAME)
    measures = []
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        for name, limit in _name_limits(resource["Type"]).items():
            given = props.get(name)
            if given is None or _is_reference(given):
                continue  # absent, or another resource's name, which CloudFormation generated
            value = resolver.resolve(given)
            if isinstance(value, str):
                measures.append((f"{logical_id}.{name} {value!r}", len(value), limit))
    return measures


def _is_reference(value: Any) -> bool:
    return (
        isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt")
    )


# Sizes and counts grow with every feature: fail at 90% so there is time to split a stack or a
# policy before a deploy fails. Names are computed exactly (worst case), so they may reach
# their limit - except job names built at run time, which keep NAME_MARGIN characters by
# construction (mlops_cdk/_internal/names.py).
HEADROOM = 0.9
JOB_NAME_SHARE = (JOB_NAME_LIMIT - NAME_MARGIN) / JOB_NAME_LIMIT

Check = Callable[[Template, Mapping[str, Template]], list[Measure]]
# Every limit check with the share of its limit a template may use.
CHECKS: dict[str, tuple[Check, float]] = {
    "template-size": (lambda t, _: template_size(t), HEADROOM),
    "policy-sizes": (policy_sizes, HEADROOM),
    "physical-names": (physical_names, 1.0),
    "job-names-with-run-time-suffix": (job_names, JOB_NAME_SHARE),
    "metrics-per-alarm": (lambda t, _: alarm_metrics(t), 1.0),
    "targets-per-rule": (lambda t, _: rule_targets(t), 1.0),
}


def over(measures: list[Measure], share: float) -> list[str]:
    """The measurements above ``share`` of their limit, as findings."""
    return [
        f"{what}: {value} > {share:.0%} of {limit}"
        for what, value, limit in measures
        if value > share * limit
    ]


def limit_findings(
    template: Template, templates: Mapping[str, Template] | None = None, *, margins: bool = True
) -> list[str]:
    """Every limit of :data:`CHECKS` that ``template`` comes too close to: within the margins
    above, or (``margins=False``) past the limit itself, where a deploy would fail."""
    return [
        f"{check}: {problem}"
        for check, (measure, share) in CHECKS.items()
        for problem in over(measure(template, templates or {}), share if margins else 1.0)
    ]
