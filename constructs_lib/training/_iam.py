"""Least-privilege IAM statements shared by the HyperPod execution role and the training-job role.

Which actions accept resource-level permissions was checked against the IAM action table bundled
with the pinned cfn-lint (``cfnlint/data/AdditionalSpecs/Policies.json``): the ``ec2:Describe*``
calls, ``cloudwatch:PutMetricData``, ``ecr:GetAuthorizationToken``, ``fsx:DescribeFileSystems`` and
the ``ssmmessages`` channel actions have none and must name ``*``; everything else is scoped.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from constructs_lib.compliance import acknowledge
from constructs_lib.training._nag import wildcard_resource

# Actions SageMaker needs to attach its instances to subnets of this VPC (HyperPod prerequisites,
# "Permissions for Amazon VPC"; the same set serves VPC-attached training jobs).
ENI_DESCRIBE_ACTIONS = (
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
)
ENI_MANAGE_ACTIONS = (
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DetachNetworkInterface",
)
SSM_SESSION_CHANNEL_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def network_interface_arn(scope: Construct) -> str:
    return Stack.of(scope).format_arn(service="ec2", resource="network-interface", resource_name="*")


def add_network_interface_policy(
    scope: Construct,
    id: str,
    *,
    role: iam.IRole,
    subnets: Sequence[ec2.ISubnet],
    security_groups: Sequence[ec2.ISecurityGroup],
) -> iam.ManagedPolicy:
    """The VPC network-interface permissions, scoped to this account's ENIs, subnets and groups."""
    stack = Stack.of(scope)
    eni = network_interface_arn(scope)
    subnet_arns = [
        stack.format_arn(service="ec2", resource="subnet", resource_name=s.subnet_id) for s in subnets
    ]
    group_arns = [
        stack.format_arn(service="ec2", resource="security-group", resource_name=g.security_group_id)
        for g in security_groups
    ]
    policy = iam.ManagedPolicy(
        scope,
        id,
        roles=[role],
        statements=[
            iam.PolicyStatement(sid="DescribeNetwork", actions=list(ENI_DESCRIBE_ACTIONS), resources=["*"]),
            iam.PolicyStatement(
                sid="CreateNetworkInterfaces",
                actions=["ec2:CreateNetworkInterface"],
                resources=[eni, *subnet_arns, *group_arns],
            ),
            iam.PolicyStatement(
                sid="ManageNetworkInterfaces", actions=list(ENI_MANAGE_ACTIONS), resources=[eni]
            ),
            iam.PolicyStatement(
                sid="TagNewNetworkInterfaces",
                actions=["ec2:CreateTags"],
                resources=[eni],
                conditions={"StringEquals": {"ec2:CreateAction": "CreateNetworkInterface"}},
            ),
        ],
    )
    acknowledge(
        policy,
        "ec2:Describe* calls support no resource-level permissions (IAM action table). The network "
        "interfaces SageMaker creates get their ids at run time, so ENI actions name this account's and "
        "region's network-interface/* ARN; creation is further limited to the given subnets and security "
        "groups, and tagging to CreateNetworkInterface.",
        wildcard_resource(policy, "*"),
        wildcard_resource(policy, eni),
    )
    return policy


def log_group_arn(scope: Construct, log_group_name_pattern: str) -> str:
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group_name_pattern,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
