"""Subnet placement shared by every construct that runs in a VPC: one default and one way to
resolve a caller's :class:`~aws_cdk.aws_ec2.SubnetSelection`."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2


def default_subnets(vpc: ec2.IVpc) -> ec2.SubnetSelection:
    """The private subnets of ``vpc``: those with egress when it has any, else isolated ones.

    Never public subnets: a construct placed in a VPC without a choice runs privately.
    """
    subnet_type = (
        ec2.SubnetType.PRIVATE_WITH_EGRESS
        if vpc.private_subnets
        else ec2.SubnetType.PRIVATE_ISOLATED
    )
    return ec2.SubnetSelection(subnet_type=subnet_type)


def select_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> ec2.SelectedSubnets:
    """The subnets of ``vpc`` that ``selection`` names, keeping every part of it (type, group
    name, explicit subnets, zones, one per zone, filters); :func:`default_subnets` when
    ``selection`` is ``None``."""
    chosen = selection or default_subnets(vpc)
    return vpc.select_subnets(
        availability_zones=chosen.availability_zones,
        one_per_az=chosen.one_per_az,
        subnet_filters=chosen.subnet_filters,
        subnet_group_name=chosen.subnet_group_name,
        subnets=chosen.subnets,
        subnet_type=chosen.subnet_type,
    )
