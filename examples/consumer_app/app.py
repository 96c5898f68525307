#!/usr/bin/env python3
"""A team's own CDK app that uses every mlops-cdk construct (installed from a wheel or git URL).

The team brings its own network, encryption key, buckets, alarm topic, roles and ECS cluster;
the constructs use them instead of creating their own. Nothing here refers to the mlops-cdk
repository: the default images and the demo model come from the installed package's data.
cdk.json sets no feature flags: the constructs do not depend on any. The five cdk-nag packs run
on every synth, as in the mlops-cdk repository, so a finding fails ``cdk synth``.
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from cdk_nag import (
    AwsSolutionsChecks,
    HIPAASecurityChecks,
    NIST80053R5Checks,
    PCIDSS321Checks,
    ServerlessChecks,
)
from constructs import IConstruct

from mlops_cdk.constructs import (
    AutoScaling,
    Baseline,
    BatchTransformJob,
    ContainerImage,
    DataCapture,
    DeploymentPolicy,
    EcsModelService,
    EndpointApi,
    InferenceApi,
    LambdaInference,
    MLPipeline,
    ModelData,
    ModelMonitorSchedule,
    ModelRegistry,
    RealtimeEndpoint,
    S3Trigger,
    TransformInput,
    TransformOutput,
)

ACCOUNT, REGION = "123456789012", "eu-west-1"
VPC_CIDR = "10.40.0.0/16"
SERVER_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn-server:1.4.2"


# The compliance packs that name each control; AwsSolutions names them differently.
COMPLIANCE_PACKS = ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")


def acknowledge(scope: IConstruct, reason: str, *rule_ids: str) -> None:
    """Accept cdk-nag findings of ``rule_ids`` on ``scope`` for ``reason``."""
    for rule_id in rule_ids:
        cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


class TeamFoundation(cdk.Stack):
    """What the churn team already has: a VPC without internet access, a customer-managed key,
    a data bucket with access logging, an on-call topic, an endpoint execution role and an ECS
    cluster its services share."""

    def __init__(self, scope: cdk.App, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.key = kms.Key(self, "TeamKey", enable_key_rotation=True, alias="alias/churn-team")
        # The log group keys its data with the team key; CloudWatch Logs needs to be let in.
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{REGION}.amazonaws.com"))
        self.vpc = ec2.Vpc(
            self,
            "TeamVpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
            restrict_default_security_group=True,
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        logs.LogGroup(
                            self,
                            "FlowLogs",
                            retention=logs.RetentionDays.ONE_YEAR,
                            encryption_key=self.key,
                        )
                    )
                )
            },
        )
        # No internet: S3 through a gateway endpoint, the rest through interface endpoints that
        # admit HTTPS from this VPC only.
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        endpoints = ec2.SecurityGroup(
            self, "EndpointsSg", vpc=self.vpc, allow_all_outbound=False, description="HTTPS in"
        )
        endpoints.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(443), "HTTPS from VPC")
        for name, service in {
            "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
            "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
            "Monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
        }.items():
            self.vpc.add_interface_endpoint(
                name, service=service, open=False, security_groups=[endpoints]
            )
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logs cannot use SSE-KMS
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # With no feature flags, CDK lets S3 log delivery in through the bucket ACL (so the
            # bucket must keep object-writer ownership); cdk.json could set the flag
            # @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy to use a bucket policy instead.
        )
        self.data = s3.Bucket(
            self,
            "TeamData",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="team-data/",
        )
        # The team's own decisions, acknowledged where they are made (as mlops-cdk does inside
        # its constructs): cdk-nag's packs report them otherwise.
        for bucket in (access_logs, self.data):
            acknowledge(
                bucket,
                "Same-region, versioned data; the team's recovery plan needs no replica.",
                *(f"{pack}-S3BucketReplicationEnabled" for pack in COMPLIANCE_PACKS),
            )
        acknowledge(
            access_logs,
            "S3 server access logs can only be delivered to a bucket with SSE-S3 encryption.",
            *(f"{pack}-S3DefaultEncryptionKMS" for pack in COMPLIANCE_PACKS),
        )
        acknowledge(
            self.vpc.node.find_child("All"),
            "CDK's flow-log role: one inline policy that writes to this one log group.",
            *(f"{pack}-IAMNoInlinePolicy" for pack in COMPLIANCE_PACKS),
        )
        self.topic = sns.Topic(self, "OnCall", master_key=self.key, enforce_ssl=True)
        self.cluster = ecs.Cluster(
            self, "TeamCluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.endpoint_role = iam.Role(
            self,
            "EndpointRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description="The churn team's SageMaker execution role (mlops-cdk adds its grants)",
        )


class ChurnMl(cdk.Stack):
    """Every mlops-cdk construct, on the team's own resources, plus an endpoint another team
    deployed (alarms and an API in front of it) and one served by AWS's scikit-learn image."""

    def __init__(
        self, scope: cdk.App, construct_id: str, team: TeamFoundation, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        shared = {"encryption_key": team.key, "alarm_topic": team.topic}
        image = ContainerImage.from_uri(SERVER_IMAGE)

        registry = ModelRegistry(self, "Registry", group_name="churn", encryption_key=team.key)
        MLPipeline(
            self,
            "Training",
            registry=registry,
            data_bucket=team.data,
            input_prefix="training/input/",
            metric_name="auc",
            metric_threshold=0.85,
            retrain_schedule="cron(0 4 ? * SUN *)",
            vpc=team.vpc,
            **shared,
        )
        endpoint = RealtimeEndpoint(
            self,
            "Online",
            image=image,
            model_data=ModelData.from_bucket(team.data, "models/churn/v7/model.tar.gz"),
            autoscaling=AutoScaling(min_capacity=2, max_capacity=6),
            data_capture=DataCapture(bucket=team.data, prefix="capture/", sampling_percentage=20),
            deployment=DeploymentPolicy.canary(10),
            vpc=team.vpc,
            role=team.endpoint_role,
            **shared,
        )
        ModelMonitorSchedule(
            self,
            "Drift",
            endpoint=endpoint,
            baseline=Baseline.demo_model(),
            vpc=team.vpc,
            **shared,
        )
        BatchTransformJob(
            self,
            "Nightly",
            image=image,
            model_data=ModelData.from_bucket(team.data, "models/churn/v7/model.tar.gz"),
            input=TransformInput(bucket=team.data, prefix="batch/input/"),
            output=TransformOutput(bucket=team.data, prefix="batch/output/"),
            schedule="cron(0 2 * * ? *)",
            vpc=team.vpc,
            **shared,
        )
        LambdaInference(
            self,
            "Serverless",
            model_data=ModelData.demo_model(archive=False),
            api=InferenceApi(),
            s3_trigger=S3Trigger(
                bucket=team.data, input_prefix="score/in/", output_prefix="score/out/"
            ),
            vpc=team.vpc,
            **shared,
        )
        EcsModelService(
            self,
            "Containers",
            vpc=team.vpc,
            cluster=team.cluster,
            model_data=ModelData.demo_model(archive=False),
            desired_count=2,
            **shared,
        )
        # Another team's endpoint, deployed with the SageMaker SDK: watched and fronted like ours.
        legacy = RealtimeEndpoint.from_endpoint_name(
            self, "Legacy", "churn-legacy", instance_type="ml.m5.large", alarm_topic=team.topic
        )
        EndpointApi(self, "LegacyApi", endpoint=legacy, api=InferenceApi(auth="api_key"), **shared)
        # AWS's scikit-learn image, in this stack's region.
        RealtimeEndpoint(
            self,
            "Sklearn",
            image=ContainerImage.aws_image("sklearn", "1.2-1"),
            model_data=ModelData.from_bucket(team.data, "models/churn/sklearn/model.tar.gz"),
            vpc=team.vpc,
            **shared,
        )


app = cdk.App()
env = cdk.Environment(account=ACCOUNT, region=REGION)
team = TeamFoundation(app, "ChurnTeamFoundation", env=env)
ChurnMl(app, "ChurnTeam", team, env=env)
cdk.Validations.of(app).add_plugins(
    *(
        pack(app)
        for pack in (
            AwsSolutionsChecks,
            HIPAASecurityChecks,
            NIST80053R5Checks,
            PCIDSS321Checks,
            ServerlessChecks,
        )
    )
)
app.synth()
