"""Environment-wide settings: alarms, network, tags."""

from __future__ import annotations

from pydantic import (
    Field,
    model_validator,
)

from mlops_cdk.config._fields import (
    Cidr,
    Email,
    FieldError,
    RetentionDays,
    Section,
    TagValue,
    TopicArn,
)


class AlarmSettings(Section):
    """Where alarms go: a new encrypted topic (optionally with an e-mail subscription), or an
    existing topic."""

    email: Email | None = None
    existing_topic_arn: TopicArn | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> AlarmSettings:
        if self.email and self.existing_topic_arn:
            raise ValueError(
                "give either email (a new topic is created) or existing_topic_arn, not both"
            )
        return self


class NetworkSettings(Section):
    """The environment VPC. NAT gateways and interface endpoints cost money per AZ-hour even when
    idle, so both are off unless an environment asks for them."""

    cidr: Cidr = "10.0.0.0/16"
    availability_zones: list[str] = Field(min_length=1, max_length=6)
    nat_gateways: int = Field(default=0, ge=0)
    interface_endpoints: bool = False
    # Zones (the first N of availability_zones) that hold the interface endpoints; default all.
    # Each endpoint costs per zone-hour; with private DNS, every zone reaches the endpoints.
    interface_endpoint_zones: int | None = Field(default=None, ge=1)
    flow_log_retention_days: RetentionDays = 365

    @model_validator(mode="after")
    def _consistent(self) -> NetworkSettings:
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError(f"availability_zones must not repeat (got {self.availability_zones})")
        if self.nat_gateways > len(self.availability_zones):
            raise ValueError(
                f"nat_gateways must be at most the number of availability_zones "
                f"({len(self.availability_zones)}) (got {self.nat_gateways})"
            )
        return self

    @model_validator(mode="after")
    def _endpoint_zones(self) -> NetworkSettings:
        zones = self.interface_endpoint_zones
        if zones is not None and not self.interface_endpoints:
            raise FieldError(
                "network.interface_endpoint_zones",
                "must be left out when interface_endpoints is false",
                zones,
            )
        if zones is not None and zones > len(self.availability_zones):
            raise FieldError(
                "network.interface_endpoint_zones",
                f"must be at most the number of availability_zones "
                f"({len(self.availability_zones)})",
                zones,
            )
        return self

    @property
    def endpoint_zones(self) -> list[str]:
        """The zones that hold the interface endpoints."""
        return self.availability_zones[: self.interface_endpoint_zones]


class TagSettings(Section):
    """Tags applied to every resource of the environment."""

    owner: TagValue
    cost_centre: TagValue
    extra: dict[str, TagValue] = Field(default_factory=dict)
