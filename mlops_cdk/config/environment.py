"""One environment's configuration (``config/<env>.yaml``)."""

from __future__ import annotations

import re

from pydantic import (
    Field,
    model_validator,
)

from mlops_cdk._internal.validators.arns import arn_problem
from mlops_cdk._internal.validators.images import image_uri_problem
from mlops_cdk.config._fields import (
    LONGEST_BUCKET_PURPOSE,
    MAX_BUCKET_NAME,
    AccountId,
    FieldError,
    Name,
    Region,
    RemovalPolicy,
    RetentionDays,
    Section,
    package_account,
    package_region,
)
from mlops_cdk.config.jobs import BatchTransformSettings, MLPipelineSettings, ModelMonitorSettings
from mlops_cdk.config.model_host import ModelHostSettings
from mlops_cdk.config.platform import AlarmSettings, NetworkSettings, TagSettings
from mlops_cdk.config.serving import (
    EcsModelServiceSettings,
    LambdaInferenceSettings,
    RealtimeEndpointSettings,
)
from mlops_cdk.cost.prices import priced_regions


class EnvironmentConfig(Section):
    """One deployment environment (dev, staging, prod)."""

    name: Name
    project: Name = "mlops"
    account: AccountId | None = None
    region: Region | None = None
    removal_policy: RemovalPolicy
    log_retention_days: RetentionDays = 365
    alarms: AlarmSettings = AlarmSettings()
    network: NetworkSettings
    tags: TagSettings
    realtime_endpoint: RealtimeEndpointSettings = RealtimeEndpointSettings()
    lambda_inference: LambdaInferenceSettings = LambdaInferenceSettings()
    ecs_model_service: EcsModelServiceSettings = EcsModelServiceSettings()
    model_host: ModelHostSettings = ModelHostSettings()
    batch_transform: BatchTransformSettings = BatchTransformSettings()
    model_monitor: ModelMonitorSettings = ModelMonitorSettings()
    ml_pipeline: MLPipelineSettings = MLPipelineSettings()
    # Synth fails when the idle cost estimate (mlops_cdk.cost) exceeds this many USD a month.
    cost_ceiling_usd: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _ceiling_has_prices(self) -> EnvironmentConfig:
        regions = priced_regions()
        if self.cost_ceiling_usd is not None and self.region and self.region not in regions:
            raise FieldError(
                "cost_ceiling_usd",
                f"needs list prices for the region; mlops_cdk/cost/data/prices.json has "
                f"{', '.join(regions)} (add {self.region} with scripts/update_prices.py "
                "--add-region, or leave the ceiling out)",
                self.cost_ceiling_usd,
            )
        return self

    @model_validator(mode="after")
    def _prod_endpoints_in_every_zone(self) -> EnvironmentConfig:
        network = self.network
        zones = network.interface_endpoint_zones
        if self.name == "prod" and zones is not None and zones < len(network.availability_zones):
            raise FieldError(
                "network.interface_endpoint_zones",
                f"must cover every zone in prod ({len(network.availability_zones)}), so that "
                "losing one zone does not cut the others off AWS APIs",
                zones,
            )
        return self

    @model_validator(mode="after")
    def _drift_retraining_needs_a_monitor(self) -> EnvironmentConfig:
        if self.ml_pipeline.retrain_on_drift and not (
            self.model_monitor.enabled and self.realtime_endpoint.enabled
        ):
            raise FieldError(
                "ml_pipeline.retrain_on_drift",
                "needs model_monitor.enabled (and its realtime_endpoint): the drift alarm "
                "comes from the Monitoring stack",
                True,
            )
        return self

    @model_validator(mode="after")
    def _prod_retains_data(self) -> EnvironmentConfig:
        if self.name == "prod" and self.removal_policy is not RemovalPolicy.RETAIN:
            raise FieldError(
                "removal_policy",
                "must be 'retain' in prod, so that data outlives a stack",
                self.removal_policy.value,
            )
        return self

    @model_validator(mode="after")
    def _ecs_service_fits_environment(self) -> EnvironmentConfig:
        service = self.ecs_model_service
        if not service.enabled:
            return self
        if not self.network.interface_endpoints and self.network.nat_gateways == 0:
            raise FieldError(
                "ecs_model_service.enabled",
                "false unless network.interface_endpoints is true or nat_gateways is at least 1: "
                "tasks in isolated subnets cannot pull their image or ship logs without them",
                True,
            )
        if self.name == "prod":
            low = service.autoscaling.min_capacity if service.autoscaling else None
            if service.desired_count < 2 or (low is not None and low < 2):
                key = "desired_count" if service.desired_count < 2 else "autoscaling.min_capacity"
                raise FieldError(
                    f"ecs_model_service.{key}",
                    "must be at least 2 in prod, so that tasks run in more than one zone",
                    service.desired_count if key == "desired_count" else low,
                )
            if not service.deletion_protection:
                raise FieldError(
                    "ecs_model_service.deletion_protection",
                    "must be true in prod",
                    False,
                )
        return self

    @model_validator(mode="after")
    def _monitor_has_capture(self) -> EnvironmentConfig:
        endpoint = self.realtime_endpoint
        if self.model_monitor.enabled and not (
            endpoint.enabled and endpoint.mode != "serverless" and endpoint.data_capture_percent
        ):
            raise FieldError(
                "model_monitor.enabled",
                "false unless realtime_endpoint is enabled in instance or async mode with "
                "data_capture_percent above 0 (there is nothing to monitor without capture)",
                True,
            )
        return self

    @model_validator(mode="after")
    def _bucket_names_fit(self) -> EnvironmentConfig:
        longest = self.bucket_name(LONGEST_BUCKET_PURPOSE)
        if self.account and self.region and len(longest) > MAX_BUCKET_NAME:
            raise FieldError(
                "project",
                f"must be short enough that bucket names fit in {MAX_BUCKET_NAME} characters "
                f"(with name {self.name!r} the longest is {longest!r}, {len(longest)} characters)",
                self.project,
            )
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        if self.region is None:
            return self
        for index, zone in enumerate(self.network.availability_zones):
            if re.fullmatch(re.escape(self.region) + r"[a-z]", zone) is None:
                raise FieldError(
                    f"network.availability_zones[{index}]",
                    f"must be a zone of region {self.region}, such as {self.region}a",
                    zone,
                )
        return self

    @model_validator(mode="after")
    def _images_in_region(self) -> EnvironmentConfig:
        if self.region is None:
            return self
        package = self.realtime_endpoint.model_package
        images = {
            "realtime_endpoint.model_package.image": package.image if package else None,
            "ml_pipeline.training_image": self.ml_pipeline.training_image,
        }
        for key, uri in images.items():
            problem = image_uri_problem(uri, region=self.region) if uri else None
            if problem is not None:
                raise FieldError(key, f"must be {problem}", uri)
        return self

    @model_validator(mode="after")
    def _package_reachable(self) -> EnvironmentConfig:
        # SageMaker serves packages of its own region only; another account's package is read
        # from that account's artifacts bucket, which must be named.
        package = self.realtime_endpoint.model_package
        if package is None:
            return self
        # A/B and shadow variants serve packages as registered (their image is in the
        # registry account's CDK asset repository, which admits no other account); a package
        # promoted from another account is served without variants (docs/operator-guide.md).
        for index, variant in enumerate(self.realtime_endpoint.variants or []):
            arn = variant.model_package_arn or package.arn
            if arn is not None and package_account(arn) != self.account:
                raise FieldError(
                    f"realtime_endpoint.variants[{index}]",
                    f"must serve packages of this environment's account {self.account} (a "
                    f"package of account {package_account(arn)} is served without variants)",
                    arn,
                )
        if package.arn is None:
            return self
        key = "approved_arn" if package.approved_arn else "pinned_arn"
        if self.region is not None and package_region(package.arn) != self.region:
            raise FieldError(
                f"realtime_endpoint.model_package.{key}",
                f"must be a package in region {self.region} (SageMaker serves packages of its "
                "own region)",
                package.arn,
            )
        if package_account(package.arn) != self.account and package.artifact_bucket is None:
            raise FieldError(
                "realtime_endpoint.model_package.artifact_bucket",
                f"required for a package of account {package_account(package.arn)}: the "
                "registry account's artifacts bucket, read across accounts",
                None,
            )
        return self

    @model_validator(mode="after")
    def _certificate_in_region(self) -> EnvironmentConfig:
        # An ALB listener uses an ACM certificate of its own region only.
        arn = self.ecs_model_service.certificate_arn
        if self.region is None or arn is None:
            return self
        problem = arn_problem(arn, service="acm", resource_type="certificate", region=self.region)
        if problem is not None:
            raise FieldError("ecs_model_service.certificate_arn", f"must be {problem}", arn)
        return self

    @model_validator(mode="after")
    def _async_topics_in_region(self) -> EnvironmentConfig:
        # SageMaker publishes async notifications to topics of the endpoint's region.
        queued = self.realtime_endpoint.async_inference
        if self.region is None or queued is None:
            return self
        for key in ("success_topic_arn", "error_topic_arn"):
            arn = getattr(queued, key)
            problem = (
                arn_problem(arn, service="sns", resource_type="topic", region=self.region)
                if arn
                else None
            )
            if problem is not None:
                raise FieldError(
                    f"realtime_endpoint.async_inference.{key}", f"must be {problem}", arn
                )
        return self

    @model_validator(mode="after")
    def _one_trigger_per_new_object(self) -> EnvironmentConfig:
        # Both watch the batch-input bucket: an object under both prefixes would be scored twice.
        trigger = self.lambda_inference.s3_trigger
        batch = self.batch_transform
        if not (self.lambda_inference.enabled and trigger and batch.enabled):
            return self
        if batch.run_on_new_data and (
            trigger.input_prefix.startswith(batch.input_prefix)
            or batch.input_prefix.startswith(trigger.input_prefix)
        ):
            raise FieldError(
                "lambda_inference.s3_trigger.input_prefix",
                f"must not overlap batch_transform.input_prefix {batch.input_prefix!r} while "
                "batch_transform.run_on_new_data is true (both watch the batch-input bucket: "
                "each new object would be scored twice)",
                trigger.input_prefix,
            )
        return self

    @property
    def stage_name(self) -> str:
        """The CDK stage (and CLI selection prefix) of the environment: ``<project>-<env>``."""
        return f"{self.project}-{self.name}"

    def bucket_name(self, purpose: str) -> str:
        """The bucket name for ``purpose``: ``<project>-<env>-<purpose>-<account>-<region>``,
        globally unique and stable, so other stacks can import the bucket by name."""
        return f"{self.stage_name}-{purpose}-{self.account}-{self.region}"

    def stack_name(self, part: str) -> str:
        """The stable CloudFormation stack name ``<project>-<env>-<part>``."""
        return f"{self.stage_name}-{part.lower()}"
