"""``TrainingNetwork``: the VPC, endpoints, flow logs and EFA security group of a training cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.errors import Problems, is_token
from constructs_lib.training._resources import create_key, encrypted_log_group

_SERVICE = ec2.InterfaceVpcEndpointAwsService

# Interface endpoints nodes use when they have no route to the internet (or should not need it):
# SageMaker API (cluster and training calls), ECR API + registry (image pulls; layers come from S3
# through the gateway endpoint), CloudWatch Logs and metrics (agent, lifecycle logs), STS (role
# credentials), and SSM + SSM messages + EC2 messages (SSM sessions to nodes, which is how HyperPod
# gives shell access).
DEFAULT_INTERFACE_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...] = (
    _SERVICE.SAGEMAKER_API,
    _SERVICE.ECR,
    _SERVICE.ECR_DOCKER,
    _SERVICE.CLOUDWATCH_LOGS,
    _SERVICE.CLOUDWATCH_MONITORING,
    _SERVICE.STS,
    _SERVICE.SSM,
    _SERVICE.SSM_MESSAGES,
    _SERVICE.EC2_MESSAGES,
)
# Add these for EKS-orchestrated clusters without internet access (node bootstrap and pod identity).
EKS_INTERFACE_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...] = (
    _SERVICE.EC2,
    _SERVICE.EKS,
    _SERVICE.EKS_AUTH,
)

DEFAULT_CIDR = "10.0.0.0/16"
DEFAULT_PRIVATE_SUBNET_MASK = 18  # 16k addresses per AZ: every HyperPod node takes several ENIs/IPs
PUBLIC_SUBNET_MASK = 24
HTTPS = ec2.Port.tcp(443)
HTTP = ec2.Port.tcp(80)


class TrainingNetwork(Construct):
    """Private subnets, S3 gateway and interface endpoints, flow logs and an EFA-capable security group.

    :param vpc: an existing VPC to use. Default: a new VPC with private subnets in
        ``availability_zones`` (and public subnets for NAT gateways when ``nat_gateways > 0``).
    :param availability_zones: AZs of the new VPC, e.g. ``["us-east-1a", "us-east-1b"]``. Give them
        explicitly for stacks with an account and region so synth never looks them up. Put the AZ
        with your accelerated capacity first: shared storage goes into the first private subnet.
        Default: the first two AZs of the stack. Not allowed together with ``vpc``.
    :param cidr: IPv4 range of the new VPC. Default ``10.0.0.0/16``.
    :param private_subnet_mask: prefix length of each private subnet. Default 18.
    :param nat_gateways: NAT gateways of the new VPC (0 makes the private subnets isolated: nodes
        reach AWS only through the endpoints). Default 1.
    :param interface_endpoints: interface endpoints to create in the private subnets. Default
        :data:`DEFAULT_INTERFACE_ENDPOINTS`; add :data:`EKS_INTERFACE_ENDPOINTS` for EKS
        orchestration; pass ``()`` when the VPC already has them.
    :param security_group: an existing security group for the nodes and the file system. It must
        allow all traffic to and from itself (EFA). Default: a new group with those rules.
    :param flow_logs: record VPC flow logs (all traffic) to a KMS-encrypted log group. Default: on
        for a new VPC, off for an existing one (its owner decides).
    :param s3_gateway_endpoint: add an S3 gateway endpoint to the private subnets' route tables
        (lifecycle scripts, ECR image layers, data sets). Default: on for a new VPC, off for an existing
        one (an imported VPC must then name its private route tables).
    :param encryption_key: key for the flow log group. Default: a new key (rotation on, retained).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        availability_zones: Sequence[str] | None = None,
        cidr: str = DEFAULT_CIDR,
        private_subnet_mask: int = DEFAULT_PRIVATE_SUBNET_MASK,
        nat_gateways: int = 1,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] | None = None,
        security_group: ec2.ISecurityGroup | None = None,
        flow_logs: bool | None = None,
        s3_gateway_endpoint: bool | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        super().__init__(scope, id)
        _validate(
            self.node.path,
            vpc=vpc,
            availability_zones=availability_zones,
            cidr=cidr,
            private_subnet_mask=private_subnet_mask,
            nat_gateways=nat_gateways,
        )
        created_vpc = vpc is None
        self.internet_egress: bool = nat_gateways > 0 if created_vpc else True
        if vpc is None:
            vpc = self._create_vpc(
                availability_zones=availability_zones,
                cidr=cidr,
                private_subnet_mask=private_subnet_mask,
                nat_gateways=nat_gateways,
            )
        self.vpc: ec2.IVpc = vpc
        self.private_subnets: list[ec2.ISubnet] = list(vpc.private_subnets or vpc.isolated_subnets)
        self.subnet_selection = ec2.SubnetSelection(subnets=self.private_subnets)

        self.encryption_key: kms.IKey | None = encryption_key
        self.flow_log_group: logs.LogGroup | None = None
        if flow_logs if flow_logs is not None else created_vpc:
            if self.encryption_key is None:
                self.encryption_key = create_key(self, "Key", description=f"{self.node.path} flow logs")
            self.flow_log_group = encrypted_log_group(self, "FlowLogs", key=self.encryption_key)
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                    self.flow_log_group, self._flow_log_role(self.flow_log_group)
                ),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )

        self.security_group: ec2.ISecurityGroup = security_group or self._efa_security_group()
        self.gateway_endpoint: ec2.GatewayVpcEndpoint | None = None
        if s3_gateway_endpoint if s3_gateway_endpoint is not None else created_vpc:
            self.gateway_endpoint = vpc.add_gateway_endpoint(
                "S3Endpoint",
                service=ec2.GatewayVpcEndpointAwsService.S3,
                subnets=[self.subnet_selection],
            )
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        services = DEFAULT_INTERFACE_ENDPOINTS if interface_endpoints is None else tuple(interface_endpoints)
        if services:
            self._add_interface_endpoints(services)

    # -- construction -----------------------------------------------------------------------------
    def _create_vpc(
        self,
        *,
        availability_zones: Sequence[str] | None,
        cidr: str,
        private_subnet_mask: int,
        nat_gateways: int,
    ) -> ec2.Vpc:
        subnets = []
        if nat_gateways > 0:
            subnets.append(
                ec2.SubnetConfiguration(
                    name="Public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=PUBLIC_SUBNET_MASK,
                    map_public_ip_on_launch=False,
                )
            )
        subnets.append(
            ec2.SubnetConfiguration(
                name="Private",
                subnet_type=(
                    ec2.SubnetType.PRIVATE_WITH_EGRESS
                    if nat_gateways > 0
                    else ec2.SubnetType.PRIVATE_ISOLATED
                ),
                cidr_mask=private_subnet_mask,
            )
        )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones) if availability_zones else None,
            max_azs=None if availability_zones else 2,
            nat_gateways=nat_gateways,
            subnet_configuration=subnets,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            # Explicit, not the app's @aws-cdk/aws-ec2:restrictDefaultSecurityGroup flag: the default
            # security group loses its rules (nothing here uses it).
            restrict_default_security_group=True,
        )
        for subnet in vpc.public_subnets:
            acknowledge(
                subnet,
                "Public subnets hold only the NAT gateways, which need the default route to the internet "
                "gateway; training nodes and the file system sit in the private subnets.",
                "HIPAA.Security-VPCNoUnrestrictedRouteToIGW",
                "NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW",
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
            )
        return vpc

    def _flow_log_role(self, log_group: logs.LogGroup) -> iam.IRole:
        """Delivery role with a customer managed policy limited to the flow log group.

        The flow log receives the role without policy updates, so aws-cdk-lib's inline grants are not
        added on top of this policy.
        """
        role = iam.Role(self, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"))
        iam.ManagedPolicy(
            self,
            "FlowLogPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="DeliverFlowLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    resources=[log_group.log_group_arn],
                )
            ],
        )
        return role.without_policy_updates()

    def _efa_security_group(self) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "EfaSecurityGroup",
            vpc=self.vpc,
            description="HyperPod nodes and FSx for Lustre: all traffic within the group (EFA, NCCL, Lustre)",
            allow_all_outbound=False,
        )
        # EFA requires a group that allows all inbound AND outbound traffic to and from itself
        # (EC2 user guide, "Prepare an EFA-enabled security group"); Lustre (988, 1018-1023) is covered.
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "All traffic from members (EFA, Lustre)")
        acknowledge(
            group,
            "EFA requires a security group allowing all traffic from itself; the only source is the group "
            "itself, so no port is open to any other network.",
            "HIPAA.Security-EC2RestrictedCommonPorts",
            "NIST.800.53.R5-EC2RestrictedCommonPorts",
            "PCI.DSS.321-EC2RestrictedCommonPorts",
        )
        group.add_egress_rule(group, ec2.Port.all_traffic(), "All traffic to members (EFA, Lustre)")
        # HTTPS out: S3 through the gateway endpoint (its prefix list is only known to a lookup), the
        # interface endpoints and, with NAT, package repositories and container registries.
        group.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to S3, VPC endpoints and AWS APIs")
        if self.internet_egress:
            group.add_egress_rule(ec2.Peer.any_ipv4(), HTTP, "HTTP to OS package mirrors through NAT")
        return group

    def _add_interface_endpoints(self, services: Sequence[ec2.InterfaceVpcEndpointAwsService]) -> None:
        endpoint_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface VPC endpoints: HTTPS from training nodes",
            allow_all_outbound=False,
        )
        # Only the training nodes' group may call the endpoints; add rules for other workloads of the VPC.
        endpoint_group.add_ingress_rule(self.security_group, HTTPS, "HTTPS from training nodes")
        self.endpoint_security_group = endpoint_group
        one_per_az = ec2.SubnetSelection(subnets=self.private_subnets, one_per_az=True)
        for service in services:
            name = _endpoint_id(service)
            self.interface_endpoints[service.short_name] = self.vpc.add_interface_endpoint(
                name,
                service=service,
                subnets=one_per_az,
                security_groups=[endpoint_group],
                private_dns_enabled=True,
                open=False,
            )

    # -- intent helpers ---------------------------------------------------------------------------
    @property
    def primary_subnet(self) -> ec2.ISubnet:
        """First private subnet (first AZ): where shared storage goes by default."""
        return self.private_subnets[0]


def _endpoint_id(service: ec2.InterfaceVpcEndpointAwsService) -> str:
    words = service.short_name.replace(".", "-").replace("_", "-").split("-")
    return "".join(w[:1].upper() + w[1:] for w in words) + "Endpoint"


def _validate(
    path: str,
    *,
    vpc: ec2.IVpc | None,
    availability_zones: Sequence[str] | None,
    cidr: str,
    private_subnet_mask: int,
    nat_gateways: int,
) -> None:
    problems = Problems(f"TrainingNetwork {path}")
    if vpc is not None and availability_zones:
        problems.add(
            "availability_zones",
            list(availability_zones),
            "omit when vpc is given (the VPC's subnets decide)",
        )
    azs = list(availability_zones or [])
    if availability_zones is not None and not azs:
        problems.add(
            "availability_zones", azs, "at least one availability zone, or omit for the stack's first two"
        )
    if len(set(azs)) != len(azs):
        problems.add("availability_zones", azs, "distinct availability zones")
    problems.check(16 <= private_subnet_mask <= 28, "private_subnet_mask", private_subnet_mask, "16-28")
    network = None
    if not is_token(cidr):
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            problems.add("cidr", cidr, "an IPv4 CIDR block such as 10.0.0.0/16 (prefix 16-28)")
        else:
            problems.check(
                16 <= network.prefixlen <= 28, "cidr", cidr, "an IPv4 CIDR block with prefix 16-28"
            )
    az_count = len(azs) or 2
    problems.check(
        isinstance(nat_gateways, int) and 0 <= nat_gateways <= az_count,
        "nat_gateways",
        nat_gateways,
        f"0-{az_count} (one per availability zone at most)",
    )
    if vpc is None and network is not None and 16 <= private_subnet_mask <= 28:
        problems.check(
            private_subnet_mask > network.prefixlen,
            "private_subnet_mask",
            private_subnet_mask,
            f"a prefix longer than the VPC's /{network.prefixlen}",
        )
    if (
        vpc is None
        and network is not None
        and 16 <= private_subnet_mask <= 28
        and private_subnet_mask > network.prefixlen
    ):
        private_size = 2 ** (32 - private_subnet_mask)
        needed = az_count * private_size
        if isinstance(nat_gateways, int) and nat_gateways > 0:
            # Public /24s are allocated first; private subnets then start at the next aligned block.
            public_total = az_count * 2 ** (32 - PUBLIC_SUBNET_MASK)
            needed += -(-public_total // private_size) * private_size
        problems.check(
            needed <= network.num_addresses,
            "private_subnet_mask",
            private_subnet_mask,
            f"subnets of {az_count} AZ(s) need {needed} addresses but {cidr} holds {network.num_addresses}: "
            "use a larger mask or a larger CIDR",
        )
    problems.raise_if_any()


__all__ = ["DEFAULT_INTERFACE_ENDPOINTS", "EKS_INTERFACE_ENDPOINTS", "TrainingNetwork"]
