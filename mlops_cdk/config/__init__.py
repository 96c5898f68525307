"""Typed environment configuration, loaded from ``config/<env>.yaml``.

``load_environment("dev")`` returns an :class:`EnvironmentConfig` or raises
:class:`~mlops_cdk.ConfigurationError` with one line per problem, each naming the file, the dotted
path of the key, what is allowed and what was given::

    config/prod.yaml: removal_policy: must be 'retain' in prod, so that data outlives a
    stack (got 'destroy')

Only ``app.py`` and this package read files or environment variables; constructs and stacks get
these typed objects. One module per part of the file: ``platform`` (alarms, network, tags),
``serving`` (endpoint, Lambda, ECS), ``jobs`` (batch, monitoring, training pipeline),
``environment`` (the whole file), ``delivery`` (``config/delivery.yaml``) and ``loader``.
"""

from mlops_cdk.config._fields import CONFIG_DIR as CONFIG_DIR
from mlops_cdk.config._fields import DELIVERY as DELIVERY
from mlops_cdk.config._fields import LOG_RETENTION_DAYS as LOG_RETENTION_DAYS
from mlops_cdk.config._fields import LONGEST_BUCKET_PURPOSE as LONGEST_BUCKET_PURPOSE
from mlops_cdk.config._fields import MAX_BUCKET_NAME as MAX_BUCKET_NAME
from mlops_cdk.config._fields import PROMOTION_ORDER as PROMOTION_ORDER
from mlops_cdk.config._fields import AccountId as AccountId
from mlops_cdk.config._fields import AlarmName as AlarmName
from mlops_cdk.config._fields import BucketName as BucketName
from mlops_cdk.config._fields import CertificateArn as CertificateArn
from mlops_cdk.config._fields import Cidr as Cidr
from mlops_cdk.config._fields import EcrImageUri as EcrImageUri
from mlops_cdk.config._fields import Email as Email
from mlops_cdk.config._fields import EndpointInstanceType as EndpointInstanceType
from mlops_cdk.config._fields import KeyPrefix as KeyPrefix
from mlops_cdk.config._fields import ModelPackageArn as ModelPackageArn
from mlops_cdk.config._fields import ModelPackageGroupName as ModelPackageGroupName
from mlops_cdk.config._fields import MonitorScheduleExpression as MonitorScheduleExpression
from mlops_cdk.config._fields import Name as Name
from mlops_cdk.config._fields import ProcessingInstanceType as ProcessingInstanceType
from mlops_cdk.config._fields import Region as Region
from mlops_cdk.config._fields import RemovalPolicy as RemovalPolicy
from mlops_cdk.config._fields import RetentionDays as RetentionDays
from mlops_cdk.config._fields import ScheduleExpression as ScheduleExpression
from mlops_cdk.config._fields import TagValue as TagValue
from mlops_cdk.config._fields import TopicArn as TopicArn
from mlops_cdk.config._fields import TrainingInstanceType as TrainingInstanceType
from mlops_cdk.config._fields import TransformInstanceType as TransformInstanceType
from mlops_cdk.config._fields import package_account as package_account
from mlops_cdk.config._fields import package_group as package_group
from mlops_cdk.config.delivery import DeliverySettings as DeliverySettings
from mlops_cdk.config.environment import EnvironmentConfig as EnvironmentConfig
from mlops_cdk.config.jobs import BatchTransformSettings as BatchTransformSettings
from mlops_cdk.config.jobs import MLPipelineSettings as MLPipelineSettings
from mlops_cdk.config.jobs import ModelMonitorSettings as ModelMonitorSettings
from mlops_cdk.config.jobs import ModelQualitySettings as ModelQualitySettings
from mlops_cdk.config.loader import LATEST_APPROVED as LATEST_APPROVED
from mlops_cdk.config.loader import available_environments as available_environments
from mlops_cdk.config.loader import load_delivery as load_delivery
from mlops_cdk.config.loader import load_environment as load_environment
from mlops_cdk.config.loader import load_environments as load_environments
from mlops_cdk.config.loader import with_approved_package as with_approved_package
from mlops_cdk.config.loader import (
    with_latest_approved_packages as with_latest_approved_packages,
)
from mlops_cdk.config.model_host import HostedModelSettings as HostedModelSettings
from mlops_cdk.config.model_host import ModelHostSettings as ModelHostSettings
from mlops_cdk.config.platform import AlarmSettings as AlarmSettings
from mlops_cdk.config.platform import NetworkSettings as NetworkSettings
from mlops_cdk.config.platform import TagSettings as TagSettings
from mlops_cdk.config.serving import AsyncInferenceSettings as AsyncInferenceSettings
from mlops_cdk.config.serving import DeploymentSettings as DeploymentSettings
from mlops_cdk.config.serving import EcsAlarmSettings as EcsAlarmSettings
from mlops_cdk.config.serving import EcsAutoScalingSettings as EcsAutoScalingSettings
from mlops_cdk.config.serving import EcsDeploymentSettings as EcsDeploymentSettings
from mlops_cdk.config.serving import EcsModelServiceSettings as EcsModelServiceSettings
from mlops_cdk.config.serving import EndpointAlarmSettings as EndpointAlarmSettings
from mlops_cdk.config.serving import EndpointAutoScalingSettings as EndpointAutoScalingSettings
from mlops_cdk.config.serving import EndpointVariantSettings as EndpointVariantSettings
from mlops_cdk.config.serving import LambdaAlarmSettings as LambdaAlarmSettings
from mlops_cdk.config.serving import LambdaApiSettings as LambdaApiSettings
from mlops_cdk.config.serving import LambdaDeploymentSettings as LambdaDeploymentSettings
from mlops_cdk.config.serving import LambdaInferenceSettings as LambdaInferenceSettings
from mlops_cdk.config.serving import (
    LambdaProvisionedConcurrencySettings as LambdaProvisionedConcurrencySettings,
)
from mlops_cdk.config.serving import LambdaS3TriggerSettings as LambdaS3TriggerSettings
from mlops_cdk.config.serving import ModelPackageSettings as ModelPackageSettings
from mlops_cdk.config.serving import RealtimeEndpointSettings as RealtimeEndpointSettings
