"""Reading a registry model package at deploy time (its artifact URL, image, drift baselines).

A package ARN is known at synth; what the package names is not (the pipeline wrote it when it
registered the package). A custom resource calls ``DescribeModelPackage`` on every deploy that
changes the ARN and exposes the fields asked for, so stacks can wire them into resources.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from mlops_cdk._internal import checkov, defaults, nag
from mlops_cdk._internal.iam import service_role

# DescribeModelPackage response paths (botocore's sagemaker model; the custom resource
# flattens lists with numeric indexes).
MODEL_DATA_URL = "InferenceSpecification.Containers.0.ModelDataUrl"
IMAGE = "InferenceSpecification.Containers.0.Image"
STATISTICS_URI = "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri"
CONSTRAINTS_URI = "DriftCheckBaselines.ModelDataQuality.Constraints.S3Uri"

# The stack-level singleton function of every AwsCustomResource (aws-cdk's fixed ID).
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"
_LAMBDA_PACK_RULES = (
    "HIPAA.Security-LambdaConcurrency",
    "NIST.800.53.R5-LambdaConcurrency",
    "PCI.DSS.321-LambdaConcurrency",
)


class PackageDescription(Construct):
    """``DescribeModelPackage`` of ``package_arn`` at deploy time; :meth:`field` reads one of
    ``fields`` (a token). The provider function may call exactly that, on exactly that ARN, and
    write its own encrypted log group. One per stack: aws-cdk's provider function is a
    singleton per stack and takes the role of the first one."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        package_arn: str,
        fields: Sequence[str],
        encryption_key: kms.IKey,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.package_arn = package_arn
        self.fields = tuple(fields)
        self.role = service_role(
            self,
            "Role",
            service="lambda.amazonaws.com",
            description=f"Describes the served model package {package_arn}",
        )
        self.log_group = defaults.log_group(
            self,
            "Logs",
            encryption_key=encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
            retention=log_retention,
        )
        self.log_group.grant_write(self.role)
        call = cr.AwsSdkCall(
            service="SageMaker",
            action="describeModelPackage",
            parameters={"ModelPackageName": package_arn},
            # A new ARN replaces the resource, so the new package is read.
            physical_resource_id=cr.PhysicalResourceId.of(package_arn),
            output_paths=list(self.fields),
        )
        self.resource = cr.AwsCustomResource(
            self,
            "Resource",
            on_create=call,
            on_update=call,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(
                        actions=["sagemaker:DescribeModelPackage"], resources=[package_arn]
                    )
                ]
            ),
            role=self.role,
            log_group=self.log_group,
            install_latest_aws_sdk=False,
            memory_size=256,
            timeout=Duration.minutes(2),
        )
        nag.acknowledge_rules(
            self.resource.node.find_child("CustomResourcePolicy"),
            (
                "HIPAA.Security-IAMNoInlinePolicy",
                "NIST.800.53.R5-IAMNoInlinePolicy",
                "PCI.DSS.321-IAMNoInlinePolicy",
            ),
            "aws-cdk's AwsCustomResource writes the permissions of its call as an inline policy "
            "of the provider role: one statement, DescribeModelPackage on the served package.",
        )
        self.resource.node.add_dependency(self.role)
        _acknowledge_provider(Stack.of(self).node.find_child(PROVIDER_ID))

    def field(self, path: str) -> str:
        """The value at ``path`` of the response (a deploy-time token)."""
        if path not in self.fields:
            msg = f"{path!r} is not one of the fields read: {', '.join(self.fields)}"
            raise ValueError(msg)
        return self.resource.get_response_field(path)


def _acknowledge_provider(provider: IConstruct) -> None:
    """The provider function CDK generates (one per stack) runs once per deploy that changes a
    package ARN; what the compliance packs and checkov ask of long-running functions does not
    apply. Each reason is given to every rule that asks the same thing."""
    reasons = {
        "vpc": (
            "The function runs only during deployments and calls one SageMaker control-plane "
            "API (DescribeModelPackage); the VPCs have no SageMaker API endpoint and no NAT "
            "gateway, so inside them it could not reach the API. It receives no traffic and "
            "touches no data."
        ),
        "concurrency": (
            "CloudFormation invokes the provider once per deployment that changes a package "
            "ARN; reserved concurrency would only take capacity from the account's other "
            "functions."
        ),
        "dlq": (
            "CloudFormation invokes the provider synchronously and fails the deployment when "
            "it fails; there is no asynchronous event to dead-letter."
        ),
        "tracing": (
            "One control-plane call per deployment that changes a package ARN; its result and "
            "errors are in the CloudFormation events and the provider's log group."
        ),
    }
    rules = {
        "vpc": (
            ("HIPAA.Security-LambdaInsideVPC", "NIST.800.53.R5-LambdaInsideVPC",
             "PCI.DSS.321-LambdaInsideVPC"),
            "CKV_AWS_117",
        ),
        "concurrency": (_LAMBDA_PACK_RULES, "CKV_AWS_115"),
        "dlq": (
            ("HIPAA.Security-LambdaDLQ", "NIST.800.53.R5-LambdaDLQ", "Serverless-LambdaDLQ"),
            "CKV_AWS_116",
        ),
        "tracing": (("Serverless-LambdaTracing",), None),
    }  # fmt: skip
    for topic, (nag_rules, checkov_id) in rules.items():
        nag.acknowledge_rules(provider, nag_rules, reasons[topic])
        if checkov_id is not None:
            checkov.skip(provider, checkov_id, reasons[topic])
