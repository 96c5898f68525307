"""CloudFormation values as the strings they become at deploy time, with stand-ins of the right
shape for what only CloudFormation knows (generated names, ARNs, IDs).

The offline checkers (AWS request models, IAM data, deploy limits) need a concrete value where a
template has ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub`` or a cross-stack output. A
stand-in has the shape AWS would return for that resource type and attribute (an ARN for
``Arn``, ``sg-…`` for a security group ID, a URL for a queue's ``Ref``), so a pattern check
sees what AWS would see. ``name_length`` sets how long generated names are: short by default,
the CloudFormation maximum when computing worst-case sizes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"
UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"

# CloudFormation type -> ARN of a resource of that type, with {name} for its generated name.
_ARNS: dict[str, str] = {
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::KMS::Key": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{UUID}",
    "AWS::KMS::Alias": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/{{name}}",
    "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{{name}}",
    "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT}:policy/{{name}}",
    "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{{name}}",
    "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{{name}}",
    "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{name}}:*",
    "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{{name}}",
    "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}",
    "AWS::Lambda::Alias": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}:live",
    "AWS::Lambda::Version": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}:1",
    "AWS::SageMaker::Model": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{{name}}",
    "AWS::SageMaker::Endpoint": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{{name}}",
    "AWS::SageMaker::InferenceComponent": (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:inference-component/{{name}}"
    ),
    "AWS::SageMaker::EndpointConfig": (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{{name}}"
    ),
    "AWS::SageMaker::ModelPackageGroup": (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{{name}}"
    ),
    "AWS::SageMaker::Pipeline": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{{name}}",
    "AWS::SageMaker::MonitoringSchedule": (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:monitoring-schedule/{{name}}"
    ),
    "AWS::ECR::Repository": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{{name}}",
    "AWS::ECS::Cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{{name}}",
    "AWS::ECS::Service": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/standin/{{name}}",
    "AWS::ECS::TaskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{{name}}:1",
    "AWS::CodeBuild::Project": f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/{{name}}",
    "AWS::CodePipeline::Pipeline": f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{{name}}",
    "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{{name}}",
    "AWS::Scheduler::Schedule": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{{name}}",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{{name}}/50dc6c495c0c9188"
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{{name}}/73e2d6bc24d8a067"
    ),
    "AWS::ElasticLoadBalancingV2::Listener": (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{{name}}/50dc6c495c0c9188/"
        "f2f7dc8efc522ab2"
    ),
    "AWS::ElasticLoadBalancingV2::ListenerRule": (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/{{name}}/"
        "50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
    ),
    "AWS::ApiGateway::RestApi": f"arn:aws:apigateway:{REGION}::/restapis/a1b2c3d4e5",
    "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{{name}}-AbCdEf",
    "AWS::SSM::Parameter": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{{name}}",
    "AWS::CodeStarNotifications::NotificationRule": (
        f"arn:aws:codestar-notifications:{REGION}:{ACCOUNT}:notificationrule/{{name}}"
    ),
}
# Types whose Ref is the ARN (the rest return a name or an ID).
_REF_IS_ARN = frozenset(
    {
        "AWS::SNS::Topic",
        "AWS::StepFunctions::StateMachine",
        "AWS::IAM::ManagedPolicy",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::SageMaker::Model",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::EndpointConfig",
        "AWS::SageMaker::MonitoringSchedule",
        "AWS::Lambda::Alias",
        "AWS::Lambda::Version",
        "AWS::CodeStarNotifications::NotificationRule",
        "AWS::SecretsManager::Secret",
    }
)
# Types whose Ref (or ID attribute) is an AWS-generated identifier.
_IDS: dict[str, str] = {
    "AWS::EC2::VPC": "vpc-0123456789abcdef0",
    "AWS::EC2::Subnet": "subnet-0123456789abcdef0",
    "AWS::EC2::SecurityGroup": "sg-0123456789abcdef0",
    "AWS::EC2::RouteTable": "rtb-0123456789abcdef0",
    "AWS::EC2::VPCEndpoint": "vpce-0123456789abcdef0",
    "AWS::KMS::Key": UUID,
    "AWS::SQS::Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{name}}",
    "AWS::ApiGateway::RestApi": "a1b2c3d4e5",
    "AWS::ApiGateway::Resource": "abc123",
    "AWS::ApiGateway::Deployment": "def456",
    "AWS::Lambda::Permission": "standin-permission",
}
# GetAtt attributes that are IDs whatever the type.
_ID_ATTRIBUTES = {
    "GroupId": _IDS["AWS::EC2::SecurityGroup"],
    "VpcId": _IDS["AWS::EC2::VPC"],
    "SubnetId": _IDS["AWS::EC2::Subnet"],
    "KeyId": UUID,
    "RootResourceId": "abc123",
    "DnsEntries": "vpce-standin.s3.eu-west-1.vpce.amazonaws.com",
    "DNSName": "internal-standin-1234567890.eu-west-1.elb.amazonaws.com",
    "CanonicalHostedZoneID": "Z32O12XQLNTSW2",
    "QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{name}}",
    "RegionalDomainName": "{name}.s3.eu-west-1.amazonaws.com",
    "DomainName": "{name}.s3.amazonaws.com",
    "FunctionUrl": "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/",
    "Version": "1",
    "ModelPackageGroupArn": _ARNS["AWS::SageMaker::ModelPackageGroup"],
    "PipelineArn": _ARNS["AWS::SageMaker::Pipeline"],
    "EndpointArn": _ARNS["AWS::SageMaker::Endpoint"],
}
_PSEUDO = {
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "standin-stack",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/standin-stack/{UUID}",
    "AWS::NotificationARNs": "",
}


# Response fields of SDK calls (AwsCustomResource) whose values are S3 URIs.
_SDK_S3_FIELDS = frozenset({"S3Uri", "ModelDataUrl"})


@dataclass
class Resolver:
    """Turns template values into deploy-time strings with stand-ins.

    :param template: the template the values come from.
    :param templates: every stack's template by stack name, to follow ``Fn::GetStackOutput``
        and ``Fn::ImportValue`` to the producing stack; unknown outputs get a generic stand-in.
    :param name_length: length of generated physical names (CloudFormation's names are up to
        64 characters for most types).
    """

    template: Mapping[str, Any]
    templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    name_length: int = 12

    def name(self, logical_id: str) -> str:
        """A generated physical name: lowercase letters and digits (valid for every type)."""
        base = re.sub(r"[^a-z0-9]", "", logical_id.lower()) or "standin"
        return (base * (self.name_length // len(base) + 1))[: self.name_length]

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic replaced by its stand-in (strings stay strings)."""
        if isinstance(node, dict):
            if len(node) == 1:
                (key,) = node
                if key == "Ref" or key.startswith("Fn::"):
                    return self._intrinsic(key, node[key])
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node

    def text(self, node: Any) -> str:
        """``node`` resolved to one string (lists and objects as JSON)."""
        value = self.resolve(node)
        return value if isinstance(value, str) else json.dumps(value)

    def _resource_type(self, logical_id: str) -> str | None:
        resource = self.template.get("Resources", {}).get(logical_id)
        return None if resource is None else str(resource["Type"])

    def ref(self, logical_id: str) -> str:
        if logical_id in _PSEUDO:
            return _PSEUDO[logical_id]
        parameter = self.template.get("Parameters", {}).get(logical_id)
        if parameter is not None:
            return str(parameter.get("Default", "standin"))
        kind = self._resource_type(logical_id)
        name = self.name(logical_id)
        if kind in _REF_IS_ARN:
            return _ARNS[kind].format(name=name)
        if kind in _IDS:
            return _IDS[kind].format(name=name)
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource_type(logical_id)
        name = self.name(logical_id)
        if attribute in _ID_ATTRIBUTES:
            return _ID_ATTRIBUTES[attribute].format(name=name)
        if kind == "Custom::AWS" and attribute.rsplit(".", 1)[-1] in _SDK_S3_FIELDS:
            # An SDK custom resource's response field holding an S3 location (a model
            # package's ModelDataUrl or a baseline's S3Uri).
            return f"s3://{name}-standin/{name}/object"
        if attribute.endswith("Arn") or attribute == "Arn":
            template = _ARNS.get(kind or "", f"arn:aws:standin:{REGION}:{ACCOUNT}:standin/{{name}}")
            return template.format(name=name)
        return name

    def _intrinsic(self, key: str, value: Any) -> Any:
        if key == "Ref":
            return self.ref(str(value))
        if key == "Fn::GetAtt":
            logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
            return self.get_att(str(logical_id), str(self.resolve(attribute)))
        if key == "Fn::Join":
            separator, parts = value
            resolved = self.resolve(parts)
            items = resolved if isinstance(resolved, list) else [resolved]
            return str(separator).join(self._as_text(part) for part in items)
        if key == "Fn::Sub":
            return self._sub(value)
        if key == "Fn::Select":
            index, items = value
            resolved = self.resolve(items)
            if isinstance(resolved, list):
                return resolved[int(self.resolve(index))]
            return "standin"
        if key == "Fn::Split":
            separator, source = value
            return self._as_text(self.resolve(source)).split(str(separator))
        if key == "Fn::GetAZs":
            return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
        if key == "Fn::GetStackOutput":
            return self._output(str(value["StackName"]), str(value["OutputName"]))
        if key == "Fn::ImportValue":
            return self._export(self._as_text(self.resolve(value)))
        if key == "Fn::If":
            return self.resolve(value[1])
        if key == "Fn::Base64":
            return self._as_text(self.resolve(value))
        return "standin"

    def _as_text(self, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    def _sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return self._as_text(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, str(text))

    def _output(self, stack_name: str, output_name: str) -> Any:
        producer = self.templates.get(stack_name)
        if producer is not None and output_name in producer.get("Outputs", {}):
            other = Resolver(producer, self.templates, self.name_length)
            return other.resolve(producer["Outputs"][output_name]["Value"])
        return self.name(output_name)

    def _export(self, export_name: str) -> Any:
        for producer in self.templates.values():
            for output in producer.get("Outputs", {}).values():
                export = output.get("Export", {}).get("Name")
                other = Resolver(producer, self.templates, self.name_length)
                if export is not None and other.text(export) == export_name:
                    return other.resolve(output["Value"])
        return self.name(export_name)
