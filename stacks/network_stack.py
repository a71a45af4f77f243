"""Network: a VPC with private subnets and flow logs, or an existing VPC described by its ids."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib import acknowledge

from .config.platform import NetworkSection


class NetworkStack(Stack):
    """``vpc`` is created (``max_azs``) or imported from ids (``vpc_id``): never looked up at synth."""

    def __init__(self, scope: Construct, id: str, *, network: NetworkSection, key: kms.IKey, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        if network.vpc_id is not None:
            self.vpc: ec2.IVpc = ec2.Vpc.from_vpc_attributes(
                self, "Vpc",
                vpc_id=network.vpc_id,
                availability_zones=list(network.availability_zones),
                private_subnet_ids=list(network.private_subnet_ids),
            )
            return
        zones = list(network.availability_zones) or None
        vpc = ec2.Vpc(
            self, "Vpc",
            availability_zones=zones,
            max_azs=None if zones else network.max_azs,
            nat_gateways=network.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                ),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20)
                if network.nat_gateways
                else ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20),
            ],
        )
        flow_log_group = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.ONE_YEAR, encryption_key=key)
        vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_log_group))
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.vpc = vpc
        acknowledge(
            vpc,
            "No resource of the platform uses the VPC's default security group: every construct creates its own.",
            "HIPAA.Security-VPCDefaultSecurityGroupClosed",
            "NIST.800.53.R5-VPCDefaultSecurityGroupClosed",
            "PCI.DSS.321-VPCDefaultSecurityGroupClosed",
        )
        acknowledge(
            vpc.node.find_child("FlowLog"),
            "The flow-log role's statements are CDK-generated and scoped to the flow-log group.",
            "HIPAA.Security-IAMNoInlinePolicy",
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "PCI.DSS.321-IAMNoInlinePolicy",
        )
        for subnet in vpc.public_subnets:
            acknowledge(
                subnet,
                "Public subnets hold only the NAT gateways (no public IPs on launch); their default route "
                "to the internet gateway is what gives private subnets egress.",
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
            )
