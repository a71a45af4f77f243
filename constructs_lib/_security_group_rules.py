"""Make a resource wait for the separate ingress/egress rules of the security groups it uses.

A resource that references a security group (``Fn::GetAtt [Group, GroupId]``) waits for the group,
not for its separate ``AWS::EC2::SecurityGroupIngress``/``SecurityGroupEgress`` resources: CloudFormation
may create it before the rules exist (aws-cdk PR #14431 explains why aws-cdk-lib does not add these
dependencies). FSx for Lustre checks the rules when the file system is created and fails with
"security group does not permit Lustre LNET network traffic on port 988" (InvalidNetworkSettings;
aws-parallelcluster PR #1198 and issue #6181 hit exactly this race); HyperPod nodes and
VPC-attached SageMaker models need their rules as soon as instances start.

The dependencies are added by an aspect, at synthesis, so rules added to a group after the
dependent resource was built are included too.
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Aspects, CfnResource, IAspect, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct, IConstruct

_RULE_TYPES = (ec2.CfnSecurityGroupIngress, ec2.CfnSecurityGroupEgress)


def security_group_rules(group: ec2.ISecurityGroup) -> list[CfnResource]:
    """The ``SecurityGroupIngress``/``Egress`` resources of ``group`` in its stack.

    A rule belongs to the group when its ``GroupId`` is the group's id: rules added with the L2 API
    (``add_ingress_rule``, ``connections.allow_*``) and hand-written L1 rules alike.
    """
    stack = Stack.of(group)
    group_id = stack.resolve(group.security_group_id)
    return [
        node
        for node in stack.node.find_all()
        if isinstance(node, _RULE_TYPES) and Stack.of(node) is stack and stack.resolve(node.group_id) == group_id
    ]


@jsii.implements(IAspect)
class _WaitForRules:
    def __init__(self, groups: Sequence[ec2.ISecurityGroup]) -> None:
        self._groups = tuple(groups)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource) or isinstance(node, _RULE_TYPES):
            return
        for group in self._groups:
            for rule in security_group_rules(group):
                node.node.add_dependency(rule)


def wait_for_security_group_rules(dependent: Construct, groups: Sequence[ec2.ISecurityGroup]) -> None:
    """Every CloudFormation resource under ``dependent`` depends on every rule of ``groups``.

    Rules in another stack become a stack dependency (the other stack deploys first).
    """
    Aspects.of(dependent).add(_WaitForRules(groups))


__all__ = ["security_group_rules", "wait_for_security_group_rules"]
